"""The losses of Gatys, Ecker & Bethge as pure functions of feature tensors (N, C, H, W)."""
from __future__ import annotations

import torch


class _Gram(torch.autograd.Function):
    """G = F F^T for a batch of matrices F (N, C, positions) -> (N, C, C), with one product in the
    backward pass, dF = (dG + dG^T) F. Autograd's own rule for F F^T forms the two halves of the
    gradient separately, one of them transposed, and adds them: a strided add over every position
    of the layer that cost more than the product itself on the CPU (bench/README.md, speed). With
    `positions_first`, F arrives as its transpose (N, positions, C), the layout of channels-last
    features, and the products run in that layout so that the gradient comes back in it. G is summed
    in float32 whatever F's precision; the backward product runs in F's (bfloat16 features get a
    bfloat16 gradient, as the network's backward pass would make of it)."""
    generate_vmap_rule = True

    @staticmethod
    def forward(flat, positions_first):
        flat = flat.to(torch.promote_types(flat.dtype, torch.float32))  # bfloat16 -> float32; float64 stays
        return flat.transpose(1, 2) @ flat if positions_first else flat @ flat.transpose(1, 2)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])
        ctx.positions_first = inputs[1]

    @staticmethod
    def backward(ctx, grad):
        flat, = ctx.saved_tensors
        both = (grad + grad.transpose(1, 2)).to(flat.dtype)
        return (flat @ both if ctx.positions_first else both @ flat), None


def _channels_last(t: torch.Tensor) -> bool:
    try:
        return not t.is_contiguous() and t.is_contiguous(memory_format=torch.channels_last)
    except RuntimeError:  # under vmap (batched.py) the layout cannot be queried; either product is right
        return False


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """G = F F^T for each image: (N, C, H, W) -> (N, C, C), unnormalised, as in the paper. Reads
    the features in their own memory layout, so neither pass copies them."""
    n, c, h, w = features.shape
    if _channels_last(features):
        return _Gram.apply(features.permute(0, 2, 3, 1).reshape(n, h * w, c), True)
    return _Gram.apply(features.reshape(n, c, h * w), False)


def canvas_gram(features: torch.Tensor, canvas_positions: int, positions: int | None = None) -> torch.Tensor:
    """A painting's Gram matrix rescaled to a canvas of `canvas_positions` (M_l) from its own
    `positions` (its H*W unless given), so the style loss's 1/M_l^2 fits the canvas."""
    positions = features.shape[-2] * features.shape[-1] if positions is None else positions
    return gram_matrix(features) * (canvas_positions / positions)


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
