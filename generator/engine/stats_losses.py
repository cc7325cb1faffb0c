"""Statistics of feature maps and images beyond the paper's losses, as pure functions.

- each channel's mean and standard deviation, and a loss on them: the statistics AdaIN (Huang &
  Belongie 2017) matches, against which the texture figure compares the Gram matrix;
- the style loss of losses.py written for one image against another of the same size;
- measures of an image's texture: total variation per pixel, local detail, a typical stroke length.

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


def flattest(detail: np.ndarray, share: float = 0.25) -> np.ndarray:
    """Mask of the `share` of pixels with the least local detail."""
    return detail <= np.quantile(detail, share)


def stroke_length(luma: np.ndarray) -> float:
    """A typical length of the luminance's variations, in pixels: 2*pi*sqrt(var / mean |grad|^2).
    For a sinusoid this is exactly its wavelength; bigger brush strokes give a larger value."""
    a = luma.astype(np.float64)
    gy, gx = np.diff(a, axis=0), np.diff(a, axis=1)
    grad2 = (gy**2).mean() + (gx**2).mean()
    return float(2 * np.pi * np.sqrt(a.var() / max(grad2, 1e-12)))
