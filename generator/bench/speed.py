"""`make bench`: the engine against the tutorial-style reference (reference.py), in one process,
on the same device and images. Reports evaluations per second, evaluations and seconds to reach
the reference's final loss (each candidate canvas rescored afterwards in float32 by the
reference's own code, so a bfloat16 reading never counts) and peak memory; writes JSON to
bench/results/ and prints a table. The headline is `speedup`: the reference's time divided by the
engine's time to reach the same loss. A second table runs `stylize`'s default schedule and compares
its final loss with the reference's loss after the same time. A third table (quality.py)
scores the default `stylize --size 512` against neural-style's published results (`--quality`).

    python -m generator.bench.speed --device auto [--sizes 256,512] [--evals N] [--stylize-steps N]

Defaults: 100 reference evaluations at long sides 256 and 512 on a CPU (about 7 minutes on 2 cores;
`--evals 500` reads longer runs, about 30), 500 at 256, 512 and 1024 on a GPU.
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

from ..common.paths import ROOT

CONTENT = ROOT / "site_src" / "content" / "rectoria2.jpg"
STYLE = ROOT / "site_src" / "styles" / "starry_night.jpg"
CPU_DEFAULTS = ((256, 512), 100)
BUDGET = 1.5   # an engine variant may spend up to this many times the reference's evaluations;
STOP_UNDER = 0.97    # it stops once its reported loss is this far under the reference's (bfloat16 reads low),
SCORE_WITHIN = 1.05  # and its canvases reported within this factor of that loss are rescored exactly
GPU_DEFAULTS = ((256, 512, 1024), 500)
# The reference's objective (reference.py): pre-ReLU responses, max pooling, the original weights,
# equal layer weights, the paper's summed content loss, the photo as the start, and no copy guard (it
# changes the target during the run, so its losses could not be compared with the reference's). The
# speed tables give the engine exactly this problem, whatever stylize's defaults are (the quality
# table uses those).
REFERENCE_OBJECTIVE = {"taps": "pre_relu", "pooling": "max", "rescale_weights": False, "style_balance": "none",
                       "content_normalise": "sum", "init": "content", "style_layer_weights": None, "copy_guard": 0.0}


class PeakMemory:
    """Peak bytes during a block: CUDA's allocator peak, or the process's resident-set high-water
    mark (VmHWM, reset through /proc/self/clear_refs) on a CPU."""

    def __init__(self, device: str):
        self.cuda = device.startswith("cuda")

    def __enter__(self):
        import torch

        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        else:
            try:
                Path("/proc/self/clear_refs").write_text("5")
            except OSError:
                pass
        return self

    def __exit__(self, *exc):
        import torch

        if self.cuda:
            torch.cuda.synchronize()
            self.peak = torch.cuda.max_memory_allocated()
        else:
            status = Path("/proc/self/status").read_text() if Path("/proc/self/status").exists() else ""
            kb = [int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")]
            self.peak = kb[0] * 1024 if kb else None


def time_to_reach(history: list[dict], exact, target: float, seconds: float) -> tuple[float, int] | tuple[None, None]:
    """(seconds, evaluations) at the first final-stage canvas whose exact loss, `exact(evaluation)`
    (float32, the reference's own code), is at most `target`. A bfloat16 evaluation reads the loss
    ~1.5 % low, so only canvases reported within SCORE_WITHIN of the target are rescored. The time
    is the next evaluation's (this canvas's backward pass done: the reference's trace time), or
    the run's end."""
    last_stage = max(h.get("stage", 0) for h in history)
    for i, h in enumerate(history):
        if h.get("stage", 0) == last_stage and h["total"] <= target * SCORE_WITHIN and exact(h["evaluation"]) <= target:
            return (history[i + 1]["seconds"] if i + 1 < len(history) else seconds), h["evaluation"]
    return None, None


def candidate_keeper(store: dict, target: float, device: str):
    """run_transfer's on_evaluation: copies each canvas into `store` by evaluation. On a CPU, where
    reading the loss costs nothing, only canvases reported within SCORE_WITHIN of the target (the
    candidates) are kept; on a GPU every one is (no synchronisation; its peak memory includes them)."""
    cpu = not str(device).startswith("cuda")

    def keep(n, canvas, total):
        if not cpu or total.item() <= target * SCORE_WITHIN:
            store[n] = canvas.clone()
    return keep


def engine_variants(size: int, device: str, evaluations: int) -> dict:
    """The engine's configurations, each given BUDGET x the reference's evaluations at full size and
    stopped once past the reference's loss: float32 and bfloat16, both one stage of plain L-BFGS (no
    preconditioner); `stylize`'s default schedule for this size and device (its precision and
    preconditioner, and its coarser stages with their own evaluations), its final stage given the budget."""
    from ..engine.runtime import device_schedule, native_bfloat16
    from ..engine.settings import TransferSettings, stage_steps

    budget = math.ceil(BUDGET * evaluations)
    default = TransferSettings(**device_schedule(size, device))
    coarse = sum(stage_steps(default.steps, len(default.scales), default.final_share)[:-1])
    plain = {"scales": (1.0,), "steps": budget, "precondition": "none"}
    variants = {"engine float32": {**plain, "precision": "float32"}}
    if native_bfloat16(device):   # elsewhere bfloat16 runs scalar kernels, and stylize runs float32
        variants["engine bfloat16"] = {**plain, "precision": "bfloat16"}
    variants["engine default"] = {"precision": default.precision, "scales": default.scales,
                                  "precondition": default.precondition, "steps": coarse + budget,
                                  "final_share": budget / (coarse + budget)}
    return variants


def reference_row(size, variant: str, trace: list[tuple[float, float]], first_seconds: float, peak) -> dict:
    """A reference run's table row: it reaches its own loss at its end; its speedup is the first
    reference run's time over its own (1 for the first)."""
    seconds, loss = trace[-1]
    return {"size": list(size), "variant": variant, "evaluations": len(trace), "seconds": seconds,
            "evals_per_s": len(trace) / seconds, "final_loss": loss, "time_to_reference_loss": seconds,
            "evaluations_to_reference_loss": len(trace), "speedup": first_seconds / seconds, "peak_bytes": peak}


def bench_size(content, style, long_side: int, evaluations: int, device: str, cnn,
               stylize_steps: int | None = None) -> tuple[list[dict], dict]:
    from ..engine import images
    from ..engine.settings import TransferSettings
    from ..engine.transfer import run_transfer
    from ..yardsticks import reference

    photo = images.fit_long_side(content, long_side, allow_upscale=True)
    rows = []
    with PeakMemory(device) as mem:
        _, trace = reference.run_reference(photo, style, photo.size, evaluations, device, cnn=cnn)
    ref_seconds, ref_loss = trace[-1]
    judge = reference.objective(photo, style, photo.size, device, cnn=cnn)
    rows.append(reference_row(photo.size, "reference", trace, ref_seconds, mem.peak))
    for name, overrides in engine_variants(long_side, device, evaluations).items():
        # the reference's problem exactly: its beta, and the painting at the canvas's size
        settings = TransferSettings(style_weight=reference.BETA, style_min_side=0,
                                    **{**REFERENCE_OBJECTIVE, **overrides})
        canvases = {}
        with PeakMemory(device) as mem:
            result = run_transfer(photo, [style], settings, photo.size, device, stop_below=ref_loss * STOP_UNDER,
                                  on_evaluation=candidate_keeper(canvases, ref_loss, device))
        exact = {}
        reach, reach_evals = time_to_reach(
            result.history, lambda n: exact.setdefault(n, judge(canvases[n])), ref_loss, result.seconds)
        last_stage = result.history[-1]["stage"]
        rows.append({"size": list(photo.size), "variant": name, "scales": list(overrides["scales"]),
                     "precondition": overrides["precondition"],
                     "precision": overrides["precision"], "budget": overrides["steps"],
                     "evaluations": len(result.history), "seconds": result.seconds,
                     "evals_per_s": len(result.history) / result.seconds,
                     "final_loss": result.final_loss, "time_to_reference_loss": reach,
                     "evaluations_to_reference_loss": reach_evals,
                     "exact_loss_there": exact.get(reach_evals), "rescored": len(exact),
                     "final_stage_evaluations": sum(h["stage"] == last_stage for h in result.history),
                     "speedup": ref_seconds / reach if reach else None, "peak_bytes": mem.peak})
        canvases.clear()  # free the kept canvases before the next variant
    # The reference once more, after the variants: drift between the two readings (another process,
    # the CPU's clock) shows in its evaluations per second.
    _, again = reference.run_reference(photo, style, photo.size, evaluations, device, cnn=cnn)
    rows.append(reference_row(photo.size, "reference again", again, ref_seconds, None))
    return rows, equal_time(photo, style, long_side, device, trace, judge, stylize_steps)


def loss_at(trace: list[tuple[float, float]], seconds: float) -> tuple[int, float] | tuple[None, None]:
    """(evaluations, loss) of the reference's last evaluation finished within `seconds`; None if
    it had finished none, or if its run ended before `seconds` (its loss then is unknown)."""
    if not trace or trace[-1][0] < seconds:
        return None, None
    done = [loss for t, loss in trace if t <= seconds]
    return (len(done), done[-1]) if done else (None, None)


def stylize_schedule(long_side: int, device: str, steps: int | None = None) -> dict:
    """`stylize`'s default schedule at this size and device; `steps` replaces its evaluations
    (--stylize-steps), its stages and precision kept."""
    from ..engine.runtime import device_schedule

    schedule = device_schedule(long_side, device)
    return {**schedule, "steps": steps} if steps is not None else schedule


def equal_time(photo, style, long_side: int, device: str, trace, judge, steps: int | None = None) -> dict:
    """`stylize`'s own default schedule (its evaluations, stages and precision; `steps` evaluations
    instead if given) on the reference's problem, against the reference's loss after the same wall
    time. The canvas it ends with is scored by the reference's own code (`judge`, float32). Both are
    canvases, not pictures: clamping to 0-255 raises this objective's loss several-fold for either."""
    from ..engine.settings import TransferSettings
    from ..engine.transfer import run_transfer
    from ..yardsticks import reference

    schedule = stylize_schedule(long_side, device, steps)
    settings = TransferSettings(**{**schedule, **REFERENCE_OBJECTIVE, "style_weight": reference.BETA,
                                   "content_weight": 1.0, "style_min_side": 0})
    final = {}
    result = run_transfer(photo, [style], settings, photo.size, device,
                          on_evaluation=lambda n, canvas, total: final.__setitem__("canvas", canvas))
    final_loss = judge(final["canvas"])  # the canvas itself, as the reference's trace reads its own
    ref_evals, ref_loss = loss_at(trace, result.seconds)
    return {"size": list(photo.size), "scales": list(schedule["scales"]), "precision": schedule["precision"],
            "evaluations": len(result.history), "seconds": result.seconds, "final_loss": final_loss,
            "reference_evaluations": ref_evals, "reference_loss": ref_loss,
            "loss_ratio": final_loss / ref_loss if ref_loss else None}


def stylize_memory(content, style, sides, device: str, steps: int | None = None) -> list[dict]:
    """Peak memory of `stylize`'s default run (its schedule and objective; `steps` evaluations
    instead if given) per size, beside the memory pre-flight's estimate for it (memory.py, which
    refuses a size that would not fit)."""
    from ..engine import images
    from ..engine.memory import estimate_bytes
    from ..engine.settings import TransferSettings
    from ..engine.transfer import deepest_layer, run_transfer

    rows = []
    for side in sides:
        print(f"bench: stylize's memory at {side} px ...", file=sys.stderr, flush=True)
        photo = images.fit_long_side(content, side, allow_upscale=True)
        settings = TransferSettings(**stylize_schedule(side, device, steps))
        with PeakMemory(device) as mem:
            result = run_transfer(photo, [style], settings, photo.size, device)
        rows.append({"size": list(photo.size), "scales": list(settings.scales), "evaluations": len(result.history),
                     "seconds": result.seconds, "peak_bytes": mem.peak,
                     "estimate_bytes": estimate_bytes(photo.size, deepest_layer(settings))})
    return rows


def memory_table(rows: list[dict]) -> str:
    head = f"{'size':>10} {'stages':>16} {'evals':>6} {'seconds':>8} {'peak MiB':>9} {'pre-flight MiB':>15}"
    lines = [head, "-" * len(head)]
    for r in rows:
        peak = f"{r['peak_bytes'] / 2**20:.0f}" if r["peak_bytes"] else "?"
        stages = "+".join(f"{s:g}" for s in r["scales"])
        lines.append(f"{'x'.join(map(str, r['size'])):>10} {stages:>16} {r['evaluations']:>6} {r['seconds']:>8.1f} "
                     f"{peak:>9} {r['estimate_bytes'] / 2**20:>15.0f}")
    return "\n".join(lines)


def table(rows: list[dict]) -> str:
    head = f"{'size':>10} {'variant':<16} {'evals/s':>8} {'evals to ref loss':>17} {'t->ref loss':>11} " \
           f"{'speedup':>8} {'peak MiB':>9}"
    lines = [head, "-" * len(head)]
    for r in rows:
        reach = f"{r['time_to_reference_loss']:.1f} s" if r["time_to_reference_loss"] else "never"
        evals = str(r["evaluations_to_reference_loss"]) if r["evaluations_to_reference_loss"] else \
            f"> {r['evaluations']}"
        speed = f"{r['speedup']:.2f}x" if r["speedup"] else "-"
        peak = f"{r['peak_bytes'] / 2**20:.0f}" if r["peak_bytes"] else "?"
        lines.append(f"{'x'.join(map(str, r['size'])):>10} {r['variant']:<16} {r['evals_per_s']:>8.2f} "
                     f"{evals:>17} {reach:>11} {speed:>8} {peak:>9}")
    return "\n".join(lines)


def equal_time_table(rows: list[dict]) -> str:
    head = f"{'size':>10} {'stylize default':>22} {'reference, same time':>22} {'loss ratio':>10}"
    lines = [head, "-" * len(head)]
    for r in rows:
        ref = f"{r['reference_evaluations']} ev, {r['reference_loss']:.3g}" if r["reference_loss"] else "unknown"
        ratio = f"{r['loss_ratio']:.3f}" if r["loss_ratio"] else "-"
        lines.append(f"{'x'.join(map(str, r['size'])):>10} "
                     f"{r['evaluations']:>3} ev {r['seconds']:>5.1f} s {r['final_loss']:.3g} "
                     f"{ref:>22} {ratio:>10}")
    return "\n".join(lines)


def machine(device: str) -> dict:
    import torch

    from .cpu import describe

    info = {"device": device, "torch": torch.__version__, "python": platform.python_version(),
            "cpu": describe(), "threads": torch.get_num_threads()}
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator.bench.speed", description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--sizes", help="comma-separated long sides (default: 256,512 on CPU; 256,512,1024 on GPU)")
    parser.add_argument("--evals", type=int, help="reference evaluations per size (default: 100 on a CPU, 500 on a GPU)")
    parser.add_argument("--memory-sizes", default="256,512,1024",
                        help="long sides of the stylize memory table (default: 256,512,1024; empty: skip)")
    parser.add_argument("--stylize-steps", type=int, default=None, metavar="N",
                        help="evaluations of stylize's default run in the equal-time and memory tables "
                             "(default: its schedule's own, e.g. 200 at 256 px)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--quality", choices=("also", "only", "skip"), default="also",
                        help="the neural-style quality table (quality.py): after the speed tables, "
                             "only it, or not at all")
    args = parser.parse_args(argv)
    if args.stylize_steps is not None and args.stylize_steps <= 0:
        parser.error(f"--stylize-steps: must be positive, not {args.stylize_steps}")
    if args.quality == "only":
        return _quality(args)

    from ..engine import images
    from ..engine.device import resolve_device
    from ..engine.runtime import runnable_precision
    from ..engine.settings import TransferSettings
    from ..engine.transfer import run_transfer
    from ..yardsticks import reference

    device = resolve_device(args.device)
    sizes, evaluations = GPU_DEFAULTS if device.startswith("cuda") else CPU_DEFAULTS
    sizes = tuple(int(s) for s in args.sizes.split(",") if s.strip()) if args.sizes is not None else sizes
    evaluations = args.evals or evaluations
    content, style = images.read_image(CONTENT), images.read_image(STYLE)
    cnn = reference.vgg19_sequential().to(device)
    warm = images.fit_long_side(content, 64)  # load weights, build kernels and caches before timing
    reference.run_reference(warm, style, warm.size, 3, device, cnn=cnn)
    for precision in sorted({"float32", runnable_precision("bfloat16", device)}):
        run_transfer(warm, [style], TransferSettings(steps=3, precision=precision, **REFERENCE_OBJECTIVE),
                     warm.size, device)

    info = machine(device)
    print(f"bench: {info['cpu']}, {info['threads']} threads", file=sys.stderr, flush=True)
    rows, same_time = [], []
    for side in sizes:
        print(f"bench: {side} px, {evaluations} evaluations ...", file=sys.stderr, flush=True)
        size_rows, size_same_time = bench_size(content, style, side, evaluations, device, cnn, args.stylize_steps)
        rows += size_rows
        same_time.append(size_same_time)
    memory_sides = [int(s) for s in args.memory_sizes.split(",") if s.strip()]
    memory = stylize_memory(content, style, memory_sides, device, args.stylize_steps)
    report = {"machine": info, "evaluations": evaluations, "content": CONTENT.name,
              "style": STYLE.name, "when": time.strftime("%Y-%m-%dT%H:%M:%S"), "rows": rows,
              "stylize_equal_time": same_time, "stylize_memory": memory}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for name in (f"bench-{device.replace(':', '')}-{stamp}.json", f"latest-{device.replace(':', '')}.json"):
        (out / name).write_text(json.dumps(report, indent=1))
    print(table(rows))
    print("\nstylize's default schedule against the reference after the same time (lower loss is better):")
    print(equal_time_table(same_time))
    if memory:
        print("\nstylize's default run: peak memory per size (resident high-water mark on a CPU), "
              "beside the pre-flight's estimate:")
        print(memory_table(memory))
    print(f"machine: {report['machine']}; JSON in {out}")
    return _quality(args) if args.quality == "also" else 0


def _quality(args) -> int:
    from .quality import main as quality_main

    return quality_main(["--device", args.device, "--out", args.out])


if __name__ == "__main__":
    sys.exit(main())
