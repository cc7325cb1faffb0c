"""limits/copies: the same transfer without and with the copy guard, and what the guard measured."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from generator.build.catalog import load_catalog
from generator.engine import settings as settings_module
from generator.engine.settings import TransferSettings
from generator.figures import limits_copies
from generator.figures.context import RenderContext
from generator.figures.profiles import PROFILES
from generator.figures.registry import kind, registry

from helpers import ROOT, render_tiny


class Recording(RenderContext):
    """A render context that keeps the settings of every transfer it runs."""

    def __init__(self, out):
        super().__init__(out=out)
        self.settings, self.results = [], []

    def run_transfer(self, content, styles, settings, size=None):
        self.settings.append(settings)
        self.results.append(super().run_transfer(content, styles, settings, size))
        return self.results[-1]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The tiny figure rendered once with the real VGG19: (folder, files, numbers, settings run, results)."""
    folder = tmp_path_factory.mktemp("copies")
    site_src = ROOT / "site_src"
    (spec,) = kind("limits_copies").specs(load_catalog(site_src), PROFILES["tiny"], site_src)
    ctx = Recording(folder)
    files, numbers = kind("limits_copies").render(spec, ctx)
    return folder, files, numbers, ctx.settings, ctx.results


def test_registered_under_limits():
    assert "limits_copies" in registry()
    site_src = ROOT / "site_src"
    for profile in PROFILES.values():
        (spec,) = kind("limits_copies").specs(load_catalog(site_src), profile, site_src)
        assert spec.name == "limits/copies" and spec.heavy


def test_the_guarded_run_is_the_gallerys():
    """The page says the figure repeats the gallery's transfer: same size, same settings."""
    site_src = ROOT / "site_src"
    catalog = load_catalog(site_src)
    for profile in PROFILES.values():
        (spec,) = kind("limits_copies").specs(catalog, profile, site_src)
        (gallery,) = [s for s in kind("gallery").specs(catalog, profile, site_src)
                      if s.name == f"gallery/{spec.params['photo']}/{spec.params['painting']}"]
        assert spec.params["runs"]["guarded"] == gallery.params["settings"]
        assert spec.params["long_side"] == gallery.params["long_side"]


def test_declared_files_and_numbers(tmp_path):
    _, files, numbers = render_tiny("limits_copies", tmp_path)   # checks the declaration, readable images
    assert set(files) == set(limits_copies.FIGURE.outputs)
    with Image.open(tmp_path / files["unguarded"]) as a, Image.open(tmp_path / files["guarded"]) as b:
        assert a.size == b.size == (numbers["width"], numbers["height"])


def test_the_two_transfers_differ_only_in_the_guard(rendered):
    _, _, _, settings, _ = rendered
    unguarded, guarded = settings
    assert unguarded.copy_guard == 0.0 and guarded.copy_guard == TransferSettings.copy_guard > 0
    assert {k: v for k, v in unguarded.to_dict().items() if k != "copy_guard"} == \
           {k: v for k, v in guarded.to_dict().items() if k != "copy_guard"}


def test_numbers_are_consistent(rendered):
    _, _, n, _, results = rendered
    assert n["guard_threshold"] == TransferSettings.copy_guard
    assert n["self_match_share"] == settings_module.SELF_MATCH_SHARE and 0 <= n["self_match"] <= 1
    assert n["threshold"] == max(n["guard_threshold"], n["self_match"])
    assert results[1].copy_thresholds == (pytest.approx(n["threshold"], abs=1e-4),)   # the one the guard used
    assert n["canvas_positions"] == n["layer_width"] * n["layer_height"]
    # relu5_1 is four poolings down: one position per 16 px cell of the canvas
    assert n["layer_width"] == n["width"] // 16 and n["layer_height"] == n["height"] // 16 and n["cell_side"] == 16
    assert 0 <= n["left_out"] <= n["painting_positions"]
    assert n["left_out_share"] == pytest.approx(n["left_out"] / n["painting_positions"], abs=1e-4)
    assert 0 <= n["copied_unguarded"] <= n["canvas_positions"] and 0 <= n["painting_copied"] <= n["painting_positions"]
    for key in ("unguarded", "guarded"):
        assert -1 <= n[f"closest_{key}"] <= 1
        # a cell counted as copied matches at the threshold or more, so the closest match does too
        assert (n[f"copied_{key}"] > 0) == (n[f"closest_{key}"] >= n["threshold"])
    assert n["evaluations"] == PROFILES["tiny"].steps
    # the tiny canvas is too small for the guard's probe (transfer.probe_canvas): none ran
    assert (n["probe_evaluations"], n["probe_width"], n["probe_height"]) == (0, 0, 0)
    assert n["probe_floor"] == settings_module.CANVAS_FLOOR


def test_edges_outline_a_mask():
    assert limits_copies.edges([[False, False], [False, False]]) == []
    one = limits_copies.edges([[True, False], [False, False]])
    assert sorted(one) == sorted([(0, 0, 1, 0), (0, 1, 1, 1), (0, 0, 0, 1), (1, 0, 1, 1)])
    # two neighbours share no inner edge: six unit segments around a 2 x 1 block
    two = limits_copies.edges([[True, True]])
    assert len(two) == 6 and (1, 0, 1, 1) not in two


def test_densest_window_finds_the_most_marked_square():
    mask = torch.zeros(6, 8, dtype=torch.bool)
    mask[0, 0] = True
    mask[3:5, 5:7] = True
    assert limits_copies.densest_window(mask, 2) == (3, 5)
    assert limits_copies.densest_window(mask, 1) == (0, 0)          # a tie: the first in reading order
    assert limits_copies.densest_window(mask, 20) == (0, 1)         # clipped to 6 x 6: columns 1-6 hold all 5
    assert limits_copies.cell_box(Image.new("RGB", (128, 96)), (6, 8), 3, 5, 2) == (80, 48, 112, 80)


def test_the_detail_follows_where_the_guard_lowered_the_similarity_most():
    """Only positions the unguarded result marks count, by how much the guarded one's match fell."""
    unguarded = torch.tensor([[0.9, 0.75, 0.6], [0.8, 0.72, 0.5]])
    guarded = torch.tensor([[0.6, 0.74, 0.3], [0.85, 0.6, 0.2]])
    weights = limits_copies.lowered({"unguarded": unguarded, "guarded": guarded}, 0.7)
    torch.testing.assert_close(weights, torch.tensor([[0.3, 0.01, 0.0], [0.0, 0.12, 0.0]]))
    assert limits_copies.densest_window(weights, 1) == (0, 0)
    assert limits_copies.densest_window(weights, 2) == (0, 0)    # 0.43 against 0.13


def test_outlined_draws_only_on_the_marked_cells():
    img = Image.new("RGB", (64, 32), (0, 0, 0))
    out = limits_copies.outlined(img, [[False, True, False, False], [False, False, False, False]])
    marked = (np.asarray(out) == np.asarray(limits_copies.OUTLINE)).all(-1)
    assert marked[:17, 16:33].any() and not marked[:, 40:].any() and not marked[20:, :].any()
