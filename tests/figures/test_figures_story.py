"""The story's figures (why Gram matrices capture texture, total variation, where the method fails)
rendered at the tiny profile with the real VGG19, and the pure statistics behind them."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from generator.engine import losses, stats_losses
from generator.figures.registry import registry

from helpers import ROOT, render_tiny

SITE_SRC = ROOT / "site_src"
MODULES = ("texture_stats", "texture_tv", "limits")


# --------------------------------------------------------------------------- pure statistics


def test_gram_loss_is_a_polynomial_kernel_mmd():
    """E_l = MMD^2 / (4 N^2) with k(x, y) = (x.y)^2 over the M positions (Li et al. 2017), the
    identity textura.md states."""
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(1, 5, 4, 3, generator=gen, dtype=torch.float64), torch.randn(1, 5, 4, 3, generator=gen,
                                                                                   dtype=torch.float64)
    n, m = 5, 12
    xs, ys = x.reshape(n, m).T, y.reshape(n, m).T   # one row per position
    k = lambda a, b: (a @ b.T) ** 2                  # noqa: E731
    mmd2 = (k(xs, xs).sum() + k(ys, ys).sum() - 2 * k(xs, ys).sum()) / m**2
    e = losses.style_layer_loss(x, losses.gram_matrix(y))
    assert torch.allclose(e, mmd2 / (4 * n**2))


def test_mean_std_loss_sees_means_and_spreads_but_not_co_occurrence():
    gen = torch.Generator().manual_seed(1)
    f = torch.randn(1, 2, 6, 6, generator=gen)
    targets = stats_losses.mean_std_targets({"a": f})
    assert float(stats_losses.mean_std_loss({"a": f}, targets, {"a": 1.0})) == pytest.approx(0.0, abs=1e-9)
    shifted = f + torch.tensor([1.0, 0.0]).view(1, 2, 1, 1)
    assert float(stats_losses.mean_std_loss({"a": shifted}, targets, {"a": 1.0})) == pytest.approx(0.5, rel=1e-4)
    # shuffling one channel's positions keeps its mean and spread (loss 0) but changes the Gram matrix
    perm = torch.randperm(36, generator=gen)
    mixed = f.clone()
    mixed[0, 1] = f[0, 1].flatten()[perm].reshape(6, 6)
    assert float(stats_losses.mean_std_loss({"a": mixed}, targets, {"a": 1.0})) == pytest.approx(0.0, abs=1e-6)
    assert float(losses.style_layer_loss(mixed, losses.gram_matrix(f))) > 1e-4


def test_tv_per_pixel():
    img = torch.zeros(1, 3, 4, 5)
    img[..., :, 2:] = 10.0  # one vertical edge of height 10 in every channel: 4 rows x 3 channels
    assert stats_losses.tv_per_pixel(img) == pytest.approx(3 * 4 * 100 / (3 * 4 * 5))
    assert stats_losses.tv_per_pixel(torch.full((1, 3, 4, 4), 7.0)) == 0.0


def _strokes(width: int, side: int, seed: int = 0) -> np.ndarray:
    """Square strokes `width` px wide with unrelated brightnesses, at a random offset."""
    rng = np.random.default_rng(seed)
    n = side // width + 2
    img = np.kron(rng.uniform(0, 255, (n, n)), np.ones((width, width)))
    oy, ox = rng.integers(0, width, 2)
    return img[oy:oy + side, ox:ox + side]


@pytest.mark.parametrize("width", [3, 6, 12])
def test_stroke_width_reads_the_width_of_synthetic_strokes(width):
    luma = _strokes(width, 288)
    assert stats_losses.stroke_width(luma) == pytest.approx(width, rel=0.1)
    # grain that is unrelated between neighbouring pixels does not make the strokes look thinner
    grain = np.random.default_rng(1).normal(0, 60, luma.shape)
    assert stats_losses.stroke_width(luma + grain) == pytest.approx(width, rel=0.15)


def test_stroke_width_grows_with_the_image():
    """The same strokes enlarged three times read about three times wider (the old gradient-based
    length grew as the square root of the width for sharp edges, and fell when grain appeared)."""
    small = _strokes(4, 96, seed=2)
    large = np.kron(small, np.ones((3, 3)))
    assert stats_losses.stroke_width(large) / stats_losses.stroke_width(small) == pytest.approx(3.0, rel=0.15)


def test_below_skyline_keeps_the_building_and_drops_the_sky():
    detail = np.zeros((40, 40))
    detail[15:, :] = 20.0                     # a building from row 15 down
    detail[15, :] = 30.0                      # its busy roof line
    detail[25:35, 5:15] = 0.0                 # a bare wall on it
    scene = stats_losses.below_skyline(detail)
    assert not scene[:15].any() and scene[15:].all()
    flat = stats_losses.flattest(detail, 0.25, within=scene)
    assert flat[25:35, 5:15].all() and not flat[:15].any()


def test_local_detail_and_flattest():
    luma = np.zeros((20, 20))
    luma[:, 10:] = np.random.default_rng(0).uniform(0, 255, (20, 10))
    detail = stats_losses.local_detail(luma, 2)
    assert detail[:, :7].max() == pytest.approx(0.0, abs=1e-6) and detail[:, 13:].min() > 10
    flat = stats_losses.flattest(detail, 0.25)
    assert flat[:, :7].all() and not flat[:, 10:].any()


# --------------------------------------------------------------------------- the figures at tiny


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, tiny_site):
    """Each module's single figure rendered once: {module: (folder, files, numbers)}."""
    out = {}
    for module in MODULES:
        folder = tmp_path_factory.mktemp(module)
        _, files, numbers = render_tiny(module, folder, site=tiny_site)
        out[module] = (folder, files, numbers)
    return out


def test_modules_are_registered():
    assert set(MODULES) <= set(registry())


@pytest.mark.parametrize("module", MODULES)
def test_files_exist_and_numbers_are_finite(rendered, module):
    folder, files, numbers = rendered[module]
    assert "image" in files
    for name in files.values():
        with Image.open(folder / name) as img:
            img.verify()
    for key, value in numbers.items():
        assert isinstance(value, (int, float)) and math.isfinite(value), (key, value)


def test_each_synthesis_is_closest_to_its_own_statistic(rendered):
    _, _, n = rendered["texture_stats"]
    assert n["gram_result_gram_loss"] < n["mean_std_result_gram_loss"]
    assert n["mean_std_result_mean_std_loss"] < n["gram_result_mean_std_loss"]
    assert n["gram_final_loss"] < n["gram_first_loss"] and n["mean_std_final_loss"] < n["mean_std_first_loss"]
    assert n["gram_loss_ratio"] > 1 and n["mean_std_loss_ratio"] > 1


def test_total_variation_lowers_the_measured_variation(rendered):
    _, _, n = rendered["texture_tv"]
    assert n["tv_weight"] > 0
    assert n["with_tv"] < n["without_tv"]
    assert n["tv_ratio"] == pytest.approx(n["with_tv"] / n["without_tv"])


def test_limits_use_two_painting_sizes_and_measure_the_flat_quarter(rendered):
    _, files, n = rendered["limits"]
    assert {"detail", "flat"} <= set(files)
    assert n["painting_side_1"] == pytest.approx(3 * n["painting_side_0"], rel=0.01)
    assert n["painting_stroke_width_1"] > n["painting_stroke_width_0"]  # a bigger painting, longer strokes
    assert n["photo_flat_detail"] < n["photo_busy_detail"]
