"""The photo in the painting's palette (init "recoloured"): colour.recolour_to gives the photo the
paintings' colour mean and covariance, and the live page's port (docs/javascripts/live/palette.js)
gives the same bytes."""
from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
import torch
from PIL import Image

from generator.engine import colour, images
from generator.engine.transfer import initial_canvas

from helpers import ROOT, skip_unless_ci

rng = np.random.default_rng(0)


def _image(shape, low, high):
    return Image.fromarray(rng.integers(low, high, shape, dtype=np.uint8), "RGB")


PHOTO = Image.open(ROOT / "site_src" / "content" / "rectoria2.jpg").convert("RGB").resize((40, 30))
PAINTING = Image.open(ROOT / "site_src" / "styles" / "starry_night.jpg").convert("RGB").resize((36, 28))


def test_recoloured_photo_has_the_paintings_colour_statistics():
    out = colour.recolour_to(PHOTO, [PAINTING])
    mean, cov = colour.stats(out)
    target_mean, target_cov = colour.stats(PAINTING)
    assert np.abs(mean - target_mean).max() < 2.0              # rounding and clipping to 0-255 only
    assert np.abs(cov - target_cov).max() < 0.05 * np.abs(target_cov).max()
    assert np.abs(colour.stats(PHOTO)[0] - target_mean).max() > 20  # it did change


def test_a_blend_pools_the_paintings_pixels():
    dark, light = Image.new("RGB", (8, 8), (90, 100, 110)), Image.new("RGB", (8, 8), (130, 140, 150))
    mean, _ = colour.stats(colour.recolour_to(_image((10, 12, 3), 0, 255), [dark, light], (0.25, 0.75)))
    assert np.allclose(mean, 0.25 * np.array([90, 100, 110]) + 0.75 * np.array([130, 140, 150]), atol=2)


def test_initial_canvas_recoloured():
    content, style = images.to_tensor(PHOTO), images.to_tensor(PAINTING)
    canvas = initial_canvas("recoloured", content, style, 0, [style])
    assert canvas.shape == content.shape and canvas.dtype == torch.float32
    assert images.to_image(canvas).tobytes() == colour.recolour_to(PHOTO, [PAINTING]).tobytes()
    with pytest.raises(ValueError, match="recoloured"):
        initial_canvas("sepia", content, style, 0)


SECOND = Image.open(ROOT / "site_src" / "styles" / "great_wave.jpg").convert("RGB").resize((30, 33))


def live_palette(tmp_path, paintings: list[Image.Image], weights=None) -> np.ndarray:
    """palette.js's recolouredRGBA of PHOTO in node: one painting as the page passes it, several
    as a list with their blend weights."""
    node = shutil.which("node")
    if not node:
        skip_unless_ci("node is not installed")
    rgba = lambda im: np.asarray(im.convert("RGBA")).reshape(-1).tolist()  # noqa: E731
    (tmp_path / "in.json").write_text(json.dumps({"photo": rgba(PHOTO), "paintings": [rgba(p) for p in paintings],
                                                  "weights": weights}))
    script = tmp_path / "run.mjs"
    script.write_text(
        f'import {{recolouredRGBA}} from "{(ROOT / "docs/javascripts/live/palette.js").as_uri()}";\n'
        'import fs from "fs";\n'
        f'const d = JSON.parse(fs.readFileSync("{tmp_path / "in.json"}"));\n'
        "const paintings = d.paintings.map(p => Uint8ClampedArray.from(p));\n"
        "const out = recolouredRGBA(Uint8ClampedArray.from(d.photo), paintings.length === 1 ? paintings[0] : paintings, d.weights);\n"
        "console.log(JSON.stringify(Array.from(out)));\n")
    out = subprocess.run([node, str(script)], capture_output=True, text=True, timeout=60, check=True).stdout
    return np.array(json.loads(out), dtype=np.uint8).reshape(PHOTO.height, PHOTO.width, 4)


def test_the_live_pages_palette_gives_the_same_bytes(tmp_path):
    got = live_palette(tmp_path, [PAINTING])
    assert np.array_equal(got[..., :3], np.asarray(colour.recolour_to(PHOTO, [PAINTING])))
    assert (got[..., 3] == 255).all()


def test_the_live_pages_blend_pools_the_palettes_as_the_engine(tmp_path):
    """Two paintings at 0.7 : 0.3 (the page's «Mezclar con un segundo cuadro»): recolour_to's pooled
    mean and second moment, to the byte (at most one level where float rounding ties)."""
    got = live_palette(tmp_path, [PAINTING, SECOND], [0.7, 0.3])
    theirs = np.asarray(colour.recolour_to(PHOTO, [PAINTING, SECOND], (0.7, 0.3))).astype(int)
    assert np.abs(got[..., :3].astype(int) - theirs).max() <= 1
    assert (got[..., :3].astype(int) != theirs).mean() < 0.01
    alone = np.asarray(colour.recolour_to(PHOTO, [PAINTING])).astype(int)
    assert np.abs(got[..., :3].astype(int) - alone).max() > 10   # the second painting counts
