"""Pruébalo: docs/pruebalo.ipynb is committed clean and runs, for real, during the site build.

The execution itself happens once per session, inside the shared tiny site build (mkdocs-jupyter
with execute: true and allow_errors: false, so a failing cell fails `built_site`)."""
from __future__ import annotations

import json
import re

import pytest

from helpers import ROOT

NOTEBOOK = ROOT / "docs" / "pruebalo.ipynb"


def test_notebook_is_committed_without_outputs():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, "the notebook has no code cells"
    for cell in code:
        assert cell.get("outputs") == [], f"cell {cell.get('id')} was committed with outputs"
        assert cell.get("execution_count") is None, f"cell {cell.get('id')} has an execution count"
    # The build runs it with the kernel named here; "python3" is the Python running MkDocs.
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


def test_notebook_finds_the_project_from_any_folder():
    """The first cell walks up to site_src/ instead of trusting the working directory."""
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    first = "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])
    assert 'while not (root / "site_src").is_dir()' in first


@pytest.fixture(scope="module")
def page(built_site) -> str:
    return (built_site.site_dir / "pruebalo.html").read_text(encoding="utf-8")


def test_page_shows_the_executed_outputs(page):
    images = re.findall(r'<img[^>]+src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}', page)
    assert len(images) >= 5, f"expected the notebook's plots on the page, found {len(images)}"
    # Text printed by the cells: the model loaded frozen, the transfer ran its evaluations.
    assert "todos congelados" in page
    assert re.search(r"\d+ evaluaciones: la pérdida total bajó", page)


def test_page_has_no_error_or_warning_output(page):
    assert "Traceback" not in page
    # (the inlined notebook CSS names the same attribute in a selector: match the element)
    stderr = re.search(r'<div[^>]+data-mime-type="application/vnd\.jupyter\.stderr"', page)
    assert stderr is None, "a cell wrote to stderr (a warning?)"


def test_page_loads_nothing_from_the_network(page):
    external = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="(https?://[^"]+)"', page)
    assert external == [], f"the notebook page loads from the network: {external}"


def test_page_offers_the_clean_notebook(built_site):
    copied = json.loads((built_site.site_dir / "pruebalo.ipynb").read_text(encoding="utf-8"))
    assert all(c.get("outputs", []) == [] for c in copied["cells"])


def test_page_has_no_english_interface_text(page):
    """mkdocs-jupyter's copy buttons and figure alt texts come out in Spanish (macros/notebook_spanish.py)."""
    from macros.notebook_spanish import SPANISH

    for english, spanish in SPANISH.items():
        assert english not in page
    assert 'aria-label="Copiar al portapapeles"' in page and "¡Copiado!" in page
    assert 'alt="Figura que dibujó la celda de código anterior"' in page
