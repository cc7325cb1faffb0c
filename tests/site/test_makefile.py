"""The Makefile's targets have what they use as prerequisites (read from make's own database, a dry run)."""
import shutil
import subprocess

import pytest

from helpers import ROOT


def prerequisites(target: str) -> set[str]:
    """`target`'s prerequisites as make resolves them (every rule line for it, variables expanded)."""
    proc = subprocess.run(["make", "-pn", "-f", str(ROOT / "Makefile"), "PY=python3", target], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=True)
    found = set()
    for line in proc.stdout.splitlines():
        if line.startswith(f"{target}:") and not line.startswith(f"{target}:="):
            found |= set(line.split(":", 1)[1].split())
    return found


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_bench_has_tensorflow_js_for_the_browser_table():
    assert "docs/vendor/tfjs/tf.min.js" in prerequisites("bench")
    assert "site" in prerequisites("bench")   # the figures, and the built page timed end to end
