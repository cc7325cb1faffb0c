"""Image quality measures as pure functions of pixel arrays."""
from __future__ import annotations

import math

import numpy as np


def psnr(a, b, peak: float = 255.0) -> float:
    """Peak signal-to-noise ratio in dB between two images of the same shape (arrays or PIL
    images, 0..peak): 10 log10(peak^2 / MSE). Identical images give +inf."""
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"images differ in shape: {x.shape} vs {y.shape}")
    if x.size == 0:
        raise ValueError("empty images")
    mse = float(np.mean((x - y) ** 2))
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(peak * peak / mse)
