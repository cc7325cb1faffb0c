"""A multiscale preconditioner for L-BFGS on images (lbfgs.py's `precondition`).

L-BFGS on a pixel canvas starts from H0 = h I: every pixel moves on its own, and the broad strokes
a painting's deep Gram matrices ask for are built up pixel by pixel. Optimising instead in a
Laplacian-pyramid parametrisation, x = x0 + sum_k w^k U_k z_k (U_k: bilinear enlargement from
1/2^k of the size, z_0 at full size), is the same as pixel-space L-BFGS with H0 = h M, where
M = sum_k w^(2k) U_k U_k^T: a smooth change of the canvas gets a larger step than a pixel-sized one.
Measured on `make bench`'s problem (bench/README.md, speed): from the photo at 512 px, 79 full-size
evaluations to the reference's loss instead of 103.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .settings import PRECONDITIONERS

PYRAMID_LEVELS = 4      # full size and three halvings
PYRAMID_RATIO = 0.7     # w: each coarser level's weight relative to the next finer one


def pyramid_sizes(height: int, width: int, levels: int = PYRAMID_LEVELS) -> list[tuple[int, int]]:
    """The coarser levels' sizes, (h, w) at 1/2, 1/4, ... of (height, width), none under 1 px."""
    return [(max(1, round(height / 2 ** k)), max(1, round(width / 2 ** k))) for k in range(1, levels)]


def enlarge(t: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(t, size=size, mode="bilinear", align_corners=False)


def enlarge_adjoint(t: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """U^T t for U = enlarge(., t's size) from `size`: the gradient of enlarge's output against t."""
    with torch.enable_grad():
        small = t.new_zeros((*t.shape[:2], *size), requires_grad=True)
        grad, = torch.autograd.grad(enlarge(small, t.shape[-2:]), small, grad_outputs=t)
    return grad


def pyramid(shape: tuple, levels: int = PYRAMID_LEVELS, ratio: float = PYRAMID_RATIO):
    """M: (K, n) -> (K, n) for canvases of `shape` (K, C, H, W): v + sum_k ratio^(2k) U_k U_k^T v."""
    height, width = shape[-2:]
    sizes = pyramid_sizes(height, width, levels)

    def apply(v: torch.Tensor) -> torch.Tensor:
        image = v.reshape(shape)
        out = image.clone()
        for k, size in enumerate(sizes, start=1):
            out = out + ratio ** (2 * k) * enlarge(enlarge_adjoint(image, size), (height, width))
        return out.reshape(v.shape)
    return apply


def preconditioner(kind: str, shape: tuple):
    """lbfgs.LBFGS's `precondition` for `kind` (PRECONDITIONERS): None (identity) or the pyramid."""
    if kind not in PRECONDITIONERS:
        raise ValueError(f"unknown precondition {kind!r} ({' or '.join(PRECONDITIONERS)})")
    return pyramid(shape) if kind == "pyramid" else None
