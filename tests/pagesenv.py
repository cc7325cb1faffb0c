"""The pages' Jinja environment exactly as `mkdocs build` makes it (mkdocs.yml's `macros` plugin
and its options, macros/ as the module), over a manifest given by the test.

`page_env(tmp_path, manifest)` writes the manifest (and a stand-in KaTeX file) into a temporary
docs/ and returns `render(source) -> str`, which renders `source` as a page would be rendered;
`configured_plugin(tmp_path, manifest)` returns the plugin itself.
"""
from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path

from mkdocs.config import load_config

from helpers import ROOT


@contextmanager
def in_root():
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        yield
    finally:
        os.chdir(here)


def configured_plugin(tmp_path: Path, manifest: dict):
    """mkdocs.yml's macros plugin after its on_config, over `manifest` in a temporary docs/."""
    docs = tmp_path / "docs"
    (docs / "generated").mkdir(parents=True)
    (docs / "generated" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (docs / "vendor" / "katex").mkdir(parents=True)
    (docs / "vendor" / "katex" / "katex.min.js").write_text("", encoding="utf-8")
    with in_root():  # the plugin resolves include_dir against the working directory, as mkdocs does
        config = load_config(str(ROOT / "mkdocs.yml"), docs_dir=str(docs))
        plugin = config.plugins["macros"]
        plugin.on_config(config)
    return plugin


def page_env(tmp_path: Path, manifest: dict):
    plugin = configured_plugin(tmp_path, manifest)

    def render(source: str) -> str:
        with in_root():
            return plugin.env.from_string(source).render(**plugin.variables)

    return render


def entry(seconds=1.0, profile="preview", device="cpu", numbers=None, files=None):
    """A manifest figure entry as the build writes it."""
    return {"seconds": seconds, "profile": profile, "device": device, "torch": "2.13.0",
            "numbers": numbers or {}, "files": files or {}, "key": "k"}


def manifest(figures: dict, **extra) -> dict:
    """A minimal manifest: one photo, one painting, the hero pair, the given figures."""
    data = {"profile": "preview", "device": "cpu", "torch": "2.13.0", "failed": {}, "time_dependent": {},
            "hero": {"content": "p", "style": "a"},
            "catalog": {"content": [{"name": "p", "title": "Foto", "width": 800, "height": 600}],
                        "style": [{"name": "a", "title": "Cuadro", "artist": "Pintor", "year": "1900",
                                   "width": 1024, "height": 640}]},
            "figures": figures}
    data.update(extra)
    return data
