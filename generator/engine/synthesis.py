"""Texture synthesis (Gatys, Ecker & Bethge 2015): a canvas of noise optimised so that one summary
of its VGG19 responses matches a texture's. Two summaries, run by the same loop (same network, layers,
noise, optimiser and number of evaluations) so that only the statistic differs:

- "gram": the Gram matrices of losses.py (the paper's style loss);
- "mean_std": each channel's mean and standard deviation (stats_losses.py; what AdaIN matches).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from PIL import Image

from . import images, losses, stats_losses
from .runtime import optimise
from .transfer import initial_canvas

STATISTICS = ("gram", "mean_std")


@dataclass
class Synthesis:
    image: Image.Image
    losses: list[float] = field(default_factory=list)   # the optimised loss at each evaluation


def measure(model, canvas: torch.Tensor, texture: torch.Tensor, weights: dict[str, float]) -> dict[str, float]:
    """Both losses of `canvas` against `texture` (tensors of the same size), whatever was optimised;
    `weights` maps each network layer read (vgg.tap names) to its w_l."""
    layers = list(weights)
    with torch.no_grad():
        x, t = model(canvas, layers), model(texture, layers)
        gram = losses.style_loss(x, stats_losses.gram_targets(t), weights)
        mean_std = stats_losses.mean_std_loss(x, stats_losses.mean_std_targets(t), weights)
    return {"gram": float(gram), "mean_std": float(mean_std)}


def synthesise(model, texture: torch.Tensor, statistic: str, weights: dict[str, float], steps: int = 100,
               seed: int = 0, progress=None) -> tuple[torch.Tensor, list[float]]:
    """Optimise noise of `texture`'s size for `steps` L-BFGS evaluations of the `statistic` loss over
    `weights` (network layer read -> w_l, as transfer.layer_weights gives); returns the canvas and the
    loss at each evaluation. Raises RuntimeError if a loss is not finite (a diverged run)."""
    if statistic not in STATISTICS:
        raise ValueError(f"unknown statistic {statistic!r} ({' or '.join(STATISTICS)})")
    layers = list(weights)
    with torch.no_grad():
        feats = model(texture, list(layers))
    if statistic == "gram":
        targets = stats_losses.gram_targets(feats)
        loss_fn = lambda f: losses.style_loss(f, targets, weights)  # noqa: E731
    else:
        targets = stats_losses.mean_std_targets(feats)
        loss_fn = lambda f: stats_losses.mean_std_loss(f, targets, weights)  # noqa: E731
    canvas = initial_canvas("noise", texture, texture, seed).contiguous().requires_grad_(True)
    recorded = []

    def evaluate(i):
        loss = loss_fn(model(canvas, layers))
        recorded.append(loss.detach())
        if progress:
            progress(1)
        return loss

    optimise(canvas, evaluate, steps)
    values = torch.stack(recorded).double().cpu().tolist()
    bad = [i + 1 for i, v in enumerate(values) if not math.isfinite(v)]
    if bad:
        raise RuntimeError(f"the {statistic} synthesis diverged (loss not finite from evaluation {bad[0]})")
    return canvas.detach(), values


def synthesise_image(model, t: torch.Tensor, statistic: str, weights: dict[str, float], steps: int, seed: int = 0,
                     progress=None) -> tuple[Synthesis, dict[str, float]]:
    """synthesise() on a texture tensor (the model's input, on its device); also returns both losses
    of the result (measure())."""
    canvas, values = synthesise(model, t, statistic, weights, steps, seed, progress)
    return Synthesis(images.to_image(canvas), values), measure(model, canvas, t, weights)
