"""Shared fixtures: isolated copies of the project and one tiny build per test session.

Fixtures for everyone's tests (figures, pages, browser):

`project_copy_factory(name="copy", source=ROOT, with_build=False) -> Path`
    Copies the project tree to a fresh folder under the session's tmp dir and returns its path.
    Left out: .venv, node_modules, .git, site, docs/generated, .cache, __pycache__ and other
    caches (see EXCLUDE). docs/vendor (KaTeX, gitignored) is copied when present. File times are
    kept, so `make` in the copy sees the KaTeX files up to date. `source` may be another copy;
    `with_build=True` then also copies its .cache/, docs/generated/ and site/ (a copy that
    already has the build's cache, for testing rebuilds without recomputing everything).
    Run the generator in a copy with `run_generator(copy, "build", "--profile", "tiny")`:
    `python -m generator` with cwd=copy imports the copy's package, so its paths follow the copy.

`tiny_site -> TinySite` (session scope: built ONCE per session; 1-3 min on 2 cores, by load)
    A copy where `python -m generator build --profile tiny --quiet` ran, then (if mkdocs.yml
    exists) `python -m mkdocs build --strict -d site` with NO_MKDOCS_2_WARNING=1 and
    SOURCE_DATE_EPOCH set. Fields: root, generated (docs/generated), manifest (parsed
    manifest.json), build and mkdocs (subprocess.CompletedProcess, mkdocs None without
    mkdocs.yml), site_dir (root/"site" or None). Fails the test at once if the generator build
    fails. Treat it as read-only: copy it with project_copy_factory(source=tiny_site.root,
    with_build=True) before changing anything (other tests compare their builds with it).
    Derive copies from tiny_site.root rather than ROOT when
    comparing with it: the live tree may have been edited since the session started.

`built_site -> TinySite`
    tiny_site, but fails (with mkdocs's output) when there is no mkdocs.yml or the mkdocs build
    failed. Use it for tests that read site/.

Plain helpers (module globals, importable in tests as `from conftest import run_generator`,
since pytest puts tests/ on sys.path): ROOT, PY, copy_project, run_generator(cwd, *args, env=None),
run_mkdocs(cwd), subprocess_env(**extra), skip_unless_ci(reason). Helpers that are not fixtures
live in tests/helpers.py. Subprocesses and this process run torch with
OMP_NUM_THREADS=1 unless the variable is already set (see below).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SOURCE_DATE_EPOCH = "1700000000"
EXCLUDE = {".venv", "node_modules", ".git", "site", ".cache", "__pycache__", ".pytest_cache",
           "test-artifacts", ".whl", ".gl", ".hypothesis"}
EXCLUDE_PATHS = {"docs/generated", "bench/results"}
BUILD_OUTPUTS = (".cache", "docs/generated", "site")

# One torch thread per process: the 2 cores are shared with other jobs, and two spinning OpenMP
# threads under load were measured 10x slower than one. Set before anything imports torch.
os.environ.setdefault("OMP_NUM_THREADS", "1")

if str(ROOT) not in sys.path:  # `import generator` from the tree under test
    sys.path.insert(0, str(ROOT))


def subprocess_env(**extra) -> dict:
    """The environment for generator/mkdocs subprocesses: reproducible, no stray PYTHONPATH."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.update(OMP_NUM_THREADS=os.environ["OMP_NUM_THREADS"], NO_MKDOCS_2_WARNING="1", SOURCE_DATE_EPOCH=SOURCE_DATE_EPOCH, PYTHONDONTWRITEBYTECODE="1",
               PYTHONIOENCODING="utf-8")
    env.update(extra)
    return env


def skip_unless_ci(reason: str) -> None:
    """Skip a test whose tool is missing here, but fail it under CI=true: CI must not go green
    without running it."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def run_generator(cwd: Path, *args, timeout: float = 600, check: bool = False,
                  env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m generator ARGS` in the copy `cwd` (`env`: extra variables); returns the
    CompletedProcess (text)."""
    proc = subprocess.run([PY, "-m", "generator", *map(str, args)], cwd=cwd, env=subprocess_env(**(env or {})),
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        pytest.fail(f"generator {' '.join(map(str, args))} exited {proc.returncode}\n"
                    f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


def run_mkdocs(cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-m", "mkdocs", "build", "--strict", "-d", "site"], cwd=cwd,
                          env=subprocess_env(), capture_output=True, text=True, timeout=timeout)


def copy_project(target: Path, source: Path = ROOT, with_build: bool = False) -> Path:
    """Copy `source` (the project or a copy of it) to `target`; see the module docstring."""
    source = Path(source)

    def ignore(folder, names):
        rel = Path(folder).relative_to(source)
        skipped = set()
        for name in names:
            path = (rel / name).as_posix()
            if name in EXCLUDE or path in EXCLUDE_PATHS or name.endswith(".pyc"):
                skipped.add(name)
        return skipped

    shutil.copytree(source, target, ignore=ignore, symlinks=True)
    if with_build:
        for rel in BUILD_OUTPUTS:
            if (source / rel).exists():
                shutil.copytree(source / rel, target / rel, symlinks=True)
    return target


@pytest.fixture(scope="session")
def project_copy_factory(tmp_path_factory):
    """make(name="copy", source=ROOT, with_build=False) -> Path of a fresh copy of the project."""

    def make(name: str = "copy", source: Path = ROOT, with_build: bool = False) -> Path:
        return copy_project(tmp_path_factory.mktemp(name) / "project", source, with_build)

    return make


@dataclass
class TinySite:
    root: Path
    manifest: dict
    build: subprocess.CompletedProcess
    mkdocs: subprocess.CompletedProcess | None

    @property
    def generated(self) -> Path:
        return self.root / "docs" / "generated"

    @property
    def site_dir(self) -> Path | None:
        return self.root / "site" if self.mkdocs is not None else None


@pytest.fixture(scope="session")
def tiny_site(project_copy_factory) -> TinySite:
    root = project_copy_factory("tiny_site")
    build = run_generator(root, "build", "--profile", "tiny", "--quiet")
    if build.returncode != 0:
        pytest.fail(f"tiny build failed ({build.returncode})\nstdout:\n{build.stdout}\nstderr:\n{build.stderr}")
    manifest = json.loads((root / "docs" / "generated" / "manifest.json").read_text(encoding="utf-8"))
    mkdocs = run_mkdocs(root) if (root / "mkdocs.yml").exists() else None
    return TinySite(root=root, manifest=manifest, build=build, mkdocs=mkdocs)


@pytest.fixture(scope="session")
def built_site(tiny_site) -> TinySite:
    if tiny_site.mkdocs is None:
        pytest.fail(f"no mkdocs.yml in {tiny_site.root}")
    if tiny_site.mkdocs.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed ({tiny_site.mkdocs.returncode})\n"
                    f"stdout:\n{tiny_site.mkdocs.stdout}\nstderr:\n{tiny_site.mkdocs.stderr}")
    return tiny_site


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for every browser test of the run (tests/test_browser.py says which
    binary and flags, and fails without it under CI=true)."""
    from test_browser import ARGS, CHROMIUM, require_browser

    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()
