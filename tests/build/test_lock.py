"""Two builds at once in one tree: the second stops at once with a clear message and touches
nothing; the first finishes untouched. The lock is an OS lock, so it dies with its process."""
from __future__ import annotations

import fcntl
import os
import signal
import subprocess

from helpers import (
    PY,
    Build,
    assert_nothing_partial,
    cache_entries,
    manifest,
    run_generator,
    subprocess_env,
    trim_catalog,
)

ARGS = ("--profile", "tiny", "--quiet")


def test_second_build_exits_at_once(project_copy_factory):
    root = project_copy_factory("lock")
    trim_catalog(root, content=1, styles=1)
    first = Build(root, *ARGS, "--only", "gallery")
    figure = first.wait_for("start: ")
    # Frozen mid-figure, holding the lock: a second build that waited for the lock instead of
    # giving up would wait forever (run_generator's timeout), and the race with the first build's
    # end is gone.
    os.kill(first.proc.pid, signal.SIGSTOP)
    try:
        staging = sorted((root / ".cache" / "figures").glob(".staging-*"))
        assert len(staging) == 1
        second = run_generator(root, "build", *ARGS, timeout=60)
        lock = root / ".cache" / "build.lock"
        assert second.returncode == 1
        assert second.stderr.splitlines() == [
            f"error: {lock}: another build is running in this tree; wait for it to finish"]
        assert second.stdout == ""
        assert staging[0].is_dir(), "the second build must not clean the first one's work"
    finally:
        os.kill(first.proc.pid, signal.SIGCONT)

    assert first.finish() == 0, first.lines
    assert_nothing_partial(root)
    assert figure in cache_entries(root)
    assert list(manifest(root)["figures"]) == [figure]


def test_lock_dies_with_its_process(project_copy_factory):
    """A lock held by a process that was killed -9 does not block the next build."""
    root = project_copy_factory("lock-dead")
    trim_catalog(root, content=1, styles=1)
    lock = root / ".cache" / "build.lock"
    lock.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [PY, "-c", "import fcntl,sys; f=open(sys.argv[1],'a+'); fcntl.flock(f, fcntl.LOCK_EX); "
                   "print('locked', flush=True); sys.stdin.read()", str(lock)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=subprocess_env())
    try:
        assert holder.stdout.readline() == "locked\n"
        blocked = run_generator(root, "build", *ARGS, "--only", "photo")
        assert blocked.returncode == 1 and "another build is running" in blocked.stderr
    finally:
        holder.kill()
        holder.wait()
    with open(lock) as handle:  # the file stays, the lock is gone
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    done = run_generator(root, "build", *ARGS, "--only", "photo")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("build: 1 computed")
