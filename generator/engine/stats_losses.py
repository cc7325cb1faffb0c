"""Statistics of feature maps and images beyond the paper's losses, as pure functions.

- each channel's mean and standard deviation, and a loss on them: the statistics AdaIN (Huang &
  Belongie 2017) matches, against which the texture figure compares the Gram matrix;
- the style loss of losses.py written for one image against another of the same size;
- measures of an image's texture: total variation per pixel, local detail, a typical stroke width.

Feature tensors are (N, C, H, W); images for the numpy measures are luminance arrays (H, W), 0-255.
"""
from __future__ import annotations

import numpy as np
import torch

from . import losses

STD_EPS = 1e-5  # inside the square root: a constant channel still has a gradient


def channel_mean_std(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each channel's mean and standard deviation over positions: (N, C, H, W) -> two (N, C)."""
    flat = features.flatten(2)
    mean = flat.mean(dim=2)
    std = (flat.var(dim=2, unbiased=False) + STD_EPS).sqrt()
    return mean, std


def mean_std_layer_loss(x: torch.Tensor, target_mean: torch.Tensor, target_std: torch.Tensor) -> torch.Tensor:
    """1/N_l * sum_c [(mu_c - mu'_c)^2 + (sigma_c - sigma'_c)^2]: blind to how channels co-occur."""
    mean, std = channel_mean_std(x)
    return ((mean - target_mean).pow(2) + (std - target_std).pow(2)).sum() / x.shape[1]


def mean_std_loss(features: dict, targets: dict, weights: dict) -> torch.Tensor:
    """sum_l w_l * mean_std_layer_loss, `targets[name]` = (mean, std) of the target image."""
    return sum(w * mean_std_layer_loss(features[name], *targets[name]) for name, w in weights.items())


def mean_std_targets(features: dict) -> dict:
    return {name: channel_mean_std(f) for name, f in features.items()}


def gram_targets(features: dict) -> dict:
    return {name: losses.gram_matrix(f) for name, f in features.items()}


def tv_per_pixel(img: torch.Tensor) -> float:
    """losses.total_variation divided by the number of pixels and channels: the mean squared
    difference between neighbouring pixels (0-255 units squared)."""
    _, c, h, w = img.shape
    return float(losses.total_variation(img)) / (c * h * w)


def box_mean(a: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1)^2 window, edges replicated (summed-area table)."""
    k = 2 * radius + 1
    p = np.pad(a.astype(np.float64), radius, mode="edge")
    s = np.pad(p.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    return (s[k:, k:] - s[:-k, k:] - s[k:, :-k] + s[:-k, :-k]) / (k * k)


def local_detail(luma: np.ndarray, radius: int = 3) -> np.ndarray:
    """Standard deviation of the luminance in a (2r+1)^2 window around each pixel: near 0 where
    the image is flat (a clear sky), large where it has edges or brush strokes."""
    mean = box_mean(luma, radius)
    var = box_mean(luma.astype(np.float64) ** 2, radius) - mean**2
    return np.sqrt(np.clip(var, 0.0, None))


def below_skyline(detail: np.ndarray, quantile: float = 0.5) -> np.ndarray:
    """Mask of the pixels at or below each column's first busy pixel (local detail above the
    image's `quantile`): what a photo shows under its sky, e.g. a building's walls."""
    h = detail.shape[0]
    busy = detail > np.quantile(detail, quantile)
    first = np.where(busy.any(axis=0), busy.argmax(axis=0), h)
    return np.arange(h)[:, None] >= first[None, :]


def flattest(detail: np.ndarray, share: float = 0.25, within: np.ndarray | None = None) -> np.ndarray:
    """Mask of the `share` of pixels with the least local detail; with `within`, the `share` of
    those pixels (the rest of the mask is False)."""
    if within is None:
        return detail <= np.quantile(detail, share)
    return within & (detail <= np.quantile(detail[within], share))


def _autocorrelation(a: np.ndarray) -> np.ndarray:
    """Mean of a[y, x] * a[y + dy, x + dx] over the overlapping pixels, for every shift (dy, dx)."""
    h, w = a.shape
    shape = (2 * h, 2 * w)  # zero padding: no wrap-around
    power = np.abs(np.fft.rfft2(a, s=shape)) ** 2
    overlap = np.abs(np.fft.rfft2(np.ones_like(a), s=shape)) ** 2
    return np.fft.irfft2(power, s=shape) / np.maximum(np.fft.irfft2(overlap, s=shape), 1.0)


def stroke_width(luma: np.ndarray, radius: int | None = None) -> float:
    """A typical width of the patches of even brightness (brush strokes), in pixels.

    The luminance minus its local mean (a (2r+1)^2 box, r = `radius`, by default a quarter of the
    short side: the layout of the scene is not a stroke) is compared with itself shifted by s
    pixels along x and along y. For strokes of width w with unrelated brightnesses that correlation
    falls linearly, C(s) = C(1) (w - s) / (w - 1) for 1 <= s <= w, so it halves its value at one
    pixel at s = (w + 1) / 2: the width is 2 s - 1. Measuring from s = 1 ignores grain that is
    uncorrelated between neighbouring pixels (noise, a canvas's weave in a photo of a painting),
    which a measure weighted by gradients reads as very short strokes."""
    a = luma.astype(np.float64)
    r = max(1, radius if radius is not None else min(a.shape) // 4)
    d = a - box_mean(a, r)
    ac = _autocorrelation(d)
    n = min(2 * r, a.shape[0], a.shape[1])
    profile = 0.5 * (ac[0, :n] + ac[:n, 0])
    if n < 3 or profile[1] <= 0:
        return 1.0
    half = profile[1] / 2
    below = np.nonzero(profile[1:] < half)[0]
    if not len(below):
        return float(2 * (n - 1) - 1)  # wider than the window can tell
    k = below[0] + 1
    s = k - 1 + (profile[k - 1] - half) / (profile[k - 1] - profile[k])
    return float(2 * s - 1)
