"""The manifest schema: what the build writes, load_manifest reads back the same; a broken file
is refused with one line naming it; every figure states its profile, and the manifest lists them."""
from __future__ import annotations

import json
from dataclasses import fields, replace

import pytest

from generator.build.catalog import Entry
from generator.build.manifest import (
    HERO,
    CatalogItem,
    FigureEntry,
    Manifest,
    TimeDependent,
    load_manifest,
    make_manifest,
    write_manifest,
)
from generator.common.errors import InputError


def entry(profile: str, device: str = "cpu", seconds: float = 1.5) -> FigureEntry:
    return FigureEntry(numbers={"width": 64, "transfer_seconds": 1.2}, seconds=seconds, profile=profile,
                       device=device, torch="2.13.0", key="k" + profile, files={"image": "generated/x/image.jpg"})


def sample() -> Manifest:
    figures = {"work/grid": entry("preview"), "gallery/a/b": entry("full", "cuda"), "gallery/a/c": entry("preview")}
    catalog = {"content": [CatalogItem(section="content", name="a", file="content/a.jpg", title="A", width=640,
                                       height=480)],
               "style": [CatalogItem(section="style", name="b", file="styles/b.jpg", title="B", artist="X",
                                     year="1900")]}
    return make_manifest("preview", catalog, figures, {"gallery/a/d": "styles/d.jpg: file not found"},
                         TimeDependent(files=["generated/manifest.json"], numbers=["seconds"]),
                         method={"profile": "preview", "settings": {"pooling": "max"},
                                 "differences": {"pooling": {"paper": "avg", "ours": "max", "same": False}}})


def test_round_trip(tmp_path):
    manifest = sample()
    path = tmp_path / "manifest.json"
    assert write_manifest(path, manifest)
    assert not write_manifest(path, manifest)  # same bytes: the file is left alone
    assert load_manifest(path) == manifest


def test_the_json_keeps_the_pages_names(tmp_path):
    raw = json.loads(sample().to_json())
    assert list(raw) == ["profile", "hero", "catalog", "figures", "failed", "devices", "torch_versions",
                         "time_dependent", "device", "torch", "profiles", "method", "profile_budgets"]
    budget = raw["profile_budgets"]["full"]                               # what Inicio states
    assert sum(budget["stage_steps"]) == budget["steps"] and len(budget["scales"]) == len(budget["stage_steps"])
    assert raw["hero"] == {"content": HERO.content, "style": HERO.style}
    assert list(raw["figures"]) == sorted(raw["figures"])
    assert list(raw["figures"]["gallery/a/b"]) == ["numbers", "seconds", "profile", "device", "torch", "key", "files",
                                                   "objective", "transfers"]
    assert raw["catalog"]["style"][0] == {"name": "b", "file": "styles/b.jpg", "title": "B", "artist": "X",
                                          "year": "1900"}  # empty fields left out, as before
    assert (raw["device"], raw["devices"]) == ("cpu, cuda", ["cpu", "cuda"])


def test_profiles_of_what_is_shown():
    manifest = sample()
    assert manifest.profiles == ["preview", "full"]  # a full-profile figure served this preview build
    assert manifest.profiles_of("gallery/") == ["preview", "full"]
    assert manifest.profiles_of("work/") == ["preview"]
    assert manifest.profiles_of("nothing/") == []
    assert manifest.figures["gallery/a/b"].profile == "full"


def test_hero_names_its_gallery_figure():
    assert HERO.figure == f"gallery/{HERO.content}/{HERO.style}"


def test_a_catalogue_field_is_declared_once(tmp_path):
    """CatalogItem is the catalogue's Entry plus a size: every Entry field reaches the manifest and
    comes back, its section from the key it is listed under."""
    entry = Entry(section="style", name="b", file="styles/b.jpg", title="B", artist="X", year="1900",
                  source="S", license="L", note="N", public_domain="P")
    item = CatalogItem(**entry.to_dict(), section=entry.section, width=8, height=6)
    assert {f.name for f in fields(Entry)} < {f.name for f in fields(CatalogItem)}
    manifest = replace(sample(), catalog={"content": [], "style": [item]})
    path = tmp_path / "manifest.json"
    write_manifest(path, manifest)
    assert json.loads(path.read_text(encoding="utf-8"))["catalog"]["style"][0] == {
        **entry.to_dict(), "width": 8, "height": 6}
    assert load_manifest(path).catalog["style"][0] == item


@pytest.mark.parametrize("text, fault", [
    (None, "not found"),
    ("{half", "not a readable manifest"),
    ("[]", "missing field 'figures'"),
    ("CUT_FIGURES", "missing field 'figures'"),
    ("BAD_ENTRY", r"figures\.gallery/a/b: .*'seconds'"),
    ("UNKNOWN", r"unknown field\(s\) \['colour'\]"),
])
def test_a_broken_manifest_is_refused_with_one_line(tmp_path, text, fault):
    path = tmp_path / "manifest.json"
    raw = json.loads(sample().to_json())
    if text == "CUT_FIGURES":
        del raw["figures"]
    elif text == "BAD_ENTRY":
        del raw["figures"]["gallery/a/b"]["seconds"]
    elif text == "UNKNOWN":
        raw["figures"]["gallery/a/b"]["colour"] = "red"
    if text is not None:
        path.write_text(text if text in ("{half", "[]") else json.dumps(raw), encoding="utf-8")
    with pytest.raises(InputError, match=fault) as caught:
        load_manifest(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_a_figure_records_the_objective_it_reads(tmp_path):
    """The build records, per figure, the objective its params name (its transfer's settings or the
    site's default objective): taps, layers as the paper names them and as the network layer read."""
    from generator.build.pipeline import figure_objective
    from generator.engine.settings import TransferSettings
    from generator.figures import FigureSpec
    from generator.figures.picks import objective

    post = figure_objective(FigureSpec(name="x", params={"objective": objective(TransferSettings())}))
    assert post["taps"] == "post_relu" and post["content_reads"] == ["relu4_2"]
    assert post["style_layers"][0] == "conv1_1" and post["style_reads"][0] == "relu1_1"
    assert post["style_weights"] == [0.2] * 5 and post["style_balance"] == "photo"
    pre = figure_objective(FigureSpec(name="x", params={"settings": TransferSettings(taps="pre_relu").to_dict()}))
    assert pre["content_reads"] == ["conv4_2"] and pre["style_reads"][-1] == "conv5_1"
    assert figure_objective(FigureSpec(name="x", params={"long_side": 64})) == {}
    runs = {"a": TransferSettings().to_dict(), "b": TransferSettings(content_weight=2.0).to_dict()}
    several = figure_objective(FigureSpec(name="x", params={"runs": runs}))
    assert several["varies"] == ["content_weight"] and "content_weight" not in several
    assert several["style_reads"][0] == "relu1_1"
    cells = [TransferSettings(style_layers=("conv1_1",)).to_dict(), TransferSettings().to_dict()]
    grid = figure_objective(FigureSpec(name="x", params={"cells": cells}))
    assert {"style_layers", "style_reads", "style_weights"} <= set(grid["varies"]) and grid["taps"] == "post_relu"
    manifest = replace(sample(), figures={"style/gram": replace(entry("tiny"), objective=post)})
    path = tmp_path / "manifest.json"
    write_manifest(path, manifest)
    assert load_manifest(path).figures["style/gram"].objective == post


def test_each_figure_records_the_transfers_it_ran(tiny_site):
    """The manifest states, per transfer a figure ran, its start and its stages as the engine planned
    them (figures.context.transfer_plan): the pages read them instead of assuming one size."""
    figures = tiny_site.manifest["figures"]
    hero = figures[f"gallery/{tiny_site.manifest['hero']['content']}/{tiny_site.manifest['hero']['style']}"]
    (run,) = hero["transfers"]
    assert run["evaluations"] == hero["numbers"]["evaluations"] == sum(s["evaluations"] for s in run["stages"])
    assert run["init"] == hero["numbers"]["init"]
    assert run["precision"] == tiny_site.manifest["method"]["settings"]["precision"] == "float32"
    assert [run["stages"][-1][k] for k in ("width", "height")] == [hero["numbers"]["width"], hero["numbers"]["height"]]
    assert run["stages"][-1]["painting_long_side"] >= max(hero["numbers"]["width"], hero["numbers"]["height"])
    representations = figures["representations"]["transfers"]
    content_runs = [r for r in representations if r["stages"][-1]["painting_long_side"] is None]
    assert len(content_runs) == 5 and len(representations) == 10   # five content, five style reconstructions
    assert all(r["init"] == "noise" for r in representations)
    assert not figures["painting/starry_night"]["transfers"] and not figures["style/gram"]["transfers"]
    for name, entry in figures.items():
        for r in entry["transfers"]:
            assert r["evaluations"] == sum(s["evaluations"] for s in r["stages"]) > 0, name


def test_every_figure_optimises_with_the_profiles_preconditioner(tiny_site):
    """The site's figures optimise as the papers do, with plain L-BFGS (Profile.precondition), as the
    method table says for all of them: no figure's transfer takes the engine's default pyramid
    preconditioner instead (the content and representation reconstructions once did)."""
    m = tiny_site.manifest
    assert m["method"]["differences"]["precondition"]["ours"] == "none"
    used = {name: {r["precondition"] for r in e["transfers"]} for name, e in m["figures"].items() if e["transfers"]}
    assert {"content/loss", "representations", "style/reconstruction"} <= used.keys()
    assert {name: u for name, u in used.items() if u != {"none"}} == {}


def test_the_method_states_the_precision_the_gallery_ran_in():
    """The preview profile asks for bfloat16; on a CPU without it the gallery runs float32
    (ctx.runnable), and the method entry (the pages' differences table) says what ran."""
    from generator.build.method import method_entry
    from generator.figures.profiles import PROFILES

    preview = PROFILES["preview"]
    assert preview.transfer().precision == "bfloat16"
    ran = method_entry(preview, [{"precision": "float32"}, {"precision": "float32"}])
    assert ran["settings"]["precision"] == ran["differences"]["precision"]["ours"] == "float32"
    assert method_entry(preview)["settings"]["precision"] == "bfloat16"   # no record: the profile's
    mixed = method_entry(preview, [{"precision": "float32"}, {"precision": "bfloat16"}])
    assert mixed["settings"]["precision"] == "bfloat16"
