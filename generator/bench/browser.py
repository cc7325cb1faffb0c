"""`make bench`'s browser table: evaluations per second of the live page's worker
(docs/javascripts/live/worker.js) per TensorFlow.js backend and size, in headless Chromium, beside
the Python engine (float32, this process's threads) on the same problem: the hero photo at that
long side, the hero painting at the engine's style side, L-BFGS from the photo.

    python -m generator.bench.browser [--sizes 64 128 256] [--evaluations 6] [--backends webgpu webgl wasm]

Needs Playwright and Chromium (CHROMIUM or /usr/bin/chromium), docs/vendor/tfjs (make site) and a
build's docs/generated/ (the exported network); serves docs/ on 127.0.0.1. The first evaluation of
each run (kernel warm-up) is left out of the rate. A backend this Chromium cannot start is reported
as such; each run stops after --budget seconds.
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path

from ..build.manifest import HERO
from ..common.paths import ROOT

DOCS = ROOT / "docs"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--enable-unsafe-webgpu"]
HARNESS = """<!doctype html><meta charset="utf-8"><title>bench</title><script type="module">
window.messages = [];
window.worker = new Worker("javascripts/live/worker.js", {type: "module"});
worker.onmessage = e => { const m = e.data; delete m.rgba; delete m.objective; messages.push(m); };
</script>"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(folder: Path):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


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
    from playwright.sync_api import sync_playwright

    from ..engine.live_objective import objective

    engine_objective = objective()  # the engine's own objective, as the page runs it
    results = {}
    with serve(DOCS) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        for backend in backends:
            page = browser.new_page()
            page.route(base + "bench.html", lambda r: r.fulfill(body=HARNESS, content_type="text/html"))
            page.goto(base + "bench.html")
            page.evaluate("b => worker.postMessage({type: 'init', backend: b, calibrate: false})", backend)
            try:
                page.wait_for_function("messages.some(m => m.type === 'ready' || m.type === 'error')",
                                       timeout=budget * 1000)
            except Exception:
                results[backend] = {"error": f"did not start within {budget:.0f} s"}
                page.close()
                continue
            ready = page.evaluate("messages.find(m => m.type === 'ready' || m.type === 'error')")
            if ready["type"] == "error" or ready["backend"] != backend:
                results[backend] = {"error": ready.get("message", "not started")}
                page.close()
                continue
            results[backend] = {"threads": ready.get("threads")}
            for side in sizes:
                if any(r.get("stopped") for r in results[backend].values() if isinstance(r, dict)):
                    results[backend][side] = {"evaluations": 0, "per_second": float("nan"), "skipped": True}
                    continue   # a smaller size already ran out of time: a larger one would too
                photo, style = problem(side)
                page.evaluate("() => { messages.length = 0; }")
                page.evaluate("""([content, style, n, o]) => worker.postMessage({type: 'start', evaluations: n,
                    content: {...content, rgba: new Uint8ClampedArray(content.rgba)},
                    style: {...style, rgba: new Uint8ClampedArray(style.rgba), key: 'bench:' + style.width},
                    settings: {contentWeight: o.content_weight, styleWeight: o.style_weight, tvWeight: 0,
                               init: 'content', optimizer: 'lbfgs', styleLayers: o.style_layer_weights}})""",
                              [rgba(photo), rgba(style), evaluations, engine_objective])
                start = time.monotonic()
                stopped = False
                while True:
                    done = page.evaluate("messages.some(m => ['done', 'stopped', 'error'].includes(m.type))")
                    if done:
                        break
                    if time.monotonic() - start > budget and not stopped:
                        page.evaluate("worker.postMessage({type: 'stop'})")
                        stopped = True
                    if time.monotonic() - start > 3 * budget:   # a stop the worker never saw
                        break
                    time.sleep(0.5)
                seconds = page.evaluate("messages.filter(m => m.type === 'progress').map(m => m.seconds)")
                results[backend][side] = {"evaluations": len(seconds), "per_second": rate(seconds),
                                          "size": list(photo.size), "stopped": stopped}
                print(f"{backend} {side} px: {len(seconds)} evaluations, {rate(seconds):.3f}/s", file=sys.stderr, flush=True)
            page.close()
        browser.close()
    return results


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
        name = f"{backend} ({row['threads']} thread{'s' if row['threads'] != 1 else ''})" if row.get("threads") else backend
        def cell(r):
            if r.get("skipped"):
                return "too slow"
            if r["evaluations"] < 2:
                return f"< 1 in {budget:.0f} s"
            return f"{r['per_second']:.3g}" + (f" ({r['evaluations']} ev.)" if r.get("stopped") else "")

        cells = [cell(row[s]) for s in sizes]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    import torch

    lines.append(f"| Python engine (torch {torch.__version__}, {torch.get_num_threads()} threads, float32) | "
                 + " | ".join(f"{engine[s]:.3g}" for s in sizes) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator.bench.browser", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--evaluations", type=int, default=6)
    parser.add_argument("--backends", nargs="+", default=["wasm", "webgl", "webgpu"],
                        choices=["webgpu", "webgl", "wasm"])
    parser.add_argument("--budget", type=float, default=90.0, help="seconds per run before it is stopped")
    parser.add_argument("--no-engine", action="store_true", help="skip the Python engine's column")
    args = parser.parse_args(argv)
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    missing = [p for p in (DOCS / "vendor" / "tfjs" / "tf.min.js", DOCS / "generated" / "manifest.json") if not p.exists()]
    if missing:
        print(f"bench_browser: {missing[0]} not found: run `make site` first", file=sys.stderr)
        return 2
    if not Path(chromium).exists():
        print(f"bench_browser: Chromium not found ({chromium}); set CHROMIUM", file=sys.stderr)
        return 2
    results = browser_rates(args.sizes, args.evaluations, args.backends, args.budget, chromium)
    engine = {s: float("nan") for s in args.sizes} if args.no_engine else engine_rates(args.sizes, args.evaluations)
    print(table(results, engine, args.sizes, args.budget))
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "browser.json").write_text(json.dumps({"browser": results, "engine": engine}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
