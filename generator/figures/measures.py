"""Measurements the pages' conditional sentences rest on (cheap: one evaluation, pixel means)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from PIL import Image

from ..colour import stats
from ..config import TransferSettings


def noise_content_loss(ctx, content: Image.Image, style: Image.Image, settings: TransferSettings) -> float:
    """The content loss of the seeded noise canvas at `content`'s size: the scale against which a
    result's content loss says how much of the photo is left (1: no more than noise)."""
    once = replace(settings, init="noise", steps=1, scales=(1.0,), snapshot_every=0, style_blend=None)
    return float(ctx.run_transfer(content, [style], once, content.size).history[0]["content"])


def mean_colour_distance(a: Image.Image, b: Image.Image) -> float:
    """Distance between two images' mean RGB colours, in 0-255 levels."""
    return float(np.linalg.norm(stats(a)[0] - stats(b)[0]))
