"""Measurements the pages' conditional sentences rest on (cheap: one evaluation, pixel means)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from PIL import Image

from ..engine.colour import stats
from ..engine.settings import TransferSettings


def noise_content_loss(ctx, content: Image.Image, style: Image.Image, settings: TransferSettings) -> float:
    """The content loss of the seeded noise canvas at `content`'s size: the scale against which a
    result's content loss says how much of the photo is left (1: no more than noise)."""
    once = replace(settings, init="noise", steps=1, scales=(1.0,), snapshot_every=0, style_blend=None)
    return float(ctx.run_transfer(content, [style], once, content.size).history[0]["content"])


def mean_colour_distance(a: Image.Image, b: Image.Image) -> float:
    """Distance between two images' mean RGB colours, in 0-255 levels."""
    return float(np.linalg.norm(stats(a)[0] - stats(b)[0]))


def style_layer_shares(ctx, canvas: Image.Image, painting: Image.Image, settings: TransferSettings) -> dict:
    """{layer: w_l E_l / sum_l w_l E_l} between `canvas` and `painting`, with the settings' w_l as
    given, not balanced against a photo (as a style-only transfer weighs them: without a photo there
    is nothing to balance against); the painting at the transfer's size, float32. Which layers the
    remaining loss is made of: how far each is from matched, not how much the optimiser cared."""
    import torch

    from ..engine import images, losses, transfer

    weights = transfer.layer_weights(settings)
    side = transfer.style_side(canvas.size, settings.style_min_side, getattr(settings, "style_scale", 1.0))
    model = ctx.objective_model(settings)
    layers = list(weights)
    with torch.no_grad():
        x = ctx.tensor(canvas)
        a = ctx.tensor(images.fit_long_side(painting, side, allow_upscale=True))
        fx, fa = model(x, layers), model(a, layers)
        terms = {}
        for name in layers:
            target = losses.canvas_gram(fa[name].float(), fx[name].shape[-2] * fx[name].shape[-1])
            terms[name] = weights[name] * float(losses.style_layer_loss(fx[name].float(), target))
    total = sum(terms.values()) or 1.0
    return {name: value / total for name, value in terms.items()}
