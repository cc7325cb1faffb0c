"""The pages through mkdocs-macros-plugin (macros/, mkdocs.yml): Spanish numbers, escaping, the
include macros, the built pages' content, and builds that must fail with the page and line."""
from __future__ import annotations

import html
import math
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from jinja2 import UndefinedError

from macros.pages import ManifestError
from macros.spanish import NNBSP, NotANumber, format_es

from helpers import PY, subprocess_env
from pagesenv import configured_plugin, entry, manifest, page_env

# --------------------------------------------------------------------------- the formatter


@pytest.mark.parametrize("value, spec, style, expected", [
    (1234, ",d", "html", "1234"),                                   # four digits: no group
    (12345, ",d", "html", f"12{NNBSP}345"),
    (1234567.85, ",.1f", "html", f"1{NNBSP}234{NNBSP}567.9"),
    (0.5, ".2f", "html", "0.50"),
    (1.2e9, ".2g", "html", f"1.2{NNBSP}×{NNBSP}10<sup>9</sup>"),
    (-3.5e-7, ".2g", "html", f"\u22123.5{NNBSP}×{NNBSP}10<sup>\u22127</sup>"),
    (1e-3, ".0e", "tex", "1 \\times 10^{-3}"),
    (2.5, ".1f", "tex", "2.5"),
    (12345.5, ",.1f", "tex", "12\\,345.5"),
    (0.85, ".0%", "tex", "85~\\%"),
    (0.85, ".0%", "html", "85\u00a0%"),
    (12345.6, ",.1f", "text", f"12{NNBSP}345.6"),
    (1.6e-7, ".2g", "text", f"1.6{NNBSP}×{NNBSP}10⁻⁷"),
])
def test_spanish_numbers(value, spec, style, expected):
    assert format_es(value, spec, style) == expected


@pytest.mark.parametrize("bad", [math.nan, math.inf, "12", None, True])
def test_a_non_number_is_refused(bad):
    with pytest.raises(NotANumber):
        format_es(bad)


# --------------------------------------------------------------------------- the template API

FIGS = {
    "gallery/p/a": entry(2.0, profile="full", numbers={"width": 64, "height": 48, "loss": 1.5e9, "bad": math.nan},
                         files={"image": "generated/gallery/p/a/image.jpg", "thumb": "generated/gallery/p/a/thumb.jpg",
                                "photo": "generated/gallery/p/a/photo.jpg"}),
    "painting/a": entry(0.1, files={"image": "generated/painting/a/image.jpg", "thumb": "generated/painting/a/thumb.jpg"}),
    "photo/p": entry(0.1, numbers={"width": 64, "height": 48}, files={"image": "generated/photo/p/image.jpg"}),
}


@pytest.fixture()
def render(tmp_path):
    return page_env(tmp_path, manifest(FIGS))


def test_numbers_from_the_manifest(render):
    assert render('<< num("gallery/p/a:loss", ".2g") >>') == f"1.5{NNBSP}×{NNBSP}10<sup>9</sup>"
    assert render('$<< num("gallery/p/a:loss", ".1e", tex=True) >>$') == "$1.5 \\times 10^{9}$"
    assert render('<< num("gallery/p/a:seconds", ".1f") >>') == "2.0"           # an entry field
    assert render("<% set x = 12345.5 %><< x >>") == f"12{NNBSP}345.5"          # a bare number, grouped
    assert render("<% set x = 1234 %><< x >>") == "1234"                        # four digits stay together


@pytest.mark.parametrize("source, fault", [
    ('<< num("gallery/p/a:nope") >>', "has no number 'nope'"),
    ('<< num("gallery/p/a:bad") >>', "not a finite number"),
    ('<< num("work/grid:width") >>', "'work/grid' is not in the manifest"),
    ('<< item("style", "zz").title >>', "no style entry 'zz'"),
])
def test_a_missing_or_bad_number_is_an_error(render, source, fault):
    with pytest.raises(ManifestError, match=re.escape(fault)):
        render(source)


def test_an_undefined_name_is_an_error(render):
    with pytest.raises(UndefinedError):
        render("<< no_such_name >>")
    with pytest.raises(UndefinedError):
        render('<< fig("painting/a").files.nope >>')


def test_catalogue_text_shows_literally(tmp_path):
    data = manifest(FIGS)
    data["catalog"]["style"][0]["title"] = "<b>x</b> *y*"
    out = page_env(tmp_path, data)('<< item("style", "a").title >>')
    assert "<b>" not in out and "*y*" not in out
    assert out == "&#60;b&#62;x&#60;/b&#62; &#42;y&#42;"


def test_the_figure_macro(render):
    out = render('<% from "figures.html" import figure %>'
                 '<< figure("generated/x.png", "Un \\"alt\\"", "Pie " ~ num("gallery/p/a:loss", ".2g"), fill=true) >>')
    assert out == ('<figure class="st-figure" style="width:100%;margin:0"><img src="generated/x.png" '
                   'alt="Un &#34;alt&#34;" style="width:100%" loading="lazy">'
                   f'<figcaption>Pie 1.5{NNBSP}×{NNBSP}10<sup>9</sup></figcaption></figure>')
    assert "\n" not in out


def test_made_with_states_every_profile_shown(render):
    assert html.unescape(render('<< made_with("painting/").profiles >>')) == \
        "la versión de vista previa del sitio (imágenes medianas y optimizaciones cortas)"
    assert html.unescape(render('<< made_with("gallery/").profiles >>')).startswith("la versión completa del sitio (")
    both = render("<< made_with().profiles >>")
    assert html.unescape(both) == "las versiones de vista previa (2 figuras) y completa (1 figura) del sitio"
    assert render('<< made_with().devices >>') == "la CPU"
    assert render('<< made_with("nothing/") is none >>') == "True"


def test_gallery_shows_a_placeholder_for_a_failed_result(tmp_path):
    figs = {k: v for k, v in FIGS.items() if not k.startswith("gallery/")}
    out = page_env(tmp_path, manifest(figs))('<% from "gallery.html" import gallery %><< gallery() >>')
    assert 'class="st-missing"' in out and "st-compare" not in out
    assert 'src="generated/painting/a/thumb.jpg"' in out


# --------------------------------------------------------------------------- the built pages


class Images(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.images: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


def page(site, name: str) -> str:
    return (site.site_dir / name).read_text(encoding="utf-8")


def images(site, name: str) -> list[dict]:
    parser = Images()
    parser.feed(page(site, name))
    return parser.images


def test_gallery_page_shows_every_figure(built_site):
    m = built_site.manifest
    imgs = images(built_site, "galeria.html")
    by_src = {}
    for img in imgs:
        by_src.setdefault(img["src"], []).append(img)
    titles = {c["name"]: c["title"] for c in m["catalog"]["content"]}
    paintings = {s["name"]: s["title"] for s in m["catalog"]["style"]}
    results = [n for n in m["figures"] if n.startswith("gallery/")]
    assert len(results) == len(titles) * len(paintings)
    for name in results:
        _, c, s = name.split("/")
        files = m["figures"][name]["files"]
        thumbs = by_src.get(files["thumb"], [])
        assert [i["alt"] for i in thumbs] == [f"{titles[c]} al estilo de {paintings[s]}"], name
        assert [i["class"] for i in by_src[files["image"]]] == ["st-compare__after off-glb"], name  # the slider
        assert [i["class"] for i in by_src[files["photo"]]] == ["st-compare__before off-glb"], name
    for s in paintings:
        assert len(by_src[m["figures"][f"painting/{s}"]["files"]["thumb"]]) == len(titles)
    for c in titles:
        assert by_src[m["figures"][f"photo/{c}"]["files"]["image"]][0]["alt"] == titles[c]


def test_the_trained_networks_results_sit_beside_gatys(built_site):
    """Galería: each card's slider can show the network's result (fast/arbitrary/...) under the
    photo; Después de 2015: each pair's Gatys result over the network's, and the 26-style sheet."""
    m = built_site.manifest
    fast = sorted(n for n in m["figures"] if n.startswith("fast/arbitrary/"))
    assert len(fast) == len([n for n in m["figures"] if n.startswith("gallery/")])
    gallery, despues = images(built_site, "galeria.html"), images(built_site, "despues.html")
    for name in fast:
        image = m["figures"][name]["files"]["image"]
        gatys = m["figures"]["gallery/" + name.removeprefix("fast/arbitrary/")]["files"]["image"]
        assert [i["class"] for i in gallery if i["src"] == image] == ["st-compare__net off-glb"], name
        assert [i["class"] for i in despues if i["src"] == image] == ["st-compare__after off-glb"], name
        assert [i["class"] for i in despues if i["src"] == gatys] == ["st-compare__before off-glb"], name
    (sheet,) = [n for n in m["figures"] if n.startswith("fast/multistyle/")]
    tiles = m["figures"][sheet]["files"]
    assert {i["src"] for i in despues} >= set(tiles.values())
    assert [i["alt"] for i in despues if i["src"] in tiles.values()] == [f"Estilo {k} de la red" for k in
                                                                       range(1, len(tiles) + 1)]


def test_pages_state_the_profile_of_their_figures(built_site):
    assert {e["profile"] for e in built_site.manifest["figures"].values()} == {"tiny"}
    for name in ("galeria.html", "creditos.html", "como-se-hizo.html", "index.html", "representaciones.html",
                 "vgg19.html", "contenido.html", "estilo.html", "obra.html", "variantes.html"):
        text = re.sub(r"\s+", " ", page(built_site, name))
        assert "la versión mínima del sitio" in text, name
        assert "«tiny»" not in text, name


def test_numbers_are_spanish_on_the_built_page(built_site):
    n = built_site.manifest["figures"]["vgg/diagram"]["numbers"]["conv_parameters"]
    assert n > 10**6
    text = page(built_site, "vgg19.html")
    assert f"{format_es(n, ',d')} parámetros" in text.replace("\n", " ")
    assert str(n) not in text


def test_no_page_names_a_placeholder_repository(built_site):
    """mkdocs.yml's extra.repository ships empty (CONTRIBUTING.md, Publishing): no page links a
    placeholder or an empty address, and Créditos names no repository. Material's interface text is
    the site's Spanish (overrides/): its footer line and the search's prompt."""
    pages = sorted(built_site.site_dir.glob("*.html"))
    assert len(pages) > 10
    for path in pages:
        text = path.read_text(encoding="utf-8")
        for bad in ("OWNER/REPOSITORY", 'href=""', "Made with", "Teclee"):
            assert bad not in text, f"{path.name}: {bad}"
        assert "Hecho con" in text and "Escribe para buscar" in text, path.name
    assert "repositorio del sitio" not in page(built_site, "creditos.html")


# --------------------------------------------------------------------------- builds that must fail


@pytest.fixture()
def docs_copy(built_site, tmp_path):
    """What mkdocs reads from the built tiny site (mkdocs.yml, macros/, overrides/ and the generator/ it imports
    its number formatter from, docs/), to break."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(built_site.root / "mkdocs.yml", root)
    for folder in ("macros", "overrides", "generator", "docs", "site_src"):
        shutil.copytree(built_site.root / folder, root / folder)
    return root


def mkdocs_fails(root) -> str:
    proc = subprocess.run([PY, "-m", "mkdocs", "build", "--strict", "-d", "site"], cwd=root,
                          env=subprocess_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0, "mkdocs built a page it should have refused"
    assert not (root / "site" / "index.html").exists()
    return proc.stdout + proc.stderr


def insert_line(path, number: int, text: str) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    lines.insert(number - 1, text)
    path.write_text("\n".join(lines), encoding="utf-8")


def test_a_missing_number_fails_the_build_with_page_and_line(docs_copy):
    insert_line(docs_copy / "docs" / "index.md", 9, 'Son << num("gallery/rectoria2/starry_night:nope", "d") >> px.')
    out = mkdocs_fails(docs_copy)
    assert "index.md:9: ManifestError: figure 'gallery/rectoria2/starry_night' has no number 'nope'" in out


def test_an_undefined_name_fails_the_build_with_page_and_line(docs_copy):
    # galeria.md starts with front matter: the line counted is the file's own.
    insert_line(docs_copy / "docs" / "galeria.md", 12, "Texto << no_such_name >>.")
    out = mkdocs_fails(docs_copy)
    assert "galeria.md:12: UndefinedError: 'no_such_name' is undefined" in out


@pytest.mark.parametrize("fault, message", [
    ("no manifest", "docs/generated/manifest.json not found: run `make site`"),
    ("no katex", "docs/vendor/katex/ not found"),
    ("not a manifest", "has no 'catalog': it is not a manifest this site understands"),
])
def test_missing_site_inputs_stop_the_build_with_one_line(docs_copy, fault, message):
    docs = docs_copy / "docs"
    if fault == "no manifest":
        (docs / "generated" / "manifest.json").unlink()
    elif fault == "no katex":
        shutil.rmtree(docs / "vendor" / "katex")
    else:
        (docs / "generated" / "manifest.json").write_text('{"figures": {}}', encoding="utf-8")
    assert message in mkdocs_fails(docs_copy)


def test_a_title_with_markup_stays_text_in_every_builder(tmp_path):
    title = '<b>N</b> *c* & <img src=x>'
    data = manifest(FIGS)
    data["catalog"]["style"][0]["title"] = title
    out = page_env(tmp_path, data)('<% from "gallery.html" import gallery %><% from "hero.html" import hero %>'
                                   '<% from "credits.html" import credits_table %>'
                                   '<< gallery() >>\n<< hero() >>\n<< credits_table() >>')
    assert "<b>" not in out and "<img src=x>" not in out
    shown = "&lt;b&gt;N&lt;/b&gt; *c* &amp; &lt;img src=x&gt;"
    assert f'<cite class="st-card__title">{shown}</cite>' in out                 # the card (raw HTML)
    assert f"<cite>{shown}</cite>" in out                                         # hero and credits
    assert 'data-title="&amp;lt;b&amp;gt;N&amp;lt;/b&amp;gt; *c* &amp;amp; ' in out  # GLightbox: twice



def test_only_markdown_pages_are_templates(tmp_path):
    """The notebook reaches the plugin as JSON: a `<<` in its code must not be read as Jinja."""
    plugin = configured_plugin(tmp_path, manifest(FIGS))
    assert plugin.config["render_by_default"] is False
    assert plugin.force_page_rendering("index.md") and plugin.force_page_rendering("sub/page.md")
    assert not plugin.force_page_rendering("pruebalo.ipynb")
