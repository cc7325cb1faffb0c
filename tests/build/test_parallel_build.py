"""`build --jobs 2`: figures rendered by two worker processes are byte for byte the serial build's;
a bad input fails only its figures, with one line; an interrupted or killed parallel build leaves
nothing half-made and no worker running."""
from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from generator.build.workers import threads_per_worker

from helpers import (
    Build,
    assert_nothing_partial,
    cache_entries,
    differences,
    manifest,
    run_generator,
    staging_dirs,
    trim_catalog,
    without_times,
)
from helpers import file_digests as files


def processes_in(root: Path) -> list[int]:
    """Processes whose working directory is `root` (a build and its workers)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if Path(os.readlink(proc / "cwd")) == root:
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def wait_until_gone(root: Path, seconds: float = 20.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while processes_in(root) and time.monotonic() < deadline:
        time.sleep(0.2)
    return processes_in(root)


def test_threads_are_shared_between_workers():
    assert threads_per_worker(2, 8) == 4
    assert threads_per_worker(4, 2) == 1
    assert threads_per_worker(1, 2) == 2


def test_parallel_build_equals_serial(tiny_site, second_build):
    """The tiny site's build (in two workers) gives a second, serial build's files byte for byte,
    bar the measured times, and the same cache keys."""
    root = second_build
    a, b = tiny_site.manifest, manifest(root)
    assert differences(without_times(a), without_times(b)) == []
    serial = json.loads((tiny_site.generated / "build-record.json").read_text(encoding="utf-8"))
    record = json.loads((root / "docs" / "generated" / "build-record.json").read_text(encoding="utf-8"))
    assert record["computed"] == serial["computed"] and record["failed"] == {}  # in the figures' order
    assert {n: f["key"] for n, f in b["figures"].items()} == {n: f["key"] for n, f in a["figures"].items()}

    time_files = {rel.removeprefix("generated/") for rel in a["time_dependent"]["files"]}
    files_a, files_b = files(tiny_site.generated), files(root / "docs" / "generated")
    assert files_a.keys() == files_b.keys()
    different = {rel for rel in files_a if files_a[rel] != files_b[rel]} - {"manifest.json"}
    assert different <= time_files, sorted(different - time_files)
    assert_nothing_partial(root)
    assert wait_until_gone(root) == []


def test_bad_painting_fails_only_its_figures_in_parallel(project_copy_factory):
    root = project_copy_factory("parallel_bad")
    kept = trim_catalog(root, content=1, styles=2)
    good, bad = (e["name"] for e in kept["style"])
    bad_file = kept["style"][1]["file"]
    (root / "site_src" / bad_file).write_text("Esto no es una imagen.\n", encoding="utf-8")

    proc = run_generator(root, "build", "--profile", "tiny", "--quiet", "--only", "gallery", "--jobs", "2")
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and bad_file.split("/")[-1] in lines[0], proc.stderr
    assert "not an image" in lines[0]
    assert proc.stdout.startswith("build: 1 computed, 0 reused, 1 failed")
    assert list(cache_entries(root)) == [f"gallery/{kept['content'][0]['name']}/{good}"]
    assert_nothing_partial(root)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_interrupted_parallel_build_leaves_no_worker(sig, project_copy_factory):
    root = project_copy_factory(f"parallel-{sig.name}")
    trim_catalog(root, content=1, styles=3)
    build = Build(root, "--profile", "tiny", "--quiet", "--only", "gallery", "--jobs", "2")
    started = {build.wait_for("start: "), build.wait_for("start: ")}  # both workers are computing
    assert len(started) == 2
    os.kill(build.proc.pid, sig)
    rc = build.finish(timeout=120)

    assert wait_until_gone(root) == [], "a worker outlived its build"
    if sig == signal.SIGKILL:
        assert rc == -signal.SIGKILL
        assert_nothing_partial(root, allow_staging=True)
    else:
        assert rc == 130 and build.lines[-1] == "interrupted", build.lines
        assert staging_dirs(root) == []
        assert_nothing_partial(root)
    assert not (root / "docs" / "generated" / "manifest.json").exists()
    finished = len(cache_entries(root))
    assert finished < 3

    after = run_generator(root, "build", "--profile", "tiny", "--quiet", "--only", "gallery", "--jobs", "2")
    assert after.returncode == 0, after.stderr
    assert after.stdout.startswith(f"build: {3 - finished} computed, {finished} reused, 0 failed")
    assert len(cache_entries(root)) == 3
    assert_nothing_partial(root)
