"""One number rule for the whole site (decimal point, narrow no-break space between thousands groups
when there are more than four digits, no-break space before %): the Python formatter
(generator/common/spanish_numbers.py) and its browser port (docs/javascripts/numbers.js) must give
the same text for every case of tests/common/number_cases.json, and no page, notebook or script may type
a number the old way (decimal comma, a breakable space before %)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from generator.common.spanish_numbers import format_es

from helpers import ROOT, skip_unless_ci

CASES = json.loads((ROOT / "tests" / "common" / "number_cases.json").read_text(encoding="utf-8"))
COMMA_DECIMAL = re.compile(r"\d,\d")


def test_the_cases_state_the_rule():
    """The expected texts themselves: decimal points, groups, % and powers of ten as the rule says."""
    expected = [case[3] for case in CASES]
    assert not any(COMMA_DECIMAL.search(text) for text in expected)
    assert "12\u202f345.6" in expected and "1234" in expected and "85\u00a0%" in expected
    assert "1.6\u202f×\u202f10⁻⁷" in expected


@pytest.mark.parametrize("value, spec, style, expected", CASES)
def test_python_formatter(value, spec, style, expected):
    assert format_es(value, spec, style) == expected


def test_javascript_formatter_gives_the_same_text():
    node = shutil.which("node")
    if not node:
        skip_unless_ci("node is not installed")
    script = ("const {formatEs} = require(process.argv[1]);"
              "const cases = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));"
              "console.log(JSON.stringify(cases.map(([v, s, st]) => formatEs(v, s, st))));")
    out = subprocess.run([node, "-e", script, str(ROOT / "docs" / "javascripts" / "numbers.js"),
                          str(ROOT / "tests" / "common" / "number_cases.json")],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    got = json.loads(out)
    for (value, spec, style, expected), text in zip(CASES, got, strict=True):
        assert text == expected, (value, spec, style)


# Hand-typed numbers the old way: "0,25", "1,5×", "85 %" with a breakable space. Matched in the
# reader-facing sources, outside code (a list "1,2,3" in a query string is not a number).
OLD_WAY = [(re.compile(r"(?<![\w,])\d+,\d+(?![\d,])"), "a decimal comma"),
           (re.compile(r"(\d|>>) %(?!>)"), "a breakable space before %")]
SOURCES = (sorted((ROOT / "docs").glob("*.md")) + sorted((ROOT / "macros" / "includes").glob("*.html"))
           + [ROOT / "docs" / "pruebalo.ipynb"])


def _reader_text(path) -> str:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":   # the markdown cells and the code's strings both reach readers
        text = "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
    return re.sub(r"`[^`\n]*`", "", text)     # inline code: capas=relu1_1,relu2_1 and the like


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_number_is_typed_the_old_way(path):
    text = _reader_text(path)
    for pattern, what in OLD_WAY:
        found = pattern.search(text)
        assert not found, f"{path.name}: {what}: {text[max(0, found.start() - 40):found.end() + 20]!r}"


@pytest.mark.parametrize("path", sorted((ROOT / "docs" / "javascripts").rglob("*.js")), ids=lambda p: p.name)
def test_scripts_format_numbers_only_through_numbers_js(path):
    """No script makes its own decimal comma (toFixed(...).replace(".", ",") and the like)."""
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"""replace\(\s*(["'])\.\1\s*,\s*(["']),\2\s*\)""", text), path.name
    assert not re.search(r"""toLocaleString\(\s*["']es""", text), path.name
