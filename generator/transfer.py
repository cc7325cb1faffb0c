"""The optimisation of Gatys et al.: pixels of a canvas move to match a photo's content
features and a painting's Gram matrices. Reconstructions are transfers with one weight at zero."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from PIL import Image

from . import images, losses
from .config import TransferSettings
from .vgg import get_model


@dataclass
class TransferResult:
    image: Image.Image
    history: list[dict] = field(default_factory=list)   # one entry per loss evaluation
    snapshots: list[tuple[int, Image.Image]] = field(default_factory=list)  # (evaluation, image)
    seconds: float = 0.0

    @property
    def final_loss(self) -> float:
        return self.history[-1]["total"] if self.history else float("nan")


def stage_sizes(size: tuple[int, int], scales) -> list[tuple[int, int]]:
    """Canvas size (w, h) at each coarse-to-fine stage; each side at least 16 px."""
    return [(max(16, round(size[0] * s)), max(16, round(size[1] * s))) for s in scales]


def stage_steps(steps: int, n_stages: int) -> list[int]:
    """Evaluations per stage: half the budget for the final stage, the rest shared by the others."""
    if n_stages == 1:
        return [steps]
    final = max(1, steps // 2)
    coarse = steps - final
    share = [coarse // (n_stages - 1)] * (n_stages - 1)
    share[-1] += coarse - sum(share)
    return share + [final]


def layer_weights(settings: TransferSettings) -> dict[str, float]:
    """w_l per style layer: given, or equal and summing to one."""
    layers = settings.style_layers
    weights = settings.style_layer_weights or (1.0 / len(layers),) * len(layers)
    return dict(zip(layers, weights))


def initial_canvas(kind: str, content: torch.Tensor, style: torch.Tensor, seed: int) -> torch.Tensor:
    if kind == "content":
        return content.clone()
    if kind == "style":
        return F.interpolate(style, size=content.shape[-2:], mode="bilinear", align_corners=False)
    if kind == "noise":
        gen = torch.Generator().manual_seed(seed)
        noise = torch.rand(content.shape, generator=gen) * 255.0
        return (noise - torch.tensor(images.CAFFE_MEAN_BGR).view(1, 3, 1, 1)).to(content.device)
    raise ValueError(f"unknown init {kind!r} (content, noise or style)")


def style_targets(model, styles: list[torch.Tensor], blend, layers, canvas_pixels_at: dict) -> dict:
    """Blended target Gram matrices, rescaled to the canvas's M_l so E_l's 1/M_l^2 matches."""
    blend = blend or (1.0 / len(styles),) * len(styles)
    targets = {}
    for style, weight in zip(styles, blend):
        with torch.no_grad():
            feats = model(style, layers)
        for name in layers:
            m_style = feats[name].shape[-2] * feats[name].shape[-1]
            g = losses.gram_matrix(feats[name]) * (canvas_pixels_at[name] / m_style) * weight
            targets[name] = targets[name] + g if name in targets else g
    return targets


def _feature_pixels(model, canvas: torch.Tensor, layers) -> dict:
    with torch.no_grad():
        return {n: f.shape[-2] * f.shape[-1] for n, f in model(canvas, layers).items()}


def run_transfer(content: Image.Image, styles: list[Image.Image], settings: TransferSettings,
                 size: tuple[int, int], device: str = "cpu", progress=None) -> TransferResult:
    """Optimise a canvas of `size` (w, h). `progress(n)` is called after each evaluation."""
    torch.manual_seed(settings.seed)
    model = get_model(settings.pooling, device)
    style_w = layer_weights(settings)
    all_layers = sorted(set(settings.content_layers) | set(style_w), key=_depth)
    result = TransferResult(image=content)
    start = time.perf_counter()
    canvas = None
    evaluations = 0
    for stage_size, steps in zip(stage_sizes(size, settings.scales), stage_steps(settings.steps, len(settings.scales))):
        content_t = images.to_tensor(images.resize_to(content, stage_size)).to(device)
        style_ts = [images.to_tensor(images.fit_long_side(s, max(stage_size), allow_upscale=True)).to(device)
                    for s in styles]
        if canvas is None:
            canvas = initial_canvas(settings.init, content_t, style_ts[0], settings.seed)
        else:
            canvas = F.interpolate(canvas, size=content_t.shape[-2:], mode="bilinear", align_corners=False)
        pixels = _feature_pixels(model, content_t, all_layers)
        with torch.no_grad():
            content_targets = {n: f for n, f in model(content_t, settings.content_layers).items()}
        grams = style_targets(model, style_ts, settings.style_blend, list(style_w), pixels)
        canvas = canvas.detach().requires_grad_(True)

        def objective():
            feats = _features(model, canvas, all_layers, settings.precision)
            c = sum(losses.content_loss(feats[n], content_targets[n]) for n in settings.content_layers)
            s = losses.style_loss(feats, grams, style_w)
            tv = losses.total_variation(canvas) if settings.tv_weight else canvas.new_zeros(())
            total = settings.content_weight * c + settings.style_weight * s + settings.tv_weight * tv
            return total, c, s, tv

        evaluations = _optimise(canvas, objective, steps, settings, result, evaluations, start, progress)
    result.image = images.to_image(canvas)
    result.seconds = time.perf_counter() - start
    return result


def _features(model, canvas, layers, precision: str) -> dict:
    """Network activations, in float32 or under bfloat16 autocast (channels-last); float32 out."""
    if precision == "float32":
        return model(canvas, layers)
    if precision != "bfloat16":
        raise ValueError(f"unknown precision {precision!r} (float32 or bfloat16)")
    x = canvas.contiguous(memory_format=torch.channels_last)  # L-BFGS needs the NCHW parameter
    with torch.autocast(canvas.device.type, dtype=torch.bfloat16):
        feats = model(x, layers)
    return {name: f.float() for name, f in feats.items()}


def _optimise(canvas, objective, steps, settings, result, evaluations, start, progress) -> int:
    """Run one stage's optimiser for `steps` evaluations, recording history and snapshots."""
    counter = [evaluations]
    limit = evaluations + steps

    def closure():
        optimiser.zero_grad(set_to_none=True)
        total, c, s, tv = objective()
        c, s, tv = c.detach(), s.detach(), tv.detach()
        total.backward()
        counter[0] += 1
        result.history.append({"evaluation": counter[0], "total": total.item(), "content": float(c),
                               "style": float(s), "tv": float(tv),
                               "seconds": time.perf_counter() - start})
        if settings.snapshot_every and counter[0] % settings.snapshot_every == 0:
            result.snapshots.append((counter[0], images.to_image(canvas)))
        if progress:
            progress(1)
        return total

    if settings.optimizer == "lbfgs":
        optimiser = torch.optim.LBFGS([canvas], lr=1.0, max_iter=steps, max_eval=steps, history_size=50,
                                      tolerance_grad=-1.0, tolerance_change=-1.0)
        while counter[0] < limit:  # L-BFGS may stop early; resume until the budget is spent
            before = counter[0]
            optimiser.step(closure)
            if counter[0] == before:
                break
    elif settings.optimizer == "adam":
        optimiser = torch.optim.Adam([canvas], lr=settings.learning_rate)
        for _ in range(steps):
            closure()
            optimiser.step()
    else:
        raise ValueError(f"unknown optimizer {settings.optimizer!r} (lbfgs or adam)")
    return counter[0]


def _depth(name: str) -> int:
    from .vgg import LAYERS

    return LAYERS.index(name)
