"""The explorers of Generación de la obra: the alpha/beta grid writes each cell as its own image with
its losses (taken from the batched run, each cell's own), the animation each snapshot with its
losses and a loss curve; macros/explorers.py turns them into the page's JSON; in Chromium the
sliders, moved with the keyboard, show the chosen cell's or snapshot's image and manifest numbers
and move the cursor along the curve. The browser part reuses the session's tiny site."""
from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from generator.common.spanish_numbers import format_es
from generator.engine.images import fit_long_side, read_image
from generator.engine.settings import STYLE_LAYERS
from generator.figures.context import RenderContext
from generator.figures.picks import settings as make_settings
from generator.figures.work_animation import curve_evaluations, measured_by
from generator.figures.work_grid import depth_groups
from macros.explorers import grid_data, json_blob, layers_label
from macros.pages import ManifestError, Pages

from helpers import ROOT, render_tiny
from pagesenv import entry
from pagesenv import manifest as small_manifest

SITE_SRC = ROOT / "site_src"
ARTIFACTS = ROOT / "test-artifacts" / "explorers"


# --------------------------------------------------------------------------- pure pieces


def test_cells_are_grouped_by_their_deepest_layer():
    """Rows up to conv4_1 read conv4_2 (content) deepest, the conv5_1 row goes further; a cell
    without content weight is as deep as its style layers."""
    def cell(layers, content_weight=1.0):
        return {"style_layers": layers, "style_weight": 1.0, "content_layers": ["conv4_2"],
                "content_weight": content_weight}
    cells = [cell(STYLE_LAYERS[:n]) for n in range(1, 6)] + [cell(STYLE_LAYERS[:2], 0.0)]
    assert depth_groups(cells) == [[0, 1, 2, 3], [4], [5]]


def test_the_curve_keeps_every_frame_and_at_most_the_cap():
    assert curve_evaluations(8, [0, 2, 4, 8]) == list(range(1, 9))
    kept = curve_evaluations(500, [0, 12, 24, 37, 500], cap=200)
    assert kept[0] == 1 and kept[-1] == 500 and {12, 24, 37} <= set(kept)
    assert len(kept) <= 200 + 5
    assert measured_by(0) == 1 and measured_by(7) == 7


def test_layer_labels():
    assert layers_label(["conv1_1"]) == "solo conv1_1"
    assert layers_label(list(STYLE_LAYERS[:3])) == "de conv1_1 a conv3_1 (3 capas)"


def test_the_json_cannot_close_its_script_element():
    text = str(json_blob({"a": "</script><b>&"}))
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"a": "</script><b>&"}


def test_a_manifest_without_the_cells_is_refused_by_name():
    old = small_manifest({"work/grid": entry(numbers={"rows": 1, "columns": 1, "row_layers_0": 1, "ratio_0": 0.1},
                                             files={"image": "generated/work/grid/grid.jpg"})},
                         method={"settings": {"style_layers": list(STYLE_LAYERS)}})
    with pytest.raises(ManifestError, match="cell_0_0"):
        grid_data(Pages(old), "work/grid")


# --------------------------------------------------------------------------- the figures (real VGG19, tiny)


@pytest.fixture(scope="module")
def grid(tmp_path_factory, tiny_site):
    out = tmp_path_factory.mktemp("grid")
    return (out, *render_tiny("work_grid", out, tiny_site))


def test_each_cell_is_an_image_with_its_own_losses(grid):
    """The cells' numbers are each cell's own (the batch's order undone): cell (r, c) ends where
    run_transfer alone takes that cell's settings, and its image is the grid's cell."""
    out, spec, files, numbers = grid
    rows, columns = numbers["rows"], numbers["columns"]
    assert sorted(k for k in files if k.startswith("cell_")) == sorted(
        f"cell_{r}_{c}" for r in range(rows) for c in range(columns))
    content = fit_long_side(read_image(spec.inputs[0]), spec.params["long_side"])
    style = read_image(spec.inputs[1])
    ctx = RenderContext(out=out)
    for r in range(rows):
        assert numbers[f"row_layers_{r}"] == len(spec.params["cells"][r * columns]["style_layers"])
        for c in range(columns):
            with Image.open(out / files[f"cell_{r}_{c}"]) as img:
                assert img.size == content.size
            alone = ctx.run_transfer(content, [style], make_settings(spec.params["cells"][r * columns + c]))
            assert numbers[f"cell_content_loss_{r}_{c}"] == pytest.approx(alone.history[-1]["content"], rel=1e-3)
            assert numbers[f"cell_style_loss_{r}_{c}"] == pytest.approx(alone.history[-1]["style"], rel=1e-3)
    for c in range(columns):  # the last row's columns, as the page's text reads them
        assert numbers[f"style_loss_{c}"] == numbers[f"cell_style_loss_{rows - 1}_{c}"]
        assert numbers[f"content_loss_{c}"] == numbers[f"cell_content_loss_{rows - 1}_{c}"]
    losses = {numbers[f"cell_style_loss_{r}_{c}"] for r in range(rows) for c in range(columns)}
    assert len(losses) == rows * columns   # distinct cells: a mix-up would show


def test_each_snapshot_is_an_image_with_its_losses_on_the_curve(tmp_path, tiny_site):
    _, files, n = render_tiny("work_animation", tmp_path, tiny_site)
    frames = n["frames"]
    assert sorted(k for k in files if k.startswith("frame_")) == sorted(f"frame_{i}" for i in range(frames))
    evaluations = [n[f"snapshot_evaluation_{i}"] for i in range(frames)]
    assert evaluations == sorted(evaluations) and evaluations[-1] == n["evaluations"]
    for i, e in enumerate(evaluations):
        for part in ("content", "style", "total"):
            assert n[f"snapshot_{part}_loss_{i}"] == n[f"curve_{part}_{measured_by(e)}"]
        with Image.open(tmp_path / files[f"frame_{i}"]) as img:
            assert img.size == (n["width"], n["height"])
    assert n[f"snapshot_total_loss_{frames - 1}"] == n["final_loss"]
    assert n["curve_total_1"] == n["initial_loss"]
    total = n["content_weight"] * n["curve_content_1"] + n["style_weight"] * n["curve_style_1"]
    assert total == pytest.approx(n["curve_total_1"], rel=1e-5)   # alpha, beta are the transfer's


# --------------------------------------------------------------------------- the page in Chromium


GRID, ANIMATION = "#explorer-work-grid", "#explorer-work-animation"


@pytest.fixture(scope="module")
def page(browser, site):
    """obra.html on a desktop, its explorers started; `page.errors` collects console and page errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.on("console", lambda m: m.type == "error" and errors.append(m.text))
    tab.goto(site + "obra.html", wait_until="load")
    tab.wait_for_selector(GRID + "[data-ready]", state="visible", timeout=15000)
    yield SimpleNamespace(tab=tab, errors=errors)
    context.close()


def _shown(tab, root: str, what: str) -> str:
    return tab.locator(f'{root} [data-show="{what}"]').inner_text().strip()


def _es(value) -> str:
    return format_es(value, ".3g", "text")


def test_the_grid_sliders_show_the_chosen_cell(page, built_site):
    errors, page = page.errors, page.tab
    n = built_site.manifest["figures"]["work/grid"]["numbers"]
    files = built_site.manifest["figures"]["work/grid"]["files"]
    rows, columns = n["rows"], n["columns"]
    column = page.locator(f'{GRID} [data-control="column"]')
    row = page.locator(f'{GRID} [data-control="row"]')
    for control in (column, row):   # every control labelled
        assert control.evaluate("e => e.labels.length") == 1
    seen = []
    column.focus()
    page.keyboard.press("Home")
    row.focus()
    page.keyboard.press("End")
    for key, control in [(None, None), ("ArrowRight", column), ("ArrowLeft", row), ("ArrowDown", row)]:
        if key:
            control.focus()
            page.keyboard.press(key)
        r, c = int(row.input_value()), int(column.input_value())
        seen.append((r, c))
        assert page.locator(f'{GRID} [data-show="image"]').get_attribute("src") == files[f"cell_{r}_{c}"]
        assert _shown(page, GRID, "content") == _es(n[f"cell_content_loss_{r}_{c}"])
        assert _shown(page, GRID, "style") == _es(n[f"cell_style_loss_{r}_{c}"])
        state = page.locator(GRID).evaluate("e => ({...e.dataset})")
        assert float(state["styleLoss"]) == n[f"cell_style_loss_{r}_{c}"]
        assert float(state["contentLoss"]) == n[f"cell_content_loss_{r}_{c}"]
        assert format_es(n[f"ratio_{c}"], ".0e", "text") in _shown(page, GRID, "column")
        assert ("solo" if n[f"row_layers_{r}"] == 1 else f"{n[f'row_layers_{r}']} capas") in _shown(page, GRID, "row")
    assert seen == [(rows - 1, 0), (rows - 1, 1), (rows - 2, 1), (max(rows - 3, 0), 1)]
    img_ok = page.locator(f'{GRID} [data-show="image"]').evaluate("i => i.decode().then(() => i.naturalWidth)")
    assert img_ok == n["width"]
    assert errors == []


def test_the_animation_slider_moves_the_cursor_along_the_curve(page, built_site):
    errors, page = page.errors, page.tab
    n = built_site.manifest["figures"]["work/animation"]["numbers"]
    files = built_site.manifest["figures"]["work/animation"]["files"]
    frames = n["frames"]
    slider = page.locator(f'{ANIMATION} [data-control="frame"]')
    assert slider.evaluate("e => e.labels.length") == 1
    cursor = page.locator(f'{ANIMATION} [data-show="cursor"]')
    # the static loss plot and strip give way to the explorer
    assert page.locator('[data-explorer-fallback="animation"]').first.is_hidden()
    slider.focus()
    page.keyboard.press("Home")
    positions = []
    for i in range(frames):
        if i:
            page.keyboard.press("ArrowRight")
        assert int(slider.input_value()) == i
        assert page.locator(f'{ANIMATION} [data-show="image"]').get_attribute("src") == files[f"frame_{i}"]
        for part in ("content", "style"):
            weight = n["content_weight"] if part == "content" else n["style_weight"]
            assert _shown(page, ANIMATION, part) == _es(weight * n[f"snapshot_{part}_loss_{i}"])
        assert _shown(page, ANIMATION, "total") == _es(n[f"snapshot_total_loss_{i}"])
        assert int(cursor.get_attribute("data-evaluation")) == measured_by(n[f"snapshot_evaluation_{i}"])
        positions.append(float(cursor.locator("line").get_attribute("x1")))
    assert positions == sorted(positions) and positions[-1] > positions[0]   # it moves, rightwards
    lines = page.locator(f"{ANIMATION} path.st-explorer__line")
    assert lines.count() == 3 and all(re.search(r"\d L", lines.nth(k).get_attribute("d")) for k in range(3))
    assert errors == []


def test_explorers_fit_a_phone_and_take_touch(page, browser, site):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.tab.screenshot(path=str(ARTIFACTS / "obra-desktop.png"), full_page=True)
    context = browser.new_context(viewport={"width": 375, "height": 740}, device_scale_factor=2,
                                   is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.goto(site + "obra.html", wait_until="load")
    phone.wait_for_selector(ANIMATION + "[data-ready]", state="visible", timeout=15000)
    slider = phone.locator(f'{ANIMATION} [data-control="frame"]')
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    assert box["width"] > 200   # a thumb's travel a finger can use
    slider.tap(position={"x": 2, "y": box["height"] / 2})   # a finger on the slider's left end: frame 0
    assert int(slider.input_value()) == 0
    assert phone.locator(ANIMATION).evaluate("e => e.dataset.frame") == "0"
    scroll, view = phone.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= view
    phone.locator(GRID).screenshot(path=str(ARTIFACTS / "grid-phone.png"))
    phone.screenshot(path=str(ARTIFACTS / "obra-phone.png"), full_page=True)
    context.close()
