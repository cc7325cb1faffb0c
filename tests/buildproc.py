"""Helpers for the robustness tests: a smaller catalogue, a build run in the background whose
stderr is watched line by line, and checks that nothing half-made was left behind."""
from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
import tomllib
from pathlib import Path

from PIL import Image

from conftest import PY, subprocess_env

TMP_MARKERS = (".staging-", ".tmp")


def trim_catalog(root: Path, content: int = 1, styles: int = 1) -> dict:
    """Keep the first `content` photos and `styles` paintings of the copy's catalogue."""
    path = root / "site_src" / "catalog.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    kept = {"content": data["content"][:content], "style": data["style"][:styles]}
    write_catalog(path, kept)
    return kept


def write_catalog(path: Path, sections: dict) -> None:
    lines = []
    for section, entries in sections.items():
        for entry in entries:
            lines.append(f"[[{section}]]")
            lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in entry.items()]
            lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


class Build:
    """`python -m generator build ARGS` in `root`, in the background; stderr read by a thread."""

    def __init__(self, root: Path, *args: str):
        self.root = root
        # Ctrl-C's default action even where the suite runs as a background job (whose shell
        # ignores SIGINT, and Python keeps an ignored SIGINT ignored).
        self.proc = subprocess.Popen([PY, "-m", "generator", "build", *args], cwd=root, env=subprocess_env(GENERATOR_TRACE="1"),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        self.lines: list[str] = []
        self._queue: queue.Queue = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, prefix: str, timeout: float = 300) -> str:
        """The next stderr line starting with `prefix` (blocks on the pipe, no polling)."""
        while True:
            line = self._queue.get(timeout=timeout)
            if line is None:
                raise AssertionError(f"build ended (rc {self.proc.wait()}) before {prefix!r}:\n"
                                     + "\n".join(self.lines))
            if line.startswith(prefix):
                return line[len(prefix):]

    def finish(self, timeout: float = 600) -> int:
        rc = self.proc.wait(timeout)
        self._reader.join(timeout)
        self.stdout = self.proc.stdout.read()
        return rc


def cache_entries(root: Path) -> dict[str, dict]:
    """Complete cache entries by figure name (an entry is a folder with its meta.json)."""
    store = root / ".cache" / "figures"
    found = {}
    for folder in store.iterdir() if store.exists() else ():
        if not folder.name.startswith("."):
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            found[meta["name"]] = meta
    return found


def staging_dirs(root: Path) -> list[Path]:
    return sorted((root / ".cache" / "figures").glob(".staging-*"))


def assert_nothing_partial(root: Path, allow_staging: bool = False) -> None:
    """docs/generated/ holds only whole files and the cache only complete entries."""
    generated = root / "docs" / "generated"
    for path in generated.rglob("*") if generated.exists() else ():
        assert not any(m in path.name for m in TMP_MARKERS), f"partial file left: {path}"
        if path.suffix in (".jpg", ".png", ".webp", ".gif"):
            with Image.open(path) as img:
                img.load()
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
    for name, meta in cache_entries(root).items():
        folder = root / ".cache" / "figures" / meta["key"]
        for filename in meta["files"].values():
            assert (folder / filename).is_file(), f"cache entry {name} lacks {filename}"
    if not allow_staging:
        assert staging_dirs(root) == [], "half-made figure left in the cache"
