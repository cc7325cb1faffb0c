"""Figures rendered in parallel worker processes (`build --jobs N`).

Figures are independent, so N spawned processes each render one at a time into the staging folder
the build gives them; only the build's own process commits to the cache, as results arrive. A
figure's outcome, in a worker or in the build's own process (serial builds), is a tuple, never an
exception: ("ok", files, numbers, seconds, transfers), ("input", message) for bad input, ("bug", message) for
anything else. Workers ignore Ctrl-C (the build stops them) and
die with the build's process (Linux's parent-death signal), so a killed build leaves no worker
writing on.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
import traceback

from ..common.errors import InputError


def threads_per_worker(jobs: int, threads: int) -> int:
    """Each worker's share of the process's torch threads, at least one."""
    return max(1, threads // max(1, jobs))


def render(spec, out, device: str, progress=None) -> tuple[dict, dict, float, list]:
    """One figure into `out`: (files, numbers, seconds, transfers: RenderContext.transfers). Raises
    what the figure raises."""
    from ..figures.context import RenderContext
    from ..figures.registry import kind

    if os.environ.get("GENERATOR_TRACE"):
        print(f"start: {spec.name}", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    ctx = RenderContext(out=out, device=device, progress=progress)
    files, numbers = kind(spec.module).render(spec, ctx)
    return files, numbers, time.perf_counter() - t0, ctx.transfers


def outcome(spec, out, device: str, progress=None) -> tuple:
    """render()'s result as an outcome (see the module's docstring); raises only what is not an
    Exception (an interruption)."""
    try:
        return ("ok", *render(spec, out, device, progress))
    except InputError as exc:
        return ("input", str(exc))
    except Exception as exc:  # a bug in one figure must not cost the others
        if os.environ.get("GENERATOR_DEBUG"):
            traceback.print_exc()
        return ("bug", f"{type(exc).__name__}: {exc}")


def _named_outcome(task) -> tuple[str, tuple]:
    spec, out, device = task
    return spec.name, outcome(spec, out, device)


def _init_worker(threads: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:  # die with the build (PR_SET_PDEATHSIG = 1)
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import torch

    torch.set_num_threads(threads)


class FigurePool:
    """`jobs` spawned workers (spawn, not fork: CUDA cannot be forked) sharing `threads`."""

    def __init__(self, jobs: int, threads: int):
        context = multiprocessing.get_context("spawn")
        self.pool = context.Pool(jobs, initializer=_init_worker, initargs=(threads_per_worker(jobs, threads),))

    def outcomes(self, tasks):
        """(figure name, outcome) for each (spec, out, device) task, in order of completion."""
        return self.pool.imap_unordered(_named_outcome, tasks, chunksize=1)

    def close(self, finished: bool) -> None:
        if finished:
            self.pool.close()
        else:
            self.pool.terminate()
        self.pool.join()
