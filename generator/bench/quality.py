"""`make bench`'s quality table: the default `stylize --size 512` against jcjohnson/neural-style's
published 512 px outputs (bench/neural_style/, with its README, source and licence), both scored by
quality_score.py, the project's own yardstick, independent of the engine. A pair is won when our
content loss and our balanced style loss are both at most neural-style's. Writes a contact sheet
(photo, painting, ours, neural-style's; one row per pair) and JSON to bench/results/.

    python -m generator.bench.quality [--size 512] [--pairs starry,scream,shipwreck]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from PIL import Image, ImageDraw

from ..common.paths import ROOT
from ..yardsticks import quality_score

BENCH_DIR = ROOT / "bench" / "neural_style"
PHOTO = "tubingen.jpg"
PAIRS = {"starry": "starry_night.jpg", "scream": "the_scream.jpg", "shipwreck": "shipwreck.jpg"}
CELL = 256  # contact sheet: the long side of each thumbnail


def wins(ours: dict, theirs: dict) -> bool:
    return ours["content"] <= theirs["content"] and ours["balanced_style"] <= theirs["balanced_style"]


def run_pair(pair: str, size: int, out: Path, device: str, convs) -> dict:
    """Stylise the pair with `stylize`'s defaults at `size`, score ours and neural-style's."""
    from ..cli.stylize import stylize

    photo_path, painting_path = BENCH_DIR / PHOTO, BENCH_DIR / PAIRS[pair]
    ours_path = out / f"quality-{pair}-ours.png"
    start = time.perf_counter()
    result, _ = stylize(photo_path, [painting_path], ours_path, size=size, device=device, show_progress=False)
    seconds = time.perf_counter() - start
    scorer = quality_score.Scorer(quality_score.read(photo_path), quality_score.read(painting_path), convs=convs)
    theirs_path = BENCH_DIR / f"tubingen_{pair}.png"
    return {"pair": pair, "painting": PAIRS[pair], "seconds": seconds, "evaluations": len(result.history),
            "ours": scorer.score(quality_score.read(ours_path)),
            "neural_style": scorer.score(quality_score.read(theirs_path)),
            "photo_style": scorer.photo_style, "ours_path": str(ours_path), "theirs_path": str(theirs_path)}


def table(rows: list[dict]) -> str:
    layers = quality_score.STYLE_LAYERS
    head = (f"{'pair':<10} {'who':<13} {'content':>9} {'bal. style':>10} "
            + " ".join(f"{n:>7}" for n in layers) + f" {'seconds':>8}  result")
    lines = [head, "-" * len(head)]
    for r in rows:
        for who in ("ours", "neural_style"):
            m = r[who]
            shares = " ".join(f"{m['style'][n] / r['photo_style'][n]:>7.3f}" for n in layers)
            seconds = f"{r['seconds']:>8.1f}" if who == "ours" else f"{'-':>8}"
            verdict = ("WIN" if wins(r["ours"], r["neural_style"]) else "loss") if who == "ours" else ""
            lines.append(f"{r['pair'] if who == 'ours' else '':<10} {who.replace('_', '-'):<13} "
                         f"{m['content']:>9.3g} {m['balanced_style']:>10.3f} {shares} {seconds}  {verdict}")
    lines.append("per-layer style: each layer's Gram loss / the photo's own there (the balanced sum's terms)")
    return "\n".join(lines)


def contact_sheet(rows: list[dict]) -> Image.Image:
    """One row per pair: photo, painting, ours, neural-style's, each fitted in a CELL square, with
    the scores under ours and theirs."""
    labels = ("photo", "painting", "ours", "neural-style")
    pad, text_h = 8, 30
    sheet = Image.new("RGB", (4 * (CELL + pad) + pad, len(rows) * (CELL + text_h + pad) + pad + text_h), "white")
    draw = ImageDraw.Draw(sheet)
    for col, label in enumerate(labels):
        draw.text((pad + col * (CELL + pad), pad), label, fill="black")
    for i, r in enumerate(rows):
        y = pad + text_h + i * (CELL + text_h + pad)
        paths = (BENCH_DIR / PHOTO, BENCH_DIR / r["painting"], Path(r["ours_path"]), Path(r["theirs_path"]))
        for col, path in enumerate(paths):
            img = quality_score.read(path)
            img.thumbnail((CELL, CELL), Image.LANCZOS)
            x = pad + col * (CELL + pad)
            sheet.paste(img, (x, y))
            if col >= 2:
                m = r["ours" if col == 2 else "neural_style"]
                draw.text((x, y + img.height + 2), f"content {m['content']:.3g}  style {m['balanced_style']:.3f}",
                          fill="black")
    return sheet


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator.bench.quality", description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--size", type=int, default=quality_score.SCORE_SIDE)
    parser.add_argument("--pairs", default=",".join(PAIRS))
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args(argv)
    from ..engine.device import resolve_device

    device = resolve_device(args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    convs = quality_score.load_vgg19()
    rows = []
    for pair in args.pairs.split(","):
        if pair not in PAIRS:
            parser.error(f"unknown pair {pair!r} (choose from {', '.join(PAIRS)})")
        print(f"bench quality: {pair} ...", file=sys.stderr, flush=True)
        rows.append(run_pair(pair, args.size, out, device, convs))
    sheet = out / "quality-contact-sheet.png"
    contact_sheet(rows).save(sheet)
    (out / "quality-latest.json").write_text(json.dumps({"device": device, "size": args.size, "rows": rows,
                                                         "when": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=1))
    print("\n`stylize --size %d` against neural-style's published results (lower is better; WIN = both lower):"
          % args.size)
    print(table(rows))
    print(f"won {sum(wins(r['ours'], r['neural_style']) for r in rows)} of {len(rows)}; contact sheet: {sheet}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
