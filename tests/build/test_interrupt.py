"""A build stopped in the middle of a figure (Ctrl-C, kill, kill -9) leaves nothing half-made, and
the next build finishes by computing only the unfinished figure."""
from __future__ import annotations

import os
import signal

import pytest

from helpers import (
    Build,
    assert_nothing_partial,
    build_record,
    cache_entries,
    manifest,
    run_generator,
    staging_dirs,
    trim_catalog,
)

ARGS = ("--profile", "tiny", "--quiet", "--only", "gallery")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_interrupted_build_resumes(sig, project_copy_factory):
    root = project_copy_factory(f"interrupt-{sig.name}")
    trim_catalog(root, content=1, styles=2)  # two gallery figures
    build = Build(root, *ARGS)
    first = build.wait_for("start: ")
    second = build.wait_for("start: ")  # the first is finished and stored by now
    os.kill(build.proc.pid, sig)
    rc = build.finish(timeout=120)

    if sig == signal.SIGKILL:
        assert rc == -signal.SIGKILL
        assert staging_dirs(root), "the killed figure should have left its staging folder"
        assert_nothing_partial(root, allow_staging=True)
    else:
        assert rc == 130, build.lines
        assert build.lines[-1] == "interrupted"
        assert_nothing_partial(root)
    cached = cache_entries(root)
    assert first in cached and second not in cached
    assert not (root / "docs" / "generated" / "manifest.json").exists()  # nothing published mid-way

    after = run_generator(root, "build", *ARGS)
    assert after.returncode == 0, after.stderr
    assert after.stdout.startswith("build: 1 computed, 1 reused, 0 failed")
    assert build_record(root)["computed"] == [second]
    assert_nothing_partial(root)
    built = manifest(root)
    assert {first, second} <= set(built["figures"])
    for name in (first, second):
        for rel in built["figures"][name]["files"].values():
            assert (root / "docs" / rel).is_file()
