"""MkDocs hook: the English interface text mkdocs-jupyter writes into a notebook's page (its copy
buttons and the alt text of the figures a cell draws), in the site's Spanish."""
from __future__ import annotations

SPANISH = {
    'aria-label="Copy to Clipboard"': 'aria-label="Copiar al portapapeles"',
    ">Copied!<": ">¡Copiado!<",
    'alt="No description has been provided for this image"': 'alt="Figura que dibujó la celda de código anterior"',
}


def spanish(html: str) -> str:
    for english, words in SPANISH.items():
        html = html.replace(english, words)
    return html


def on_post_page(output: str, page, config) -> str:
    return spanish(output) if page.file.src_uri.endswith(".ipynb") else output
