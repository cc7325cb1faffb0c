"""Reconstructions after Gatys et al. Fig. 1: an image rebuilt from noise so that its VGG19
responses match one image's content at one layer, or its style (Gram matrices) over some layers.
Both are transfers with the other weight at zero (the engine then neither computes nor
backpropagates that term, nor runs the network deeper than the layers used); a figure runs them
with its context's transfer runner."""
from __future__ import annotations

from .settings import TransferSettings


def schedule(params: dict) -> dict:
    """The schedule entries (precision, scales, final_share, precondition) of a figure's parameters,
    as TransferSettings fields; absent ones keep the defaults (float32, one scale, the pyramid
    preconditioner: a figure passes its profile's, plain L-BFGS on the site)."""
    out = {k: params[k] for k in ("precision", "final_share", "precondition") if k in params}
    if "scales" in params:
        out["scales"] = tuple(params["scales"])
    return out


def content_settings(layer: str, steps: int, snapshot_every: int = 0, **schedule) -> TransferSettings:
    """Match the responses P^l at `layer` only (L-BFGS; beta = 0); float32 at one scale unless
    `schedule` says otherwise."""
    return TransferSettings(steps=steps, init="noise", content_weight=1.0, style_weight=0.0,
                            content_layers=(layer,), snapshot_every=snapshot_every, **schedule)


def style_settings(layers, steps: int, snapshot_every: int = 0, **schedule) -> TransferSettings:
    """Match the Gram matrices at `layers` (equal weights, no photo to balance them against) only
    (alpha = 0)."""
    return TransferSettings(steps=steps, init="noise", content_weight=0.0, style_balance="none",
                            style_layers=tuple(layers),
                            snapshot_every=snapshot_every, **schedule)


def noise_image(settings: TransferSettings, size):
    """The noise canvas a run with `settings` starts from, as an image of `size` (w, h)."""
    import torch

    from .images import resize_to, to_image
    from .transfer import initial_canvas, stage_sizes

    w, h = stage_sizes(size, settings.scales)[0]
    canvas = initial_canvas("noise", torch.zeros(1, 3, h, w), None, settings.seed)
    return resize_to(to_image(canvas), size)


def growing_subsets(layers) -> list[tuple[str, ...]]:
    """('a', 'b', 'c') -> [('a',), ('a', 'b'), ('a', 'b', 'c')]."""
    layers = tuple(layers)
    return [layers[: i + 1] for i in range(len(layers))]
