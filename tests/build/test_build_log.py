"""The build's log reads well in a file or a pipe: no progress bars and no carriage returns there,
one plain line per figure (computed in N s, reused, failed) and the summary alone on the last line;
progress bars only on a terminal."""
from __future__ import annotations

import io
import os
import pty
import re
import select
import shutil
import subprocess
import time
from types import SimpleNamespace

import pytest

from generator.build.progress import BuildLog, figure_line

from helpers import PY, SUMMARY, append_painting, build_record, manifest, subprocess_env, trim_catalog

FIGURE_LINE = re.compile(r"^(?P<name>[\w/.-]+): (?:computed in (?P<seconds>\d+\.\d) s|(?P<reused>reused)"
                         r"|failed: (?P<why>.+))$")
HEAVY = SimpleNamespace(name="gallery/a/b", heavy=True, params={"settings": {"steps": 5}})


class Terminal(io.StringIO):
    def isatty(self):
        return True


# --- the reporter --------------------------------------------------------------------------------

def test_figure_lines():
    assert figure_line("photo/a", "computed", 0.04) == "photo/a: computed in 0.0 s"
    assert figure_line("gallery/a/b", "computed", 12.345) == "gallery/a/b: computed in 12.3 s"
    assert figure_line("painting/b", "reused") == "painting/b: reused"
    assert figure_line("painting/b", "failed", "site_src/b.jpg: not an image") == \
        "painting/b: failed: site_src/b.jpg: not an image"
    with pytest.raises(ValueError):
        figure_line("x", "maybe")


def test_bars_only_on_a_terminal():
    for stream, bars in ((io.StringIO(), False), (Terminal(), True)):
        log = BuildLog(stream)
        bar = log.bar(HEAVY)
        assert (bar is not None) == bars
        if bar is not None:
            bar.update(2)
            bar.close()
        log.figure("gallery/a/b", "computed", 1.0)
        assert ("\r" in stream.getvalue()) == bars
        assert stream.getvalue().endswith("gallery/a/b: computed in 1.0 s\n")
    assert BuildLog(Terminal()).bar(SimpleNamespace(name="photo/a", heavy=False, params={})) is None


def test_quiet_keeps_errors_only():
    stream = Terminal()
    log = BuildLog(stream, quiet=True)
    assert log.bar(HEAVY) is None
    log.figure("photo/a", "reused")
    log.line("error: photo/a: broken")
    assert stream.getvalue() == "error: photo/a: broken\n"


# --- the command line, its output piped ----------------------------------------------------------

@pytest.fixture(scope="module")
def piped_build(tiny_site, project_copy_factory):
    """The tiny build again with two figures to compute (one heavy), the rest reused and a broken
    painting's figures failing; stdout and stderr into one pipe, as `build > log 2>&1` would."""
    root = project_copy_factory("build_log", source=tiny_site.root, with_build=True)
    figures = tiny_site.manifest["figures"]
    redo = ["photo/rectoria2", "gallery/rectoria2/starry_night"]
    for name in redo:
        shutil.rmtree(root / ".cache" / "figures" / figures[name]["key"])
    (root / "site_src" / "styles" / "roto.jpg").write_text("no es una imagen\n", encoding="utf-8")
    append_painting(root, "roto", "styles/roto.jpg")
    proc = subprocess.run([PY, "-m", "generator", "build", "--profile", "tiny"], cwd=root, env=subprocess_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    return root, proc, redo


def test_piped_log_has_no_carriage_return_nor_escape(piped_build):
    _, proc, _ = piped_build
    assert proc.returncode == 1, proc.stdout  # the broken painting
    assert "\r" not in proc.stdout and "\x1b" not in proc.stdout, repr(proc.stdout[-2000:])


def test_piped_log_one_line_per_figure_then_the_summary(piped_build):
    root, proc, redo = piped_build
    lines = proc.stdout.split("\n")
    assert lines[-1] == ""  # ends with a newline
    summary = SUMMARY.match(lines[-2])
    assert summary, lines[-2]
    computed, reused, failed = (int(n) for n in summary.groups()[:3])

    seen: dict[str, list[str]] = {}
    errors = []
    for line in lines[:-2]:
        if line.startswith("error: "):
            errors.append(line)
            continue
        match = FIGURE_LINE.match(line)
        assert match, f"neither a figure's line nor an error: {line!r}"
        status = "computed" if match["seconds"] else "reused" if match["reused"] else "failed"
        seen.setdefault(status, []).append(match["name"])

    m = manifest(root)
    names = [name for names in seen.values() for name in names]
    assert len(names) == len(set(names)) == computed + reused + failed  # each figure once
    assert seen["computed"] == build_record(root)["computed"] and sorted(seen["computed"]) == sorted(redo)
    assert set(seen["reused"]) == set(m["figures"]) - set(redo)
    assert set(seen["failed"]) == set(m["failed"]) and any("roto" in n for n in seen["failed"])
    assert (computed, reused, failed) == (len(seen["computed"]), len(seen["reused"]), len(seen["failed"]))
    assert len(errors) == 1 and "roto.jpg" in errors[0]  # the bad file, said once


# --- the command line on a terminal --------------------------------------------------------------

def test_terminal_gets_progress_bars(project_copy_factory):
    """The command with stderr on a pseudo-terminal draws a bar while a heavy figure computes."""
    root = project_copy_factory("build_log_tty")
    kept = trim_catalog(root, content=1, styles=1)
    heavy = f"gallery/{kept['content'][0]['name']}/{kept['style'][0]['name']}"
    primary, secondary = pty.openpty()
    proc = subprocess.Popen([PY, "-m", "generator", "build", "--profile", "tiny", "--only", heavy],
                            cwd=root, env=subprocess_env(), stdout=subprocess.PIPE, stderr=secondary)
    os.close(secondary)
    terminal = b""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:  # until the build closes its end of the terminal
        ready, _, _ = select.select([primary], [], [], 5)
        if not ready:
            continue
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the other end is closed
            break
        if not chunk:
            break
        terminal += chunk
    os.close(primary)
    stdout = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == 0, terminal
    assert b"\r" in terminal and heavy.encode() in terminal  # the bar, drawn and redrawn
    assert f"{heavy}: computed in ".encode() in terminal
    assert SUMMARY.match(stdout.strip()) and stdout.count("\n") == 1
