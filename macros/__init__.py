"""The pages' own side of mkdocs-macros-plugin (configured in mkdocs.yml, ``plugins: macros``).

The plugin renders every Markdown page as a Jinja2 template before Markdown sees it, with the
delimiters ``<< expression >>``, ``<% statement %>`` and ``<# comment #>`` (``{{ }}`` would
collide with TeX braces; a page that must show a literal ``<<`` wraps it in
``<% raw %> … <% endraw %>``). It fails the build on an undefined name or any template error
(``on_undefined: strict``, ``on_error_fail: true``). What is the project's own lives here:

- ``pages.py``: the manifest lookups pages call (``fig``, ``has_fig``, ``num``, ``text``, ``item``,
  ``made_with``, …); a missing figure, number or a NaN raises ``ManifestError``.
- ``spanish.py``: the one Spanish number formatter and the escaping of literal text.
- ``method.py``: the build's settings beside the paper's ("Diferencias con el artículo").
- ``fast.py``: Después de 2015's comparison of the optimisation with a trained network, pair by
  pair, and the counts its sentences are conditional on (``fast_pairs``, ``fast_summary``, ``fast_sheet``).
- ``explorers.py``: the explorers' data (the alpha/beta grid cell by cell, the transfer's snapshots
  and loss curve) as JSON for ``docs/javascripts/explorers.js``.
- ``includes/``: the HTML builders as Jinja macros (``figure``, ``image``, ``hero``, ``gallery``,
  ``credits_table``, ``figure_times``, ``versus``, ``sheet``), imported by the pages that use them.
- ``PageOutput`` (below, a Jinja extension named in mkdocs.yml): every ``<< value >>`` is escaped
  for HTML and Markdown unless it is markup, and a bare number prints the Spanish way.
- ``page_error`` (below): the plugin's error message becomes one line, ``PAGE:LINE: what``
  (registered on the plugin's ``format_error``, which dispatches on the exception's type).
"""
from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

from jinja2 import TemplateError, TemplateSyntaxError
from jinja2.ext import Extension
from markupsafe import Markup
from mkdocs.exceptions import PluginError
from mkdocs_macros.errors import format_error

from . import explorers, fast, method, pages
from .pages import ManifestError, Pages, SiteInputError, check_katex, load_manifest
from .spanish import NotANumber, format_es, lightbox_text, literal

__all__ = ["define_env", "PageOutput", "ManifestError", "Pages", "format_es", "literal"]


def define_env(env) -> None:
    """mkdocs-macros entry point: load the manifest and register the pages' globals and filters."""
    docs = Path(env.conf["docs_dir"])
    try:
        check_katex(docs)
        manifest = load_manifest(docs)
    except SiteInputError as e:
        raise PluginError(str(e)) from None
    env.variables["manifest"] = manifest
    lookups = Pages(manifest)
    for name, function in lookups.globals().items():
        env.macro(function, name)
    env.macro(lambda name: explorers.grid_data(lookups, name), "grid_explorer_data")
    env.macro(lambda name: explorers.animation_data(lookups, name), "animation_explorer_data")
    env.filter(explorers.json_blob)
    env.macro(lambda: fast.pairs(lookups), "fast_pairs")
    env.macro(lambda: fast.summary(lookups), "fast_summary")
    env.macro(lambda: fast.sheet_name(lookups), "fast_sheet")
    env.macro(lambda path: (docs / path).is_file(), "page_exists")  # links to pages other branches add
    env.macro(lambda only_different=True: method.paper_differences(manifest, only_different), "paper_differences")
    for function in (pages.es, pages.count, pages.device_label, pages.profile_name, pages.pixels, pages.inline_md, pages.oneline, lightbox_text):
        env.filter(function)


def _finalize(value: Any) -> Any:
    if isinstance(value, Markup):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Markup(format_es(value, ",g"))  # groups of thousands, as num() prints them
    return literal(value)


class PageOutput(Extension):
    """Autoescape on (so the include macros return markup), and the pages' finalize."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.autoescape = True
        environment.finalize = _finalize


def _template_frames(error: BaseException) -> list[tuple[str, int]]:
    """(template, line) of each template frame of the traceback, outermost first; the page
    itself (rendered from a string) is "<template>"."""
    frames = [(f.filename, f.lineno) for f in traceback.extract_tb(error.__traceback__)
              if f.filename == "<template>" or f.filename.endswith(".html")]
    if isinstance(error, TemplateSyntaxError) and error.lineno:
        frames.append((error.filename or error.name or "<template>", error.lineno))
    return frames


def page_error(error: Exception, markdown: str, page) -> str:
    """``index.md:12: ManifestError: figure 'x' is not in the manifest`` (the page's own line,
    counting its front matter, and the include's line when the fault is inside an include);
    a traceback follows only for faults that are neither the page's nor the manifest's."""
    frames = _template_frames(error)
    source = page.file.content_string
    offset = source[: len(source) - len(markdown)].count("\n") if source.endswith(markdown) else 0
    page_lines = [line for name, line in frames if name == "<template>"]
    where = f"{page.file.src_path}:{page_lines[-1] + offset}" if page_lines else page.file.src_path
    includes = [f"{Path(name).name}:{line}" for name, line in frames if name != "<template>"]
    inside = f" (in {includes[-1]})" if includes else ""
    message = getattr(error, "message", None) or str(error)
    line = f"{where}{inside}: {type(error).__name__}: {message}"
    if isinstance(error, (ManifestError, NotANumber, TemplateError)):
        return line
    return line + "\n" + "".join(traceback.format_exception(error))


format_error.register(Exception, page_error)
format_error.register(TemplateSyntaxError, page_error)
