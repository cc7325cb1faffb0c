"""Figures as plug-ins: the registry finds every module that declares FIGURE, in the build's order;
a declaration must cover every profile; a render must deliver what its declaration promises."""
from __future__ import annotations

import textwrap

import pytest

from generator.build.catalog import load_catalog
from generator.engine.settings import TransferSettings
from generator.figures import Figure, FigureDeclarationError, FigureSpec
from generator.figures.context import RenderContext
from generator.figures.profiles import PROFILES
from generator.figures.registry import Kind, all_specs, registry, scan

from helpers import ROOT

SITE_SRC = ROOT / "site_src"


def test_the_build_order_is_kept():
    """The order figures were computed in before they became plug-ins (cheap images first)."""
    before = ["catalog_images", "gallery", "vgg_diagram", "feature_maps", "representations", "content_loss",
              "style_gram", "style_reconstruction", "work_grid", "work_init", "work_colour", "work_blend",
              "work_optim", "work_animation"]
    kinds = list(registry())
    assert [k for k in kinds if k in before] == before  # later kinds may come in between or after
    orders = [kind.figure.order for kind in registry().values()]
    assert orders == sorted(orders)


def test_every_figure_has_sizes_for_every_profile_and_specs_of_its_own_kind():
    catalog = load_catalog(SITE_SRC)
    for name, kind in registry().items():
        for profile in PROFILES.values():
            if kind.figure.sizes is not None:
                assert kind.figure.size(profile) == kind.figure.sizes[profile.name]
            specs = kind.specs(catalog, profile, SITE_SRC)
            assert specs and all(s.module == name for s in specs), name
            assert all(s.module_path == f"generator.figures.{name}" for s in specs)


def test_all_specs_follow_the_registry():
    specs = all_specs(load_catalog(SITE_SRC), PROFILES["tiny"], SITE_SRC)
    order = list(registry())
    kinds = [s.module for s in specs]
    assert kinds == sorted(kinds, key=order.index) and set(kinds) == set(order)


def _package(tmp_path, monkeypatch, name: str, modules: dict[str, str]) -> str:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    for module, source in modules.items():
        (folder / f"{module}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


NEW_KIND = """
    from generator.figures import Figure, FigureSpec

    FIGURE = Figure(order={order}, outputs=("image",), numbers=("side", "value_*"),
                    sizes={{"tiny": {{"side": 8}}, "preview": {{"side": 16}}{full}}})


    def specs(catalog, profile, site_src):
        return [FigureSpec(name="{name}/one", params=FIGURE.size(profile))]


    def render(spec, ctx):
        (ctx.out / "image.txt").write_text("x")
        return {{"image": "image.txt"}}, {{"side": spec.params["side"], "value_0": 1.0, "time_dependent": True}}
"""


def test_a_new_kind_is_one_module(tmp_path, monkeypatch):
    """Dropping a module that declares FIGURE into the package adds it, in its declared order."""
    package = _package(tmp_path, monkeypatch, "plugins_ok", {
        "zeta": NEW_KIND.format(order=1, name="zeta", full=', "full": {"side": 32}'),
        "alpha": NEW_KIND.format(order=2, name="alpha", full=', "full": {"side": 32}'),
        "shared": "def helper():\n    return 1\n",
    })
    kinds = scan(package)
    assert list(kinds) == ["zeta", "alpha"]
    (spec,) = kinds["zeta"].specs(None, PROFILES["preview"], tmp_path)
    assert spec.module == "zeta" and spec.params == {"side": 16}
    files, numbers = kinds["zeta"].render(spec, RenderContext(out=tmp_path))
    assert files == {"image": "image.txt"} and numbers["side"] == 16


def test_a_declaration_missing_a_profile_is_refused(tmp_path, monkeypatch):
    package = _package(tmp_path, monkeypatch, "plugins_no_full", {
        "lacking": NEW_KIND.format(order=1, name="lacking", full=""),
    })
    with pytest.raises(FigureDeclarationError, match=r"plugins_no_full/lacking\.py.*every profile.*'full'"):
        scan(package)


def test_a_render_without_declaration_is_refused(tmp_path, monkeypatch):
    package = _package(tmp_path, monkeypatch, "plugins_undeclared", {
        "forgotten": "def specs(catalog, profile, site_src):\n    return []\n\n\ndef render(spec, ctx):\n    pass\n",
    })
    with pytest.raises(FigureDeclarationError, match="forgotten.py: render.. but no FIGURE"):
        scan(package)


@pytest.mark.parametrize("files, numbers, fault", [
    ({"image": "a.png", "extra": "b.png"}, {"side": 1}, "undeclared file role"),
    ({"extra": "b.png"}, {"side": 1}, "missing file role"),
    ({"image": "a.png"}, {}, "missing number"),
    ({"image": "a.png"}, {"side": 1, "surprise": 2}, "undeclared number"),
])
def test_a_render_that_breaks_its_declaration_fails(files, numbers, fault, tmp_path):
    class Module:
        @staticmethod
        def render(spec, ctx):
            return files, numbers

    kind = Kind("fake", Figure(order=0, outputs=("image",), numbers=("side",)), Module)
    with pytest.raises(FigureDeclarationError, match=fault):
        kind.render(FigureSpec(name="fake/one", module="fake"), RenderContext(out=tmp_path))


def test_number_patterns_and_the_implicit_time_flag():
    figure = Figure(order=0, outputs=("image",), numbers=("width", "ratio_*"))
    assert figure.check_numbers({"width": 1, "ratio_0": 1, "ratio_12": 2, "time_dependent": True}) == []
    assert figure.check_numbers({"ratio_0": 1}) == ["missing number(s) ['width']"]


def test_file_role_patterns_declare_a_count_that_varies():
    """One file per grid cell: "cell_*" admits any number of cell_<row>_<column> roles."""
    figure = Figure(order=0, outputs=("image", "cell_*"), numbers=())
    assert figure.check_files({"image": "g.jpg"}) == []
    assert figure.check_files({"image": "g.jpg", "cell_0_0": "a.jpg", "cell_4_3": "b.jpg"}) == []
    assert figure.check_files({"cell_0_0": "a.jpg"}) == ["missing file role(s) ['image']"]
    assert figure.check_files({"image": "g.jpg", "frame_0": "f.jpg"}) == ["undeclared file role(s) ['frame_0']"]


def test_a_spec_made_outside_the_registry_has_no_cache_identity():
    with pytest.raises(FigureDeclarationError, match="outside"):
        FigureSpec(name="loose").module_path


def _guards(params) -> list:
    """The copy_guard of every transfer settings dict in a spec's params."""
    if isinstance(params, dict):
        own = [params["copy_guard"]] if "copy_guard" in params and "style_weight" in params else []
        return own + [g for v in params.values() for g in _guards(v)]
    if isinstance(params, (list, tuple)):
        return [g for v in params for g in _guards(v)]
    return []


def test_figures_that_compare_losses_run_without_the_copy_guard():
    """Their pages say so (macros.pages.guard_note): the guard changes relu5_1's target mid-run."""
    specs = {s.name: s for s in all_specs(load_catalog(SITE_SRC), PROFILES["preview"], SITE_SRC)}
    for name in ("work/init", "work/optim", "work/animation", "work/grid", "texture/tv", "limits/scales"):
        guards = _guards(specs[name].params)
        assert guards and not any(guards), name
    gallery = [s for n, s in specs.items() if n.startswith("gallery/")]
    assert gallery and all(_guards(s.params) == [TransferSettings.copy_guard] for s in gallery)
    assert all(_guards(specs["work/colour"].params))
