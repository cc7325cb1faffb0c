"""Several independent transfers of one canvas size optimised together: each evaluation sends
the K canvases through VGG19 in one forward and one backward pass. Every canvas keeps its own
photo, paintings, weights (alpha, beta, w_l, TV), objective (taps, style_balance,
content_normalise, style_scale: the targets and weights come from transfer.stage_targets, the
content term from transfer.content_term), layers, initial image and optimiser state, and nothing
couples them: canvas k follows `transfer.run_transfer` alone, up to float rounding
(tests/test_batched.py).

How: the canvases are sorted by the deepest layer they need and the batch narrows past each
canvas's last layer (a slice of the batch, no copy), so a conv1_2 reconstruction never runs
conv5_2; a term with weight zero is not computed for that canvas. The losses are the project's
own (`losses.*`) mapped over the batch with `torch.func.vmap` (Gram matrices as one batched
matmul per layer); each canvas's L-BFGS has its own step sizes, dot products, curvature pairs and
first-step rule (BatchedLBFGS, the per-canvas form of lbfgs.SyncFreeLBFGS); Adam is elementwise,
so one Adam over the batch is K independent ones. What the batch must share: the settings in
SHARED (one schedule of stages, evaluations and precisions for all).

When it pays (python -m generator.bench.batched; 2 shared, loaded cores, 1 thread): on a CPU the
convolutions cost the same per pixel at any batch size, so float32 batches gain ~0-15 % per
evaluation (20 grid cells, 3 init runs), plus the targets computed once per shared image (3 init
runs, 6 evaluations: 22 s against 35 s); bfloat16 batches of same-depth canvases gain 1.4-2x
(the grid's 20 cells at 128 and 192 px). Canvases of all different depths (the reconstructions)
share little and lose ~20 % to the narrowing's copies: run those one by one on a CPU.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from PIL import Image

from ..common.errors import InputError
from . import images, losses
from .lbfgs import CURVATURE_EPS
from .memory import GIB, SAFETY, WEIGHTS_BYTES, available_bytes, estimate_bytes
from .settings import TransferSettings
from .transfer import (
    FIRST_MOVE,
    LBFGS_HISTORY,
    PRECISIONS,
    TransferResult,
    _Clock,
    _fast_math,
    _features,
    _network,
    active_terms,
    content_term,
    initial_canvas,
    plan_stages,
    stage_precision,
    stage_targets,
)
from .vgg import LAYERS

# Settings every canvas of a batch must share: they fix the schedule (stages, evaluations per
# stage, precision per evaluation), the network and the optimiser's update.
SHARED = ("steps", "scales", "final_share", "precision", "optimizer", "learning_rate", "pooling",
          "rescale_weights")


@dataclass(frozen=True)
class Problem:
    """One canvas's transfer: the photo, the painting(s) and its settings (as for run_transfer)."""
    content: Image.Image
    styles: tuple
    settings: TransferSettings


def run_batch(problems, size: tuple[int, int], device: str = "cpu", progress=None,
              on_snapshot=None) -> list[TransferResult]:
    """Optimise one canvas of `size` (w, h) per problem, all in the same passes; results in the
    problems' order. `progress(n)` is called after each evaluation with n = the number of
    canvases; `on_snapshot(index, evaluation, image)` with each snapshot as it is taken (index: the
    problem's position). Every result's `seconds` and history "seconds" are the batch's wall time."""
    problems = list(problems)
    if not problems:
        return []
    shared = _shared_settings(problems)
    depths = [_depth(p.settings) for p in problems]
    order = sorted(range(len(problems)), key=lambda k: -depths[k])  # deepest first: the batch narrows
    batch = [problems[k] for k in order]
    _check_fits(batch, size, device, shared)
    torch.manual_seed(batch[0].settings.seed)
    model = _network(shared.pooling, device, shared.precision, shared.rescale_weights)
    network = _Narrowing(model, [depths[k] for k in order])
    targets_model = _Memo(model)
    results = [TransferResult(image=p.content) for p in batch]
    clock = _Clock(device)
    records: list[torch.Tensor] = []   # (K, 4) per evaluation: total, content, style, tv
    stages: list[tuple] = []
    canvas = None
    with _fast_math(device, shared.precision):
        for stage in plan_stages(size, shared.scales, shared.steps, shared.final_share):
            per_canvas = [stage_targets(targets_model, p.content, list(p.styles), p.settings, stage.size, size, device)
                          for p in batch]
            if canvas is None:
                canvas = torch.cat([initial_canvas(p.settings.init, t[0], t[1][0], p.settings.seed)
                                    for p, t in zip(batch, per_canvas)])
            else:
                canvas = F.interpolate(canvas, size=per_canvas[0][0].shape[-2:], mode="bilinear", align_corners=False)
            canvas = canvas.detach().contiguous().requires_grad_(True)
            terms = _Terms(batch, per_canvas, device)

            def evaluate(i, canvas=canvas, terms=terms, stage=stage.index):
                precision = stage_precision(i, shared.precision)
                feats = _features(network, canvas, terms.layers, precision)
                parts = terms.losses(feats, canvas)
                records.append(torch.stack(parts, 1).detach())
                stages.append((stage, precision))
                clock.tick()
                n = len(records)
                for k, p in enumerate(batch):
                    if p.settings.snapshot_every and n % p.settings.snapshot_every == 0:
                        results[k].snapshots.append((n, images.to_image(canvas[k:k + 1])))
                        if on_snapshot:
                            on_snapshot(order[k], *results[k].snapshots[-1])
                if progress:
                    progress(len(batch))
                return parts[0]

            _optimise(canvas, evaluate, stage.steps, shared)
    seconds, times = clock.read()
    values = torch.stack(records).double().cpu().tolist() if records else []  # [evaluation][canvas][term]
    for k, result in enumerate(results):
        result.image = images.to_image(canvas[k:k + 1])
        result.seconds = seconds
        result.history = [{"evaluation": i + 1, "total": row[k][0], "content": row[k][1], "style": row[k][2],
                           "tv": row[k][3], "seconds": sec, "stage": st, "precision": pr}
                          for i, (row, sec, (st, pr)) in enumerate(zip(values, times, stages))]
    back = [None] * len(results)
    for k, result in zip(order, results):
        back[k] = result
    return back


def _shared_settings(problems) -> TransferSettings:
    first = problems[0].settings
    if first.precision not in PRECISIONS:
        raise ValueError(f"unknown precision {first.precision!r} ({' or '.join(PRECISIONS)})")
    if first.optimizer not in ("lbfgs", "adam"):
        raise ValueError(f"unknown optimizer {first.optimizer!r} (lbfgs or adam)")
    for p in problems[1:]:
        for name in SHARED:
            if getattr(p.settings, name) != getattr(first, name):
                raise ValueError(f"a batch shares {name}: {getattr(first, name)!r} != {getattr(p.settings, name)!r}")
    return first


def _depth(settings: TransferSettings) -> int:
    """Index in LAYERS of the deepest layer the canvas's computed terms read (-1: none)."""
    content_layers, style_w = active_terms(settings)
    return max((LAYERS.index(n) for n in (*content_layers, *style_w)), default=-1)


def _check_fits(batch, size, device, shared) -> None:
    """memory.check_fits for the whole batch: each canvas's estimate, the weights counted once."""
    history = LBFGS_HISTORY if shared.optimizer == "lbfgs" else 0
    need = sum(estimate_bytes(size, LAYERS[max(_depth(p.settings), 0)], shared.precision, history) - WEIGHTS_BYTES
               for p in batch) + WEIGHTS_BYTES
    have = available_bytes(device)
    if have is not None and need > have * SAFETY:
        raise InputError("--size", f"{len(batch)} canvases of {size[0]}x{size[1]} px need ~{need / GIB:.1f} GiB on "
                                   f"{device}, only {have / GIB:.1f} GiB available (use fewer or smaller canvases)")


class _Narrowing:
    """VGG19 over a batch sorted deepest-first: before each layer, the batch keeps only the
    canvases that still need it (a leading slice), so each canvas runs only as deep as its own
    losses. Called like the model: (x, wanted) -> {layer: activations of the canvases reaching it}."""

    def __init__(self, model, depths: list[int]):
        self.model = model
        self.reaching = [sum(d >= i for d in depths) for i in range(len(LAYERS))]

    def __call__(self, x: torch.Tensor, wanted) -> dict:
        wanted = set(wanted)
        out = {}
        for i, name in enumerate(LAYERS):
            if not wanted - out.keys():
                break
            if self.reaching[i] < x.shape[0]:
                x = _Rows.apply(x, 0, self.reaching[i])
            x = self.model.layer(name, x)
            if name in wanted:
                out[name] = x
        return out


class _Rows(torch.autograd.Function):
    """x[start:stop] whose gradient keeps x's memory format and zeroes only the rows left out.
    (A plain slice's or index_select's backward is a zero-filled contiguous tensor: against
    channels-last activations the bfloat16 backward then spent half its time converting layouts
    on a CPU.)"""

    @staticmethod
    def forward(ctx, x, start, stop):
        ctx.size, ctx.start, ctx.stop = x.shape, start, stop
        ctx.format = (torch.channels_last if x.dim() == 4 and not x.is_contiguous()
                      and x.is_contiguous(memory_format=torch.channels_last) else torch.contiguous_format)
        return x[start:stop]

    @staticmethod
    def backward(ctx, grad):
        full = torch.empty(ctx.size, dtype=grad.dtype, device=grad.device, memory_format=ctx.format)
        full[ctx.start:ctx.stop] = grad
        full[:ctx.start] = 0
        full[ctx.stop:] = 0
        return full, None, None


class _Memo:
    """The model for the targets, remembering each input's activations: K canvases that share a
    photo or a painting (a grid, a set of reconstructions) run it through the network once."""

    def __init__(self, model):
        self.model, self.cache = model, {}

    def __call__(self, x: torch.Tensor, wanted) -> dict:
        key = (tuple(x.shape), hashlib.blake2b(x.detach().cpu().numpy().tobytes(), digest_size=16).digest())
        cached = self.cache.get(key, {})
        if not set(wanted) <= cached.keys():
            with torch.no_grad():
                cached = self.model(x, set(wanted) | cached.keys())
            self.cache[key] = cached
        return {name: cached[name] for name in wanted}


class _Terms:
    """One stage's loss terms, by layer: which canvases (positions in the batch) read it, with
    their targets stacked and their weights as vectors (the style weights as transfer.stage_targets
    gives them: balanced against each canvas's photo when its settings ask)."""

    def __init__(self, batch, per_canvas, device):
        k = len(batch)
        self.content, self.style = {}, {}   # (layer, normalise) or layer -> (index, span, targets, weights)
        for pos, (p, (_, _, content_targets, grams, stage_w, _)) in enumerate(zip(batch, per_canvas)):
            content_layers, _ = active_terms(p.settings)
            for name in content_layers:
                key = (name, p.settings.content_normalise)
                self.content.setdefault(key, []).append((pos, content_targets[name][0], 1.0))
            for name, w in stage_w.items():
                self.style.setdefault(name, []).append((pos, grams[name][0], w))
        self.content = {key: _stack(rows, device) for key, rows in self.content.items()}
        self.style = {n: _stack(rows, device) for n, rows in self.style.items()}
        self.layers = sorted({n for n, _ in self.content} | self.style.keys(), key=LAYERS.index)
        vector = lambda values: torch.tensor(values, dtype=torch.float32, device=device)  # noqa: E731
        self.content_weight = vector([t[5] for t in per_canvas])
        self.style_weight = vector([p.settings.style_weight for p in batch])
        self.tv_weight = vector([p.settings.tv_weight for p in batch])
        self.tv_index = torch.tensor([pos for pos, p in enumerate(batch) if p.settings.tv_weight],
                                     dtype=torch.long, device=device)
        self.k = k

    def losses(self, feats: dict, canvas: torch.Tensor) -> tuple:
        """(total, content, style, tv) per canvas, each a (K,) tensor."""
        zero = canvas.new_zeros(self.k)
        c = s = tv = zero
        for (name, normalise), (index, rows, targets, _) in self.content.items():
            c = c.index_add(0, index, _content(normalise)(_select(feats[name], index, rows), targets))
        for name, (index, rows, grams, weights) in self.style.items():
            s = s.index_add(0, index, weights * _STYLE(_select(feats[name], index, rows), grams))
        if len(self.tv_index):
            tv = tv.index_add(0, self.tv_index, _TV(canvas.index_select(0, self.tv_index)))
        total = self.content_weight * c + self.style_weight * s + self.tv_weight * tv
        return total, c, s, tv


def _stack(rows, device) -> tuple:
    """(positions, (start, stop) when they are consecutive, stacked targets, weights) of one
    layer's term."""
    positions = [r[0] for r in rows]
    index = torch.tensor(positions, dtype=torch.long, device=device)
    consecutive = positions == list(range(positions[0], positions[0] + len(positions)))
    span = (positions[0], positions[0] + len(positions)) if consecutive else None
    weights = torch.stack([torch.as_tensor(r[2], dtype=torch.float32, device=device) for r in rows])
    return index, span, torch.stack([r[1] for r in rows]), weights


def _select(features: torch.Tensor, index: torch.Tensor, span) -> torch.Tensor:
    """The rows `index` of a batch of features (a view when they are consecutive)."""
    if span is None:
        return features.index_select(0, index)
    return features if span == (0, features.shape[0]) else _Rows.apply(features, *span)


# The project's losses, per canvas over a batch (each takes one image as a batch of one).
def _content(normalise: str):
    """transfer.content_term ("sum" or "mean") per canvas over a batch."""
    return torch.func.vmap(lambda x, p: content_term(x[None], p[None], normalise))


_STYLE = torch.func.vmap(lambda x, a: losses.style_layer_loss(x[None], a[None]))
_TV = torch.func.vmap(lambda x: losses.total_variation(x[None]))


class BatchedLBFGS:
    """lbfgs.SyncFreeLBFGS for K canvases at once: x is (K, ...) and every scalar of the single
    version (step size, dot products, rho, the initial Hessian scale, the acceptance of a pair)
    is a (K,) vector, so each canvas follows its own L-BFGS. Slot order is shared: every canvas
    takes a step at every iteration."""

    def __init__(self, x: torch.Tensor, lr: float = 1.0, history: int = 50, min_first_move: float = 0.0):
        self.x, self.lr, self.m, self.min_first_move = x, lr, history, min_first_move
        k, n = x.shape[0], x[0].numel()
        self.dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
        self.S = x.new_zeros((history, k, n), dtype=self.dtype)
        self.Y = x.new_zeros((history, k, n), dtype=self.dtype)
        self.rho = x.new_zeros((history, k), dtype=self.dtype)
        self.h_diag = x.new_ones(k, dtype=self.dtype)
        self.iteration = 0
        self.prev_g = self.d = self.t = None

    def _direction(self, g: torch.Tensor) -> torch.Tensor:
        """-H_k g_k for every canvas, by the two-loop recursion over the filled slots, newest first."""
        filled = min(self.iteration - 1, self.m)
        order = [(self.iteration - 2 - i) % self.m for i in range(filled)]
        q = -g
        alphas = []
        for j in order:
            a = self.rho[j] * _rowdot(self.S[j], q)
            q = q - a[:, None] * self.Y[j]
            alphas.append(a)
        r = q * self.h_diag[:, None]
        for j, a in zip(reversed(order), reversed(alphas)):
            b = self.rho[j] * _rowdot(self.Y[j], r)
            r = r + (a - b)[:, None] * self.S[j]
        return r

    def step(self, g: torch.Tensor) -> None:
        """One iteration given the gradients at the current x, (K, n)."""
        g = g.reshape(self.x.shape[0], -1).to(self.dtype)
        self.iteration += 1
        if self.iteration == 1:
            d = -g
            t = torch.clamp(1.0 / g.abs().sum(1), max=1.0) * self.lr
            if self.min_first_move:
                t = torch.maximum(t, self.min_first_move / g.abs().amax(1).clamp_min(1e-30))
            self.h_diag = t.detach().clone()
        else:
            y = g - self.prev_g
            s = self.d * self.t[:, None]
            ys = _rowdot(y, s)
            ok = ys > CURVATURE_EPS
            slot = (self.iteration - 2) % self.m
            self.Y[slot] = y
            self.S[slot] = s
            self.rho[slot] = torch.where(ok, 1.0 / torch.where(ok, ys, 1.0), 0.0)
            self.h_diag = torch.where(ok, ys / _rowdot(y, y).clamp_min(1e-30), self.h_diag)
            d = self._direction(g)
            t = torch.full_like(ys, self.lr)
        self.prev_g, self.d, self.t = g, d, t
        with torch.no_grad():
            self.x.view(self.x.shape[0], -1).add_((t[:, None] * d).to(self.x.dtype))


def _rowdot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Dot product of each row of a with the same row of b: (K, n), (K, n) -> (K,)."""
    return torch.bmm(a.unsqueeze(1), b.unsqueeze(2)).view(-1)


def _optimise(canvas, evaluate, steps: int, shared: TransferSettings) -> None:
    """transfer._optimise for a batch: the canvases' losses summed, whose gradient with respect to
    canvas k is canvas k's own (no term reads two canvases)."""
    if shared.optimizer == "lbfgs":
        opt = BatchedLBFGS(canvas, lr=1.0, history=LBFGS_HISTORY, min_first_move=FIRST_MOVE)
        for i in range(steps):
            total = evaluate(i)
            if i < steps - 1:  # the last evaluation only reads the final canvas's losses
                grad, = torch.autograd.grad(total.sum(), canvas)
                opt.step(grad)
    else:
        opt = torch.optim.Adam([canvas], lr=shared.learning_rate)
        for i in range(steps):
            opt.zero_grad(set_to_none=True)
            evaluate(i).sum().backward()
            opt.step()
