"""MkDocs hook: every Markdown page is a Jinja2 template fed by the build manifest.

The engine (``python -m generator build``) writes ``docs/generated/manifest.json``; this hook
loads it once per build and renders each ``*.md`` page with Jinja2 *before* Markdown sees it.

Delimiters
----------
Pages are full of LaTeX (``\\frac{a}{b}``, ``x^{{l}}``, ``\\sum_{i,j}``), so Jinja's default
``{{ }}`` / ``{% %}`` / ``{# #}`` would collide with TeX braces. This hook uses instead::

    << expression >>      e.g.  << num("gallery/rectoria2/starry_night:evaluations", "d") >>
    <% statement %>       e.g.  <% if has_fig("photo/rectoria") %> ... <% endif %>
    <# comment #>

``<<`` never occurs in TeX (``\\ll`` is the TeX spelling) nor in ordinary Spanish prose. A page
that must show a literal ``<<`` (a shell heredoc, a C++ stream) wraps it in
``<% raw %> ... <% endraw %>``.

Template API (see ``_context``)
-------------------------------
``manifest``             the manifest dict.
``fig(name)``            a figure entry; a missing figure fails the build.
``has_fig(name)``        True if the figure was built.
``num(path, spec)``      a number from the manifest, formatted the Spanish way (decimal comma,
                         ``1,2 × 10⁹``). ``path`` is either ``"figure/name:key"`` (looked up in the
                         figure's ``numbers``, then in the entry itself, e.g. ``seconds``) or a dotted
                         path from the manifest root (``"build_seconds"``,
                         ``"figures.gallery/rectoria2/starry_night.numbers.final_loss"``).
                         ``spec`` is a Python format spec (default ``".3g"``; ``","`` groups
                         thousands). ``num(..., tex=True)`` returns TeX for use inside ``\\( \\)``.
                         A missing or non-numeric value fails the build.
``text(path)``           a string from the manifest (same paths as ``num``), shown literally.
``item(kind, name)``     a catalogue entry (``kind`` is ``"content"`` or ``"style"``).
``image(name, caption=, alt=)``  a ``<figure>`` for a figure, opening in the lightbox;
                         a "no disponible" placeholder if the figure is missing.
``hero()``               the Inicio figure: painting + photo = result.
``gallery()``            the whole Galería (one section per photo, one card per painting).
``credits_table()``      the image credits tables of Créditos.
``figure_times()``       Cómo se hizo: seconds per kind of figure, then per figure (collapsible).

Any plain string printed with ``<< >>`` is escaped for both HTML and Markdown, so a catalogue
title such as ``<b>x</b> *y*`` shows literally. Helpers return ``Markup`` (trusted HTML).

Errors (undefined names, missing figures or numbers, template syntax) abort the build with a
message naming the page and line.
"""

from __future__ import annotations

import json
import math
import re
import traceback
from pathlib import Path
from typing import Any

import jinja2
import markdown
from markupsafe import Markup, escape
from mkdocs.exceptions import PluginError


MANIFEST_REL = "generated/manifest.json"
KATEX_REL = "vendor/katex/katex.min.js"
MISSING_MANIFEST = (
    "docs/generated/manifest.json not found: run `make site` "
    "(or `python -m generator build`) before building the site."
)
MISSING_KATEX = (
    "docs/vendor/katex/ not found: run `make site` "
    "(npm ci, then copy node_modules/katex/dist into docs/vendor/katex/)."
)

PLACEHOLDER_TEXT = "No disponible"
PLACEHOLDER_LABEL = "Imagen no disponible en esta compilación"

_state: dict[str, Any] = {"manifest": None, "docs_dir": None}


class ManifestError(Exception):
    """A page asked for something the manifest does not have."""


# --------------------------------------------------------------------------- formatting

# Characters that Markdown (with attr_list, arithmatex, tables) could interpret.
_MD_SPECIAL = re.compile(r"[\\`*_\[\]{}()#+!|~^$<>&\"'=:-]")


def literal(value: Any) -> Markup:
    """Escape ``value`` so it shows literally both as HTML and as Markdown."""
    s = str(value)
    return Markup(_MD_SPECIAL.sub(lambda m: f"&#{ord(m.group())};", s))


def attr_literal(value: Any) -> Markup:
    """Escape for a GLightbox ``data-title``/``data-description`` attribute.

    The browser unescapes the attribute once and GLightbox then inserts the value with
    ``innerHTML``, so the text is escaped twice to stay literal in the lightbox.
    """
    return escape(str(escape(str(value))))


_NNBSP = "\u202f"  # narrow no-break space: Spanish thousands separator and unit spacing


def format_es(x: float | int, spec: str = ".3g", tex: bool = False) -> str:
    """Format a number the Spanish way: ``1234567.8`` -> ``1 234 567,8``; ``1.2e9`` -> ``1,2 × 10⁹``."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise ManifestError(f"not a number: {x!r}")
    if isinstance(x, float) and not math.isfinite(x):
        raise ManifestError(f"not a finite number: {x!r}")
    s = format(x, spec)
    mantissa, _, exponent = s.lower().partition("e")
    neg = mantissa.startswith("-")
    mantissa = mantissa.lstrip("+-")
    intpart, dot, frac = mantissa.partition(".")
    digits = intpart.replace(",", "")
    # RAE: four-digit numbers are not grouped; longer ones are grouped by three.
    if "," in intpart and len(digits) > 4:
        sep = "\\," if tex else _NNBSP
        intpart = sep.join(intpart.split(","))
    else:
        intpart = digits
    body = intpart + (("{,}" if tex else ",") + frac if dot else "")
    if exponent:
        exp = int(exponent)
        if tex:
            body = f"{body} \\times 10^{{{exp}}}"
        else:
            sup = str(exp).replace("-", "\u2212")
            body = f"{body}{_NNBSP}×{_NNBSP}10<sup>{sup}</sup>"
    if neg:
        body = ("-" if tex else "\u2212") + body
    return body


# --------------------------------------------------------------------------- manifest access


def _manifest() -> dict:
    m = _state["manifest"]
    if m is None:  # pragma: no cover - on_config always runs first
        raise ManifestError("manifest not loaded")
    return m


def fig(name: str) -> dict:
    figs = _manifest().get("figures", {})
    if name not in figs:
        raise ManifestError(
            f"figure {name!r} is not in the manifest (its build failed or it does not exist)"
        )
    return figs[name]


def has_fig(name: str) -> bool:
    return name in _manifest().get("figures", {})


def _lookup(path: str) -> Any:
    if ":" in path:
        name, key = path.split(":", 1)
        entry = fig(name)
        numbers = entry.get("numbers", {})
        if key in numbers:
            return numbers[key]
        if key in entry:
            return entry[key]
        raise ManifestError(f"figure {name!r} has no number {key!r} (has: {', '.join(numbers) or 'none'})")
    node: Any = _manifest()
    walked = []
    for part in path.split("."):
        walked.append(part)
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise ManifestError(f"manifest has no {'.'.join(walked)!r} (while looking up {path!r})")
    return node


def num(path: str, spec: str = ".3g", tex: bool = False) -> Markup:
    value = _lookup(path)
    try:
        return Markup(format_es(value, spec, tex))
    except ManifestError as e:
        raise ManifestError(f"{path!r}: {e}") from None


def text(path: str) -> Markup:
    value = _lookup(path)
    if isinstance(value, (dict, list)):
        raise ManifestError(f"{path!r} is not a single value")
    return literal(value)


def item(kind: str, name: str) -> dict:
    for entry in _manifest()["catalog"][kind]:
        if entry["name"] == name:
            return entry
    raise ManifestError(f"catalogue has no {kind} entry {name!r}")


def inline_md(src: str) -> Markup:
    """Render a catalogue note (Markdown) to inline HTML, with any raw HTML in it escaped."""
    html = markdown.markdown(str(escape(src)))
    html = re.sub(r"^<p>(.*)</p>$", r"\1", html.strip(), flags=re.S)
    return Markup(html)


# --------------------------------------------------------------------------- HTML pieces


def _img_tag(src: str, alt: str, cls: str = "", w: Any = None, h: Any = None, lazy: bool = True) -> str:
    parts = [f'<img src="{escape(src)}" alt="{escape(alt)}"']
    if cls:
        parts.append(f' class="{cls}"')
    if w and h:
        parts.append(f' width="{int(w)}" height="{int(h)}"')
    if lazy:
        parts.append(' loading="lazy" decoding="async"')
    return "".join(parts) + ">"


def _placeholder(what: str = "") -> str:
    extra = f"<span>{escape(what)}</span>" if what else ""
    return f'<div class="st-missing" role="img" aria-label="{PLACEHOLDER_LABEL}"><span>{PLACEHOLDER_TEXT}</span>{extra}</div>'


def _lightbox(href: str, src: str, alt: str, title: str, desc: str, gallery: str = "", cls: str = "",
              w: Any = None, h: Any = None) -> str:
    """An image (``src``) linking to ``href`` in the GLightbox lightbox, with a literal title."""
    # GLightbox treats a description starting with "." as a CSS selector.
    desc = desc if not desc.startswith(".") else "\u200b" + desc
    attrs = (
        f'class="glightbox{(" " + cls) if cls else ""}" href="{escape(href)}" data-type="image"'
        f' data-title="{attr_literal(title)}" data-description="{attr_literal(desc)}"'
    )
    if gallery:
        attrs += f' data-gallery="{escape(gallery)}"'
    return f"<a {attrs}>{_img_tag(src, alt, w=w, h=h)}</a>"


def _fig_lightbox(name: str, alt: str, title: str, desc: str, gallery: str = "", cls: str = "",
                  thumb: bool = True) -> str:
    """Lightbox for a manifest figure, or the placeholder if it was not built."""
    if not has_fig(name):
        return _placeholder()
    entry = fig(name)
    files, n = entry["files"], entry.get("numbers", {})
    if thumb and "thumb" in files:
        return _lightbox(files["image"], files["thumb"], alt, title, desc, gallery, cls)
    return _lightbox(files["image"], files["image"], alt, title, desc, gallery, cls, n.get("width"), n.get("height"))


def _photo(cname: str) -> tuple[str, int | None, int | None] | None:
    """The content photo at working size: its own ``photo/<name>`` figure, else the copy stored
    with any gallery result (``files.photo``, same pixel size as the result)."""
    if has_fig(f"photo/{cname}"):
        e = fig(f"photo/{cname}")
        n = e.get("numbers", {})
        return e["files"]["image"], n.get("width"), n.get("height")
    for s in _manifest()["catalog"]["style"]:
        e = _manifest()["figures"].get(f"gallery/{cname}/{s['name']}")
        if e and "photo" in e.get("files", {}):
            n = e.get("numbers", {})
            return e["files"]["photo"], n.get("width"), n.get("height")
    return None


def _painting_label(s: dict) -> tuple[str, str]:
    return s["title"], f"{s['artist']}, {s['year']}"


def image(name: str, caption: str = "", alt: str = "", gallery: str = "") -> Markup:
    """A generic figure for later pages: image opening in the lightbox, optional caption."""
    inner = _fig_lightbox(name, alt or caption, caption, "", gallery=gallery, thumb=False)
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return Markup(f'<figure class="st-figure">{inner}{cap}</figure>')


def _compare(cname: str, result: str, label: str) -> str:
    """Before/after slider: the photo (top, clipped) over the result. Not inside any anchor."""
    rf = fig(result)
    before = rf["files"].get("photo") or (_photo(cname) or (None,))[0]
    if not before:
        return ""
    n = rf.get("numbers", {})
    w, h = n.get("width"), n.get("height")
    ratio = f"aspect-ratio: {int(w)} / {int(h)}; " if w and h else ""
    return (
        f'<div class="st-compare" style="{ratio}--pos: 50%">'
        + _img_tag(rf["files"]["image"], "", cls="st-compare__after off-glb", w=w, h=h)
        + _img_tag(before, "", cls="st-compare__before off-glb", w=w, h=h)
        + '<span class="st-compare__tag st-compare__tag--before" aria-hidden="true">Foto</span>'
        + '<span class="st-compare__tag st-compare__tag--after" aria-hidden="true">Resultado</span>'
        + '<span class="st-compare__handle" aria-hidden="true"></span>'
        + f'<input class="st-compare__range" type="range" min="0" max="100" step="1" value="50"'
        f' aria-label="{escape(label)}" aria-valuetext="50 % fotografía, 50 % resultado">'
        + "</div>"
    )


def hero() -> Markup:
    m = _manifest()
    c, s = m["hero"]["content"], m["hero"]["style"]
    photo, painting = item("content", c), item("style", s)
    title, desc = _painting_label(painting)

    def cell(kind: str, inner: str, cap: str) -> str:
        return f'<figure class="st-hero__cell st-hero__cell--{kind}">{inner}<figcaption>{cap}</figcaption></figure>'

    ph = _photo(c)
    photo_html = (
        _lightbox(ph[0], ph[0], photo["title"], photo["title"], "Fotografía de contenido", "hero", w=ph[1], h=ph[2])
        if ph else _placeholder()
    )
    cells = [
        cell("painting",
             _fig_lightbox(f"painting/{s}", f"{title}, de {painting['artist']}", title, desc, "hero", thumb=False),
             f"<strong>Estilo</strong>: <cite>{escape(title)}</cite>, {escape(desc)}"),
        '<span class="st-hero__op" aria-hidden="true">+</span>',
        cell("photo", photo_html, f"<strong>Contenido</strong>: {escape(photo['title'])}"),
        '<span class="st-hero__op" aria-hidden="true">=</span>',
        cell("result",
             _fig_lightbox(f"gallery/{c}/{s}", f"La fotografía pintada al estilo de {title}",
                           f"{photo['title']} × {title}", f"Estilo de {desc}", "hero", thumb=False),
             "<strong>Resultado</strong>: la foto recompuesta con ese estilo"),
    ]
    return Markup('<div class="st-hero">' + "".join(cells) + "</div>")


def gallery() -> Markup:
    cat = _manifest()["catalog"]
    out: list[str] = []
    for c in cat["content"]:
        cname = c["name"]
        out.append(f"## {literal(c['title'])} {{#foto-{cname}}}\n")
        ph = _photo(cname)
        if ph:
            src, w, h = ph
            results = [f["numbers"] for n, f in _manifest()["figures"].items() if n.startswith(f"gallery/{cname}/")]
            rw, rh = (results[0].get("width"), results[0].get("height")) if results else (None, None)
            size = f" Los resultados miden {format_es(rw, 'd')} × {format_es(rh, 'd')} píxeles." if rw and rh else ""
            photo_html = _lightbox(src, src, c["title"], c["title"], "Fotografía de contenido", cname, "st-photo__img", w, h)
            out.append(
                f'<div class="st-photo">{photo_html}<p class="st-photo__text">'
                f"La fotografía de partida, recompuesta abajo con cada pintura.{escape(size)}</p></div>\n"
            )
        else:
            out.append(f'<div class="st-photo">{_placeholder()}</div>\n')
        cards = []
        for s in cat["style"]:
            sname = s["name"]
            title, desc = _painting_label(s)
            rfig = f"gallery/{cname}/{sname}"
            painting = _fig_lightbox(f"painting/{sname}", f"{title}, de {s['artist']}", title, desc, cname)
            result = _fig_lightbox(rfig, f"{c['title']} al estilo de {title}", f"{c['title']} × {title}",
                                   f"Estilo de {desc}", cname)
            compare = _compare(cname, rfig, f"Comparar la fotografía y el resultado con {title}") if has_fig(rfig) else ""
            cards.append(
                f'<article class="st-card" id="{escape(cname)}--{escape(sname)}">'
                f'<header class="st-card__head"><cite class="st-card__title">{escape(title)}</cite>'
                f'<span class="st-card__meta">{escape(s["artist"])}, {escape(s["year"])}</span></header>'
                f'<div class="st-card__pair"><div class="st-card__painting">{painting}</div>'
                f'<div class="st-card__result">{result}</div></div>'
                f"{compare}</article>"
            )
        out.append('<div class="st-grid">' + "".join(cards) + "</div>\n")
    return Markup("\n".join(out))


def credits_table() -> Markup:
    """Two tables (paintings, photos) from the catalogue; on phones each row becomes a card."""
    cat = _manifest()["catalog"]

    def size(e: dict) -> str:
        if "width" in e and "height" in e:
            return f"{format_es(e['width'], 'd')}{_NNBSP}×{_NNBSP}{format_es(e['height'], 'd')}"
        return "—"

    def opt(e: dict, key: str, md: bool = False) -> str:
        if not e.get(key):
            return ""
        return str(inline_md(e[key]) if md else escape(e[key]))

    def notes(e: dict) -> str:
        return " ".join(x for x in (opt(e, "source"), opt(e, "note", md=True)) if x) or "—"

    def table(head: list[str], rows: list[list[str]]) -> str:
        th = "".join(f"<th>{h}</th>" for h in head)
        body = "\n".join(
            "<tr>" + "".join(f'<td data-label="{h}"><span>{cell}</span></td>' for h, cell in zip(head, row)) + "</tr>"
            for row in rows
        )
        return f'<div class="st-credits">\n<table>\n<thead><tr>{th}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>\n</div>'

    paintings = table(
        ["Obra", "Artista", "Año", "Tamaño (px)", "Situación", "Fuente y notas"],
        [[f"<cite>{escape(s['title'])}</cite>", str(escape(s["artist"])), str(escape(s["year"])), size(s),
          opt(s, "license") or "—", notes(s)] for s in cat["style"]],
    )
    photos = table(
        ["Fotografía", "Tamaño (px)", "Licencia", "Origen"],
        [[str(escape(c["title"])), size(c), opt(c, "license") or "—", notes(c)] for c in cat["content"]],
    )
    return Markup("### Pinturas\n\n" + paintings + "\n\n### Fotografías\n\n" + photos + "\n")


def figure_times() -> Markup:
    """Markdown tables of the time each figure took when it was computed: one row per kind (the
    name up to its first "/"), slowest kind first; then every figure in a collapsible block."""
    figs = _manifest().get("figures", {})
    if not figs:
        raise ManifestError("the manifest has no figures")

    def secs(x: Any) -> str:
        return format_es(x, ",.1f")

    kinds: dict[str, list[tuple[str, dict]]] = {}
    for name, entry in figs.items():
        kinds.setdefault(name.split("/", 1)[0], []).append((name, entry))
    rows = ["| Tipo | Figuras | Tiempo (s) | La más lenta |", "|---|---:|---:|---|"]
    for kind, members in sorted(kinds.items(), key=lambda kv: -sum(e["seconds"] for _, e in kv[1])):
        slowest, entry = max(members, key=lambda m: m[1]["seconds"])
        total = sum(e["seconds"] for _, e in members)
        rows.append(f"| {literal(kind)} | {len(members)} | {secs(total)} | {literal(slowest)} ({secs(entry['seconds'])} s) |")
    detail = ["| Figura | Perfil | Dispositivo | PyTorch | Tiempo (s) |", "|---|---|---|---|---:|"]
    for name, e in figs.items():
        detail.append(f"| {literal(name)} | {literal(e['profile'])} | {literal(e['device'])} | "
                      f"{literal(e['torch'])} | {secs(e['seconds'])} |")
    block = "\n".join("    " + line for line in detail)
    return Markup("\n".join(rows) + f'\n\n??? note "Las {len(figs)} figuras, una por una"\n\n{block}\n')


# --------------------------------------------------------------------------- Jinja plumbing


def _finalize(value: Any) -> Any:
    if isinstance(value, Markup):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Markup(format_es(value, "g"))
    return literal(value)


def _make_env(sources: dict[str, str]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: (sources[name], name, lambda: True) if name in sources else None),
        undefined=jinja2.StrictUndefined,
        variable_start_string="<<",
        variable_end_string=">>",
        block_start_string="<%",
        block_end_string="%>",
        comment_start_string="<#",
        comment_end_string="#>",
        keep_trailing_newline=True,
        autoescape=False,
        finalize=_finalize,
        cache_size=0,
    )
    env.filters["es"] = lambda x, spec=".3g": Markup(format_es(x, spec))
    env.filters["lit"] = literal
    return env


def _context() -> dict[str, Any]:
    return {
        "manifest": _manifest(),
        "fig": fig,
        "has_fig": has_fig,
        "num": num,
        "text": text,
        "item": item,
        "image": image,
        "hero": hero,
        "gallery": gallery,
        "credits_table": credits_table,
        "figure_times": figure_times,
    }


def _template_line(exc: BaseException, name: str) -> int | None:
    line = getattr(exc, "lineno", None)
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == name:
            line = frame.lineno
    return line


# --------------------------------------------------------------------------- MkDocs events


def on_config(config, **kwargs):
    docs = Path(config["docs_dir"])
    path = docs / MANIFEST_REL
    if not path.is_file():
        raise PluginError(MISSING_MANIFEST)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise PluginError(f"docs/{MANIFEST_REL} is unreadable ({e}): run `make site` again.") from None
    for key in ("catalog", "figures", "hero"):
        if key not in manifest:
            raise PluginError(f"docs/{MANIFEST_REL} has no {key!r}: it is not a manifest this site understands.")
    if not (docs / KATEX_REL).is_file():
        raise PluginError(MISSING_KATEX)
    _state["manifest"] = manifest
    _state["docs_dir"] = docs
    return config


def on_page_markdown(markdown_src: str, page, config, files, **kwargs):
    name = page.file.src_uri
    if not name.endswith(".md"):
        return markdown_src
    env = _make_env({name: markdown_src})
    try:
        return env.get_template(name).render(_context())
    except jinja2.TemplateSyntaxError as e:
        raise PluginError(f"{name}:{e.lineno}: template syntax error: {e.message}") from None
    except (jinja2.UndefinedError, ManifestError, KeyError, TypeError, ValueError) as e:
        line = _template_line(e, name)
        where = f"{name}:{line}" if line else name
        raise PluginError(f"{where}: {type(e).__name__}: {e}") from None
