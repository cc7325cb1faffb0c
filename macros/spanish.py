"""Escaping for text that must show literally; the number formatter is generator/common/spanish_numbers.py,
re-exported here for the pages (``macros``) and the Pruébalo notebook (``style="text"``).
"""
from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup, escape

from generator.common.spanish_numbers import NNBSP, STYLES, NotANumber, format_es

__all__ = ["NNBSP", "STYLES", "NotANumber", "format_es", "literal", "lightbox_text"]


# Characters that Markdown (with attr_list, arithmatex, tables) could interpret.
_MD_SPECIAL = re.compile(r"[\\`*_\[\]{}()#+!|~^$<>&\"'=:-]")


def literal(value: Any) -> Markup:
    """Escape ``value`` so that it shows literally both as HTML and as Markdown."""
    return Markup(_MD_SPECIAL.sub(lambda m: f"&#{ord(m.group())};", str(value)))


def lightbox_text(value: Any) -> Markup:
    """Escape for a GLightbox ``data-title``/``data-description`` attribute: the browser
    unescapes the attribute once and GLightbox inserts it with ``innerHTML``, so escape twice.
    GLightbox also takes a description starting with "." for a CSS selector: guard it."""
    text = str(value)
    if text.startswith("."):
        text = "\u200b" + text
    return escape(str(escape(text)))
