"""`make bench`'s browser table: evaluations per second of the live page's worker
(docs/javascripts/live/worker.js) per TensorFlow.js backend and size in headless Chromium, WASM with
one thread (a page that is not cross-origin isolated) and with every core (isolated: COOP/COEP sent
by the bench's server, as the page's service worker sends them), beside the Python engine (float32,
this process's threads) on the same problem: the hero photo at that long side, the hero painting's
prepared Gram matrices, L-BFGS from the photo, one stage. Then the page's own end-to-end time: the
built site's en-vivo.html opened with only `?auto=1` (its defaults), from opening to `done`.

    python -m generator.bench.browser [--sizes 128 256 384] [--evaluations 6] [--backends wasm-1 wasm webgl webgpu]
    python -m generator.bench.browser --schedules    # the page's schedules at its budget, by the engine

Needs Playwright and Chromium (CHROMIUM or /usr/bin/chromium), docs/vendor/tfjs and a build's
docs/generated/ (the exported network); the end-to-end run needs the built site (site/). The first
evaluation of each run (kernel warm-up) is left out of the rate. A backend this Chromium cannot
start is reported as such; each run stops after --budget seconds.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

from ..build.manifest import HERO
from ..common.paths import ROOT
from .serve import ISOLATION, serve

DOCS = ROOT / "docs"
SITE = ROOT / "site"
RESULTS = ROOT / "bench" / "results"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--enable-unsafe-webgpu",
        "--use-webgpu-adapter=swiftshader"]
HARNESS = """<!doctype html><meta charset="utf-8"><title>bench</title><script type="module">
window.messages = [];
window.worker = new Worker("javascripts/live/worker.js", {type: "module"});
worker.onmessage = e => { const m = e.data; delete m.rgba; delete m.objective; messages.push(m); };
</script>"""


def problem(side: int):
    """The hero photo at `side` and the painting at the engine's style side, as PIL images."""
    from ..build.catalog import load_catalog
    from ..engine.images import fit_long_side, read_image
    from ..engine.settings import TransferSettings
    from ..engine.transfer import style_side

    catalog = load_catalog(ROOT / "site_src")
    entry = {e.name: e for e in catalog.content}[HERO.content]
    painting = {e.name: e for e in catalog.style}[HERO.style]
    photo = fit_long_side(read_image(entry.path(ROOT / "site_src")), side)
    style = fit_long_side(read_image(painting.path(ROOT / "site_src")),
                          style_side(photo.size, TransferSettings().style_min_side), allow_upscale=True)
    return photo, style


def rgba(img) -> dict:
    return {"rgba": list(img.convert("RGBA").tobytes()), "width": img.width, "height": img.height}


def rate(seconds: list[float]) -> float:
    """Evaluations per second, the first (warm-up) left out."""
    if len(seconds) < 2:
        return float("nan")
    return (len(seconds) - 1) / (seconds[-1] - seconds[0])


def browser_rates(sizes, evaluations, backends, budget, chromium) -> dict:
    """{backend: {"threads", side: {...}}}; "wasm-1" is WASM in a page that is not cross-origin
    isolated (one thread), "wasm" in an isolated one (every core)."""
    from playwright.sync_api import sync_playwright

    from ..engine.live_objective import objective

    engine_objective = objective()  # the engine's own objective, as the page runs it
    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        for backend in backends:
            engine_name = backend.split("-")[0]
            isolated = backend != "wasm-1"
            with serve(DOCS, ISOLATION if isolated else None) as base:
                page = browser.new_page()
                page.route(base + "bench.html", lambda r: r.fulfill(body=HARNESS, content_type="text/html",
                                                                    headers=ISOLATION if isolated else {}))
                page.goto(base + "bench.html")
                results[backend] = run_backend(page, engine_name, sizes, evaluations, budget, engine_objective)
                page.close()
        browser.close()
    return results


def run_backend(page, backend, sizes, evaluations, budget, engine_objective) -> dict:
    page.evaluate("b => worker.postMessage({type: 'init', backend: b, calibrate: 0})", backend)
    try:
        page.wait_for_function("messages.some(m => m.type === 'ready' || m.type === 'error')", timeout=budget * 1000)
    except Exception:
        return {"error": f"did not start within {budget:.0f} s"}
    ready = page.evaluate("messages.find(m => m.type === 'ready' || m.type === 'error')")
    if ready["type"] == "error" or ready["backend"] != backend:
        return {"error": ready.get("message", "not started")}
    row = {"threads": ready.get("threads"), "isolated": ready.get("isolated")}
    photo, style = problem(max(sizes))
    page.evaluate("""([style, name]) => worker.postMessage({type: 'painting', key: 'bench', site: name,
        image: {...style, rgba: new Uint8ClampedArray(style.rgba)}})""", [rgba(style), HERO.style])
    page.wait_for_function("messages.some(m => m.type === 'painting-ready' || m.type === 'error')", timeout=budget * 1000)
    for side in sizes:
        if any(r.get("stopped") for r in row.values() if isinstance(r, dict)):
            row[side] = {"evaluations": 0, "per_second": float("nan"), "skipped": True}
            continue   # a smaller size already ran out of time: a larger one would too
        photo, style = problem(side)
        row[side] = one_run(page, photo, style, evaluations, budget, engine_objective)
        print(f"{backend} {side} px: {row[side]['evaluations']} evaluations, {row[side]['per_second']:.3f}/s",
              file=sys.stderr, flush=True)
    return row


def one_run(page, photo, style, evaluations, budget, engine_objective) -> dict:
    """One stage of `evaluations` on the page's worker; stopped after `budget` seconds."""
    page.evaluate("() => { messages.length = 0; }")
    page.evaluate("""([content, style, n, o]) => worker.postMessage({type: 'start', key: 'bench',
        stages: [{...content, rgba: new Uint8ClampedArray(content.rgba), evaluations: n}],
        style: {...style, rgba: new Uint8ClampedArray(style.rgba)},
        settings: {contentWeight: o.content_weight, styleWeight: o.style_weight, tvWeight: 0,
                   init: 'content', optimizer: 'lbfgs', styleLayers: o.style_layer_weights}})""",
                  [rgba(photo), rgba(style), evaluations, engine_objective])
    start = time.monotonic()
    stopped = False
    while not page.evaluate("messages.some(m => ['done', 'stopped', 'error'].includes(m.type))"):
        if time.monotonic() - start > budget and not stopped:
            page.evaluate("worker.postMessage({type: 'stop'})")
            stopped = True
        if time.monotonic() - start > 3 * budget:   # a stop the worker never saw
            break
        time.sleep(0.5)
    seconds = page.evaluate("messages.filter(m => m.type === 'progress').map(m => m.seconds)")
    return {"evaluations": len(seconds), "per_second": rate(seconds), "size": list(photo.size), "stopped": stopped}


def end_to_end(chromium, budget: float = 300, query: str = "auto=1") -> dict:
    """The built site's live page opened with only ?auto=1 (or `query`), served as a static host
    serves it (no COOP/COEP headers: the page's service worker adds them and reloads once): seconds
    from opening to `done`, and what #live-state reports."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    with serve(SITE) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS + ["--disable-gpu"])
        page = browser.new_page()
        start = time.monotonic()
        page.goto(base + "en-vivo.html?" + query)
        state = {}
        while time.monotonic() - start < budget and state.get("status") not in ("done", "error"):
            try:
                state = page.evaluate("({...document.getElementById('live-state').dataset})")
            except PlaywrightError:
                pass   # the page's one reload
            time.sleep(0.2)
        seconds = time.monotonic() - start
        if state.get("status") == "done":
            import base64

            url = page.evaluate("document.getElementById('live-canvas').toDataURL('image/png')")
            RESULTS.mkdir(parents=True, exist_ok=True)
            (RESULTS / "live-page.png").write_bytes(base64.b64decode(url.split(",", 1)[1]))
        browser.close()
    keys = ("status", "backend", "threads", "isolated", "size", "width", "height", "evaluations", "stages",
            "paintingSource", "secondsPerEvaluation")
    return {"seconds": seconds, **{k: state.get(k) for k in keys}}


def against_stylize(page: dict) -> dict:
    """The page's result beside `stylize` at the same size and evaluations (what a user runs, with
    its own schedule and precision), both scored by the quality yardstick at that size."""
    import subprocess

    from ..build.catalog import load_catalog
    from ..yardsticks.quality_score import Scorer, read

    catalog = load_catalog(ROOT / "site_src")
    photo = {e.name: e for e in catalog.content}[HERO.content].path(ROOT / "site_src")
    painting = {e.name: e for e in catalog.style}[HERO.style].path(ROOT / "site_src")
    engine_png = RESULTS / "live-stylize.png"
    subprocess.run([sys.executable, "-m", "generator", "stylize", str(photo), str(painting), "-o", str(engine_png),
                    "--size", str(page["size"]), "--steps", str(page["evaluations"]), "--quiet"], check=True, cwd=ROOT)
    scorer = Scorer(read(photo), read(painting), side=int(page["size"]))
    scores = {"page": scorer.score(read(RESULTS / "live-page.png")), "stylize": scorer.score(read(engine_png))}
    return {name: {"content": r["content"], "balanced_style": r["balanced_style"]} for name, r in scores.items()}


# The live page's schedules compared at its default run's cost (--schedules): today's default run
# at 384 px (46 evaluations, plain L-BFGS coarse to fine, 34 at half size) sets the budget in
# evaluations times pixels; each candidate gets the most evaluations within it.
SCHEDULE_BUDGET = {"side": 384, "evaluations": 46, "scales": (0.5, 1.0), "final_share": 0.25}
SCHEDULE_CANDIDATES = (   # (name, long side, precondition, scales, final share, evaluations or None: the budget's)
    ("plain, coarse to fine", 384, "none", (0.5, 1.0), 0.25, None),
    ("pyramid, one stage", 384, "pyramid", (1.0,), 0.25, None),
    ("pyramid, coarse to fine", 384, "pyramid", (0.5, 1.0), 0.25, None),
    ("plain, one stage", 256, "none", (1.0,), 0.25, None),
    ("pyramid, one stage", 256, "pyramid", (1.0,), 0.25, None),
    ("pyramid, one stage", 384, "pyramid", (1.0,), 0.25, 16),
    ("pyramid, one stage", 384, "pyramid", (1.0,), 0.25, 25),
    ("pyramid, one stage", 512, "pyramid", (1.0,), 0.25, None),
)


def schedules(score_side: int = 384) -> list[dict]:
    """The live page's candidate schedules run by the engine (float32, the page's objective and
    start), each at the page's budget (SCHEDULE_BUDGET: evaluations weighted by their pixels), scored
    by quality_score at `score_side` (a smaller result enlarged to it, a larger one reduced)."""
    from ..build.catalog import load_catalog
    from ..engine.images import fit_long_side, read_image
    from ..engine.live_objective import page_settings
    from ..engine.transfer import plan_stages, run_transfer
    from ..yardsticks.quality_score import Scorer

    catalog = load_catalog(ROOT / "site_src")
    photo = read_image({e.name: e for e in catalog.content}[HERO.content].path(ROOT / "site_src"))
    painting = read_image({e.name: e for e in catalog.style}[HERO.style].path(ROOT / "site_src"))

    def cost(size, scales, steps, share):
        return sum(st.steps * st.size[0] * st.size[1] for st in plan_stages(size, scales, steps, share))

    b = SCHEDULE_BUDGET
    budget = cost(fit_long_side(photo, b["side"]).size, b["scales"], b["evaluations"], b["final_share"])
    scorer = Scorer(photo, painting, side=score_side)
    rows = []
    for name, side, precondition, scales, share, steps in SCHEDULE_CANDIDATES:
        canvas = fit_long_side(photo, side)
        if steps is None:
            steps = 1
            while cost(canvas.size, scales, steps + 1, share) <= budget:
                steps += 1
        stages = plan_stages(canvas.size, scales, steps, share)
        settings = page_settings(steps=steps, scales=scales, final_share=share, precondition=precondition)
        start = time.monotonic()
        result = run_transfer(canvas, [painting], settings, canvas.size)
        seconds = time.monotonic() - start
        result.image.save(RESULTS / f"schedule-{side}-{precondition}-{len(stages)}-{steps}.png")
        score = scorer.score(result.image)
        rows.append({"name": name, "side": side, "stages": [[list(st.size), st.steps] for st in stages],
                     "cost": cost(canvas.size, scales, steps, share) / budget, "seconds": seconds,
                     "content": score["content"], "balanced_style": score["balanced_style"], "copy": score["copy"]})
        print(schedule_row(rows[-1]), file=sys.stderr, flush=True)
    return rows


def schedule_row(r: dict) -> str:
    stages = " + ".join(f"{n} at {w}x{h}" for (w, h), n in r["stages"])
    return (f"| {r['name']} | {r['side']} px | {stages} | {r['cost']:.2f} | {r['content']:.4g} | "
            f"{r['balanced_style']:.3f} | {r['copy']:.3f} | {r['seconds']:.0f} |")


def engine_rates(sizes, evaluations) -> dict:
    from ..engine.settings import TransferSettings
    from ..engine.transfer import run_transfer

    out = {}
    for side in sizes:
        photo, style = problem(side)
        history = run_transfer(photo, [style], TransferSettings(steps=evaluations), photo.size).history
        out[side] = rate([h["seconds"] for h in history])
    return out


def table(results: dict, engine: dict, sizes, budget: float) -> str:
    head = "| backend | " + " | ".join(f"{s} px" for s in sizes) + " |"
    lines = ["evaluations per second (headless Chromium; the first evaluation left out)", "",
             head, "|" + " --- |" * (len(sizes) + 1)]
    for backend, row in results.items():
        if "error" in row:
            lines.append(f"| {backend} | " + " | ".join("not available" for _ in sizes) + f" |  ({row['error']})")
            continue
        name = backend.split("-")[0]
        if row.get("threads"):
            name += f" ({row['threads']} thread{'s' if row['threads'] != 1 else ''}"
            name += ", isolated)" if row.get("isolated") else ")"

        def cell(r):
            if r.get("skipped"):
                return "too slow"
            if r["evaluations"] < 2:
                return f"< 1 in {budget:.0f} s"
            return f"{r['per_second']:.3g}" + (f" ({r['evaluations']} ev.)" if r.get("stopped") else "")

        lines.append(f"| {name} | " + " | ".join(cell(row[s]) for s in sizes) + " |")
    import torch

    lines.append(f"| Python engine (torch {torch.__version__}, {torch.get_num_threads()} threads, float32) | "
                 + " | ".join(f"{engine[s]:.3g}" for s in sizes) + " |")
    return "\n".join(lines)


def machine() -> str:
    """The CPU and the features that decide its speed."""
    from .cpu import describe

    return describe()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator.bench.browser", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 384])
    parser.add_argument("--evaluations", type=int, default=6)
    parser.add_argument("--backends", nargs="+", default=["wasm-1", "wasm", "webgl", "webgpu"],
                        choices=["webgpu", "webgl", "wasm", "wasm-1"])
    parser.add_argument("--budget", type=float, default=90.0, help="seconds per run before it is stopped")
    parser.add_argument("--no-engine", action="store_true", help="skip the Python engine's column")
    parser.add_argument("--page-only", action="store_true", help="only the page's end-to-end run and its quality")
    parser.add_argument("--page-query", default="auto=1", metavar="QUERY",
                        help="the page's link for the end-to-end run (default auto=1: its own choice), "
                             "e.g. lado=384&evaluaciones=20&auto=1")
    parser.add_argument("--schedules", action="store_true",
                        help="only the page's candidate schedules at its budget, run by the engine and scored")
    args = parser.parse_args(argv)
    if args.schedules:
        RESULTS.mkdir(parents=True, exist_ok=True)
        print(machine())
        rows = schedules()
        print("| schedule | size | stages | cost | content | balanced style | copy | engine s |\n" + "|" + " --- |" * 8)
        print("\n".join(schedule_row(r) for r in rows))
        (RESULTS / "schedules.json").write_text(json.dumps(rows, indent=1))
        return 0
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    missing = [p for p in (DOCS / "vendor" / "tfjs" / "tf.min.js", DOCS / "generated" / "manifest.json") if not p.exists()]
    if missing:
        print(f"bench_browser: {missing[0]} not found: run `make site` first", file=sys.stderr)
        return 2
    if not Path(chromium).exists():
        print(f"bench_browser: Chromium not found ({chromium}); set CHROMIUM", file=sys.stderr)
        return 2
    print(machine())
    results, engine = {}, {}
    if not args.page_only:
        results = browser_rates(args.sizes, args.evaluations, args.backends, args.budget, chromium)
        engine = {s: float("nan") for s in args.sizes} if args.no_engine else engine_rates(args.sizes, args.evaluations)
        print(table(results, engine, args.sizes, args.budget))
    page = None
    if (SITE / "en-vivo.html").exists():
        page = dict(end_to_end(chromium, query=args.page_query), query=args.page_query)
        print(f"\nthe page's run (en-vivo.html?{args.page_query}): {page['status']} in {page['seconds']:.1f} s from opening; "
              f"{page['backend']}, {page['threads']} threads, isolated {page['isolated']}; "
              f"{page['width']}x{page['height']} px, {page['evaluations']} evaluations (stages {page['stages']}); "
              f"painting {page['paintingSource']}")
        if page["status"] == "done":
            page["scores"] = scores = against_stylize(page)
            ratio = {k: scores["page"][k] / scores["stylize"][k] for k in ("content", "balanced_style")}
            print(f"quality at {page['size']} px (quality_score, lower is better): page content "
                  f"{scores['page']['content']:.4g}, balanced style {scores['page']['balanced_style']:.4g}; "
                  f"stylize --size {page['size']} --steps {page['evaluations']}: {scores['stylize']['content']:.4g}, "
                  f"{scores['stylize']['balanced_style']:.4g}; ratios {ratio['content']:.3f}, {ratio['balanced_style']:.3f}")
    else:
        print(f"\nthe page's default run: skipped, {SITE / 'en-vivo.html'} not built (make site)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "browser.json").write_text(json.dumps({"machine": machine(), "browser": results, "engine": engine,
                                                  "page": page}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
