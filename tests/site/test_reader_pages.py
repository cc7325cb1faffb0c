"""Reader pages speak to readers: no maintainer commands or test-suite talk on them, the gallery's
settings and the other versions' budgets read from the manifest, and references that keep their
years."""
from __future__ import annotations

import json
import re

import pytest

from generator.build.catalog import load_catalog
from macros.pages import ManifestError, Pages, schedule

from helpers import ROOT
from pagesenv import entry, manifest, page_env

NNBSP = "\u202f"

# What belongs in README.md / CONTRIBUTING, not on a reader's page.
MAINTAINER = [r"\bmake (site|setup|test|serve|publish)\b", r"\bprueba(s)? automática", r"\badd-style\b",
              r"explicador original", r"primeras versiones de este sitio", r"\b[0-9a-f]{40}\b",
              r"\breconstruye (el sitio|con)\b"]


def _reader_sources():
    yield from sorted((ROOT / "docs").glob("*.md"))
    yield from sorted((ROOT / "macros" / "includes").glob("*.html"))
    yield from sorted((ROOT / "docs" / "javascripts").rglob("*.js"))


@pytest.mark.parametrize("path", list(_reader_sources()), ids=lambda p: p.name)
def test_no_maintainer_matters_on_reader_pages(path):
    text = path.read_text(encoding="utf-8")
    if path.name == "como-se-hizo.md":   # how the site is computed: `make site` is its subject
        text = text.replace("make site", "")
    for pattern in MAINTAINER:
        found = re.search(pattern, text)
        assert not found, f"{path.name}: {found.group()!r}"


def test_no_maintainer_matters_in_the_notebook_or_the_catalogue():
    cells = json.loads((ROOT / "docs" / "pruebalo.ipynb").read_text(encoding="utf-8"))["cells"]
    prose = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    shown = "\n".join(v for e in (*load_catalog(ROOT / "site_src").content, *load_catalog(ROOT / "site_src").style)
                      for v in (e.source, e.license, e.note, e.public_domain, e.artist))
    for pattern in MAINTAINER:
        assert not re.search(pattern, prose), pattern
        assert not re.search(pattern, shown), pattern
    assert "(pruebalo.ipynb)" in prose     # the download link


def test_every_photo_says_who_took_it_and_on_what_terms():
    for photo in load_catalog(ROOT / "site_src").content:
        assert photo.artist and photo.license and photo.source, photo.name


def test_no_reference_loses_its_year_to_a_list():
    """A wrapped line starting "2017. " becomes a numbered list item in Markdown (the year vanishes)."""
    for path in sorted((ROOT / "docs").glob("*.md")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not re.match(r"\s*\d{3,}\.\s", line), f"{path.name}:{number}: {line.strip()}"


def test_schedule_in_words():
    assert schedule([(1.0, 12)]) == "todas a tamaño completo"
    assert schedule([(0.5, 90), (1.0, 30)]) == "90 a la mitad del tamaño y 30 a tamaño completo"
    assert schedule([(0.25, 62), (0.5, 63), (1.0, 500)]) == (
        "62 a un cuarto del tamaño, 63 a la mitad del tamaño y 500 a tamaño completo")


def _gallery(alpha=1.0, beta=1e5, init="content", stages=((0.5, 90), (1.0, 30)), profile="preview", guard=0.0):
    numbers = {"content_weight": alpha, "style_weight": beta, "init": init, "stages": len(stages),
               "width": 64, "height": 48, "evaluations": sum(n for _, n in stages), "transfer_seconds": 12.5}
    for i, (scale, n) in enumerate(stages):
        numbers[f"stage_{i}_scale"], numbers[f"stage_{i}_evaluations"] = scale, n
    files = {"image": "generated/g/image.jpg", "photo": "generated/g/photo.jpg", "thumb": "generated/g/thumb.jpg"}
    return {**entry(profile=profile, numbers=numbers, files=files),
            "transfers": [{"init": init, "copy_guard": guard, "stages": []}]}


def _flat(text: str) -> str:
    return re.sub(r"[ \n]+", " ", text)     # line breaks and spaces, not the no-break ones


def test_gallery_settings_group_the_figures():
    pages = Pages(manifest({"gallery/p/a": _gallery(), "gallery/p/b": _gallery(),
                            "gallery/q/a": _gallery(stages=((0.25, 62), (0.5, 63), (1.0, 500)), profile="full"),
                            "painting/a": entry()}))
    runs = pages.gallery_settings()
    assert [r["count"] for r in runs] == [2, 1]
    assert runs[0]["evaluations"] == 120 and runs[0]["init"] == "partiendo de la foto"
    assert runs[1]["evaluations"] == 625


def test_galeria_states_its_settings(tmp_path):
    render = page_env(tmp_path, manifest({"gallery/p/a": _gallery()}))
    text = _flat(render((ROOT / "docs" / "galeria.md").read_text(encoding="utf-8").split("<< gallery() >>")[0]))
    assert f"con α = 1 y β = 1{NNBSP}×{NNBSP}10<sup>5</sup>" in text
    assert "partiendo de la foto, con 120 evaluaciones de la pérdida: 90 a la mitad del tamaño y 30 a tamaño completo." in text
    assert "objetos copiados" not in text
    guarded = page_env(tmp_path / "guarded", manifest({"gallery/p/a": _gallery(guard=0.7)}))
    text = _flat(guarded((ROOT / "docs" / "galeria.md").read_text(encoding="utf-8").split("<< gallery() >>")[0]))
    assert "Durante la optimización se vigilan los [objetos copiados](glosario.md) de la pintura" in text


def test_inicio_states_the_full_versions_budget(tmp_path):
    budgets = {"full": {"long_side": 1024, "steps": 625, "scales": [0.25, 0.5, 1.0], "stage_steps": [62, 63, 500]}}
    figures = {"gallery/p/a": _gallery(), "painting/a": entry(files={"image": "generated/a.jpg", "thumb": "generated/a.jpg"}),
               "photo/p": entry(numbers={"width": 64, "height": 48}, files={"image": "generated/p.jpg"})}
    render = page_env(tmp_path, manifest(figures, profile_budgets=budgets))
    text = _flat(render((ROOT / "docs" / "index.md").read_text(encoding="utf-8")))
    assert "calcula la galería con un lado mayor de hasta 1024 píxeles (sin ampliar nunca una foto) y 625 evaluaciones: 62 a un cuarto del tamaño" in text
    assert "**presupuesto**" in text


def test_the_copy_guard_note_names_unguarded_figures_only():
    """A page's note says its loss-comparing figures ran without the copy guard only when the build
    guards its transfers and some of those figures really ran every transfer without it."""
    def with_guards(*guards):
        return {**entry(), "transfers": [{"init": "content", "copy_guard": g, "stages": []} for g in guards]}

    guarded = {"method": {"settings": {"copy_guard": 0.7}}}
    pages = Pages(manifest({"work/init": with_guards(0.0, 0.0), "work/colour": with_guards(0.7)}, **guarded))
    note = str(pages.guard_note("work/init"))
    assert note.startswith("La figura del punto de partida no vigila los ") and "relu5_1" in note and "glosario.html" in note
    both = Pages(manifest({"work/init": with_guards(0.0), "work/optim": with_guards(0.0)}, **guarded))
    assert str(both.guard_note("work/")).startswith("La figura del punto de partida y la figura de L-BFGS frente a Adam no vigilan ")
    assert str(pages.guard_note("work/colour")) == ""             # that figure was guarded
    assert str(pages.guard_note("work/grid")) == ""               # no such figure in this build
    mixed = Pages(manifest({"limits/copies": with_guards(0.0, 0.7)}, **guarded))
    assert str(mixed.guard_note("limits/")) == ""                 # one of its transfers was guarded
    off = Pages(manifest({"work/init": with_guards(0.0)}, method={"settings": {"copy_guard": 0.0}}))
    assert str(off.guard_note("work/init")) == ""                 # nothing guarded anywhere: nothing to say
    nameless = Pages(manifest({"work/new": with_guards(0.0)}, **guarded))
    with pytest.raises(ManifestError, match="UNGUARDED_WORDS"):
        nameless.guard_note("work/")
