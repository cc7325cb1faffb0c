"""The optimisation of Gatys et al.: pixels of a canvas move to match a photo's content
features and a painting's Gram matrices. Reconstructions are transfers with one weight at zero.

Speed (see README, performance): the network runs only as deep as the losses need, with frozen
weights; the optimiser is a synchronisation-free L-BFGS (lbfgs.py) and the loop records losses
as device tensors, read once at the end; precision "bfloat16" runs the network under autocast
in channels-last (the first evaluations of each stage stay in float32, see WARMUP_FLOAT32);
coarse-to-fine (settings.scales) optimises small first and refines. memory.py refuses, before
any work, a canvas that would not fit.
"""
from __future__ import annotations

import copy
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from PIL import Image

from . import images, losses
from .lbfgs import SyncFreeLBFGS
from .memory import check_fits
from .models import get_model
from .settings import TransferSettings
from .vgg import LAYERS, tap

# torch.optim.LBFGS's first step, t = 1/|g|_1, moves pixels by ~1e-4 at these loss scales: below
# bfloat16's resolution (the second gradient equals the first, no curvature pair forms, the next
# step of size |g| ~ 1e9 overflows) and at float32's rounding level. So the first step moves the
# largest pixel change to FIRST_MOVE (0-255 units), and each stage's first evaluations, which form
# the first curvature pair, run in float32.
FIRST_MOVE = 1.0
WARMUP_FLOAT32 = 2
LBFGS_HISTORY = 50
PRECISIONS = ("float32", "bfloat16")
MIN_STAGE_SIDE = 64
STOP_CHECK_CUDA = 10
FINAL_SHARE = 0.8  # coarse-to-fine: the final stage's share of the evaluations


@dataclass
class TransferResult:
    image: Image.Image
    history: list[dict] = field(default_factory=list)   # one entry per loss evaluation
    snapshots: list[tuple[int, Image.Image]] = field(default_factory=list)  # (evaluation, image)
    seconds: float = 0.0

    @property
    def final_loss(self) -> float:
        return self.history[-1]["total"] if self.history else float("nan")


def stage_sizes(size: tuple[int, int], scales) -> list[tuple[int, int]]:
    """Canvas size (w, h) at each coarse-to-fine stage; each side at least 16 px."""
    return [(max(16, round(size[0] * s)), max(16, round(size[1] * s))) for s in scales]


def effective_scales(size: tuple[int, int], scales, min_side: int = MIN_STAGE_SIDE) -> tuple:
    """The coarse-to-fine scales whose canvas keeps a short side of at least `min_side` px (VGG19
    pools four times before conv5_1); the final scale always stays."""
    kept = tuple(s for s in scales[:-1] if min(size) * s >= min_side)
    return kept + tuple(scales[-1:])


def stage_steps(steps: int, n_stages: int, final_share: float = FINAL_SHARE) -> list[int]:
    """Evaluations per stage: `final_share` of the budget for the final stage, the rest shared
    equally by the coarser ones (which cost a fraction of a final-stage evaluation each). Measured
    at 512 px: the half-size stage's gain is made in its first ~50 evaluations; more are wasted."""
    if n_stages == 1:
        return [steps]
    final = min(steps - (n_stages - 1), max(1, round(steps * final_share)))
    coarse = steps - final
    share = [coarse // (n_stages - 1)] * (n_stages - 1)
    share[-1] += coarse - sum(share)
    return share + [final]


@dataclass(frozen=True)
class Stage:
    """One coarse-to-fine stage of a run: its position, canvas size (w, h) and evaluations."""
    index: int
    size: tuple[int, int]
    steps: int
    final: bool


def plan_stages(size: tuple[int, int], scales, steps: int, final_share: float = FINAL_SHARE) -> list[Stage]:
    """The stages of a run at `size`: the scales whose canvas is large enough (effective_scales),
    their sizes, and the evaluations each gets (stage_steps)."""
    kept = effective_scales(size, scales)
    return [Stage(i, stage_size, n, i == len(kept) - 1)
            for i, (stage_size, n) in enumerate(zip(stage_sizes(size, kept), stage_steps(steps, len(kept), final_share)))]


def style_side(canvas_size: tuple[int, int], floor: int = 512, scale: float = 1.0) -> int:
    """Long side for the painting: the canvas's, but at least `floor`, times `scale`. A small
    painting has few positions in the deep layers (16x10 at conv5_1 for 256 px), and a Gram matrix
    of rank that low pins down the painting's own features, so the canvas would copy its layout,
    not its texture. `scale` (stylize --style-scale) makes the painting's strokes bigger or smaller."""
    return max(1, round(max(max(canvas_size), floor) * scale))


def layer_weights(settings: TransferSettings) -> dict[str, float]:
    """w_l per style layer, keyed by the network layer the loss reads (see vgg.tap): given, or
    equal and summing to one."""
    layers = settings.style_layers
    weights = settings.style_layer_weights or (1.0 / len(layers),) * len(layers)
    return {tap(name, settings.taps): w for name, w in zip(layers, weights)}


def content_taps(settings: TransferSettings) -> tuple[str, ...]:
    return tuple(tap(name, settings.taps) for name in settings.content_layers)


def balanced_weights(weights: dict, photo_losses: dict) -> dict:
    """style_balance="photo": w_l divided by the photo's own style loss E_l(photo) at that layer,
    so each layer's term is the share of the photo-to-painting gap still open there (the quality
    benchmark's balanced style loss) and a canvas equal to the photo has style loss sum(w_l)."""
    return {name: w / photo_losses[name].clamp_min(1e-30) for name, w in weights.items()}


def content_term(feats: torch.Tensor, target: torch.Tensor, normalise: str) -> torch.Tensor:
    """The paper's 1/2 sum of squares ("sum") or the mean squared difference ("mean", which
    does not grow with the canvas's size)."""
    loss = losses.content_loss(feats, target)
    if normalise == "sum":
        return loss
    if normalise == "mean":
        return loss * (2.0 / target.numel())
    raise ValueError(f"unknown content_normalise {normalise!r} (sum or mean)")


def initial_canvas(kind: str, content: torch.Tensor, style: torch.Tensor, seed: int) -> torch.Tensor:
    if kind == "content":
        return content.clone()
    if kind == "style":
        return F.interpolate(style, size=content.shape[-2:], mode="bilinear", align_corners=False)
    if kind == "noise":
        gen = torch.Generator().manual_seed(seed)
        noise = torch.rand(content.shape, generator=gen) * 255.0
        return (noise - torch.tensor(images.CAFFE_MEAN_BGR).view(1, 3, 1, 1)).to(content.device, content.dtype)
    raise ValueError(f"unknown init {kind!r} (content, noise or style)")


def style_targets(model, styles: list[torch.Tensor], blend, layers, canvas_pixels_at: dict) -> dict:
    """Blended target Gram matrices, rescaled to the canvas's M_l so E_l's 1/M_l^2 matches."""
    blend = blend or (1.0 / len(styles),) * len(styles)
    targets = {}
    for style, weight in zip(styles, blend):
        with torch.no_grad():
            feats = model(style, layers)
        for name in layers:
            m_style = feats[name].shape[-2] * feats[name].shape[-1]
            g = losses.gram_matrix(feats[name]) * (canvas_pixels_at[name] / m_style) * weight
            targets[name] = targets[name] + g if name in targets else g
    return targets


def active_terms(settings: TransferSettings) -> tuple[tuple, dict]:
    """The content taps and the style taps' weights w_l that are computed: a term with weight zero
    (reconstructions) is neither computed nor backpropagated."""
    if settings.style_balance not in ("none", "photo"):
        raise ValueError(f"unknown style_balance {settings.style_balance!r} (none or photo)")
    style_w = layer_weights(settings) if settings.style_weight else {}
    content_layers = content_taps(settings) if settings.content_weight else ()
    return content_layers, style_w


def stage_targets(model, content: Image.Image, styles: list[Image.Image], settings: TransferSettings,
                  stage_size: tuple[int, int], size: tuple[int, int], device: str) -> tuple:
    """One coarse-to-fine stage's problem for a canvas of `stage_size` whose final size is `size`:
    (photo tensor, painting tensors, content targets P^l, target Gram matrices, the stage's style
    weights w_l (balanced against the photo when asked), content weight)."""
    content_layers, style_w = active_terms(settings)
    content_t = images.to_tensor(images.resize_to(content, stage_size)).to(device)
    painting_side = style_side(stage_size, settings.style_min_side, settings.style_scale)
    style_ts = [images.to_tensor(images.fit_long_side(s, painting_side, allow_upscale=True)).to(device)
                for s in styles]
    with torch.no_grad():
        photo = model(content_t, sorted(set(content_layers) | set(style_w), key=LAYERS.index))
    content_targets = {n: photo[n] for n in content_layers}
    photo_feats = {n: photo[n] for n in style_w}
    pixels = {n: f.shape[-2] * f.shape[-1] for n, f in photo_feats.items()}
    grams = style_targets(model, style_ts, settings.style_blend, list(style_w), pixels)
    stage_w = style_w
    # Balancing needs a photo to balance against: not in a style reconstruction (content weight 0).
    if settings.style_balance == "photo" and style_w and content_layers:
        stage_w = balanced_weights(style_w, {n: losses.style_layer_loss(photo_feats[n], grams[n])
                                             for n in style_w})
    del photo, photo_feats
    # The summed content loss grows with the number of positions and the style loss does not, so a
    # coarse stage weighs it up by the pixel ratio to solve the final problem's balance.
    content_weight = settings.content_weight
    if settings.content_normalise == "sum":
        content_weight *= (size[0] * size[1]) / (stage_size[0] * stage_size[1])
    return content_t, style_ts, content_targets, grams, stage_w, content_weight


def deepest_layer(settings: TransferSettings) -> str:
    used = set(settings.content_layers if settings.content_weight else ()) | \
        set(settings.style_layers if settings.style_weight else ())
    deepest = max(used or set(settings.content_layers) | set(settings.style_layers), key=LAYERS.index)
    return tap(deepest, settings.taps)


def run_transfer(content: Image.Image, styles: list[Image.Image], settings: TransferSettings,
                 size: tuple[int, int], device: str = "cpu", progress=None,
                 stop_below: float | None = None, on_snapshot=None, on_evaluation=None) -> TransferResult:
    """Optimise a canvas of `size` (w, h). `progress(n)` is called after each evaluation;
    `on_snapshot(evaluation, image)` with each snapshot as it is taken (settings.snapshot_every);
    `on_evaluation(evaluation, canvas, total)` with the canvas each evaluation read and its loss
    (the benchmark keeps candidates to score them exactly afterwards; the canvas changes in place).
    `stop_below` (the benchmark's time-to-loss) ends the final stage at its first evaluation whose
    reported total loss (bfloat16 readings included) is at most that value; it reads the loss, so
    a GPU synchronises every STOP_CHECK_CUDA evaluations."""
    if settings.precision not in PRECISIONS:
        raise ValueError(f"unknown precision {settings.precision!r} ({' or '.join(PRECISIONS)})")
    check_fits(size, deepest_layer(settings), device, settings.precision,
               LBFGS_HISTORY if settings.optimizer == "lbfgs" else 0)
    torch.manual_seed(settings.seed)
    model = _network(settings.pooling, device, settings.precision, settings.rescale_weights)
    content_layers, style_w = active_terms(settings)
    all_layers = sorted(set(content_layers) | set(style_w), key=LAYERS.index)
    result = TransferResult(image=content)
    clock = _Clock(device)
    records: list[tuple] = []
    stages: list[tuple] = []  # (coarse-to-fine stage, precision) of each evaluation
    canvas = None
    with _fast_math(device, settings.precision):
        for stage in plan_stages(size, settings.scales, settings.steps, settings.final_share):
            content_t, style_ts, content_targets, grams, stage_w, content_weight = stage_targets(
                model, content, styles, settings, stage.size, size, device)
            if canvas is None:
                canvas = initial_canvas(settings.init, content_t, style_ts[0], settings.seed)
            else:
                canvas = F.interpolate(canvas, size=content_t.shape[-2:], mode="bilinear", align_corners=False)
            canvas = canvas.detach().contiguous().requires_grad_(True)

            def evaluate(i, canvas=canvas, content_targets=content_targets, grams=grams,
                         content_weight=content_weight, stage_w=stage_w, stage=stage.index):
                precision = stage_precision(i, settings.precision)
                feats = _features(model, canvas, all_layers, precision)
                zero = canvas.new_zeros(())
                c = sum((content_term(feats[n], content_targets[n], settings.content_normalise)
                         for n in content_layers), zero)
                s = losses.style_loss(feats, grams, stage_w) if stage_w else zero
                tv = losses.total_variation(canvas) if settings.tv_weight else zero
                total = content_weight * c + settings.style_weight * s + settings.tv_weight * tv
                records.append((total.detach(), c.detach(), s.detach(), tv.detach()))
                stages.append((stage, precision))
                clock.tick()
                n = len(records)
                if on_evaluation:
                    on_evaluation(n, canvas.detach(), total.detach())
                if settings.snapshot_every and n % settings.snapshot_every == 0:
                    result.snapshots.append((n, images.to_image(canvas)))  # synchronises; only when asked
                    if on_snapshot:
                        on_snapshot(*result.snapshots[-1])
                if progress:
                    progress(1)
                return total

            reached = _loss_reached(stop_below, device) if stage.final else None
            _optimise(canvas, evaluate, stage.steps, settings, reached)
    result.image = images.to_image(canvas)
    result.seconds, times = clock.read()
    values = torch.stack([torch.stack(r) for r in records]).double().cpu().tolist() if records else []
    result.history = [{"evaluation": i + 1, "total": t, "content": c, "style": s, "tv": v, "seconds": sec,
                       "stage": st, "precision": pr}
                      for i, ((t, c, s, v), sec, (st, pr)) in enumerate(zip(values, times, stages))]
    return result


_FAST_MODELS: dict = {}


def _network(pooling: str, device: str, precision: str, rescale: bool = False):
    """The shared VGG19, or for bfloat16 a channels-last copy of it (convolutions in NHWC)."""
    model = get_model(pooling, device, rescale)
    if precision == "float32":
        return model
    key = (pooling, str(device), bool(rescale))
    if key not in _FAST_MODELS:
        _FAST_MODELS[key] = copy.deepcopy(model).to(memory_format=torch.channels_last)
    return _FAST_MODELS[key]


def _features(model, canvas, layers, precision: str) -> dict:
    """Network activations, in float32 or under bfloat16 autocast (channels-last, bfloat16 out).
    The losses promote bfloat16 features to float32 (losses.gram_matrix, the content difference), so
    Gram matrices and losses are always summed in float32."""
    if precision == "float32":
        return model(canvas, layers)
    x = canvas.contiguous(memory_format=torch.channels_last)  # the parameter itself stays NCHW
    with torch.autocast(canvas.device.type, dtype=torch.bfloat16):
        return model(x, layers)


@contextmanager
def _fast_math(device: str, precision: str):
    """TF32 matmuls/convolutions on CUDA for the bfloat16 path (float32 stays exact)."""
    if not str(device).startswith("cuda") or precision == "float32":
        yield
        return
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    try:
        yield
    finally:
        (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
         torch.backends.cudnn.benchmark) = saved


class _Clock:
    """Seconds since the start at each evaluation: CUDA events on a GPU (no host waits until
    read()), the host clock on a CPU."""

    def __init__(self, device: str):
        self.cuda = str(device).startswith("cuda")
        self.start = time.perf_counter()
        self.marks: list = []
        if self.cuda:
            self.first = torch.cuda.Event(enable_timing=True)
            self.first.record()

    def tick(self) -> None:
        if self.cuda:
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            self.marks.append(event)
        else:
            self.marks.append(time.perf_counter() - self.start)

    def read(self) -> tuple[float, list[float]]:
        if self.cuda:
            torch.cuda.synchronize()
            self.marks = [self.first.elapsed_time(e) / 1000.0 for e in self.marks]
        return time.perf_counter() - self.start, self.marks


def stage_precision(i: int, precision: str) -> str:
    """The precision of a stage's i-th evaluation: float32 for the warm-up."""
    return "float32" if i < WARMUP_FLOAT32 else precision


def _loss_reached(target: float | None, device: str):
    """A test `(i, total) -> bool` for stop_below, or None. A bfloat16 evaluation reads the loss
    ~1.5 % low at 512 px (measured): the benchmark stops below its target and rescores in float32."""
    if target is None:
        return None
    every = STOP_CHECK_CUDA if str(device).startswith("cuda") else 1
    return lambda i, total: i >= WARMUP_FLOAT32 and (i + 1) % every == 0 and total.item() <= target


def _optimise(canvas, evaluate, steps: int, settings: TransferSettings, reached=None) -> None:
    """Spend one stage's `steps` evaluations with the chosen optimiser (fewer if `reached`)."""
    if settings.optimizer == "lbfgs":
        opt = SyncFreeLBFGS(canvas, lr=1.0, history=LBFGS_HISTORY, min_first_move=FIRST_MOVE)
        for i in range(steps):
            total = evaluate(i)
            if reached and reached(i, total):
                return
            grad, = torch.autograd.grad(total, canvas)
            if i < steps - 1:  # like torch.optim.LBFGS, end on an evaluation of the final canvas
                opt.step(grad.reshape(-1))
    elif settings.optimizer == "adam":
        opt = torch.optim.Adam([canvas], lr=settings.learning_rate)
        for i in range(steps):
            opt.zero_grad(set_to_none=True)
            total = evaluate(i)
            if reached and reached(i, total):
                return
            total.backward()
            opt.step()
    else:
        raise ValueError(f"unknown optimizer {settings.optimizer!r} (lbfgs or adam)")
