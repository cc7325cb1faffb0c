"""Part A of the explainer: PSNR, and the representations, VGG diagram, feature-map and content-loss
figures rendered at the tiny profile from the real VGG19."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from generator.build.catalog import Catalog, Entry, load_catalog
from generator.engine.metrics import psnr
from generator.engine.reconstruct import growing_subsets
from generator.figures.profiles import PROFILES
from generator.figures.registry import kind, registry

from helpers import ROOT, render_tiny

SITE_SRC = ROOT / "site_src"
MODULES = ("representations", "vgg_diagram", "feature_maps", "content_loss")


# --------------------------------------------------------------------------- PSNR


def test_psnr_known_values():
    a = np.zeros((4, 5, 3), np.uint8)
    assert psnr(a, a) == math.inf
    assert psnr(a, np.full_like(a, 255)) == pytest.approx(0.0)
    assert psnr(a, np.ones_like(a)) == pytest.approx(20 * math.log10(255))
    # 10 grey levels off on 2 of 4 rows
    b = a.copy()
    b[:2] = 10
    mse = np.mean((b.astype(float)) ** 2)
    assert psnr(a, b) == pytest.approx(10 * math.log10(255**2 / mse))


def test_psnr_accepts_pil_images_and_rejects_shape_mismatch():
    x = Image.new("RGB", (8, 6), (10, 20, 30))
    y = Image.new("RGB", (8, 6), (12, 20, 30))
    assert psnr(x, y) == pytest.approx(10 * math.log10(255**2 / (4 / 3)))
    with pytest.raises(ValueError, match="shape"):
        psnr(x, Image.new("RGB", (6, 8)))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(1, 40), st.floats(1.5, 4))
def test_psnr_symmetric_and_falls_with_more_noise(seed, sigma, factor):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (6, 7, 3)).astype(float)
    noise = rng.normal(0, sigma, img.shape)
    assert psnr(img, img + noise) == pytest.approx(psnr(img + noise, img))
    assert psnr(img, img + factor * noise) < psnr(img, img + noise)


# --------------------------------------------------------------------------- pure helpers


def test_growing_subsets():
    assert growing_subsets(["a", "b", "c"]) == [("a",), ("a", "b"), ("a", "b", "c")]


@settings(deadline=None)
@given(st.integers(8, 300), st.integers(8, 300), st.floats(0, 1), st.floats(0, 1), st.floats(0.01, 1))
def test_crop_box_is_a_square_inside_the_image(w, h, cx, cy, side):
    from generator.figures.representations import crop_box

    left, top, right, bottom = crop_box((w, h), (cx, cy, side))
    assert 0 <= left < right <= w and 0 <= top < bottom <= h
    assert right - left == bottom - top >= 4


def test_most_active_and_zero_fraction():
    from generator.figures.feature_maps import most_active, zero_fraction

    maps = np.zeros((4, 2, 2), np.float32)
    maps[2] = 5
    maps[0, 0, 0] = 3
    assert most_active(maps, 2) == [2, 0]
    assert zero_fraction(maps) == pytest.approx(11 / 16)


def test_matrix_window_picks_strongest_filters_and_a_run_of_positions():
    from generator.figures.content_loss import as_matrix, matrix_window

    f = np.zeros((1, 6, 3, 4), np.float32)
    f[0, 4] = -9     # strong negative responses count too
    f[0, 1] = 2
    m = as_matrix(f)
    assert m.shape == (6, 12)
    rows, cols = matrix_window(m, rows=2, columns=5)
    assert list(rows) == [1, 4]
    assert cols.stop - cols.start == 5 and 0 <= cols.start and cols.stop <= 12
    _, cols = matrix_window(m, rows=2, columns=50)
    assert (cols.start, cols.stop) == (0, 12)


def test_specs_fall_back_to_the_first_catalogue_entries(tmp_path):
    photo = Entry("content", "other_photo", "content/x.jpg", "x")
    painting = Entry("style", "other_painting", "styles/y.jpg", "y", artist="a", year="1900")
    catalog = Catalog(content=(photo,), style=(painting,))
    spec = kind("representations").specs(catalog, PROFILES["tiny"], tmp_path)[0]
    assert spec.inputs == (tmp_path / "content/x.jpg", tmp_path / "styles/y.jpg")
    assert (spec.params["photo"], spec.params["painting"]) == ("other_photo", "other_painting")


def test_modules_are_registered_and_sizes_grow_with_the_profile():
    assert set(MODULES) <= set(registry())
    catalog = load_catalog(SITE_SRC)
    for module in MODULES:
        sides = [kind(module).specs(catalog, PROFILES[p], SITE_SRC)[0].params["long_side"]
                 for p in ("tiny", "preview", "full")]
        assert sides == sorted(sides) and sides[0] <= 64 and sides[2] == 512


# --------------------------------------------------------------------------- rendering (real VGG19)


def test_representations_renders(tmp_path, tiny_site):
    spec, files, numbers = render_tiny("representations", tmp_path, tiny_site)
    for layer in ("conv1_2", "conv2_2", "conv3_2", "conv4_2", "conv5_2"):
        assert {f"content_{layer}", f"crop_{layer}"} <= files.keys()
        assert 0 < numbers[f"psnr_{layer}"] < 60
        # the PSNR stated is the one of the files shown (saved losslessly)
        with Image.open(tmp_path / files[f"content_{layer}"]) as rec, Image.open(tmp_path / files["photo"]) as ph:
            assert rec.size == ph.size == (numbers["photo_width"], numbers["photo_height"])
            assert abs(psnr(ph.convert("RGB"), rec.convert("RGB")) - numbers[f"psnr_{layer}"]) < 0.01
    for last in ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"):
        assert f"style_{last}" in files
    assert max(numbers["photo_width"], numbers["photo_height"]) == spec.params["long_side"]
    with Image.open(tmp_path / files["image"]) as composite:
        assert composite.width > 1000


def test_vgg_diagram_sizes_match_the_model(tmp_path, tiny_site):
    import torch

    from generator.engine.images import fit_long_side, read_image, to_tensor
    from generator.engine.models import get_model
    from generator.figures.vgg_diagram import blocks, layer_shapes

    spec, files, numbers = render_tiny("vgg_diagram", tmp_path, tiny_site)
    assert files == {"image": "diagram.png"}
    assert numbers["conv_count"] == 16 and numbers["block_count"] == 5
    img = fit_long_side(read_image(spec.inputs[0]), spec.params["long_side"])
    names = [f"conv{b}_1" for b in range(1, 6)] + [f"pool{b}" for b in range(1, 6)]
    with torch.no_grad():
        out = get_model()(to_tensor(img), names)
    for b in range(1, 6):
        _, c, h, w = out[f"conv{b}_1"].shape
        assert (numbers[f"block{b}_channels"], numbers[f"block{b}_height"], numbers[f"block{b}_width"]) == (c, h, w)
        _, _, h, w = out[f"pool{b}"].shape
        assert (numbers[f"block{b}_pooled_height"], numbers[f"block{b}_pooled_width"]) == (h, w)
    # an odd-sized input: the grouping follows the model's floors, not a formula
    odd = Image.new("RGB", (45, 37), (90, 120, 200))
    groups = blocks(layer_shapes(get_model(), to_tensor(odd)))
    assert [g["channels"] for g in groups] == [64, 128, 256, 512, 512]
    assert [(g["width"], g["height"]) for g in groups] == [(45, 37), (22, 18), (11, 9), (5, 4), (2, 2)]
    assert [len(g["convs"]) for g in groups] == [2, 2, 4, 4, 4]


def test_receptive_fields_match_the_model():
    """The side of the input region that moves one conv5_1 response (avg pooling: every input of
    the window counts) equals the computed receptive field."""
    import torch

    from generator.engine.models import get_model
    from generator.engine.vgg import LAYERS
    from generator.figures.vgg_diagram import receptive_fields

    fields = receptive_fields(LAYERS)
    assert (fields["conv1_1"], fields["pool1"], fields["conv4_2"], fields["conv5_1"]) == (3, 6, 84, 156)
    x = (torch.randn(1, 3, 176, 176, generator=torch.Generator().manual_seed(0)) * 60).requires_grad_(True)
    out = get_model("avg")(x, ["conv5_1"])["conv5_1"]
    out[0, :, 5, 5].sum().backward()
    rows = torch.nonzero(x.grad.abs().sum(dim=(0, 1, 3))).flatten()
    assert int(rows.max() - rows.min() + 1) == fields["conv5_1"]


def test_vgg_diagram_png_is_deterministic(tmp_path):
    render_tiny("vgg_diagram", tmp_path / "a")
    render_tiny("vgg_diagram", tmp_path / "b")
    assert (tmp_path / "a" / "diagram.png").read_bytes() == (tmp_path / "b" / "diagram.png").read_bytes()


def test_feature_maps_renders(tmp_path, tiny_site):
    _, files, numbers = render_tiny("feature_maps", tmp_path, tiny_site)
    assert files == {"image": "feature_maps.png"}
    assert [numbers[f"relu{b}_1_channels"] for b in range(1, 6)] == [64, 128, 256, 512, 512]
    widths = [numbers[f"relu{b}_1_width"] for b in range(1, 6)]
    assert widths[0] == numbers["photo_width"] and all(a // 2 == b for a, b in zip(widths, widths[1:]))
    assert all(0 <= numbers[f"relu{b}_1_zero_percent"] <= 100 for b in range(1, 6))


def test_content_loss_renders(tmp_path, tiny_site):
    spec, files, numbers = render_tiny("content_loss", tmp_path, tiny_site)
    assert {"animation", "poster", "strip", "loss", "matrices", "canvas", "image"} <= files.keys()
    assert numbers["evaluations"] == spec.params["settings"]["steps"]
    assert numbers["final_content_loss"] < numbers["initial_content_loss"]
    assert numbers["filters"] == 512 and numbers["shown_filters"] == 48
    # P^l is read as the transfer reads it: after the ReLU by default, so never negative
    assert numbers["negative_share"] == 0
    with Image.open(tmp_path / files["animation"]) as anim:
        # (the encoder may merge two identical frames into one longer one)
        assert anim.format == "WEBP" and 3 <= getattr(anim, "n_frames", 1) <= numbers["frames"]
