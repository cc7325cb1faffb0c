"""Several independent transfers of one canvas size optimised together: each evaluation sends
the K canvases through VGG19 in one forward and one backward pass. Every canvas keeps its own
photo, paintings, weights (alpha, beta, w_l, TV), objective (taps, style_balance,
content_normalise, style_scale: the targets and weights come from transfer.stage_targets, the
content term from transfer.content_term), layers, initial image and optimiser state, and nothing
couples them: canvas k follows `transfer.run_transfer` alone, up to float rounding
(tests/engine/test_batched.py).

How: the canvases are sorted by the deepest layer they need and the batch narrows past each
canvas's last layer (a slice of the batch, no copy), so a conv1_2 reconstruction never runs
conv5_2; a term with weight zero is not computed for that canvas. The losses are the project's
own (`losses.*`) mapped over the batch with `torch.func.vmap` (Gram matrices as one batched
matmul per layer); each canvas's L-BFGS has its own step sizes, dot products, curvature pairs and
first-step rule (lbfgs.LBFGS); Adam is elementwise, so one Adam over the batch is K independent
ones. What the batch must share: the settings in transfer.SHARED (one schedule of stages,
evaluations and precisions for all). The loop itself is transfer.run_canvases, run_transfer's.

A batch pays when its canvases share work (one depth, bfloat16, a photo or painting): otherwise run them one by one.
"""
from __future__ import annotations

import hashlib

import torch

from . import losses
from .runtime import features
from .settings import TransferSettings
from .transfer import (  # noqa: F401  (Problem, SHARED: a batch's problem and what it shares)
    SHARED,
    Problem,
    TransferResult,
    active_terms,
    content_term,
    run_canvases,
)
from .vgg import LAYERS


def run_batch(problems, size: tuple[int, int], device: str = "cpu", progress=None,
              on_snapshot=None) -> list[TransferResult]:
    """Optimise one canvas of `size` (w, h) per problem, all in the same passes; results in the
    problems' order. `progress(n)` is called after each evaluation with n = the number of
    canvases; `on_snapshot(index, evaluation, image)` with each snapshot as it is taken (index: the
    problem's position). Every result's `seconds` and history "seconds" are the batch's wall time."""
    problems = list(problems)
    if not problems:
        return []
    depths = [_depth(p.settings) for p in problems]
    order = sorted(range(len(problems)), key=lambda k: -depths[k])  # deepest first: the batch narrows
    snapshot = on_snapshot and (lambda k, n, image: on_snapshot(order[k], n, image))
    results = run_canvases([problems[k] for k in order], size, device, _Batch, progress, snapshot)
    back = [None] * len(results)
    for k, result in zip(order, results):
        back[k] = result
    return back


class _Batch:
    """run_canvases' objective for a batch sorted deepest-first: the network narrows past each
    canvas's last layer (_Narrowing), the targets of a shared photo or painting are computed once
    (_Memo), and the losses of each stage are its _Terms."""

    def __init__(self, model, problems, device):
        self.problems, self.device = problems, device
        self.network = _Narrowing(model, [_depth(p.settings) for p in problems])
        self.targets_model = _Memo(model)

    def stage(self, targets):
        terms = _Terms(self.problems, targets, self.device)
        return lambda canvas, precision: terms.losses(features(self.network, canvas, terms.layers, precision), canvas)


def _depth(settings: TransferSettings) -> int:
    """Index in LAYERS of the deepest layer the canvas's computed terms read (-1: none)."""
    content_layers, style_w = active_terms(settings)
    return max((LAYERS.index(n) for n in (*content_layers, *style_w)), default=-1)


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
        for pos, (p, t) in enumerate(zip(batch, per_canvas)):
            content_layers, _ = active_terms(p.settings)
            for name in content_layers:
                key = (name, p.settings.content_normalise)
                self.content.setdefault(key, []).append((pos, t.content_targets[name][0], 1.0))
            for name, w in t.style_weights.items():
                self.style.setdefault(name, []).append((pos, t.grams[name][0], w))
        self.content = {key: _stack(rows, device) for key, rows in self.content.items()}
        self.style = {n: _stack(rows, device) for n, rows in self.style.items()}
        self.layers = sorted({n for n, _ in self.content} | self.style.keys(), key=LAYERS.index)
        vector = lambda values: torch.tensor(values, dtype=torch.float32, device=device)  # noqa: E731
        self.content_weight = vector([t.content_weight for t in per_canvas])
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


def _select(feats: torch.Tensor, index: torch.Tensor, span) -> torch.Tensor:
    """The rows `index` of a batch of features (a view when they are consecutive)."""
    if span is None:
        return feats.index_select(0, index)
    return feats if span == (0, feats.shape[0]) else _Rows.apply(feats, *span)


# The project's losses, per canvas over a batch (each takes one image as a batch of one).
def _content(normalise: str):
    """transfer.content_term ("sum" or "mean") per canvas over a batch."""
    return torch.func.vmap(lambda x, p: content_term(x[None], p[None], normalise))


_STYLE = torch.func.vmap(lambda x, a: losses.style_layer_loss(x[None], a[None]))
_TV = torch.func.vmap(lambda x: losses.total_variation(x[None]))
