"""Content-addressed cache of figures: keys, source closures, atomic stores.

A key covers everything that changes a figure: its kind and parameters, the profile, the bytes of
its input files and the source of every generator module it uses (the import closure of its
figure module). Device and torch version are recorded beside the output, never keyed.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
PACKAGE = PACKAGE_DIR.name


def module_path(module: str, package_dir: Path = PACKAGE_DIR) -> Path:
    """'generator.figures.gallery' -> .../generator/figures/gallery.py (or its __init__.py)."""
    parts = module.split(".")[1:]
    base = package_dir.joinpath(*parts)
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def _imports(module: str, package_dir: Path) -> set[str]:
    """Generator modules that `module` imports anywhere in its body (absolute or relative)."""
    path = module_path(module, package_dir)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    here = module.split(".") if is_package else module.split(".")[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            prefix = ".".join(base + ([node.module] if node.module else []))
            names = [prefix] + [f"{prefix}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] == PACKAGE and module_path(name, package_dir).exists():
                found.add(name)
    return found


@lru_cache(maxsize=None)
def module_closure(module: str, package_dir: Path = PACKAGE_DIR) -> tuple[str, ...]:
    """`module` and every generator module it reaches through imports, sorted."""
    seen, todo = set(), [module]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(_imports(current, package_dir) - seen)
        parent = current.rsplit(".", 1)[0]
        if parent != current and parent not in seen and "." in current:
            todo.append(parent)  # importing a.b.c runs a/__init__ and a/b/__init__
    return tuple(sorted(seen))


@lru_cache(maxsize=None)
def file_digest(path: Path, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def digest(path: Path) -> str:
    st = path.stat()
    return file_digest(path, st.st_mtime_ns, st.st_size)


def figure_key(kind: str, params: dict, profile: str, inputs, module: str,
               package_dir: Path = PACKAGE_DIR) -> str:
    """The content address of one figure."""
    record = {
        "kind": kind,
        "params": params,
        "profile": profile,
        "inputs": [digest(Path(p)) for p in inputs],
        "sources": {m: digest(module_path(m, package_dir)) for m in module_closure(module, package_dir)},
    }
    blob = json.dumps(record, sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:32]


class Store:
    """Finished figures under `root/<key>/`: their files plus `meta.json`. An entry appears
    only complete (written in a temporary folder, then renamed) and never for a failed figure."""

    META = "meta.json"

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key

    def get(self, key: str) -> dict | None:
        meta = self.path(key) / self.META
        try:
            return json.loads(meta.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def staging(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=self.root, prefix=".staging-"))

    def commit(self, staging: Path, key: str, meta: dict) -> None:
        (staging / self.META).write_text(json.dumps(meta, indent=1, sort_keys=True), encoding="utf-8")
        target = self.path(key)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)

    def discard(self, staging: Path) -> None:
        shutil.rmtree(staging, ignore_errors=True)

    def clean_staging(self) -> None:
        """Remove what an interrupted build left half-made."""
        if self.root.exists():
            for leftover in self.root.glob(".staging-*"):
                shutil.rmtree(leftover, ignore_errors=True)
