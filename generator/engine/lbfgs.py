"""L-BFGS without line search and without host synchronisation, for K independent problems at
once: torch.optim.LBFGS's update (lr, history, first step min(1, 1/|g|_1)) per row of a (K, ...)
parameter, with every data-dependent branch replaced by tensor arithmetic so a GPU never waits for
the host inside the loop.

Each row (one canvas) has its own step sizes, dot products, curvature pairs, initial Hessian scale
h_diag and first-step rule; only the slot order is shared, as every row steps at every iteration.
K = 1 is a single problem.

Differences from torch.optim.LBFGS: `min_first_move` (0 = torch's rule) sets a floor on the first
step's largest coordinate change. Torch's first step, min(1, 1/|g|_1) * g, moves no coordinate by
more than ~1e-4 when |g|_1 ~ 1e14 (style-transfer losses): at the rounding level of float32 pixels
near 100 and far below bfloat16's, so the first curvature pair is noise or is rejected, and the
next step (H = I, size |g|) overflows. Until a pair is accepted, H is the first step's scale
instead of I. A curvature pair with s.y <= 1e-10 is stored with rho = 0 (it then contributes
nothing) instead of being dropped, so it still takes a history slot; there are no convergence
tests (the budget of evaluations is always spent). The parameter must be contiguous (the algebra
runs on its (K, n) view); convert to channels-last inside the loss.

`precondition` (a linear map M of (K, n), symmetric positive definite; precondition.py) makes the
initial inverse Hessian h M instead of h I: the first step is -t M g and h = s.y / y.M y. This is
L-BFGS in the parametrisation x = P z with M = P P^T, without storing z.
"""
from __future__ import annotations

import torch

CURVATURE_EPS = 1e-10  # torch.optim.LBFGS's threshold for accepting a curvature pair


class LBFGS:
    """Minimise, in place, the K rows of `x` (shape (K, ...)): `step(g)` takes the gradient of
    each row's own loss at the current x (any shape with K * n elements) and moves every row."""

    def __init__(self, x: torch.Tensor, lr: float = 1.0, history: int = 50, min_first_move: float = 0.0,
                 precondition=None):
        self.x, self.lr, self.m, self.min_first_move = x, lr, history, min_first_move
        self.M = precondition or (lambda v: v)
        k, n = x.shape[0], x[0].numel()
        self.dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
        self.S = x.new_zeros((history, k, n), dtype=self.dtype)
        self.Y = x.new_zeros((history, k, n), dtype=self.dtype)
        self.rho = x.new_zeros((history, k), dtype=self.dtype)
        self.h_diag = x.new_ones(k, dtype=self.dtype)
        self.iteration = 0      # host-side count; slot order is known without reading the GPU
        self.prev_g = self.d = self.t = None

    def _direction(self, g: torch.Tensor) -> torch.Tensor:
        """-H_k g_k for every row, by the two-loop recursion over the filled slots, newest first."""
        filled = min(self.iteration - 1, self.m)
        order = [(self.iteration - 2 - i) % self.m for i in range(filled)]  # newest .. oldest
        q = -g
        alphas = []
        for j in order:
            a = self.rho[j] * rowdot(self.S[j], q)
            q = q - a[:, None] * self.Y[j]
            alphas.append(a)
        r = self.M(q) * self.h_diag[:, None]
        for j, a in zip(reversed(order), reversed(alphas)):
            b = self.rho[j] * rowdot(self.Y[j], r)
            r = r + (a - b)[:, None] * self.S[j]
        return r

    def step(self, g: torch.Tensor) -> None:
        """One iteration given the gradients at the current x."""
        g = g.reshape(self.x.shape[0], -1).to(self.dtype)
        self.iteration += 1
        if self.iteration == 1:
            d = -self.M(g)
            t = torch.clamp(1.0 / g.abs().sum(1), max=1.0) * self.lr
            if self.min_first_move:
                t = torch.maximum(t, self.min_first_move / d.abs().amax(1).clamp_min(1e-30))
            self.h_diag = t.detach().clone()
        else:
            y = g - self.prev_g
            s = self.d * self.t[:, None]
            ys = rowdot(y, s)
            ok = ys > CURVATURE_EPS
            slot = (self.iteration - 2) % self.m
            self.Y[slot] = y
            self.S[slot] = s
            self.rho[slot] = torch.where(ok, 1.0 / torch.where(ok, ys, 1.0), 0.0)
            self.h_diag = torch.where(ok, ys / rowdot(y, self.M(y)).clamp_min(1e-30), self.h_diag)
            d = self._direction(g)
            t = torch.full_like(ys, self.lr)
        self.prev_g, self.d, self.t = g, d, t
        with torch.no_grad():
            self.x.view(self.x.shape[0], -1).add_((t[:, None] * d).to(self.x.dtype))


def rowdot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Dot product of each row of a with the same row of b: (K, n), (K, n) -> (K,). One row is a
    plain vector dot product: a batched product sums in another order, so a lone problem would
    round differently from its unbatched form."""
    if a.shape[0] == 1:
        return (a[0] @ b[0]).view(1)
    return torch.bmm(a.unsqueeze(1), b.unsqueeze(2)).view(-1)
