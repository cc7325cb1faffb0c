"""The site's one Spanish number formatter: pages (macros/spanish.py), the Pruébalo notebook and
plot labels (plotting.es_number) all print numbers through `format_es`."""
from __future__ import annotations

import math

NNBSP = "\u202f"  # narrow no-break space: Spanish thousands separator and unit spacing
_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
STYLES = ("html", "tex", "text")


class NotANumber(ValueError):
    """A value that a page wanted to print as a number is not a finite number."""


def format_es(x: float | int, spec: str = ".3g", style: str = "html") -> str:
    """Format a number the Spanish way (RAE): ``1234567.8`` -> ``1 234 567,8``, ``1234`` ->
    ``1234`` (four digits are not grouped), ``1.2e9`` -> ``1,2 × 10⁹``.

    ``spec`` is a Python format spec (``","`` asks for thousands groups). ``style`` says where the
    number goes: ``"html"`` (exponent in ``<sup>``), ``"tex"`` (inside ``\\( \\)``: ``{,}`` and
    ``\\times 10^{n}``) or ``"text"`` (plain Unicode: superscript digits).
    """
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, not {style!r}")
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise NotANumber(f"not a number: {x!r}")
    if isinstance(x, float) and not math.isfinite(x):
        raise NotANumber(f"not a finite number: {x!r}")
    tex = style == "tex"
    mantissa, _, exponent = format(x, spec).lower().partition("e")
    negative = mantissa.startswith("-")
    intpart, dot, frac = mantissa.lstrip("+-").partition(".")
    digits = intpart.replace(",", "")
    if "," in intpart and len(digits) > 4:
        intpart = ("\\," if tex else NNBSP).join(intpart.split(","))
    else:
        intpart = digits
    body = intpart + (("{,}" if tex else ",") + frac if dot else "")
    if exponent:
        exp = int(exponent)
        if tex:
            body = f"{body} \\times 10^{{{exp}}}"
        elif style == "html":
            body = f"{body}{NNBSP}×{NNBSP}10<sup>{str(exp).replace('-', chr(0x2212))}</sup>"
        else:
            body = f"{body}{NNBSP}×{NNBSP}10{str(exp).translate(_SUPERSCRIPTS)}"
    if negative:
        body = ("-" if tex else "\u2212") + body
    return body
