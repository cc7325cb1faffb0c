"""The transfer's objective as data, for the live page: the browser reads this JSON (written by the
build next to the exported weights) instead of keeping its own copy of the engine's settings.

Everything here is read from the engine itself: TransferSettings' defaults (settings.py), the
per-layer style weights (transfer.layer_weights), the L-BFGS constants (transfer.py, lbfgs.py,
precondition.py), the input convention (images.py) and the layer order (vgg.py); layer names are
the network layers the losses read (vgg.tap: relu4_2 for the paper's conv4_2 with post-ReLU taps). The loss
formulas cannot be read as data, so `check_loss_formulas` probes losses.py and transfer.py at build
time and fails the export if they no longer are the ones the browser implements (content: 1/2
Σ(X-P)² or, normalised "mean", mean (X-P)²; style: Σ(G-A)²/(4N²M²); style_balance "photo": w_l
divided by the photo's own E_l, once per run, when both terms are on).
"""
from __future__ import annotations

import hashlib
import json

from . import images, lbfgs, losses, transfer
from .precondition import PYRAMID_LEVELS, PYRAMID_RATIO
from .settings import CPU_PYRAMID_STEPS, CPU_STEPS, FINAL_SHARE, PRECONDITIONERS, TransferSettings, default_schedule
from .vgg import LAYERS

VERSION = 3
CONTENT_FACTOR = 0.5      # L_content = CONTENT_FACTOR * sum (X - P)^2
STYLE_DIVISOR = 4.0       # E_l = sum (G - A)^2 / (STYLE_DIVISOR * N^2 * M^2)


def tap(layers) -> str:
    """Whether responses are read before or after the ReLU: from the layer names themselves."""
    kinds = {name[:4] for name in layers}
    if kinds <= {"conv"}:
        return "pre_relu"
    if kinds <= {"relu"}:
        return "post_relu"
    return "mixed"


# The canvas sizes the page offers (long side, px; docs/javascripts/live/query.js SIZES).
PAGE_SIZES = (32, 48, 64, 96, 128, 192, 256, 384, 512)


# The page's L-BFGS preconditioner (optim.js, pyramid.js: precondition.py's pyramid, its levels and
# ratio read from objective.json): the engine's default. Measured at the page's budget
# (bench/README.md, the browser): one stage at full size with the pyramid beats plain L-BFGS's
# coarse-to-fine schedule at the same cost in pixel-evaluations.
PAGE_PRECONDITION = "pyramid"


def page_settings(**overrides) -> TransferSettings:
    """The engine's defaults as the page runs them (PAGE_PRECONDITION, no copy guard: the page does
    not watch for copied objects), with `overrides`."""
    return TransferSettings(**{"precondition": PAGE_PRECONDITION, "copy_guard": 0.0, **overrides})


def schedule(precondition: str = PAGE_PRECONDITION) -> dict:
    """The schedule the page follows at each of its sizes: the engine's on a CPU with `precondition`
    (settings.default_schedule: with the pyramid, one stage at full size; without it, one stage up
    to 256 px, above it half size then full size with a quarter of the evaluations at full size), a
    coarse stage dropped when its short side falls under the engine's minimum
    (transfer.effective_scales); the page picks the evaluations itself, at most `steps` by default:
    stylize's on a CPU above 256 px (CPU_PYRAMID_STEPS with the pyramid, CPU_STEPS without)."""
    by_size = {}
    for side in PAGE_SIZES:
        plan = default_schedule(side, "cpu", precondition)
        by_size[str(side)] = {"scales": list(plan["scales"]), "final_share": plan.get("final_share", FINAL_SHARE)}
    steps = CPU_PYRAMID_STEPS if precondition == "pyramid" else CPU_STEPS
    return {"steps": steps, "min_stage_side": transfer.MIN_STAGE_SIDE, "by_size": by_size}


def lbfgs_precondition(settings: TransferSettings) -> dict:
    """objective.json's `lbfgs.precondition`: the kind and, for the pyramid, precondition.py's levels
    and ratio (optim.js builds M from them for each stage's canvas)."""
    if settings.precondition == "pyramid":
        return {"kind": "pyramid", "levels": PYRAMID_LEVELS, "ratio": PYRAMID_RATIO}
    return {"kind": settings.precondition}


def identify(obj: dict) -> str:
    """The objective's id: SHA-256 of its canonical JSON (the network and the id left out), so a
    painting's prepared Gram matrices name the objective they were computed for."""
    body = {k: v for k, v in obj.items() if k not in ("id", "network")}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def objective(settings: TransferSettings | None = None) -> dict:
    """The objective of `settings` (the engine's defaults when None) as a JSON-ready dict, with
    its id (identify)."""
    settings = settings or page_settings()
    check_loss_formulas()
    check_supported(settings)
    style_weights = transfer.layer_weights(settings)
    content_layers = list(transfer.content_taps(settings))
    used = content_layers + list(style_weights)
    obj = {
        "version": VERSION,
        "input": {"order": "BGR", "scale": 255.0, "mean": list(images.CAFFE_MEAN_BGR)},
        "layers": list(LAYERS),
        "deepest": max(used, key=LAYERS.index),
        "pooling": settings.pooling,
        "tap": tap(used),
        "content_layers": content_layers,
        "style_layers": list(style_weights),
        "style_layer_weights": style_weights,
        # "equal": a chosen subset of style layers shares 1 equally (the engine's rule without
        # explicit weights); "given": each layer keeps its own weight.
        "style_layer_weights_rule": "equal" if settings.style_layer_weights is None else "given",
        "content_weight": settings.content_weight,
        "style_weight": settings.style_weight,
        "tv_weight": settings.tv_weight,
        # "photo": each w_l divided by E_l(photo), the photo's own style loss against the painting's
        # Gram targets at that layer (transfer.balanced_weights), when both terms are on.
        "style_balance": settings.style_balance,
        # "sum": content_factor * sum (X - P)^2; "mean": mean (X - P)^2 (transfer.content_term).
        "content_normalise": settings.content_normalise,
        "content_factor": CONTENT_FACTOR,
        "style_divisor": STYLE_DIVISOR,
        "style_min_side": settings.style_min_side,
        "style_scale": settings.style_scale,
        # The painting's long side for every canvas the page offers (painting_side).
        "painting_side": painting_side(settings),
        "min_canvas_side": transfer.MIN_CANVAS_SIDE,
        "init": settings.init,
        "optimizer": settings.optimizer,
        "lbfgs": {"lr": 1.0, "history": transfer.LBFGS_HISTORY, "first_move": transfer.FIRST_MOVE,
                  "curvature_eps": lbfgs.CURVATURE_EPS, "precondition": lbfgs_precondition(settings)},
        "adam": {"lr": settings.learning_rate, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
        "precision": "float32",
        "schedule": schedule(settings.precondition if settings.optimizer == "lbfgs" else PAGE_PRECONDITION),
    }
    obj["id"] = identify(obj)
    return obj


def painting_side(settings: TransferSettings) -> int:
    """The painting's long side, transfer.style_side, for every canvas the page offers: one number,
    since none is larger than the engine's style_min_side (check_supported)."""
    return transfer.style_side((max(PAGE_SIZES),) * 2, settings.style_min_side, settings.style_scale)


def painting_image(painting, settings: TransferSettings):
    """The painting as every canvas the page offers reads it: resized as stage_targets resizes it,
    to painting_side."""
    return images.fit_long_side(painting, painting_side(settings), allow_upscale=True)


def painting_grams(model, painting_tensor, settings: TransferSettings) -> dict:
    """{layer: (G, M)}: the Gram matrices G = F F^T (float32, C x C, on the CPU) of the painting's
    input tensor (painting_image) at the objective's style layers, and their numbers of positions
    M; the page rescales G to each canvas's M as transfer.style_targets does."""
    import torch

    layers = list(transfer.layer_weights(settings))
    with torch.no_grad():
        feats = model(painting_tensor, layers)
    return {name: (losses.gram_matrix(feats[name])[0].float().cpu(), feats[name].shape[-2] * feats[name].shape[-1])
            for name in layers}


def with_overrides(**overrides) -> dict:
    """The objective of the defaults with some settings changed (tests, the bench)."""
    return objective(page_settings(**overrides))


STYLE_BALANCES = ("none", "photo")
CONTENT_NORMALISATIONS = ("sum", "mean")


def check_supported(settings: TransferSettings) -> None:
    """Refuse settings whose computation the page does not reproduce (float32, the plain network,
    one painting, a preconditioner optim.js has, no copy guard; its stages come from `schedule`, not
    from the settings)."""
    unsupported = {
        "style_balance": settings.style_balance not in STYLE_BALANCES,
        "content_normalise": settings.content_normalise not in CONTENT_NORMALISATIONS,
        "rescale_weights": settings.rescale_weights,
        "scales": tuple(settings.scales) != (1.0,),
        "precision": settings.precision != "float32",
        "style_blend": settings.style_blend is not None and len(settings.style_blend) != 1,
        # One painting side for every canvas (painting_side): none larger than style_min_side.
        "style_min_side": settings.style_min_side < max(PAGE_SIZES),
        "precondition": settings.precondition not in PRECONDITIONERS,
        "copy_guard": bool(settings.copy_guard),
    }
    bad = [name for name, is_bad in unsupported.items() if is_bad]
    if bad:
        raise ValueError(f"the live page cannot reproduce these transfer settings: {', '.join(bad)} "
                         f"(generator/engine/live_objective.py, docs/javascripts/live/objective.js)")


def check_loss_formulas() -> None:
    """Fail if losses.py no longer computes the formulas the browser implements."""
    import torch

    gen = torch.Generator().manual_seed(0)
    for shape in ((1, 3, 4, 5), (1, 6, 2, 3)):
        x, p = torch.rand(shape, generator=gen, dtype=torch.float64), torch.rand(shape, generator=gen, dtype=torch.float64)
        _, n, h, w = shape
        expected_content = CONTENT_FACTOR * ((x - p) ** 2).sum()
        flat, target = x.reshape(n, h * w), torch.rand(1, n, n, generator=gen, dtype=torch.float64)
        expected_style = ((flat @ flat.T - target[0]) ** 2).sum() / (STYLE_DIVISOR * n**2 * (h * w) ** 2)
        expected_mean = ((x - p) ** 2).mean()
        got_content, got_style = losses.content_loss(x, p), losses.style_layer_loss(x, target)
        got = {"sum": transfer.content_term(x, p, "sum"), "mean": transfer.content_term(x, p, "mean")}
        photo_loss = {"a": got_style, "b": 4.0 * got_style}
        balanced = transfer.balanced_weights({"a": 0.75, "b": 0.25}, photo_loss)
        pairs = [(got_content, expected_content), (got_style, expected_style), (got["sum"], expected_content),
                 (got["mean"], expected_mean), (balanced["a"], 0.75 / expected_style),
                 (balanced["b"], 0.25 / (4.0 * expected_style))]
        if not all(torch.allclose(torch.as_tensor(g, dtype=torch.float64), torch.as_tensor(e, dtype=torch.float64),
                                  rtol=1e-9) for g, e in pairs):
            raise RuntimeError("generator/engine/losses.py or transfer.py no longer matches the live page's formulas "
                               "(live_objective.CONTENT_FACTOR / STYLE_DIVISOR, content_term, balanced_weights "
                               "and docs/javascripts/live/objective.js)")
