"""Cómo se hizo: the figure-time tables come from the manifest (macros/includes/times.html)."""
from __future__ import annotations

import html
import re

import pytest

from macros.pages import ManifestError
from macros.spanish import format_es

from pagesenv import entry, manifest, page_env

TIMES = '<% from "times.html" import figure_times %><< figure_times() >>'


def test_figure_times_groups_by_kind_slowest_first(tmp_path):
    render = page_env(tmp_path, manifest({
        "painting/a": entry(0.25),
        "gallery/p/a_b": entry(10.0),
        "gallery/p/c": entry(2.5, profile="full", device="cuda"),
        "photo/p": entry(0.05),
    }))
    out = render(TIMES)
    summary = out.split("???")[0]
    rows = [line for line in summary.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [r.split("|")[1].strip() for r in rows] == ["Galería (`gallery`)", "Los cuadros del catálogo (`painting`)",
                                                       "Las fotos del catálogo (`photo`)"]   # in a reader's words
    assert "| 2 | 12.5 |" in rows[0]                      # two gallery figures, 10 + 2.5 s
    assert "gallery/p/a&#95;b (10.0 s)" in rows[0]         # the slowest, escaped for Markdown
    detail = out.split("???")[1]
    assert '"Las 4 figuras, una por una"' in detail
    assert all(line.startswith("    ") for line in detail.splitlines()[2:] if line)  # inside the block
    assert "| gallery/p/c | completo | GPU | 2.13.0 | 2.5 |" in detail   # the profile in Spanish
    assert "| painting/a | de vista previa | CPU | 2.13.0 | 0.2 |" in detail


def test_figure_times_refuses_a_kind_without_a_readers_name(tmp_path):
    render = page_env(tmp_path, manifest({"gallery/p/a": entry(1.0), "sketches/a": entry(1.0)}))
    with pytest.raises(ManifestError, match="'sketches' has no reader's name"):
        render(TIMES)


def test_figure_times_refuses_an_empty_manifest(tmp_path):
    render = page_env(tmp_path, manifest({}))
    with pytest.raises(ManifestError):
        render(TIMES)


def test_page_lists_every_figure_and_the_total(built_site):
    page = html.unescape((built_site.site_dir / "como-se-hizo.html").read_text(encoding="utf-8"))
    page = re.sub(r"\s+", " ", page)
    figures = built_site.manifest["figures"]
    for name in figures:
        assert re.search(rf"<td>{re.escape(name)}</td>", page), f"{name} is not in the table"
    total = format_es(sum(e["seconds"] for e in figures.values()), ",.0f")
    assert re.sub(r"\s+", " ", f"tardaron {total} segundos") in page
    assert "para la versión mínima del sitio (imágenes diminutas" in page   # every tiny figure, in readers' words
