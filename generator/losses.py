"""The losses of Gatys, Ecker & Bethge as pure functions of feature tensors (N, C, H, W)."""
from __future__ import annotations

import torch


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """G = F F^T for each image: (N, C, H, W) -> (N, C, C), unnormalised, as in the paper."""
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2)


def content_loss(x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """L_content = 1/2 * sum (X - P)^2."""
    return 0.5 * (x - p).pow(2).sum()


def style_layer_loss(x: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """E_l = 1 / (4 N_l^2 M_l^2) * sum (G - A)^2, with N_l channels and M_l = H * W."""
    _, c, h, w = x.shape
    return (gram_matrix(x) - target_gram).pow(2).sum() / (4.0 * c**2 * (h * w) ** 2)


def style_loss(features: dict, target_grams: dict, weights: dict) -> torch.Tensor:
    """L_style = sum_l w_l E_l over the layers in `weights`."""
    return sum(w * style_layer_loss(features[name], target_grams[name]) for name, w in weights.items())


def total_variation(img: torch.Tensor) -> torch.Tensor:
    """Sum of squared differences between neighbouring pixels (smoothness prior)."""
    return (img[..., 1:, :] - img[..., :-1, :]).pow(2).sum() + (img[..., :, 1:] - img[..., :, :-1]).pow(2).sum()
