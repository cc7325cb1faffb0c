"""The site's one Spanish number formatter: pages (macros/spanish.py), the Pruébalo notebook and
plot labels (plotting.es_number) all print numbers through `format_es`; the browser's scripts use
its port, docs/javascripts/numbers.js, and tests/common/number_cases.json holds the cases both must pass.

The rule (Mexico; RAE, *Ortografía* 2010; the SI allows it): a decimal **point**, a narrow
no-break space between thousands groups when the integer part has more than four digits
(12 500, but 1250), a no-break space before the percent sign (85 %), powers of ten as 1.2 × 10⁹
and a true minus sign (−3).
"""
from __future__ import annotations

import math

NNBSP = "\u202f"  # narrow no-break space: thousands groups and the space around ×
NBSP = "\u00a0"   # no-break space: before %
MINUS = "\u2212"
_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
STYLES = ("html", "tex", "text")


class NotANumber(ValueError):
    """A value that a page wanted to print as a number is not a finite number."""


def format_es(x: float | int, spec: str = ".3g", style: str = "html") -> str:
    """Format a number for the site's readers: ``1234567.8`` -> ``1 234 567.8`` (narrow
    no-break spaces), ``1234`` -> ``1234`` (four digits are not grouped), ``1.2e9`` ->
    ``1.2 × 10⁹``, ``0.85`` with ``".0%"`` -> ``85 %`` (a no-break space).

    ``spec`` is a Python format spec (``","`` asks for thousands groups). ``style`` says where the
    number goes: ``"html"`` (exponent in ``<sup>``), ``"tex"`` (inside ``\\( \\)``: ``\\,`` groups,
    ``\\times 10^{n}``, ``~\\%``) or ``"text"`` (plain Unicode: superscript digits).
    """
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, not {style!r}")
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise NotANumber(f"not a number: {x!r}")
    if isinstance(x, float) and not math.isfinite(x):
        raise NotANumber(f"not a finite number: {x!r}")
    tex = style == "tex"
    formatted = format(x, spec).lower()
    percent = formatted.endswith("%")
    mantissa, _, exponent = formatted.rstrip("%").partition("e")
    negative = mantissa.startswith("-")
    intpart, dot, frac = mantissa.lstrip("+-").partition(".")
    digits = intpart.replace(",", "")
    if "," in intpart and len(digits) > 4:
        intpart = ("\\," if tex else NNBSP).join(intpart.split(","))
    else:
        intpart = digits
    body = intpart + ("." + frac if dot else "")
    if exponent:
        exp = int(exponent)
        if tex:
            body = f"{body} \\times 10^{{{exp}}}"
        elif style == "html":
            body = f"{body}{NNBSP}×{NNBSP}10<sup>{str(exp).replace('-', MINUS)}</sup>"
        else:
            body = f"{body}{NNBSP}×{NNBSP}10{str(exp).translate(_SUPERSCRIPTS)}"
    if percent:
        body += "~\\%" if tex else f"{NBSP}%"
    if negative:
        body = ("-" if tex else MINUS) + body
    return body
