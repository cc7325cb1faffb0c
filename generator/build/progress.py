"""What a build tells the person or the program reading its stderr while it runs.

One plain line per figure, as the build settles it:

    photo/rectoria2: computed in 0.4 s
    painting/great_wave: reused
    gallery/rectoria2/roto: failed: site_src/styles/roto.jpg: not an image

On a terminal a heavy figure also gets a progress bar (tqdm) while it computes, which vanishes when
it ends; anywhere else (a file, a pipe, CI) there are no bars, so no carriage returns: whole lines
only. The build's summary goes to stdout, on a line of its own.
"""
from __future__ import annotations

import sys
from typing import TextIO

COMPUTED, REUSED, FAILED = "computed", "reused", "failed"


def figure_line(name: str, status: str, detail=None) -> str:
    """The line for one figure: computed (detail: seconds), reused, or failed (detail: why)."""
    if status == COMPUTED:
        return f"{name}: computed in {detail:.1f} s"
    if status == REUSED:
        return f"{name}: reused"
    if status == FAILED:
        return f"{name}: failed: {detail}"
    raise ValueError(f"unknown figure status {status!r}")


class BuildLog:
    """The build's reporter on `stream` (stderr): `line` for errors, `figure` per settled figure,
    `bar` the progress factory. `quiet` keeps errors only; bars need a terminal."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False):
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.bars = not quiet and _is_terminal(self.stream)

    def line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def figure(self, name: str, status: str, detail=None) -> None:
        if not self.quiet:
            self.line(figure_line(name, status, detail))

    def bar(self, spec):
        """A tqdm bar for a heavy figure on a terminal, else None (the build then skips updates)."""
        if not self.bars or not spec.heavy:
            return None
        from tqdm import tqdm

        total = spec_evaluations(spec)
        return tqdm(total=total, desc=spec.name, unit="eval" if total else "it", leave=False,
                    file=self.stream, dynamic_ncols=True)


def spec_evaluations(spec) -> int | None:
    settings = spec.params.get("settings")
    return settings["steps"] if isinstance(settings, dict) else None


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
