"""`make bench`'s quality table: the default `stylize --size 512` against jcjohnson/neural-style's
published 512 px outputs (bench/neural_style/, with its README, source and licence), both scored by
quality_score.py, the project's own yardstick, independent of the engine. The dev set: Tübingen with
three paintings, the same with the photo's colours kept, a blend of two paintings, and a portrait
whose four neural-style outputs trace its content-style trade-off; held out, neural-style's other
default outputs (the Golden Gate with six paintings, Tübingen with the seated nude). A pair is won when our content
loss and our balanced style loss are both at most neural-style's; on the portrait, when none of the
four beats ours on both and ours beats at least one. Writes a contact sheet (photo, paintings, ours,
neural-style's; one row per pair) and JSON to bench/results/.

    python -m generator.bench.quality [--size 512] [--pairs starry,scream,...]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from ..common.paths import ROOT
from ..yardsticks import quality_score

BENCH_DIR = ROOT / "bench" / "neural_style"
CELL = 256  # contact sheet: the long side of each thumbnail


@dataclass(frozen=True)
class Pair:
    """One dev pair: the photo, the paintings (several: a blend with `blend` weights), neural-style's
    output(s) for it (several: points along its trade-off, a frontier), and stylize's options."""
    photo: str
    paintings: tuple[str, ...]
    references: tuple[str, ...]
    keep_colors: bool = False
    blend: tuple[float, ...] | None = None
    held_out: bool = False  # not looked at while choosing the objective's defaults


PAIRS = {
    "starry": Pair("tubingen.jpg", ("starry_night.jpg",), ("tubingen_starry.png",)),
    "scream": Pair("tubingen.jpg", ("the_scream.jpg",), ("tubingen_scream.png",)),
    "shipwreck": Pair("tubingen.jpg", ("shipwreck.jpg",), ("tubingen_shipwreck.png",)),
    "starry-colors": Pair("tubingen.jpg", ("starry_night.jpg",), ("original_color/tubingen_starry.png",),
                          keep_colors=True),
    "scream-colors": Pair("tubingen.jpg", ("the_scream.jpg",), ("original_color/tubingen_scream.png",),
                          keep_colors=True),
    "shipwreck-colors": Pair("tubingen.jpg", ("shipwreck.jpg",), ("original_color/tubingen_shipwreck.png",),
                             keep_colors=True),
    "starry+scream": Pair("tubingen.jpg", ("starry_night.jpg", "the_scream.jpg"), ("tubingen_starry_scream.png",),
                          blend=(0.5, 0.5)),
    "portrait": Pair("brad_pitt.jpg", ("picasso_selfport1907.jpg",),
                     tuple(f"pitt_picasso_content_{c}_style_10.png" for c in ("5", "1", "01", "0025"))),
    # held out: neural-style's other published default-settings outputs
    **{f"golden_gate-{short}": Pair("golden_gate.jpg", (painting,), (f"golden_gate_{short}.png",), held_out=True)
       for short, painting in (("escher", "escher_sphere.jpg"), ("kahlo", "frida_kahlo.jpg"),
                               ("matisse", "woman-with-hat-matisse.jpg"), ("scream", "the_scream.jpg"),
                               ("seated", "seated-nude.jpg"), ("starry", "starry_night.jpg"))},
    "seated": Pair("tubingen.jpg", ("seated-nude.jpg",), ("tubingen_seated_nude.png",), held_out=True),
}


def beats(a: dict, b: dict) -> bool:
    """a is at least as good as b on both losses."""
    return a["content"] <= b["content"] and a["balanced_style"] <= b["balanced_style"]


def strictly_beats(a: dict, b: dict) -> bool:
    return beats(a, b) and (a["content"] < b["content"] or a["balanced_style"] < b["balanced_style"])


def verdict(ours: dict, theirs: list[dict]) -> str:
    """'win' or why not. One reference: ours beats it. A frontier: none of them strictly beats ours,
    and ours beats at least one."""
    if len(theirs) == 1:
        return "win" if beats(ours, theirs[0]) else "loss"
    if any(strictly_beats(t, ours) for t in theirs):
        return "beaten"
    return "win" if any(beats(ours, t) for t in theirs) else "on the frontier"


def scorer_for(pair: Pair, convs) -> quality_score.Scorer:
    weights = pair.blend or (1.0,) * len(pair.paintings)
    paintings = [(quality_score.read(BENCH_DIR / p), w) for p, w in zip(pair.paintings, weights)]
    return quality_score.Scorer(quality_score.read(BENCH_DIR / pair.photo), paintings, convs=convs)


def run_pair(name: str, size: int, out: Path, device: str, convs, **stylize_options) -> dict:
    """Stylise the pair with `stylize`'s defaults at `size` (plus `stylize_options`), score ours and
    neural-style's."""
    from ..cli.stylize import stylize

    pair = PAIRS[name]
    ours_path = out / f"quality-{name}-ours.png"
    start = time.perf_counter()
    result, _ = stylize(BENCH_DIR / pair.photo, [BENCH_DIR / p for p in pair.paintings], ours_path, size=size,
                        device=device, show_progress=False, keep_colors=pair.keep_colors,
                        style_blend_weights=pair.blend, **stylize_options)
    seconds = time.perf_counter() - start
    scorer = scorer_for(pair, convs)
    ours = scorer.score(quality_score.read(ours_path))
    theirs = [scorer.score(quality_score.read(BENCH_DIR / r)) for r in pair.references]
    return {"pair": name, "photo": pair.photo, "paintings": list(pair.paintings), "seconds": seconds,
            "evaluations": len(result.history), "ours": ours, "neural_style": theirs,
            "verdict": verdict(ours, theirs), "photo_style": scorer.photo_style, "ours_path": str(ours_path),
            "theirs_paths": [str(BENCH_DIR / r) for r in pair.references]}


def table(rows: list[dict]) -> str:
    layers = quality_score.STYLE_LAYERS
    head = (f"{'pair':<19} {'who':<16} {'content':>9} {'bal. style':>10} "
            + " ".join(f"{n:>7}" for n in layers) + f" {'copy':>7} {'seconds':>8}  result")
    lines = [head, "-" * len(head)]
    for r in rows:
        entries = [("ours", r["ours"])] + [
            ("neural-style" + (f" {Path(p).stem.split('content_')[-1]}" if len(r["theirs_paths"]) > 1 else ""), m)
            for p, m in zip(r["theirs_paths"], r["neural_style"])]
        for i, (who, m) in enumerate(entries):
            shares = " ".join(f"{m['style'][n] / r['photo_style'][n]:>7.3f}" for n in layers)
            seconds = f"{r['seconds']:>8.1f}" if i == 0 else f"{'-':>8}"
            copy = f"{m['copy']:.2f}" + (f"!{len(m['copied_cells'])}" if m["copy"] >= quality_score.COPY_FLAG else "")
            lines.append(f"{r['pair'] if i == 0 else '':<19} {who:<16} {m['content']:>9.3g} "
                         f"{m['balanced_style']:>10.3f} {shares} {copy:<7} {seconds}  "
                         f"{r['verdict'].upper() if i == 0 else ''}")
    lines.append("per-layer style: each layer's Gram loss / the photo's own there (the balanced sum's terms); "
                 f"copy: relu5_1's closest match to the painting, ! from {quality_score.COPY_FLAG} (a pasted object?) "
                 "with the number of positions matching as closely (outlined in red on the contact sheet)")
    return "\n".join(lines)


def contact_sheet(rows: list[dict]) -> Image.Image:
    """One row per pair: photo, painting(s), ours, neural-style's output(s), each fitted in a CELL
    square, with the scores under ours and theirs and red boxes where the scorer found the painting
    copied (quality_score's copied_cells)."""
    pad, text_h = 8, 30
    layouts = []
    for r in rows:
        cells = [("photo", BENCH_DIR / r["photo"], None)]
        cells += [("painting", BENCH_DIR / p, None) for p in r["paintings"]]
        cells.append((f"ours: {r['verdict']}", Path(r["ours_path"]), r["ours"]))
        cells += [("neural-style", Path(p), m) for p, m in zip(r["theirs_paths"], r["neural_style"])]
        layouts.append((r["pair"], cells))
    cols = max(len(cells) for _, cells in layouts)
    sheet = Image.new("RGB", (cols * (CELL + pad) + pad, len(rows) * (CELL + 2 * text_h + pad) + pad), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (name, cells) in enumerate(layouts):
        y = pad + i * (CELL + 2 * text_h + pad)
        for col, (label, path, m) in enumerate(cells):
            x = pad + col * (CELL + pad)
            draw.text((x, y), f"{name}: {label}" if col == 0 else label, fill="black")
            img = quality_score.read(path)
            img.thumbnail((CELL, CELL), Image.LANCZOS)
            sheet.paste(img, (x, y + text_h // 2))
            if m is not None:
                outline_copies(draw, m, (x, y + text_h // 2), img.width)
                copied = f" COPIED x{len(m['copied_cells'])}" if m["copy"] >= quality_score.COPY_FLAG else ""
                draw.text((x, y + text_h // 2 + img.height + 2),
                          f"content {m['content']:.3g}  style {m['balanced_style']:.3f}  copy {m['copy']:.2f}{copied}",
                          fill="red" if copied else "black")
    return sheet


def outline_copies(draw: ImageDraw.ImageDraw, scores: dict, origin: tuple[int, int], shown_width: int) -> None:
    """Red boxes over a thumbnail at `origin`, `shown_width` px wide, around the scorer's copied cells."""
    scale = shown_width / scores["scored_size"][0]
    for x0, y0, x1, y1 in scores["copied_cells"]:
        draw.rectangle([origin[0] + x0 * scale, origin[1] + y0 * scale,
                        origin[0] + x1 * scale - 1, origin[1] + y1 * scale - 1], outline="red")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator.bench.quality", description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--size", type=int, default=quality_score.SCORE_SIDE)
    parser.add_argument("--pairs", default=",".join(PAIRS))
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args(argv)
    from ..engine.device import resolve_device

    names = args.pairs.split(",")
    for name in names:
        if name not in PAIRS:
            parser.error(f"unknown pair {name!r} (choose from {', '.join(PAIRS)})")
    device = resolve_device(args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    convs = quality_score.load_vgg19()
    rows = []
    for name in names:
        print(f"bench quality: {name} ...", file=sys.stderr, flush=True)
        rows.append(run_pair(name, args.size, out, device, convs))
    sheet = out / "quality-contact-sheet.png"
    contact_sheet(rows).save(sheet)
    (out / "quality-latest.json").write_text(json.dumps({"device": device, "size": args.size, "rows": rows,
                                                         "when": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=1))
    from .cpu import describe

    print(f"\nmachine: {describe()}")
    print("`stylize --size %d` against neural-style's published results (lower is better; WIN = both lower;"
          " on a frontier, none of its points better on both and ours better than one):" % args.size)
    print(table(rows))
    for held_out in (False, True):
        part = [r for r in rows if PAIRS[r["pair"]].held_out == held_out]
        if part:
            print(f"{'held out' if held_out else 'dev set'}: won {sum(r['verdict'] == 'win' for r in part)} of "
                  f"{len(part)}, pasted {sum(r['ours']['copy'] >= quality_score.COPY_FLAG for r in part)}")
    print(f"contact sheet: {sheet}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
