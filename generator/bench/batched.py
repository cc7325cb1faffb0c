"""Batched transfers against one run_transfer per canvas: seconds per evaluation of the figures'
groups of small, same-size optimisations (the reconstructions, the alpha/beta grid's cells, the
init comparison), at the preview profile's sizes and at 1.5x, in float32 and bfloat16.

    python -m generator.bench.batched [--device cpu] [--scales 1,1.5] [--cases recon_content,grid]
                                      [--precisions float32,bfloat16] [--repeats 3] [--evals 8]

Per evaluation = (time of the last evaluation - time of the WARM-th) / evaluations between: the
first evaluations (targets, float32 warm-up) are left out. "separate" is the sum over the K
canvases of run_transfer's seconds per evaluation; "batched" is run_batch's. "run s" is the whole
run of --evals evaluations, targets included (run_batch computes a photo's or a painting's
activations once for all the canvases that share it). Each is the minimum over --repeats runs
(other processes only ever slow a run down). JSON to bench/results/.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from .speed import CONTENT, ROOT, STYLE, machine

WARM = 3            # evaluations left out of the timing (targets, float32 warm-up evaluations)
# The figures' groups at the preview profile (long side, scale 1): generator/figures/representations.py,
# work_grid.py, work_init.py.
CASES = {
    "recon_content": 160,  # 5 photo reconstructions from one layer each (conv1_2 ... conv5_2)
    "recon_style": 160,    # 5 painting reconstructions from growing sets of Gram matrices
    "grid": 128,           # 5 x 4 cells: style layers up to conv1_1 ... conv5_1 x alpha/beta
    "init": 192,           # the same transfer from the photo, noise and the painting
}
GRID_RATIOS = (1e-3, 1e-2, 1e-1, 1.0)
GRID_BETA = 1e4


def problems_for(case: str, long_side: int, steps: int, precision: str):
    """(problems, canvas size) of one figure's group, single-stage, with `steps` evaluations."""
    from ..engine import images
    from ..engine.batched import Problem
    from ..engine.reconstruct import content_settings, growing_subsets, style_settings
    from ..engine.settings import CONTENT_LAYERS, STYLE_LAYERS, TransferSettings

    photo = images.fit_long_side(images.read_image(CONTENT), long_side)
    painting = images.read_image(STYLE)
    base = dict(steps=steps, precision=precision)
    if case == "recon_content":
        layers = ("conv1_2", "conv2_2", "conv3_2", "conv4_2", "conv5_2")
        return [Problem(photo, (photo,), replace(content_settings(layer, steps), **base)) for layer in layers], photo.size
    if case == "recon_style":
        small = images.fit_long_side(painting, long_side)
        return ([Problem(small, (small,), replace(style_settings(layers, steps), **base))
                 for layers in growing_subsets(STYLE_LAYERS)], small.size)
    if case == "grid":
        cells = [TransferSettings(init="noise", style_layers=STYLE_LAYERS[:rows], style_weight=GRID_BETA,
                                  content_weight=ratio * GRID_BETA, content_layers=CONTENT_LAYERS, **base)
                 for rows in range(1, len(STYLE_LAYERS) + 1) for ratio in GRID_RATIOS]
        return [Problem(photo, (painting,), s) for s in cells], photo.size
    if case == "init":
        return ([Problem(photo, (painting,), TransferSettings(init=init, **base)) for init in ("content", "noise", "style")],
                photo.size)
    raise ValueError(f"unknown case {case!r} ({', '.join(CASES)})")


def per_evaluation(result) -> float:
    """Seconds per evaluation after the first WARM ones."""
    marks = [h["seconds"] for h in result.history]
    return (marks[-1] - marks[WARM - 1]) / (len(marks) - WARM)


def measure(case: str, long_side: int, precision: str, steps: int, repeats: int, device: str) -> dict:
    from ..engine.batched import run_batch
    from ..engine.transfer import run_transfer

    problems, size = problems_for(case, long_side, steps, precision)
    separate, batched, separate_total, batched_total = [], [], [], []
    for _ in range(repeats):
        alone = [run_transfer(p.content, list(p.styles), p.settings, size, device) for p in problems]
        separate.append(sum(per_evaluation(r) for r in alone))
        separate_total.append(sum(r.seconds for r in alone))
        together = run_batch(problems, size, device)[0]
        batched.append(per_evaluation(together))
        batched_total.append(together.seconds)
    return {"case": case, "canvases": len(problems), "size": list(size), "precision": precision,
            "separate_s_per_eval": min(separate), "batched_s_per_eval": min(batched),
            "speedup": min(separate) / min(batched), "separate_all": separate, "batched_all": batched,
            "separate_run_s": min(separate_total), "batched_run_s": min(batched_total)}


def table(rows: list[dict]) -> str:
    head = (f"{'case':<14} {'K':>3} {'size':>9} {'precision':<9} {'separate s/eval':>16} {'batched s/eval':>15} "
            f"{'speed-up':>9} {'run s: separate':>16} {'batched':>8}")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['case']:<14} {r['canvases']:>3} {r['size'][0]:>4}x{r['size'][1]:<4} {r['precision']:<9} "
                     f"{r['separate_s_per_eval']:>16.3f} {r['batched_s_per_eval']:>15.3f} {r['speedup']:>8.2f}x "
                     f"{r['separate_run_s']:>16.1f} {r['batched_run_s']:>8.1f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator.bench.batched", description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    parser.add_argument("--scales", default="1,1.5", help="multiples of the preview profile's long side")
    parser.add_argument("--precisions", default="float32,bfloat16")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--evals", type=int, default=8, help=f"evaluations per run (the first {WARM} not timed)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args(argv)
    unknown = set(args.cases.split(",")) - CASES.keys()
    if unknown:
        parser.error(f"unknown case(s) {', '.join(sorted(unknown))} (choose from {', '.join(CASES)})")
    if args.evals <= WARM:
        parser.error(f"--evals must be more than {WARM}")

    from ..engine.device import resolve_device

    device = resolve_device(args.device)
    rows = []
    for case in args.cases.split(","):
        for scale in (float(s) for s in args.scales.split(",")):
            for precision in args.precisions.split(","):
                side = round(CASES[case] * scale)
                print(f"bench_batched: {case} at {side} px, {precision} ...", file=sys.stderr, flush=True)
                rows.append(measure(case, side, precision, args.evals, args.repeats, device))
                print(table(rows[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    report = {"machine": machine(device), "evaluations": args.evals, "repeats": args.repeats,
              "when": time.strftime("%Y-%m-%dT%H:%M:%S"), "rows": rows}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"batched-{device.replace(':', '')}-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(report, indent=1))
    print(table(rows))
    print(f"machine: {report['machine']}; JSON in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
