"""GPU-safe by construction: every tensor a figure feeds the network reaches it through the render
context (ctx.model, ctx.tensor, ctx.run_transfer), so `build --device cuda` cannot meet a CPU
tensor. Checked on a CPU: every kind of figure renders with the context's model and tensors in
float64, where a tensor made elsewhere (float32) makes the convolution refuse it."""
from __future__ import annotations

import ast
import copy
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from generator.build.catalog import load_catalog
from generator.engine import batched, models, runtime, transfer
from generator.figures.context import RenderContext
from generator.figures.registry import registry

from helpers import ROOT
from test_full_profile import TINY_FULL, assert_follows_its_schedule, shrink_full_profile

SITE_SRC = ROOT / "site_src"
FIGURES = ROOT / "generator" / "figures"
FAST_STYLE_SIDE = 64    # the painting's long side in the transfers (the engine's floor is 512 px)


FLOAT64_COPIES: dict = {}


@pytest.fixture
def float64_network(monkeypatch):
    """generator.engine.models.get_model hands out float64 copies (a figure asking it directly, not the
    context, gets one too); the engine's transfers keep their own float32 network and run a few
    evaluations with a small painting only."""
    real_get_model, real_run = models.get_model, transfer.run_transfer
    copies = FLOAT64_COPIES

    def float64_model(*args, **kwargs):
        model = real_get_model(*args, **kwargs)
        if id(model) not in copies:
            copies[id(model)] = copy.deepcopy(model).to(torch.float64)
        return copies[id(model)]

    def short_run(content, styles, settings, *args, **kwargs):
        result = real_run(content, styles, replace(settings, style_min_side=FAST_STYLE_SIDE), *args, **kwargs)
        assert_follows_its_schedule(settings, result)
        return result

    real_batch = batched.run_batch

    def short_batch(problems, size, *args, **kwargs):
        problems = [replace(p, settings=replace(p.settings, style_min_side=FAST_STYLE_SIDE)) for p in problems]
        results = real_batch(problems, size, *args, **kwargs)
        for problem, result in zip(problems, results):
            assert_follows_its_schedule(problem.settings, result)
        return results

    monkeypatch.setattr(models, "get_model", float64_model)
    monkeypatch.setattr(batched, "run_batch", short_batch)
    monkeypatch.setattr(runtime, "get_model", real_get_model)
    monkeypatch.setattr(transfer, "run_transfer", short_run)
    return copies


@pytest.mark.parametrize("name", [n for n in registry() if n != "gallery"])   # the gallery: test_full_profile.py
def test_every_figure_feeds_the_network_through_its_context(name, float64_network, monkeypatch, tmp_path):
    """Rendered from the full profile's specs shrunk to a tiny size (test_full_profile.py), so the
    same render checks that every transfer follows the full profile's schedule."""
    shrink_full_profile(monkeypatch)
    kind = registry()[name]
    spec = with_stand_ins(kind.specs(load_catalog(SITE_SRC), TINY_FULL, SITE_SRC)[0], tmp_path / "stand-ins")
    files, _ = kind.render(spec, RenderContext(out=tmp_path, dtype="float64"))
    assert all((tmp_path / f).is_file() for f in files.values())


def with_stand_ins(spec, folder: Path):
    """A figure that reads another figure's file (figures/upstream.py; fast_arbitrary reads the
    gallery's result) gets a stand-in for it: its first input (the photo) at 64 px."""
    from generator.engine.images import fit_long_side, read_image, save_image
    from generator.figures import upstream

    if not upstream.wanted(spec):
        return spec
    folder.mkdir(parents=True, exist_ok=True)
    stand_in = folder / "stand-in.jpg"
    save_image(fit_long_side(read_image(spec.inputs[0]), 64), stand_in)
    return upstream.resolved(spec, lambda name, role: stand_in)


def test_a_tensor_made_outside_the_context_is_refused(float64_network):
    """The trap itself: a float32 CPU tensor into the context's float64 model fails, as it would
    on a GPU."""
    from PIL import Image

    from generator.engine.images import to_tensor

    ctx = RenderContext(out=Path("."), dtype="float64")
    image = Image.new("RGB", (32, 24), (120, 80, 40))
    assert ctx.model("max")(ctx.tensor(image), ["conv1_1"])["conv1_1"].dtype == torch.float64
    with pytest.raises(RuntimeError):
        ctx.model("max")(to_tensor(image), ["conv1_1"])


BYPASSES = {"get_model", "to_tensor", "run_transfer", "run_batch"}


def bypasses(source: str) -> list[str]:
    """Where `source` reaches the network, its tensors or a transfer other than through `ctx`:
    importing one of BYPASSES by name, or calling it as a module's attribute (images.to_tensor)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            found += [f"{node.lineno} {a.name}" for a in node.names if a.name in BYPASSES]
        elif isinstance(node, ast.Attribute) and node.attr in BYPASSES:
            if not (isinstance(node.value, ast.Name) and node.value.id in ("ctx", "self")):
                found.append(f"{node.lineno} {ast.unparse(node)}")
    return found


def test_bypass_check_sees_both_ways_around():
    assert bypasses("from ..engine.images import to_tensor\n") == ["1 to_tensor"]
    assert bypasses("from ..engine import images\nx = images.to_tensor(img)\n") == ["2 images.to_tensor"]
    assert bypasses("import generator.engine.batched as b\nb.run_batch(p, s)\n") == ["2 b.run_batch"]
    assert bypasses("x = ctx.run_batch(p, s)\ny = ctx.tensor(img)\n") == []


def test_no_figure_module_imports_a_way_around_the_context():
    """The network, its input tensors and the transfer runners come from the context only."""
    found = [f"{path.name}:{where}" for path in sorted(FIGURES.glob("*.py")) if path.name != "context.py"
             for where in bypasses(path.read_text(encoding="utf-8"))]
    assert found == []
