"""Part B of the explainer: patch shuffling and the Gram matrix's blindness to position (real
VGG19), colour preservation, and the style_* / work_* figures rendered at the tiny profile."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from generator.build.catalog import load_catalog
from generator.engine import colour
from generator.figures.context import RenderContext
from generator.figures.profiles import PROFILES
from generator.figures.registry import kind, registry
from generator.figures.style_gram import crop_to_multiple, position_blindness, shuffle_patches

from helpers import ROOT, render_tiny

SITE_SRC = ROOT / "site_src"
MODULES = ("style_gram", "style_reconstruction", "work_grid", "work_init", "work_colour", "work_blend",
           "work_optim", "work_animation")


# --------------------------------------------------------------------------- patch shuffle


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.sampled_from([1, 2, 4, 16]), st.integers(0, 2**31))
def test_shuffle_is_a_permutation_of_tiles(rows, cols, patch, seed):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (rows * patch, cols * patch, 3), dtype=np.uint8)
    out = shuffle_patches(img, patch, seed)
    assert out.shape == img.shape
    # same multiset of pixels, and of whole tiles
    assert sorted(map(tuple, out.reshape(-1, 3))) == sorted(map(tuple, img.reshape(-1, 3)))

    def tiles(a):
        return sorted(a[r:r + patch, c:c + patch].tobytes()
                      for r in range(0, a.shape[0], patch) for c in range(0, a.shape[1], patch))
    assert tiles(out) == tiles(img)
    if rows * cols > 1 and len(set(tiles(img))) == rows * cols:
        assert not np.array_equal(out, img)  # never the identity
    assert np.array_equal(out, shuffle_patches(img, patch, seed))  # seeded


def test_shuffle_rejects_partial_tiles_and_crop_makes_whole_ones():
    img = np.zeros((40, 70, 3), np.uint8)
    with pytest.raises(ValueError, match="tiles"):
        shuffle_patches(img, 16, 0)
    cropped = crop_to_multiple(img, 16)
    assert cropped.shape == (32, 64, 3)
    with pytest.raises(ValueError, match="smaller"):
        crop_to_multiple(img, 128)


def test_gram_matrix_barely_changes_when_tiles_move_but_responses_do():
    """Measured with the real VGG19 on a small painting: shuffling 16 px tiles changes the
    responses completely and the low layers' Gram matrices only a little."""
    from generator.engine.images import fit_long_side, read_image, to_tensor
    from generator.engine.models import get_model

    img = np.asarray(fit_long_side(read_image(SITE_SRC / "styles/starry_night.jpg"), 96))
    img = np.ascontiguousarray(crop_to_multiple(img, 16))
    x, shuffled = (to_tensor(Image.fromarray(a)) for a in (img, shuffle_patches(img, 16, 0)))
    layers = ["relu1_1", "relu2_1", "relu3_1"]
    change = position_blindness(get_model("max"), x, shuffled, layers)
    for name in layers:
        assert change[name]["response"] > 0.5, (name, change[name])
        assert change[name]["gram"] < change[name]["response"] / 2, (name, change[name])
    identical = position_blindness(get_model("max"), x, x, ["relu1_1"])["relu1_1"]
    assert identical["response"] == 0 and identical["gram"] == 0


# --------------------------------------------------------------------------- colour


def test_ycbcr_round_trip_and_known_values():
    rgb = np.random.default_rng(0).integers(0, 256, (9, 7, 3)).astype(float)
    assert np.allclose(colour.ycbcr_to_rgb(colour.rgb_to_ycbcr(rgb)), rgb, atol=1e-9)
    white, red = colour.rgb_to_ycbcr(np.array([[255.0, 255, 255], [255, 0, 0]]))
    assert white == pytest.approx([255, 128, 128], abs=1e-3)
    assert red[0] == pytest.approx(0.299 * 255) and red[2] > 200  # red has high Cr


def test_match_luminance_moments():
    rng = np.random.default_rng(1)
    s, c = rng.normal(50, 30, (20, 20)), rng.normal(140, 10, (30, 10))
    m = colour.match_luminance(s, c)
    assert m.mean() == pytest.approx(c.mean()) and m.std() == pytest.approx(c.std())
    flat = colour.match_luminance(np.full((3, 3), 7.0), c)  # no division by zero
    assert np.allclose(flat, c.mean())


def test_match_colours_gives_the_photos_mean_and_covariance():
    rng = np.random.default_rng(2)
    painting = Image.fromarray(rng.normal((60, 90, 160), (30, 20, 25), (40, 50, 3)).clip(0, 255).astype(np.uint8))
    base = rng.normal(0, 1, (30, 40, 3)) @ np.array([[30, 10, 0], [0, 20, 5], [0, 0, 15]])
    photo = Image.fromarray((base + (150, 120, 80)).clip(0, 255).astype(np.uint8))
    out = colour.match_colours(painting, photo)
    assert out.size == painting.size
    (mo, co), (mp, cp) = colour.stats(out), colour.stats(photo)
    assert np.allclose(mo, mp, atol=1.5)
    assert np.allclose(co, cp, rtol=0.08, atol=8)
    (ms, cs) = colour.stats(painting)
    assert not np.allclose(ms, mp, atol=10)  # it did have to move


def test_colour_transform_is_exact_on_float_data():
    rng = np.random.default_rng(3)
    src = rng.normal(0, 1, (500, 3)) @ rng.normal(0, 1, (3, 3)) + 5
    tgt = rng.normal(0, 1, (400, 3)) @ rng.normal(0, 1, (3, 3)) - 2
    a, b = colour.colour_transform(src, tgt)
    moved = src @ a.T + b
    assert np.allclose(moved.mean(0), tgt.mean(0))
    assert np.allclose(np.cov(moved, rowvar=False), np.cov(tgt, rowvar=False), atol=1e-3)


def test_recombine_keeps_the_photos_chrominance_and_the_results_luminance():
    rng = np.random.default_rng(4)
    photo = Image.fromarray(rng.integers(40, 215, (24, 32, 3), dtype=np.uint8))
    result = Image.fromarray(rng.integers(60, 200, (24, 32, 3), dtype=np.uint8))
    out = colour.recombine(result, photo)
    yo, yp, yr = (colour.rgb_to_ycbcr(np.asarray(x, float)) for x in (out, photo, result))
    # chrominance from the photo, luminance from the result (8-bit rounding, rare clipping)
    assert np.abs(yo[..., 1:] - yp[..., 1:]).mean() < 1.0
    assert np.abs(yo[..., 0] - yr[..., 0]).mean() < 1.0
    assert np.abs(yo[..., 1:] - yr[..., 1:]).mean() > 10  # the result's own colours are gone


def test_luminance_only_transfer_keeps_the_photos_chrominance(tmp_path, tiny_site):
    """Measured on the real figure: the luminance-only result has the photo's Cb/Cr, the plain
    transfer has not."""
    _, files, numbers = render_tiny("work_colour", tmp_path, tiny_site)
    photo = _photo_at(numbers["width"])
    out = Image.open(tmp_path / files["luminance"]).convert("RGB")
    plain = Image.open(tmp_path / files["plain"]).convert("RGB")
    assert out.size == photo.size
    cc = lambda img: colour.rgb_to_ycbcr(np.asarray(img, float))[..., 1:]
    luminance_error = np.abs(cc(out) - cc(photo)).mean()
    assert luminance_error < 0.5  # 8-bit rounding and rare clipping only (the file is PNG)
    assert np.abs(cc(plain) - cc(photo)).mean() > 2 * luminance_error
    assert numbers["chroma_distance_luminance"] < 0.5 < numbers["chroma_distance_plain"]


# --------------------------------------------------------------------------- figures at tiny


def _photo_at(width):
    from generator.engine.images import fit_long_side, read_image

    photo = read_image(SITE_SRC / "content/rectoria2.jpg")
    return fit_long_side(photo, max(width, round(width * photo.height / photo.width)))


def test_modules_are_registered():
    assert set(MODULES) <= set(registry())


@pytest.mark.parametrize("module", MODULES)
def test_figure_renders_at_tiny_profile(module, tmp_path, tiny_site):
    """The files and numbers its declaration (FIGURE) promises, all readable and finite."""
    declared = kind(module).figure
    _, files, numbers = render_tiny(module, tmp_path, tiny_site)
    assert declared.check_files(files) == []
    for name in files.values():
        path = tmp_path / name
        assert path.stat().st_size > 0
        with Image.open(path) as img:
            img.verify()
    assert declared.check_numbers(numbers) == []
    for key, value in numbers.items():
        assert isinstance(value, (int, float)) and math.isfinite(value), (key, value)
    if module == "style_gram":
        assert numbers["gram_change_relu1_1"] < numbers["response_change_relu1_1"] / 2
        # the Gram matrices shown are of the responses the objective reads: post-ReLU, never negative
        assert numbers["negative_entries"] == 0
    if "animation" in files:
        with Image.open(tmp_path / files["animation"]) as anim:
            # libwebp merges identical consecutive frames (L-BFGS's first step is tiny)
            assert anim.format == "WEBP" and 2 <= getattr(anim, "n_frames", 1) <= numbers["frames"]
    if module == "style_reconstruction":
        assert numbers["final_style_loss"] < numbers["initial_style_loss"]
    if module == "work_optim":   # it plots against measured time, so the build marks its files time-dependent
        assert any(rel.startswith("generated/work/optim/") for rel in tiny_site.manifest["time_dependent"]["files"])


@pytest.mark.parametrize("module", ["gallery", "representations", "style_reconstruction", "work_grid"])
def test_a_diverged_transfer_fails_its_figure(module, monkeypatch, tmp_path):
    """Every transfer a figure runs goes through the context's runners (one transfer, or a batch:
    the grid), which refuse a loss that is not finite (the gallery and the reconstructions too)."""
    import generator.engine.batched as batched
    import generator.engine.transfer as transfer
    from generator.engine.transfer import TransferResult

    calls = []

    def diverged(content, *args, **kwargs):
        calls.append(content.size)
        return TransferResult(image=content, history=[{"evaluation": 1, "total": 5.0},
                                                      {"evaluation": 2, "total": math.nan}])

    def diverged_batch(problems, size, *args, **kwargs):
        calls.append(size)
        return [TransferResult(image=p.content, history=[{"evaluation": 1, "total": 5.0},
                                                         {"evaluation": 2, "total": math.nan}]) for p in problems]

    monkeypatch.setattr(transfer, "run_transfer", diverged)
    monkeypatch.setattr(batched, "run_batch", diverged_batch)
    spec = kind(module).specs(load_catalog(SITE_SRC), PROFILES["tiny"], SITE_SRC)[0]
    with pytest.raises(RuntimeError, match="diverged.*evaluation 2"):
        kind(module).render(spec, RenderContext(out=tmp_path))
    assert len(calls) == 1


@pytest.mark.parametrize("module, painting_input", [("representations", 1), ("style_reconstruction", 0)])
def test_style_reconstructions_take_the_gram_matrices_from_the_full_painting(module, painting_input,
                                                                              monkeypatch, tmp_path):
    """The canvas is the small size shown; the target Gram matrices come from the painting as
    read (the engine fits it to its style_side), as in the gallery, not from the shrunk copy."""
    import generator.engine.transfer as transfer
    from generator.engine.images import read_image
    from generator.engine.transfer import TransferResult

    class Seen(Exception):
        pass

    calls = []

    def recording(content, styles, settings, *args, **kwargs):
        if settings.content_weight == 0:  # a style reconstruction: record it and stop the render
            calls.append((content.size, [s.size for s in styles], settings.style_min_side))
            raise Seen
        return TransferResult(image=content, history=[{"evaluation": 1, "total": 1.0, "content": 1.0, "style": 0.0}])

    monkeypatch.setattr(transfer, "run_transfer", recording)
    spec = kind(module).specs(load_catalog(SITE_SRC), PROFILES["tiny"], SITE_SRC)[0]
    with pytest.raises(Seen):
        kind(module).render(spec, RenderContext(out=tmp_path))
    full = read_image(spec.inputs[painting_input]).size
    ((canvas, styles, painting_floor),) = calls
    assert styles == [full]
    assert max(canvas) == spec.params["long_side"] < max(full)
    assert painting_floor == PROFILES["tiny"].style_min_side < PROFILES["preview"].style_min_side  # the profile's


def test_the_loss_plots_resolution_mark_sits_where_the_stage_changes():
    from generator.engine.settings import TransferSettings
    from generator.figures.style_reconstruction import scale_marks

    for share, switch in ((0.25, 75), (0.6, 40), (0.8, 20)):
        settings = TransferSettings(steps=100, scales=(0.5, 1.0), final_share=share)
        assert list(scale_marks(settings)) == [switch + 0.5]


# Figures that read the network's responses take their layers from an objective (their transfer's
# settings or the site's default ones), never from a hand-written layer name.
READS_FROM_OBJECTIVE = ("style_gram", "content_loss", "feature_maps", "measures", "style_reconstruction")


@pytest.mark.parametrize("module", READS_FROM_OBJECTIVE)
def test_no_hand_named_response_in_figure_modules(module):
    """A string literal naming a VGG response (conv1_1, relu4_2...) in a figure module that reads
    responses would bypass the objective's taps: put "conv1_1" back in style_gram.py's HEATMAPS and
    this fails. Docstrings and comments may name layers."""
    import io
    import re
    import tokenize

    path = ROOT / "generator" / "figures" / f"{module}.py"
    tokens = list(tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline))
    named = [tok.string for tok in tokens if tok.type == tokenize.STRING and not tok.string.startswith('"""')
             and re.search(r"\b(conv|relu)\d_\d\b", tok.string)]
    assert named == [], f"{module}.py names responses by hand: {named}"
