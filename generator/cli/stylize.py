"""The one-image tool: a photo in the style of one or more paintings, at a chosen size."""
from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, fields, replace
from pathlib import Path

from ..common.errors import InputError
from ..engine.images import fit_long_side, read_image, resize_to, save_image
from ..engine.settings import POOLINGS, PRECONDITIONERS

OUTPUT_FORMATS = (".jpg", ".jpeg", ".png", ".webp")


@dataclass(frozen=True)
class StylizeOptions:
    """stylize's options, one field per command-line option (--content-weight: content_weight).
    Made once: from the command line (from_args) or by a Python caller; read by stylize and
    transfer_settings. None keeps the default schedule's value. A bad value raises InputError
    naming the option (the command line's own types refuse them first)."""
    size: int = 512                              # the result's long side
    device: str = "auto"
    steps: int | None = None
    content_weight: float | None = None
    style_weight: float | None = None
    tv_weight: float | None = None
    init: str = "recoloured"                     # content, recoloured, noise or style
    optimizer: str = "lbfgs"                     # lbfgs or adam
    precondition: str = "pyramid"                # L-BFGS's: pyramid or none (engine/precondition.py)
    learning_rate: float | None = None           # Adam's
    seed: int = 0
    keep_colors: bool = False
    style_scale: float = 1.0
    copy_guard: float | None = None              # a cosine in [0, 1]; 0: off (engine/copy_guard.py)
    style_blend_weights: tuple | None = None     # one per painting, normalised by transfer_settings
    pooling: str = "max"                         # one of POOLINGS
    content_layers: tuple | None = None          # VGG19 names, checked by transfer_settings
    style_layers: tuple | None = None
    save_every: int = 0                          # 0: no intermediate results

    def __post_init__(self):
        if not self.style_scale > 0 or self.style_scale == float("inf"):
            raise InputError("--style-scale", f"must be a finite number > 0, not {self.style_scale}")
        if self.copy_guard is not None and not 0 <= self.copy_guard <= 1:
            raise InputError("--copy-guard", f"must be a cosine from 0 (off) to 1, not {self.copy_guard}")
        if self.save_every < 0:
            raise InputError("--save-every",
                             f"must be 0 (none) or a positive number of evaluations, not {self.save_every}")
        if self.pooling not in POOLINGS:
            raise InputError("--pooling", f"must be {' or '.join(POOLINGS)}, not {self.pooling!r}")
        if self.learning_rate is not None and not self.learning_rate > 0:
            raise InputError("--learning-rate", f"must be positive, not {self.learning_rate}")
        if self.precondition not in PRECONDITIONERS:
            raise InputError("--precondition", f"must be {' or '.join(PRECONDITIONERS)}, not {self.precondition!r}")

    @classmethod
    def from_args(cls, args) -> StylizeOptions:
        """The options from the command line's parsed arguments (the same names)."""
        return cls(**{f.name: getattr(args, f.name) for f in fields(cls)})


def check_layers(option: str, names) -> tuple:
    """VGG19 layer names given on the command line, or InputError naming the option."""
    from ..engine.vgg import LAYERS

    names = tuple(names)
    if not names:
        raise InputError(option, "give at least one VGG19 layer name")
    for name in names:
        if name not in LAYERS:
            raise InputError(option, f"unknown VGG19 layer {name!r} (conv, relu or pool names as in "
                                     f"generator/engine/vgg.py: {LAYERS[0]} ... {LAYERS[-1]}, e.g. relu4_2)")
    return names


def blend_weights(weights, n_paintings: int) -> tuple | None:
    """One non-negative weight per painting, normalised to sum 1 (as neural-style does)."""
    if weights is None:
        return None
    weights = tuple(float(w) for w in weights)
    if len(weights) != n_paintings:
        raise InputError("--style-blend-weights",
                         f"{len(weights)} weight(s) for {n_paintings} painting(s); give one per painting")
    if any(not 0 <= w < float("inf") for w in weights) or sum(weights) <= 0:
        raise InputError("--style-blend-weights", "weights must be finite, >= 0 and not all zero")
    return tuple(w / sum(weights) for w in weights)


def transfer_settings(options: StylizeOptions, n_paintings: int = 1):
    """stylize's TransferSettings: the default schedule for options.size on options.device (a
    resolved device: cpu, cuda, ...), then the options given (None keeps the default). Bad layer
    names or blend weights raise InputError naming the option."""
    from ..engine.runtime import device_schedule
    from ..engine.settings import TransferSettings

    o = options
    given = dict(steps=o.steps, content_weight=o.content_weight, style_weight=o.style_weight, tv_weight=o.tv_weight,
                 learning_rate=o.learning_rate, copy_guard=o.copy_guard,
                 content_layers=None if o.content_layers is None else check_layers("--content-layers", o.content_layers),
                 style_layers=None if o.style_layers is None else check_layers("--style-layers", o.style_layers),
                 style_blend=blend_weights(o.style_blend_weights, n_paintings))
    default = TransferSettings(**device_schedule(o.size, o.device, o.precondition), precondition=o.precondition)
    settings = replace(default, **{k: v for k, v in given.items() if v is not None}, init=o.init,
                       optimizer=o.optimizer, seed=o.seed, pooling=o.pooling, style_scale=o.style_scale,
                       snapshot_every=o.save_every, colours="photo" if o.keep_colors else "painting")
    if settings.style_layers != default.style_layers and isinstance(settings.style_layer_weights, (tuple, list)):
        settings = replace(settings, style_layer_weights=None)  # the default's weights were for other layers
    return settings


def painting_sizes(size: tuple[int, int], painting_size: tuple[int, int], settings) -> list[tuple[int, int]]:
    """The painting's (w, h) at each coarse-to-fine stage, as the transfer resizes it."""
    from ..engine.transfer import effective_scales, stage_sizes, style_side

    sides = [style_side(stage, settings.style_min_side, settings.style_scale)
             for stage in stage_sizes(size, effective_scales(size, settings.scales))]
    return [fit_long_side_size(painting_size, side) for side in sides]


def fit_long_side_size(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """The size `images.fit_long_side(..., allow_upscale=True)` gives an image of `size`."""
    from ..engine.images import fit_size

    return fit_size(size, long_side)


def check_painting_scale(paintings, size: tuple[int, int], settings) -> None:
    """Refuse a --style-scale that leaves a painting too small for VGG19's deep layers.
    `paintings`: (path, image) pairs."""
    from ..engine.transfer import MIN_STAGE_SIDE

    for path, painting in paintings:
        smallest = min(painting_sizes(size, painting.size, settings), key=min)
        if min(smallest) < MIN_STAGE_SIDE:
            raise InputError("--style-scale", f"{settings.style_scale:g} makes {path} {smallest[0]}x{smallest[1]} px; "
                                              f"its short side needs at least {MIN_STAGE_SIDE} px (VGG19 pools "
                                              f"four times before conv5_1)")


def snapshot_path(output: Path, evaluation: int, steps: int) -> Path:
    """resultado.jpg -> resultado_0050.jpg (at least four digits, enough for `steps`)."""
    return output.with_name(f"{output.stem}_{evaluation:0{max(4, len(str(steps)))}d}{output.suffix}")


def stylize(content: Path, styles: list[Path], output: Path, options: StylizeOptions | None = None, *,
            show_progress=True, **option_values):
    """Write the stylised photo to `output` and, with save_every=N, every N-th evaluation's canvas
    beside it (snapshot_path, at the result's size); returns (TransferResult, report lines).
    `options`: a StylizeOptions, or its fields as keywords (size=256, steps=50, ...).
    keep_colors: the photo's chrominance kept and only the luminance optimised, against the
    paintings in colour (transfer.shown_canvas); the site's colour figure shows Gatys et al.'s
    luminance-only transfer instead (figures/work_colour.py)."""
    if options is not None and option_values:
        raise TypeError("stylize: give a StylizeOptions or its fields as keywords, not both")
    output = Path(output)
    if output.suffix.lower() not in OUTPUT_FORMATS:
        raise InputError(output, f"unsupported output format (use {', '.join(OUTPUT_FORMATS)})")
    if output.is_dir():
        raise InputError(output, "is a directory; give a file name")
    if not output.parent.exists():
        raise InputError(output, f"folder {output.parent} does not exist")
    from ..engine.device import resolve_device

    options = options or StylizeOptions(**option_values)
    options = replace(options, device=resolve_device(options.device))
    device = options.device
    settings = transfer_settings(options, len(styles))  # bad options fail before reading images
    photo = fit_long_side(read_image(content), options.size, allow_upscale=True)
    paintings = [(Path(s), read_image(s)) for s in styles]  # a list: the same painting may come twice
    check_painting_scale(paintings, photo.size, settings)
    shown_sizes = [painting_sizes(photo.size, p.size, settings) for _, p in paintings]

    from ..engine.memory import check_fits
    from ..engine.transfer import LBFGS_HISTORY, deepest_layer, run_transfer

    check_fits(photo.size, deepest_layer(settings), device,
               LBFGS_HISTORY if settings.optimizer == "lbfgs" else 0)  # refuse before any work
    def finished(img):
        """A canvas as the user sees it: at the result's size."""
        return resize_to(img, photo.size)

    written = []

    def save_snapshot(evaluation, img):
        path = snapshot_path(output, evaluation, settings.steps)
        save_image(finished(img), path, quality=95)
        written.append(path)

    bar = None
    if show_progress:
        from tqdm import tqdm
        bar = tqdm(total=settings.steps, desc="stylize", unit="eval", file=sys.stderr, leave=False)
    try:
        result = run_transfer(photo, [p for _, p in paintings], settings, photo.size, device,
                              bar.update if bar is not None else None,
                              on_snapshot=save_snapshot if settings.snapshot_every else None)
    finally:
        if bar is not None:
            bar.close()
    result.image = finished(result.image)
    save_image(result.image, output, quality=95)
    names = [(path.name, sizes) for (path, _), sizes in zip(paintings, shown_sizes)]
    return result, schedule_report(settings, result.history, photo.size, names, written, result.left_out, result.probe,
                                   result.copy_thresholds)


def _g(x) -> str:
    return f"{x:g}"


def _raised(threshold, names, used) -> str:
    """The paintings whose own texture raised the copy guard's threshold (copy_guard.self_match)."""
    raised = [f"{used_here:.2f} for {name}" for name, used_here in zip(names, used) if used_here > threshold]
    return f" (raised to {', '.join(raised)}: the painting repeats itself that closely)" if raised else ""


def schedule_report(settings, history, size, paintings, snapshots=(), left_out=(), probe=None,
                    copy_thresholds=()) -> list[str]:
    """What the run used, in lines: weights and layers, paintings, then each stage's size,
    evaluations and precision as recorded in `history`. `paintings`: (name, [(w, h) per stage]);
    `left_out`: the copy guard's (positions left out, positions) per painting (TransferResult.left_out);
    `probe`: its probe's ((w, h), evaluations) (TransferResult.probe); `copy_thresholds`: its threshold
    per painting at the last check (TransferResult.copy_thresholds)."""
    from ..engine.transfer import effective_scales, guard_layer, layer_weights, stage_sizes

    layers = layer_weights(settings)
    lines = [f"weights: content {_g(settings.content_weight)} at {', '.join(settings.content_layers)}; "
             f"style {_g(settings.style_weight)} at "
             + ", ".join(f"{name} {w:.3g}" for name, w in layers.items())
             + f"; tv {_g(settings.tv_weight)}"]
    blend = settings.style_blend or (1 / len(paintings),) * len(paintings)
    lines.append("paintings: " + ", ".join(f"{name} x{w:.3g}" for (name, _), w in zip(paintings, blend))
                 + f"; style scale {_g(settings.style_scale)}; pooling {settings.pooling}; colours: "
                 + ("the photo's (its chrominance kept, the luminance optimised)" if settings.colours == "photo"
                    else "the painting's"))
    optimiser = settings.optimizer + (f" (learning rate {_g(settings.learning_rate)})"
                                      if settings.optimizer == "adam" else f" (preconditioner {settings.precondition})")
    lines.append(f"schedule: {optimiser}, init {settings.init}, seed {settings.seed}, precision {settings.precision}")
    guarded = guard_layer(settings)
    lines.append("copy guard: " + (
        "off" if guarded is None else
        f"{_g(settings.copy_guard)} at {guarded}"
        + _raised(settings.copy_guard, [name for name, _ in paintings], copy_thresholds)
        + (", after a probe of {} evaluations at {}x{}".format(probe[1], *probe[0]) if probe else "")
        + "; painting positions left out of its target: "
        + (", ".join(f"{n} of {total}" for n, total in left_out) or "none")))
    sizes = stage_sizes(size, effective_scales(size, settings.scales))
    for stage, (w, h) in enumerate(sizes):
        counts = Counter(e["precision"] for e in history if e["stage"] == stage)
        precision = ", ".join(f"{n} {p}" for p, n in counts.items()) or "none"
        shown = " / ".join("{}x{}".format(*per_stage[stage]) for _, per_stage in paintings)
        lines.append(f"  stage {stage + 1}: {w}x{h}, {sum(counts.values())} evaluations ({precision}), "
                     f"painting {shown}")
    if snapshots:
        lines.append(f"intermediate results: {len(snapshots)} ({Path(snapshots[0]).name} ... {Path(snapshots[-1]).name})")
    return lines
