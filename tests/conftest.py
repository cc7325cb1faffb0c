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

`tiny_site -> TinySite` (session scope: built ONCE per test run, shared by pytest-xdist's workers;
    about a minute on 2 cores)
    A copy where `python -m generator build --profile tiny --quiet --jobs 2` ran, then (if mkdocs.yml
    exists) `python -m mkdocs build --strict -d site` with NO_MKDOCS_2_WARNING=1 and
    SOURCE_DATE_EPOCH set. Fields: root, generated (docs/generated), manifest (parsed
    manifest.json), build and mkdocs (subprocess.CompletedProcess, mkdocs None without
    mkdocs.yml), site_dir (root/"site" or None). Fails the test at once if the generator build
    fails. Treat it as read-only: copy it with project_copy_factory(source=tiny_site.root,
    with_build=True) before changing anything (other tests compare their builds with it).
    Derive copies from tiny_site.root rather than ROOT when
    comparing with it: the live tree may have been edited since the session started.

`second_build -> Path` (session scope, shared like tiny_site)
    A second copy of tiny_site's tree built from scratch serially (`--jobs 1`): two builds to
    compare (determinism), and a serial build to compare with the parallel one. Read-only too.
    tiny_site copies its tree and starts its build in the background beside its own (the cores
    are not all busy through a build and mkdocs); this fixture waits for that build's end.

`bare_project -> Path` (session scope)
    One copy of the project without any build, shared by the command-line tests whose commands
    must fail or only write under their own tmp_path (stylize's -o): treat it as read-only. At
    the session's end it must hold exactly the files it was made with, unchanged, or its
    teardown fails.

`built_site -> TinySite`
    tiny_site, but fails (with mkdocs's output) when there is no mkdocs.yml or the mkdocs build
    failed. Use it for tests that read site/.

`site -> str` (session scope)
    built_site's pages served over HTTP on 127.0.0.1: the base URL ("http://127.0.0.1:PORT/").

Plain helpers (ROOT, PY, copy_project, run_generator, run_mkdocs, subprocess_env,
skip_unless_ci, ...) live in tests/helpers.py: tests import them from there, never from this file.
"""
from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock

from helpers import PY, ROOT, copy_project, file_digests, run_generator, run_mkdocs, subprocess_env


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
    second: Path   # second_build's tree (use that fixture, which waits for its build)

    @property
    def generated(self) -> Path:
        return self.root / "docs" / "generated"

    @property
    def site_dir(self) -> Path | None:
        return self.root / "site" if self.mkdocs is not None else None


def shared_folder(tmp_path_factory) -> Path:
    """A folder every process of this test run shares: pytest-xdist gives each worker its own
    basetemp inside one run folder; without xdist it is the run's basetemp."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _process(record) -> subprocess.CompletedProcess | None:
    return None if record is None else subprocess.CompletedProcess(record["args"], record["returncode"],
                                                                   record["stdout"], record["stderr"])


def _record(proc: subprocess.CompletedProcess | None):
    return None if proc is None else {"args": [str(a) for a in proc.args], "returncode": proc.returncode,
                                      "stdout": proc.stdout, "stderr": proc.stderr}


def built_once(tmp_path_factory, name: str, make) -> dict:
    """`make(folder)` (returning a JSON-able dict) run once per test run, whatever the number of
    xdist workers: the first to ask makes it under a lock, the others wait and read its record."""
    folder = shared_folder(tmp_path_factory) / name
    with FileLock(f"{folder}.lock"):
        record = folder / "record.json"
        if not record.exists():
            folder.mkdir(parents=True, exist_ok=True)
            record.write_text(json.dumps(make(folder)), encoding="utf-8")
        return json.loads(record.read_text(encoding="utf-8"))


# second_build's command: the whole tiny site again, serially, in the build's own process.
SERIAL_BUILD = ("build", "--profile", "tiny", "--quiet", "--device", "cpu", "--jobs", "1")
SERIAL_BUILD_SECONDS = 1200


def start_serial_build(root: Path, folder: Path) -> threading.Thread:
    """`python -m generator SERIAL_BUILD` in `root`, in the background: its stdout and stderr go to
    folder/stdout and folder/stderr, then its exit status to folder/returncode (written last, by
    rename), which any process of the run can wait for (second_build). Returns the thread that
    waits for it (and kills it after SERIAL_BUILD_SECONDS)."""
    with open(folder / "stdout", "w", encoding="utf-8") as out, open(folder / "stderr", "w", encoding="utf-8") as err:
        proc = subprocess.Popen([PY, "-m", "generator", *SERIAL_BUILD], cwd=root, env=subprocess_env(),
                                stdin=subprocess.DEVNULL, stdout=out, stderr=err)

    def wait():
        try:
            code = proc.wait(timeout=SERIAL_BUILD_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        part = folder / "returncode.part"
        part.write_text(str(code), encoding="utf-8")
        part.replace(folder / "returncode")

    thread = threading.Thread(target=wait, name="second_build", daemon=True)
    thread.start()
    return thread


@pytest.fixture(scope="session")
def tiny_site(tmp_path_factory, request) -> TinySite:
    def make(folder: Path) -> dict:
        root = copy_project(folder / "project")
        # second_build's tree, copied from this one before anything is built in it, and its serial
        # build started now, beside this one: it fills what the two cores leave idle in this build
        # and in mkdocs, while every process waits for the tiny site. This process waits for it
        # at its end, so that nothing is left running; second_build waits for its returncode file.
        second = copy_project(folder / "second" / "project", source=root)
        request.addfinalizer(start_serial_build(second, folder / "second").join)
        build = run_generator(root, "build", "--profile", "tiny", "--quiet", "--jobs", "2")
        mkdocs = run_mkdocs(root) if build.returncode == 0 and (root / "mkdocs.yml").exists() else None
        return {"root": str(root), "build": _record(build), "mkdocs": _record(mkdocs), "second": str(second)}

    made = built_once(tmp_path_factory, "tiny_site", make)
    build = _process(made["build"])
    if build.returncode != 0:
        pytest.fail(f"tiny build failed ({build.returncode})\nstdout:\n{build.stdout}\nstderr:\n{build.stderr}")
    root = Path(made["root"])
    manifest = json.loads((root / "docs" / "generated" / "manifest.json").read_text(encoding="utf-8"))
    return TinySite(root=root, manifest=manifest, build=build, mkdocs=_process(made["mkdocs"]),
                    second=Path(made["second"]))


@pytest.fixture(scope="session")
def second_build(tiny_site) -> Path:
    """A second, independent build of the whole tiny site from the same tree, computed serially (in
    the build's own process; tiny_site started it beside its own build): the determinism and
    parallel-build tests compare it with tiny_site, which two worker processes computed. Read-only,
    like tiny_site."""
    root = tiny_site.second
    folder = root.parent
    deadline = time.monotonic() + SERIAL_BUILD_SECONDS + 60   # its thread kills it at SERIAL_BUILD_SECONDS
    while not (folder / "returncode").exists():
        if time.monotonic() > deadline:
            pytest.fail(f"the second tiny build ({root}) did not end in {SERIAL_BUILD_SECONDS} s")
        time.sleep(0.5)
    returncode = int((folder / "returncode").read_text(encoding="utf-8"))
    if returncode != 0:
        stdout, stderr = ((folder / name).read_text(encoding="utf-8") for name in ("stdout", "stderr"))
        pytest.fail(f"second tiny build failed ({returncode})\nstdout:\n{stdout}\nstderr:\n{stderr}")
    return root


@pytest.fixture(scope="session")
def bare_project(project_copy_factory):
    """An unbuilt copy of the project, read-only (see the module docstring)."""
    root = project_copy_factory("bare_project")

    def state():
        folders = {p.relative_to(root).as_posix(): "folder" for p in root.rglob("*") if p.is_dir()}
        return {**folders, **file_digests(root, mtimes=True)}

    before = state()
    yield root
    after = state()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"a test wrote into the shared bare_project copy: {changed}"


@pytest.fixture(scope="session")
def built_site(tiny_site) -> TinySite:
    if tiny_site.mkdocs is None:
        pytest.fail(f"no mkdocs.yml in {tiny_site.root}")
    if tiny_site.mkdocs.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed ({tiny_site.mkdocs.returncode})\n"
                    f"stdout:\n{tiny_site.mkdocs.stdout}\nstderr:\n{tiny_site.mkdocs.stderr}")
    return tiny_site


@pytest.fixture(scope="session")
def site(built_site):
    """The tiny site's pages over HTTP on 127.0.0.1 (browserkit.serve): the base URL, for every
    browser test of the process."""
    from browserkit import serve

    with serve(built_site.site_dir) as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for every browser test of the run (tests/browser/test_browser.py says which
    binary and flags, and fails without it under CI=true)."""
    from browserkit import ARGS, CHROMIUM, require_browser

    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


# The slowest files, measured with --durations (about a minute each on two cores), first: pytest-xdist
# hands out whole files in collection order, so starting the long ones early keeps one from
# finishing alone at the end. A stale list only changes the order, never what runs.
# pytest-xdist (3.x) would otherwise reorder --dist loadfile's files by their number of tests, most
# first (its --loadscope-reorder, on by default), which sends these few-test files to the end;
# pytest_configure turns that off, as --no-loadscope-reorder would.
SLOW_FIRST = ("browser/test_engines.py", "build/test_parallel_build.py", "browser/test_browser.py",
              "build/test_determinism.py", "site/test_page_conditions.py", "browser/test_live.py",
              "browser/test_live_dead_ends.py", "browser/test_live_reader.py", "engine/test_gpu_safety.py",
              "site/test_pages.py", "engine/test_speed_paths.py")


def pytest_configure(config):
    if hasattr(config.option, "loadscopereorder"):   # pytest-xdist is installed
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config, items):
    def rank(item):
        path = Path(str(item.fspath)).as_posix()
        return next((i for i, slow in enumerate(SLOW_FIRST) if path.endswith(slow)), len(SLOW_FIRST))

    items.sort(key=rank)   # stable: each file's own order is kept
