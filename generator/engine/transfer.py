"""The optimisation of Gatys et al.: pixels of a canvas move to match a photo's content
features and a painting's Gram matrices. Reconstructions are transfers with one weight at zero.

One driver (run_canvases) runs K canvases of one size through the same schedule: coarse-to-fine
(settings.scales) optimises small first and refines, each stage with its own targets
(stage_targets). run_transfer is one canvas with the losses written as in the paper;
batched.run_batch is several, their losses mapped over the batch. memory.py refuses, before any
work, canvases that would not fit; runtime.py holds the network, precision and optimiser loop.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F
from PIL import Image

from ..common.errors import InputError
from . import colour, copy_guard, images, losses, memory
from . import settings as config
from .runtime import (  # noqa: F401  (FIRST_MOVE: the transfer's first step, read from here)
    FIRST_MOVE,
    LBFGS_HISTORY,
    Clock,
    check_schedule,
    fast_math,
    features,
    loss_reached,
    network,
    optimise,
    stage_precision,
)
from .settings import FINAL_SHARE, MIN_STAGE_SIDE, TransferSettings, stage_steps  # noqa: F401  (stage_steps, MIN_STAGE_SIDE: read from here too)
from .vgg import LAYERS, tap

MIN_CANVAS_SIDE = 16    # every stage's sides at least: one position left at conv5_1 after four poolings
# Settings every canvas of a run must share: they fix the schedule (stages, evaluations per stage,
# precision per evaluation), the network and the optimiser's update.
SHARED = ("steps", "scales", "final_share", "precision", "optimizer", "precondition", "learning_rate", "pooling",
          "rescale_weights", "colours")
COLOURS = ("painting", "photo")
# BT.601 luminance of the network's BGR input (the Caffe means cancel in a difference)
LUMINANCE_BGR = (0.114, 0.587, 0.299)


@dataclass
class TransferResult:
    image: Image.Image
    history: list[dict] = field(default_factory=list)   # one entry per loss evaluation
    snapshots: list[tuple[int, Image.Image]] = field(default_factory=list)  # (evaluation, image)
    seconds: float = 0.0
    # the copy guard's (painting positions left out, positions) per painting at the end; () unguarded
    left_out: tuple = ()
    copy_thresholds: tuple = ()  # the copy guard's threshold per painting at its last check; () unguarded
    probe: tuple | None = None   # the copy guard's probe: ((w, h), evaluations), its seconds in `seconds`

    @property
    def final_loss(self) -> float:
        return self.history[-1]["total"] if self.history else float("nan")


def stage_sizes(size: tuple[int, int], scales) -> list[tuple[int, int]]:
    """Canvas size (w, h) at each coarse-to-fine stage; each side at least MIN_CANVAS_SIDE."""
    return [(max(MIN_CANVAS_SIDE, round(size[0] * s)), max(MIN_CANVAS_SIDE, round(size[1] * s))) for s in scales]


def effective_scales(size: tuple[int, int], scales, min_side: int = MIN_STAGE_SIDE) -> tuple:
    """The coarse-to-fine scales whose canvas keeps a short side of at least `min_side` px (VGG19
    pools four times before conv5_1); the final scale always stays."""
    kept = tuple(s for s in scales[:-1] if min(size) * s >= min_side)
    return kept + tuple(scales[-1:])


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


def shown_canvas(canvas: torch.Tensor, photo: torch.Tensor, colours: str) -> torch.Tensor:
    """The picture a canvas stands for. colours="photo": the photo's chrominance with the canvas's
    luminance, photo + Y(canvas - photo) on every channel (BT.601's inverse gives luminance the weight
    1 in R, G and B), so only the luminance is optimised and the losses judge the picture shown."""
    if colours == "painting":
        return canvas
    if colours != "photo":
        raise ValueError(f"unknown colours {colours!r} ({' or '.join(COLOURS)})")
    weights = canvas.new_tensor(LUMINANCE_BGR).view(1, 3, 1, 1)
    return photo + ((canvas - photo) * weights).sum(1, keepdim=True)


def initial_canvas(kind: str, content: torch.Tensor, style: torch.Tensor, seed: int, paintings=(),
                   blend=None) -> torch.Tensor:
    """The starting canvas: the photo ("content"), the photo in the paintings' palette ("recoloured":
    its colour mean and covariance made the paintings', pooled with the blend's weights; `paintings`
    are their tensors, `style` alone if none), noise or the painting."""
    if kind == "content":
        return content.clone()
    if kind == "recoloured":
        recoloured = colour.recolour_to(images.to_image(content), [images.to_image(p) for p in paintings or [style]],
                                        blend)
        return images.to_tensor(recoloured).to(content.device, content.dtype)
    if kind == "style":
        return F.interpolate(style, size=content.shape[-2:], mode="bilinear", align_corners=False)
    if kind == "noise":
        gen = torch.Generator().manual_seed(seed)
        noise = torch.rand(content.shape, generator=gen) * 255.0
        return (noise - torch.tensor(images.CAFFE_MEAN_BGR).view(1, 3, 1, 1)).to(content.device, content.dtype)
    raise ValueError(f"unknown init {kind!r} (content, recoloured, noise or style)")


def style_targets(model, styles: list[torch.Tensor], blend, layers, canvas_pixels_at: dict,
                  kept: dict | None = None) -> dict:
    """Blended target Gram matrices, rescaled to the canvas's M_l so E_l's 1/M_l^2 matches. The
    paintings' responses at the layers `kept` holds are appended there, one per painting."""
    blend = blend or (1.0 / len(styles),) * len(styles)
    targets = {}
    for style, weight in zip(styles, blend):
        with torch.no_grad():
            feats = model(style, layers)
        for name in kept or ():
            kept[name].append(feats[name])
        for name in layers:
            g = losses.canvas_gram(feats[name], canvas_pixels_at[name]) * weight
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


@dataclass
class StageTargets:
    """One coarse-to-fine stage's problem for one canvas: the photo and painting tensors at the
    stage's size, the content targets P^l, the target Gram matrices, the stage's style weights w_l
    (balanced against the photo when asked) and its content weight."""
    content: torch.Tensor
    styles: list
    content_targets: dict
    grams: dict
    style_weights: dict
    content_weight: float
    painting_feats: dict = field(default_factory=dict)  # the copy guard's layer: each painting's responses
    blend: tuple = (1.0,)                                # each painting's weight in the Gram targets
    canvas_positions: dict = field(default_factory=dict)  # per style layer: the canvas's positions M_l


def stage_targets(model, content: Image.Image, styles: list[Image.Image], settings: TransferSettings,
                  stage_size: tuple[int, int], size: tuple[int, int], device: str) -> StageTargets:
    """The StageTargets of a canvas of `stage_size` whose final size is `size`."""
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
    guarded = guard_layer(settings)
    painting_feats = {guarded: []} if guarded in style_w else {}
    grams = style_targets(model, style_ts, settings.style_blend, list(style_w), pixels, painting_feats)
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
    blend = tuple(settings.style_blend or (1.0 / len(style_ts),) * len(style_ts))
    return StageTargets(content_t, style_ts, content_targets, grams, stage_w, content_weight, painting_feats, blend,
                        pixels)


def guard_layer(settings: TransferSettings) -> str | None:
    """The layer the copy guard watches: the deepest style layer, when the guard is on and the
    transfer has both a photo and a painting (not in reconstructions), from a canvas that is not
    the painting itself (init="style" copies it everywhere by construction)."""
    if not settings.guards_copies():
        return None
    return tap(max(settings.style_layers, key=LAYERS.index), settings.taps)


def copy_guards(problems) -> list:
    """One CopyGuard per layer the problems' guards watch, each with the threshold of the canvases
    that guard that layer (0 for the others)."""
    layers = sorted({guard_layer(p.settings) for p in problems} - {None})
    return [copy_guard.CopyGuard(layer, [p.settings.copy_guard if guard_layer(p.settings) == layer else 0.0
                                         for p in problems]) for layer in layers]


def deepest_layer(settings: TransferSettings) -> str:
    used = set(settings.content_layers if settings.content_weight else ()) | \
        set(settings.style_layers if settings.style_weight else ())
    deepest = max(used or set(settings.content_layers) | set(settings.style_layers), key=LAYERS.index)
    return tap(deepest, settings.taps)




@dataclass(frozen=True)
class Problem:
    """One canvas's transfer: the photo, the painting(s) and its settings."""
    content: Image.Image
    styles: tuple
    settings: TransferSettings


def shared_settings(problems) -> TransferSettings:
    """The settings the canvases of one run share (SHARED), checked: the first canvas's."""
    first = problems[0].settings
    check_schedule(first.precision, first.optimizer, first.precondition)
    for p in problems[1:]:
        for name in SHARED:
            if getattr(p.settings, name) != getattr(first, name):
                raise ValueError(f"a batch shares {name}: {getattr(first, name)!r} != {getattr(p.settings, name)!r}")
    return first


def check_fits(problems, size: tuple[int, int], device: str) -> int:
    """Raise InputError('--size', ...) if the canvases' estimated peak memory (memory.estimate_bytes
    each, the network's weights counted once) exceeds what `device` has free; return the estimate."""
    shared = problems[0].settings
    history = LBFGS_HISTORY if shared.optimizer == "lbfgs" else 0
    weights = memory.WEIGHTS_BYTES
    need = sum(memory.estimate_bytes(size, deepest_layer(p.settings), history) - weights
               for p in problems) + weights
    have = memory.available_bytes(device)
    if have is not None and need > have * memory.SAFETY:
        what, advice = ((f"{size[0]}x{size[1]} px needs", "use a smaller --size") if len(problems) == 1 else
                        (f"{len(problems)} canvases of {size[0]}x{size[1]} px need", "use fewer or smaller canvases"))
        raise InputError("--size", f"{what} ~{need / memory.GIB:.1f} GiB on {device}, only {have / memory.GIB:.1f} GiB "
                                   f"available ({advice})")
    return need


def probe_copies(problems, size: tuple[int, int], device: str, objective, guards) -> tuple | None:
    """The copy guard's probe (settings.PROBE_STEPS): the problems at PROBE_SCALE of `size`, their
    paintings scaled alike, optimised briefly with `guards` probing; what their check drops stays out
    of the run's targets, and their canvases are thrown away. ((w, h), seconds), or None without a
    probe (settings.probe_canvas)."""
    probe_size = config.probe_canvas(size)
    if probe_size is None:
        return None
    scale = config.PROBE_SCALE
    probes = [Problem(p.content, p.styles, replace(p.settings, steps=config.PROBE_STEPS, scales=(1.0,),
                                                    style_min_side=round(p.settings.style_min_side * scale),
                                                    snapshot_every=0))
              for p in problems]
    for guard in guards:
        guard.probing = True
    try:
        results = run_canvases(probes, probe_size, device, objective, guards=guards)
    finally:
        for guard in guards:
            guard.probing = False
    return probe_size, results[0].seconds


def run_canvases(problems, size: tuple[int, int], device: str, objective, progress=None, on_snapshot=None,
                 on_evaluation=None, stop_below: float | None = None, guards=None) -> list[TransferResult]:
    """Optimise one canvas of `size` (w, h) per problem, all in the same passes (the driver of
    run_transfer and batched.run_batch). `objective(model, problems, device)` gives the losses: an
    object with `targets_model` (the network stage_targets reads) and `stage(targets)` -> a function
    (canvas, precision) -> (total, content, style, tv), each a (K,) tensor or, for one canvas, a
    scalar. Callbacks as run_transfer's, `on_snapshot` with the problem's index first. `guards`: the
    copy guards to use (the probe's are the run's); by default the problems' own, after their probe."""
    shared = shared_settings(problems)
    check_fits(problems, size, device)
    probe = None
    if guards is None:
        guards = copy_guards(problems)
        probe = probe_copies(problems, size, device, objective, guards) if guards else None
    torch.manual_seed(shared.seed)
    model = network(shared.pooling, device, shared.precision, shared.rescale_weights)
    objective = objective(model, problems, device)
    results = [TransferResult(image=p.content) for p in problems]
    clock = Clock(device)
    records: list[torch.Tensor] = []   # (K, 4) per evaluation: total, content, style, tv
    stages: list[tuple] = []           # (coarse-to-fine stage, precision) of each evaluation
    canvas = None
    with fast_math(device, shared.precision):
        for stage in plan_stages(size, shared.scales, shared.steps, shared.final_share):
            targets = [stage_targets(objective.targets_model, p.content, list(p.styles), p.settings, stage.size,
                                     size, device) for p in problems]
            for guard in guards:
                guard.apply(targets)   # what the coarser stages dropped stays out
            if canvas is None:
                canvas = torch.cat([initial_canvas(p.settings.init, t.content, t.styles[0], p.settings.seed,
                                                   t.styles, p.settings.style_blend)
                                    for p, t in zip(problems, targets)])
            else:
                canvas = F.interpolate(canvas, size=targets[0].content.shape[-2:], mode="bilinear", align_corners=False)
            canvas = canvas.detach().contiguous().requires_grad_(True)
            losses_of = [objective.stage(targets)]   # rebuilt when the copy guard changes a target
            photos = torch.cat([t.content for t in targets])

            def evaluate(i, canvas=canvas, losses_of=losses_of, stage=stage, photos=photos, targets=targets):
                precision = stage_precision(i, shared.precision)
                picture = shown_canvas(canvas, photos, shared.colours)
                parts = losses_of[0](picture, precision)
                due = [guard for guard in guards if guard.due(i, stage.steps)]
                if due:
                    with torch.no_grad():
                        deep = features(model, picture, [guard.layer for guard in due], precision)
                    if any([guard.check(deep[guard.layer], targets) for guard in due]):
                        losses_of[0] = objective.stage(targets)
                records.append(torch.stack([part.detach().reshape(-1) for part in parts], 1))
                stages.append((stage.index, precision))
                clock.tick()
                n = len(records)
                if on_evaluation:
                    on_evaluation(n, picture.detach(), parts[0].detach())
                for k, p in enumerate(problems):
                    if p.settings.snapshot_every and n % p.settings.snapshot_every == 0:
                        results[k].snapshots.append((n, images.to_image(picture[k:k + 1])))  # synchronises
                        if on_snapshot:
                            on_snapshot(k, *results[k].snapshots[-1])
                if progress:
                    progress(len(problems))
                return parts[0]

            reached = loss_reached(stop_below, device) if stage.final else None
            optimise(canvas, evaluate, stage.steps, shared.optimizer, shared.learning_rate, reached, shared.precondition)
    seconds, times = clock.read()
    values = torch.stack(records).double().cpu().tolist() if records else []  # [evaluation][canvas][term]
    if canvas is not None:
        canvas = shown_canvas(canvas.detach(), photos, shared.colours)
    for k, result in enumerate(results):
        result.image = images.to_image(canvas[k:k + 1])
        result.seconds = seconds + (probe[1] if probe else 0.0)
        result.probe = probe and (probe[0], config.PROBE_STEPS)
        watching = [guard for guard in guards if guard.thresholds[k]]
        result.left_out = watching[0].left_out(k, len(problems[k].styles)) if watching else ()
        result.copy_thresholds = watching[0].last_thresholds(k, len(problems[k].styles)) if watching else ()
        result.history = [{"evaluation": i + 1, "total": row[k][0], "content": row[k][1], "style": row[k][2],
                           "tv": row[k][3], "seconds": sec, "stage": st, "precision": pr}
                          for i, (row, sec, (st, pr)) in enumerate(zip(values, times, stages))]
    return results


class OneCanvas:
    """run_canvases' objective for one canvas: Gatys et al.'s losses on its features."""

    def __init__(self, model, problems, device):
        (problem,) = problems
        self.model = self.targets_model = model
        self.settings = problem.settings
        self.content_layers, style_w = active_terms(self.settings)
        self.layers = sorted(set(self.content_layers) | set(style_w), key=LAYERS.index)

    def stage(self, targets):
        (t,) = targets
        settings = self.settings

        def losses_of(canvas, precision):
            feats = features(self.model, canvas, self.layers, precision)
            zero = canvas.new_zeros(())
            c = sum((content_term(feats[n], t.content_targets[n], settings.content_normalise)
                     for n in self.content_layers), zero)
            s = losses.style_loss(feats, t.grams, t.style_weights) if t.style_weights else zero
            tv = losses.total_variation(canvas) if settings.tv_weight else zero
            total = t.content_weight * c + settings.style_weight * s + settings.tv_weight * tv
            return total, c, s, tv
        return losses_of


def run_transfer(content: Image.Image, styles: list[Image.Image], settings: TransferSettings,
                 size: tuple[int, int], device: str = "cpu", progress=None,
                 stop_below: float | None = None, on_snapshot=None, on_evaluation=None) -> TransferResult:
    """Optimise a canvas of `size` (w, h). `progress(n)` is called after each evaluation;
    `on_snapshot(evaluation, image)` with each snapshot as it is taken (settings.snapshot_every);
    `on_evaluation(evaluation, canvas, total)` with the canvas each evaluation read and its loss
    (the benchmark keeps candidates to score them exactly afterwards; the canvas changes in place).
    `stop_below` (the benchmark's time-to-loss) ends the final stage at its first evaluation whose
    reported total loss (bfloat16 readings included) is at most that value; it reads the loss, so
    a GPU synchronises every runtime.STOP_CHECK_CUDA evaluations."""
    snapshot = on_snapshot and (lambda _, n, image: on_snapshot(n, image))
    result, = run_canvases([Problem(content, tuple(styles), settings)], size, device, OneCanvas, progress,
                           snapshot, on_evaluation, stop_below)
    return result
