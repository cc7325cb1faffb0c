"""The tests' shared helpers (fixtures live in conftest.py): the project's root, copies of it and
its subprocesses (`python -m generator`, mkdocs) run reproducibly; reading a build's outputs, comparing
two trees byte for byte, a tiny site_src/ of its own (PHOTO, PAINTING, small_site_src), a smaller
catalogue in a project copy, a build run in the background whose stderr is watched line by line, and
checks that nothing half-made was left behind. `run_cli` runs the command line in this process (or,
asked to, as the real `python -m generator`) and returns what a user would see."""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import tomllib
import traceback
import warnings
from pathlib import Path
from typing import NamedTuple

import pytest
from PIL import Image

# --- the project and its subprocesses -------------------------------------------------------------

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


# For a MkDocs build whose notebook page no test reads (mkdocs.yml's EXECUTE_NOTEBOOK): the page is
# still built, its cells not run (about 17 s of CPU less per build). Without it (subprocess_env
# drops any EXECUTE_NOTEBOOK of the caller's), mkdocs.yml's default runs them, as `make site` does.
SKIP_NOTEBOOK = {"EXECUTE_NOTEBOOK": "false"}


def subprocess_env(**extra) -> dict:
    """The environment for generator/mkdocs subprocesses: reproducible, no stray PYTHONPATH."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("EXECUTE_NOTEBOOK", None)
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


class CliResult(NamedTuple):
    """What `python -m generator ARGS` showed: (code, out, err), also readable as a
    CompletedProcess's returncode, stdout and stderr (so one_line_error takes either)."""
    returncode: int
    stdout: str
    stderr: str


# Python's default warning filters (no -W, no PYTHONWARNINGS): what a user's terminal would show.
DEFAULT_WARNING_FILTERS = (("default", DeprecationWarning, "__main__"), ("ignore", DeprecationWarning, ""),
                           ("ignore", PendingDeprecationWarning, ""), ("ignore", ImportWarning, ""),
                           ("ignore", ResourceWarning, ""))


def run_cli(args, cwd: Path, process: bool = False, timeout: float = 600) -> CliResult:
    """`python -m generator ARGS` in the project copy `cwd`, as a user would see it: (exit code,
    stdout, stderr).

    In this process by default: generator.cli.main.main(ARGS, root=cwd) in the working directory
    `cwd`, so the project root (where the catalogue, the cache and docs/generated/ are) is the copy,
    as a process started there (whose `-m` imports the copy's package) has it. argparse's exits
    give their code; an uncaught exception gives its traceback on stderr and code 1, and a warning
    its line under Python's default filters, as the real entry point would print them; SIGTERM's
    handler, set by main(), is put back. `process=True` runs the real entry point in a subprocess
    instead (run_generator), for the tests that must see it and the process's exit status."""
    args = [str(a) for a in args]
    if process:
        proc = run_generator(cwd, *args, timeout=timeout)
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    from generator.cli.main import main

    out, err = io.StringIO(), io.StringIO()

    def show(message, category, filename, lineno, file=None, line=None):
        err.write(warnings.formatwarning(message, category, filename, lineno, line))

    where, term = os.getcwd(), signal.getsignal(signal.SIGTERM)
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
            warnings.resetwarnings()
            for action, category, module in reversed(DEFAULT_WARNING_FILTERS):
                warnings.filterwarnings(action, category=category, module=module)
            warnings.showwarning = show
            try:
                code = main(args, root=Path(cwd).resolve())
            except SystemExit as exc:  # argparse: --help (0) and bad arguments (2)
                code = exc.code
                if code is not None and not isinstance(code, int):
                    print(code, file=sys.stderr)
                    code = 1
            except Exception:  # noqa: BLE001  (what `raise SystemExit(main())` would print and return)
                traceback.print_exc()
                code = 1
    finally:
        signal.signal(signal.SIGTERM, term)
        os.chdir(where)
    return CliResult(0 if code is None else code, out.getvalue(), err.getvalue())


def run_mkdocs(cwd: Path, timeout: float = 600, notebook: bool = True) -> subprocess.CompletedProcess:
    """`mkdocs build --strict -d site` in `cwd`; `notebook=False`: Pruébalo's cells are not run
    (SKIP_NOTEBOOK), for a build whose notebook page no test reads."""
    env = subprocess_env() if notebook else subprocess_env(**SKIP_NOTEBOOK)
    return subprocess.run([PY, "-m", "mkdocs", "build", "--strict", "-d", "site"], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout)


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


TMP_MARKERS = (".staging-", ".tmp")
SUMMARY = re.compile(r"^build: (\d+) computed, (\d+) reused, (\d+) failed in (\d+\.\d) s$")  # build's stdout
IMAGE_SUFFIXES = (".jpg", ".png", ".webp", ".gif")


# --- a build's outputs ---------------------------------------------------------------------------

def manifest(root: Path) -> dict:
    return json.loads((root / "docs" / "generated" / "manifest.json").read_text(encoding="utf-8"))


def build_record(root: Path) -> dict:
    return json.loads((root / "docs" / "generated" / "build-record.json").read_text(encoding="utf-8"))


def file_digests(folder: Path, mtimes: bool = False) -> dict:
    """Every file under `folder` by relative path: its SHA-256, or (SHA-256, mtime_ns) with `mtimes`
    (to see that a file was not even rewritten)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found[path.relative_to(folder).as_posix()] = (digest, path.stat().st_mtime_ns) if mtimes else digest
    return found


def without_times(m: dict) -> dict:
    """The manifest less the numbers that state a measured time."""
    m = json.loads(json.dumps(m))
    keys = set(m["time_dependent"]["numbers"])
    for entry in m["figures"].values():
        for k in keys:
            entry.pop(k, None)
            entry["numbers"].pop(k, None)
    return m


def differences(a, b, path: str = "") -> list[str]:
    """The paths (figures.name.numbers.key) where two JSON values differ, with both values."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b), key=str)
                for d in differences(a.get(k), b.get(k), f"{path}.{k}" if path else str(k))]
    same = a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))
    return [] if same else [f"{path}: {a!r} != {b!r}"]


def one_line_error(proc, *fragments) -> str:
    """A failed command's stderr is one `error: ...` line naming each fragment, no traceback."""
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: "), lines[0]
    for fragment in fragments:
        assert str(fragment) in lines[0], lines[0]
    return lines[0]


# --- a small catalogue of one photo and one painting ---------------------------------------------

PHOTO = '''[[content]]
name = "casa"
file = "content/casa.jpg"
title = "Una casa"
'''
PAINTING = '''[[style]]
name = "ola"
file = "styles/ola.jpg"
title = "La ola"
artist = "Hokusai"
year = "c. 1831"
'''


def small_site_src(tmp_path: Path) -> Path:
    """A site_src/ with the 8x8 images PHOTO and PAINTING name, and no catalogue yet."""
    root = tmp_path / "site_src"
    for rel in ("content/casa.jpg", "styles/ola.jpg"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (8, 8), "red").save(root / rel)
    return root


# --- a smaller catalogue -------------------------------------------------------------------------


def trim_catalog(root: Path, content: int = 1, styles: int = 1) -> dict:
    """Keep the first `content` photos and `styles` paintings of the copy's catalogue."""
    path = root / "site_src" / "catalog.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    kept = {"content": data["content"][:content], "style": data["style"][:styles]}
    write_catalog(path, kept)
    return kept


def append_painting(root: Path, name: str, file: str, title: str = "Cuadro de prueba") -> None:
    path = root / "site_src" / "catalog.toml"
    path.write_text(path.read_text(encoding="utf-8") + f'\n[[style]]\nname = "{name}"\nfile = "{file}"\n'
                    f'title = "{title}"\nartist = "Nadie"\nyear = "c. 1900"\n', encoding="utf-8")


def write_catalog(path: Path, sections: dict) -> None:
    lines = []
    for section, entries in sections.items():
        for entry in entries:
            lines.append(f"[[{section}]]")
            lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in entry.items()]
            lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


# --- a build in the background -------------------------------------------------------------------

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


# --- the cache and half-made files ---------------------------------------------------------------

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
        if path.suffix in IMAGE_SUFFIXES:
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


def render_tiny(module: str, out: Path, site=None):
    """A figure module's single figure at the tiny profile, from the project's own site_src/:
    (spec, files, numbers), its files in `out`. Given `site` (the tiny_site fixture, which built
    every figure in its build), copied from that build with the manifest's numbers; else rendered in
    this process with the real VGG19, checked as the build checks it (declared files and numbers).
    Either way every file is non-empty, every image readable and every number finite."""
    from generator.build.catalog import load_catalog
    from generator.figures.context import RenderContext
    from generator.figures.profiles import PROFILES
    from generator.figures.registry import kind

    out.mkdir(parents=True, exist_ok=True)
    site_src = ROOT / "site_src"
    (spec,) = kind(module).specs(load_catalog(site_src), PROFILES["tiny"], site_src)
    if site is not None:
        entry = site.manifest["figures"][spec.name]
        files = {role: Path(rel).name for role, rel in entry["files"].items()}
        for role, rel in entry["files"].items():
            shutil.copyfile(site.root / "docs" / rel, out / files[role])
        numbers = dict(entry["numbers"])
        assert kind(module).figure.check_files(files) == [] and kind(module).figure.check_numbers(numbers) == []
    else:
        files, numbers = kind(module).render(spec, RenderContext(out=out))   # checks the declaration
    for role, name in files.items():
        assert (out / name).is_file() and (out / name).stat().st_size > 0, role
        if name.endswith(IMAGE_SUFFIXES):
            with Image.open(out / name) as img:
                img.verify()
    assert all(isinstance(v, (int, float)) and math.isfinite(v) for v in numbers.values()), numbers
    return spec, files, numbers
