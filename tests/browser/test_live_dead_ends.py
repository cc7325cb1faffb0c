# ruff: noqa: F811 (the fixtures imported from test_live are redefined as test parameters)
"""The live page's dead ends (issue #21): each way the page used to leave the reader stuck (a
button disabled for good, a message in English or for maintainers, a run that never starts, a
canvas that cannot be continued) is shown here to end in a Spanish sentence and a page that still
works. Same session's tiny site and Chromium as test_live.py, 32-64 px, 1-3 evaluations."""
from __future__ import annotations

import hashlib
import re
import struct
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image
from test_live import LIVE_JS, PROTOCOL, STATE, Session, browsers, live_context, png  # noqa: F401 (fixtures)

from helpers import ROOT

pytestmark = pytest.mark.browser



def served_with(replace: dict[str, str]):
    """A route handler serving worker.js with each `old` text replaced by `new` (each must occur)."""
    def route(r):
        original = r.fetch()
        text = original.text()
        for old, new in replace.items():
            assert old in text, old
            text = text.replace(old, new)
        return r.fulfill(response=original, body=text)
    return route


def enabled(s, button: str) -> bool:
    return not s.page.locator(f"#live-{button}").is_disabled()


# 1 --------------------------------------------------------------------------------------------

def test_failed_calibration_still_lets_a_run_start(browsers, site):
    """A speed measurement that throws: a Spanish message, 64 px proposed, «Empezar» enabled."""
    broken = served_with({"async function calibrate(side) {": "async function calibrate(side) {\n"
                                                              "  throw new Error(\"medición rota\");"})
    s = Session(browsers, site, route=("**/live/worker.js", broken))
    s.page.wait_for_function(f"{STATE}.phase === 'calibrate'", timeout=120_000)
    assert "Algo falló" in s.message() and "medición rota" in s.message(), s.message()
    s.page.wait_for_function("!document.getElementById('live-start').disabled", timeout=120_000)
    assert s.page.locator("#live-size").input_value() == "64"
    assert s.state()["ready"] == "1"
    s.close()


# 2 --------------------------------------------------------------------------------------------

def test_auto_without_a_side_starts_when_the_images_come_late(browsers, site, built_site):
    """`auto=1` without `lado`: the photo (and so the painting, read after it) arrives only after
    the speed measurement ended; the run still starts by itself and finishes. (The worker's clock runs a thousand times fast, so the
    measurement proposes the smallest size.)"""
    figures = built_site.manifest["figures"]
    images = {figures["photo/rectoria2"]["files"]["image"], figures["painting/starry_night"]["files"]["image"]}
    held, released = [], []
    slow_clock = served_with({"import {FROM_WORKER": "const realNow = performance.now.bind(performance);\n"
                                                   "performance.now = () => realNow() * 1000;\nimport {FROM_WORKER"})

    def route(r):
        if r.request.url.endswith("/live/worker.js"):
            return slow_clock(r)
        if released:
            return r.continue_()
        held.append(r)   # answered once the measurement is over

    def matches(url: str) -> bool:
        return url.endswith("/live/worker.js") or any(url.endswith("/" + path) for path in images)

    s = Session(browsers, site, "?foto=rectoria2&cuadro=starry_night&evaluaciones=2&auto=1", route=(matches, route))
    s.page.wait_for_function(f"{STATE}.defaultSize !== undefined || {STATE}.status === 'error'", timeout=180_000)
    assert s.state().get("runs") is None and s.state()["status"] == "idle", s.state()
    assert [urlsplit(r.request.url).path for r in held] == ["/" + figures["photo/rectoria2"]["files"]["image"]]
    released.append(True)
    for r in held:
        r.fulfill(response=r.fetch())
    state = s.wait_finished()
    assert state["status"] == "done" and state["evaluations"] == "2", (state, s.message())
    assert state["runs"] == "1" and s.errors == []
    s.close()


# 3 --------------------------------------------------------------------------------------------

def test_weights_file_is_named_by_its_hash(built_site):
    """A new network gets a new file name, so a cached old file is never read beside a new manifest."""
    figure = built_site.manifest["figures"]["live/network"]
    name = figure["files"]["weights"]
    digest = hashlib.sha256((built_site.root / "docs" / name).read_bytes()).hexdigest()
    assert digest == figure["numbers"]["sha256"]
    assert Path(name).name == f"weights-{digest[:16]}.bin"


# 4 --------------------------------------------------------------------------------------------

def test_divergence_keeps_the_last_canvas_and_refuses_continue(browsers, site):
    """Adam with an absurd learning rate: the second evaluation is not finite. The page says so in
    Spanish, keeps the first evaluation's canvas, and neither «Continuar» nor the worker resumes."""
    def route(r):
        original = r.fetch()
        objective = original.json()
        objective["adam"]["lr"] = 1e30
        return r.fulfill(response=original, json=objective)

    s = Session(browsers, site, "?lado=32&evaluaciones=3&optimizador=adam&motor=wasm&auto=1",
                route=("**/objective.json", route))
    state = s.wait_finished()
    assert state["status"] == "error" and state["phase"] == "run", state
    assert "divergió" in s.message() and "último lienzo válido" in s.message(), s.message()
    assert len(s.history()) == 1 and state["evaluations"] == "1"
    assert not enabled(s, "continue") and enabled(s, "download") and enabled(s, "start")
    pixels = s.page.evaluate("(c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data))"
                             "(document.getElementById('live-canvas'))")
    assert len(set(pixels)) > 10   # the photo's first evaluation, not a blank or black canvas
    # The worker itself refuses to continue from a diverged run.
    s.page.evaluate(f"async () => window.liveRun.worker.postMessage({{type: ({PROTOCOL}).TO_WORKER.CONTINUE, evaluations: 1}})")
    s.page.wait_for_function("document.getElementById('live-message').textContent.includes('no se puede continuar')",
                             timeout=30_000)
    assert len(s.history()) == 1
    s.close()


# 5 --------------------------------------------------------------------------------------------

def test_unexpected_error_is_spanish_and_the_worker_restarts(browsers, site):
    """A worker that throws on «Empezar»: the message is Spanish with the detail in parentheses, and
    a new worker loads, so the page is ready again."""
    broken = served_with({"async function start({stages, key, style, blend = null, settings}, quiet = false) {":
                          "async function start({stages, key, style, blend = null, settings}, quiet = false) {\n"
                          "  if (!quiet) throw new Error(\"fallo inyectado\");"})
    s = Session(browsers, site, "?lado=32&evaluaciones=1&motor=wasm", route=("**/live/worker.js", broken))
    s.wait_ready()
    s.page.evaluate("window.firstWorker = window.liveRun.worker")
    s.start()
    s.page.wait_for_function("document.getElementById('live-message').textContent.includes('fallo inyectado')",
                             timeout=30_000)
    message = s.message()
    assert message.startswith("Algo falló dentro del cálculo (detalle técnico: fallo inyectado)"), message
    s.page.wait_for_function(f"{STATE}.ready === '1' && {STATE}.backend === 'wasm' "
                             "&& window.liveRun.worker !== window.firstWorker", timeout=120_000)
    s.page.wait_for_function("!document.getElementById('live-start').disabled", timeout=60_000)
    s.close()


# 6 --------------------------------------------------------------------------------------------

def test_stop_before_the_first_evaluation(browsers, site):
    """«Detener» sent right behind «Empezar»: no evaluation, and the page does not offer to continue
    or download a canvas that was never painted."""
    s = Session(browsers, site, "?lado=32&evaluaciones=3&motor=wasm")
    s.wait_ready()
    s.stop_on_start()
    s.start()
    state = s.wait_finished()
    assert state["status"] == "done" and state["evaluations"] == "0", state
    text = s.page.locator("#live-status").inner_text()
    assert text.startswith("Detenido antes de la primera evaluación"), text
    assert "continuar" not in text and "descargar" not in text
    assert not enabled(s, "download") and not enabled(s, "continue") and enabled(s, "start")
    s.close()


# 7 --------------------------------------------------------------------------------------------

MAINTAINER_TALK = re.compile(r"\bmake\b|\bmkdocs\b|generator/|manifest|\.py\b|pastiche build", re.IGNORECASE)
LITERAL = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`")


def maintainer_sentences(js: str) -> list[str]:
    """String literals that read as sentences (three words or more) and talk to maintainers."""
    code = re.sub(r"^\s*//.*$", "", js, flags=re.MULTILINE)
    return [lit for lit in LITERAL.findall(code) if len(lit.split()) >= 3 and MAINTAINER_TALK.search(lit)]


def test_reader_messages_do_not_talk_to_maintainers():
    """No sentence the live page can show tells the reader to run a build or names its files."""
    for path in sorted(LIVE_JS.glob("*.js")):
        assert maintainer_sentences(path.read_text(encoding="utf-8")) == [], path.name
    page = re.sub(r"<#.*?#>", "", (ROOT / "docs" / "en-vivo.md").read_text(encoding="utf-8"), flags=re.DOTALL)  # template comments
    assert not re.search(r"make site|\bmkdocs\b|generator/|manifest", page)
    # The rule catches what it guards.
    assert maintainer_sentences('say("Falta la red: ejecuta make site y recarga.");') != []
    assert maintainer_sentences('fetch("generated/manifest.json");\n// see generator/ for make site') == []


# 8 --------------------------------------------------------------------------------------------

def test_opened_as_a_file_it_says_how_to_open_it(browsers, built_site):
    context = browsers.fresh.new_context()
    page = context.new_page()
    page.goto((built_site.site_dir / "en-vivo.html").as_uri(), wait_until="load")
    message = page.locator("#live-message")
    message.wait_for(state="visible", timeout=10_000)
    text = message.inner_text()
    assert "no funciona abierta como archivo" in text and "python3 -m http.server" in text, text
    assert "http://localhost:8000/en-vivo.html" in text
    assert page.locator("#live-status").inner_text() != "Cargando…"
    context.close()


# 9 and 12 -------------------------------------------------------------------------------------

def test_continue_refuses_changed_settings_and_a_new_run_clears_the_plot(browsers, site):
    """After a run, a changed optimizer makes «Continuar» explain that «Empezar» uses it; changed
    back, «Continuar» goes on. A new run's plot is empty when it starts."""
    s = Session(browsers, site, "?lado=32&evaluaciones=1&motor=wasm")
    s.wait_ready()
    s.start()
    assert s.wait_finished()["evaluations"] == "1"
    s.page.select_option("#live-optimizer", "adam")
    s.page.click("#live-continue")
    s.page.wait_for_function("document.getElementById('live-message').textContent.length > 0", timeout=10_000)
    assert s.message() == ("Cambiaste el optimizador desde el último cálculo: «Continuar» seguiría con lo anterior. "
                           "Pulsa «Empezar» para pintar con los cambios."), s.message()
    assert s.state()["evaluations"] == "1" and s.state()["status"] == "done"
    s.page.select_option("#live-optimizer", "lbfgs")
    s.page.click("#live-continue")
    s.page.wait_for_function(f"{STATE}.status === 'done' && {STATE}.evaluations === '2'", timeout=60_000)
    assert s.message() == ""
    assert s.page.locator("#live-plot polyline").count() > 0
    # The plot as it is when the next run's START leaves for the worker.
    s.page.evaluate(f"""async () => {{
        const {{TO_WORKER}} = {PROTOCOL};
        const worker = window.liveRun.worker;
        const post = worker.postMessage.bind(worker);
        worker.postMessage = (m, transfer) => {{
            if (m.type === TO_WORKER.START) window.linesAtStart = document.querySelectorAll('#live-plot polyline').length;
            post(m, transfer);
        }};
    }}""")
    s.start()
    s.wait_finished()
    assert s.page.evaluate("window.linesAtStart") == 0
    s.close()


# 10 and 11 ------------------------------------------------------------------------------------

def png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims width x height (its data is one empty row)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


def webp_cases() -> list[bytes]:
    """WebP files of each first chunk, as Pillow writes them: VP8 (lossy), VP8L (lossless, a width
    over 14 bits' half), VP8X (lossy with alpha; a tall one), VP8L again with EXIF (VP8X)."""
    import io

    exif = Image.Exif()
    exif[0x0112] = 1   # orientation: upright
    out = []
    for mode, size, kw in [("RGB", (43, 29), {"lossless": False}), ("RGB", (3001, 2), {"lossless": True}),
                           ("RGBA", (17, 3000), {"lossless": False}), ("RGB", (43, 29), {"lossless": True, "exif": exif.tobytes()})]:
        buf = io.BytesIO()
        Image.new(mode, size, (10, 20, 30)[:len(mode)] + (128,) * (mode == "RGBA")).save(buf, "WEBP", **kw)
        out.append(buf.getvalue())
    assert [w[12:16] for w in out] == [b"VP8 ", b"VP8L", b"VP8X", b"VP8X"], [w[12:16] for w in out]
    return out


def webp_claiming(width: int, height: int) -> bytes:
    """An extended WebP (VP8X) whose canvas claims width x height and holds nothing else."""
    vp8x = bytes(4) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_huge_photo_and_thin_painting_are_refused(browsers, site):
    s = Session(browsers, site, "?lado=32&evaluaciones=1&motor=wasm")
    s.wait_ready()
    sizes = s.page.evaluate("""async (files) => {
        const {headerSize} = await import('./javascripts/live/images.js');
        return files.map(bytes => headerSize(new Uint8Array(bytes)));
    }""", [list(png_claiming(30000, 30000)), list(png(Image.new("RGB", (40, 30)))),
           list(jpeg_bytes(Image.new("RGB", (41, 29)))), list(gif_bytes(Image.new("RGB", (7, 5)))), list(b"texto"),
           *(list(webp) for webp in webp_cases()), list(webp_claiming(30000, 20000)), list(b"RIFF\0\0\0\0WEBPVP8 " + bytes(20))])
    assert sizes == [[30000, 30000], [40, 30], [41, 29], [7, 5], None,
                     [43, 29], [3001, 2], [17, 3000], [43, 29], [30000, 20000], None]
    s.upload("photo", "gigante.png", png_claiming(30000, 30000))
    s.page.wait_for_function("document.getElementById('live-message').textContent.length > 0", timeout=10_000)
    message = s.message()
    assert "«gigante.png» es demasiado grande" in message and "30000 × 30000 px" in message, message
    assert "no es una imagen" not in message
    s.upload("photo", "gigante.webp", webp_claiming(30000, 20000), mime="image/webp")
    s.page.wait_for_function("document.getElementById('live-message').textContent.includes('gigante.webp')", timeout=10_000)
    assert "30000 × 20000 px" in s.message(), s.message()
    s.upload("painting", "tira.png", png(Image.new("RGB", (2000, 20), (30, 60, 90))))
    s.page.wait_for_function("document.getElementById('live-message').textContent.includes('tira.png')", timeout=10_000)
    message = s.message()
    assert "«tira.png» es demasiado alargado" in message and "16 px" in message, message
    assert s.page.locator("#live-start").is_disabled() and s.page.locator("#live-painting").input_value() == ""
    # Another painting makes the page usable again.
    s.page.select_option("#live-painting", "starry_night")
    s.page.wait_for_function("!document.getElementById('live-start').disabled", timeout=60_000)
    assert s.errors == []
    s.close()


def jpeg_bytes(img: Image.Image) -> bytes:
    import io
    buf = io.BytesIO()
    img.save(buf, "JPEG")
    return buf.getvalue()


def gif_bytes(img: Image.Image) -> bytes:
    import io
    buf = io.BytesIO()
    img.save(buf, "GIF")
    return buf.getvalue()


# 13 -------------------------------------------------------------------------------------------

def test_memory_estimate_is_the_engines(browsers, site):
    """memory.js's estimate is generator/engine/memory.py's (float32, L-BFGS history); the browser's
    limit comes from Chromium's heap limit, else the device memory, else none."""
    from generator.engine.memory import activation_elements, estimate_bytes

    s = Session(browsers, site, "?lado=32")
    got = s.page.evaluate("""async () => {
        const m = await import('./javascripts/live/memory.js');
        return {
            elements: [[512, 384, 'relu5_1'], [64, 43, 'relu4_2'], [33, 17, 'relu1_1']].map(a => m.activationElements(...a)),
            bytes: [[512, 384], [256, 171], [32, 21]].map(([w, h]) => m.estimateBytes(w, h, 'relu5_1', 'lbfgs', 50)),
            heap: m.browserLimit({deviceMemory: 8}, {memory: {jsHeapSizeLimit: 4e9}}),
            device: m.browserLimit({deviceMemory: 2}, {}),
            none: m.browserLimit({}, {}),
            fits: [m.fits(1e9, null), m.fits(1e9, 2e9), m.fits(1e9 + 1, 2e9)],
        };
    }""")
    s.close()
    assert got["elements"] == [activation_elements((512, 384), "relu5_1"), activation_elements((64, 43), "relu4_2"),
                               activation_elements((33, 17), "relu1_1")]
    assert got["bytes"] == [estimate_bytes(size, "relu5_1", 50) for size in ((512, 384), (256, 171), (32, 21))]
    assert (got["heap"], got["device"], got["none"]) == (4e9, 2 * 1024 ** 3, None)
    assert got["fits"] == [True, True, False]


def test_run_too_large_for_the_browser_is_refused(browsers, site):
    """With a heap limit that holds a 32 px run but not a 64 px one, 64 px is refused in Spanish
    with the largest size that fits."""
    s = Session(browsers, site, "?lado=64&evaluaciones=1&motor=wasm")
    s.wait_ready()
    s.page.wait_for_function("!document.getElementById('live-start').disabled", timeout=60_000)
    s.page.evaluate("""async () => {
        const {estimateBytes} = await import('./javascripts/live/memory.js');
        const {fitLongSide} = await import('./javascripts/live/images.js');
        const {photoWidth: w, photoHeight: h} = document.getElementById('live-state').dataset;
        const obj = window.liveRun.objective;
        const need = side => estimateBytes(...fitLongSide(Number(w), Number(h), side), obj.deepest, 'lbfgs', obj.lbfgs.history);
        const limit = need(32) + need(64);   // its half is between the two
        Object.defineProperty(performance, 'memory', {value: {jsHeapSizeLimit: limit}, configurable: true});
    }""")
    s.page.click("#live-start")
    s.page.wait_for_function("document.getElementById('live-message').textContent.length > 0", timeout=10_000)
    message = s.message()
    assert "necesitaría unos" in message and "MB de memoria" in message and "px o menos en «Tamaño»" in message, message
    assert s.state().get("runs") is None and s.state()["status"] == "idle"
    assert re.search(r"elige (32|48) px o menos", message), message
    s.close()
