"""The shared networks: one VGG19 per (pooling, device, rescaling), weights loaded once per process.
Imports both vgg.py and rescale.py, so neither needs the other."""
from __future__ import annotations

import torch

from ..common.paths import RESCALE_CACHE, RESCALE_IMAGES
from .rescale import rescaled_network_weights
from .vgg import VGG19

_MODELS: dict[tuple, VGG19] = {}


def get_model(pooling: str = "max", device: str | torch.device = "cpu", rescale: bool = False) -> VGG19:
    """A shared VGG19 per (pooling, device, rescale): loading the weights once per process.
    `rescale` gives the paper's normalised network (rescale.py: statistics cached on disk)."""
    key = (pooling, str(device), bool(rescale))
    if key not in _MODELS:
        if rescale:
            weights = rescaled_network_weights(pooling, RESCALE_IMAGES, RESCALE_CACHE)
            _MODELS[key] = VGG19(pooling, weights).to(device)
        else:
            _MODELS[key] = VGG19(pooling).to(device)
    return _MODELS[key]
