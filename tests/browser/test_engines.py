"""Every engine of the live page: TensorFlow.js on WebGPU, WebGL and WASM, in a Chromium of its own
that offers all three (SwiftShader emulates the GPU: GPU_ARGS).

- Parity: objective.js's first evaluation on each engine (content, style and total losses, and the
  gradient with respect to the canvas) against generator/'s float32 engine on the same problem: a
  32 px photo, a 64 px painting and a canvas (the photo plus noise, so that both terms and their
  gradients are on), the same RGB bytes on both sides. A test harness (a page and a module worker
  served by routes, next to the site's own files) runs objective.js as the page's worker does.
- The page itself: a link with `motor=webgl` or `motor=webgpu` runs on that engine, software or
  not (two evaluations, the painting at 64 px through a route until the site's prepared Gram
  files make the 512 px pass free); without `motor`, the page skips both software engines.
- A WebGL that renders only float16 textures is refused: the error when asked for, skipped (with
  its reason on the page) when the page picks the engine itself.

If this Chromium offers no WebGPU or no WebGL, the tests skip saying so, and fail under CI=true.
Both sides' numbers go to test-artifacts/live/engines-parity.json."""
from __future__ import annotations

import json
import time
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from browserkit import ARGS, CHROMIUM, settle
from helpers import ROOT, skip_unless_ci

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts" / "live"
ENGINES = ("webgpu", "webgl", "wasm")
# --disable-gpu (in ARGS) leaves WebGL2 on SwiftShader; WebGPU needs --enable-unsafe-webgpu, and its
# adapter is named so that a machine with a GPU tests the same software adapter as CI.
GPU_ARGS = [*ARGS, "--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader", "--enable-unsafe-swiftshader"]
PHOTO_SIDE, PAINTING_SIDE = 32, 64
LOSS_RTOL = 1e-3
# The gradient as a vector: relative L2 error and cosine. Measured (float32 everywhere): WebGPU
# 9e-7, WebGL 1.2e-6, WASM 1.6e-4 (cosine 1 - 2e-9). WASM's is nearly all a scale of 1 + 1.5e-4:
# its float32 sums put the photo's own style losses E_l (the balance's divisors) about 2e-4 off,
# while the losses, ratios of two such sums, agree to 2e-6. A gradient doubled, halved, negated,
# channel-swapped, read as NCHW or flipped fails these bounds (checked on each engine's gradient).
GRAD_REL_L2, GRAD_COSINE = 1e-3, 0.9999
# TensorFlow.js's warning at a synchronous read (dataSync) on WebGPU: the read goes through a
# canvas, which Chromium's software WebGPU cannot back, and the device is lost a little later.
SYNCHRONOUS_READ = "synchronously reading data from GPU to CPU"
STATE = "document.getElementById('live-state').dataset"
HARNESS_PAGE = "engines-harness.html"
HARNESS_WORKER = "javascripts/live/engines-harness.js"
ANSWER_SECONDS = 300   # the harness's longest wait for its worker (WebGPU: 40-60 s alone, on 2 busy cores)

PAGE_JS = """<!doctype html><meta charset="utf-8"><title>engines</title><script>
// One fresh worker per question (a fresh TensorFlow.js), as the page starts one per engine.
window.ask = (message, seconds) => new Promise((resolve, reject) => {
  const worker = new Worker("HARNESS_WORKER", {type: "module"});
  const end = (f, v) => { clearTimeout(timer); worker.terminate(); f(v); };
  const timer = setTimeout(() => end(reject, new Error(`no answer in ${seconds} s`)), seconds * 1000);
  worker.onmessage = ({data}) => data.error ? end(reject, new Error(data.error)) : end(resolve, data);
  worker.onerror = e => end(reject, new Error(e.message || "worker error"));
  const image = im => im && {...im, rgba: new Uint8ClampedArray(im.rgba)};
  worker.postMessage({...message, photo: image(message.photo), painting: image(message.painting),
                      canvas: image(message.canvas)});
});
</script>""".replace("HARNESS_WORKER", HARNESS_WORKER)

# The harness's worker: TensorFlow.js loaded as worker.js loads it, then objective.js's Network,
# paintingGrams and Problem with the objective and weights the site serves, and the page's settings
# (readSettings: the objective's weights, every style layer).
WORKER_JS = """
import {Network, Problem, dequantise, paintingGrams, styleWeights, toInput} from "./objective.js";
const VENDOR = new URL("../../vendor/tfjs/", import.meta.url);
const SITE = new URL("../../", import.meta.url);

async function probe() {
  let webgpu = null;
  if (self.navigator.gpu) {
    const adapter = await self.navigator.gpu.requestAdapter();
    if (adapter) webgpu = {vendor: adapter.info.vendor, architecture: adapter.info.architecture};
  }
  const gl = new OffscreenCanvas(1, 1).getContext("webgl2");
  const info = gl && gl.getExtension("WEBGL_debug_renderer_info");
  return {webgpu, webgl: gl ? gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) : null};
}

async function evaluate({backend, photo, painting, canvas}) {
  await import(new URL("tf.min.js", VENDOR).href);
  await import(new URL("tf-backend-wasm.min.js", VENDOR).href);
  await import(new URL("tf-backend-webgpu.min.js", VENDOR).href);
  const tf = self.tf;
  tf.wasm.setWasmPaths(VENDOR.href);
  if (!(await tf.setBackend(backend))) throw new Error(`${backend} did not start`);
  await tf.ready();
  const manifest = await (await fetch(new URL("generated/manifest.json", SITE))).json();
  const files = manifest.figures["live/network"].files;
  const objective = await (await fetch(new URL(files.objective, SITE))).json();
  const weights = await (await fetch(new URL(files.weights, SITE))).arrayBuffer();
  const net = new Network(tf, objective, dequantise(weights, objective.network));
  const input = im => toInput(objective, im.rgba, im.width, im.height);
  const tensor = im => tf.tensor4d(input(im), [1, im.height, im.width, 3]);
  const [paintingT, photoT] = [tensor(painting), tensor(photo)];
  const grams = await paintingGrams(net, paintingT, objective.style_layers);
  const problem = new Problem(net, photoT, grams, {contentWeight: objective.content_weight,
    styleWeight: objective.style_weight, tvWeight: objective.tv_weight,
    styleLayers: styleWeights(objective, objective.style_layers)});
  tf.dispose([paintingT, photoT]);
  const r = await problem.evaluate(input(canvas));
  return {backend: tf.getBackend(), objective, total: r.total, content: r.content, style: r.style, tv: r.tv,
    grad: Array.from(r.grad),
    float32: backend === "webgl" ? tf.env().getBool("WEBGL_RENDER_FLOAT32_ENABLED") : null};
}

self.onmessage = async ({data}) => {
  try {
    self.postMessage(data.type === "probe" ? await probe() : await evaluate(data));
  } catch (err) {
    self.postMessage({error: String(err && err.message ? err.message : err)});
  }
};
"""


@pytest.fixture(scope="module")
def gpu_browser(browser):
    """A Chromium of this module's own, launched with GPU_ARGS (through the session's Playwright)."""
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, args=GPU_ARGS)
    yield chromium
    chromium.close()


class Harness:
    """The harness page in a context of its own; `ask(message)` posts to a fresh worker."""

    def __init__(self, chromium, base):
        self.context = chromium.new_context()
        self.context.route(base + HARNESS_PAGE, lambda r: r.fulfill(body=PAGE_JS, content_type="text/html"))
        self.context.route(base + HARNESS_WORKER, lambda r: r.fulfill(body=WORKER_JS, content_type="text/javascript"))
        self.page = self.context.new_page()
        self.console = []
        self.page.on("console", lambda m: self.console.append(m.text))
        self.page.goto(base + HARNESS_PAGE, wait_until="load")

    def ask(self, message: dict) -> dict:
        self.console.clear()
        return self.page.evaluate("([m, s]) => ask(m, s)", [message, ANSWER_SECONDS])

    def close(self):
        self.context.close()


@pytest.fixture(scope="module")
def harness(gpu_browser, site):
    h = Harness(gpu_browser, site)
    yield h
    h.close()


@pytest.fixture(scope="module")
def offered(harness):
    """What this Chromium offers in a worker: {webgpu: adapter info or None, webgl: renderer or None}."""
    return harness.ask({"type": "probe"})


def require_engine(offered: dict, engine: str) -> None:
    """Skip (fail under CI=true) where this Chromium lacks `engine`; WASM is always there."""
    if engine != "wasm" and not offered[engine]:
        skip_unless_ci(f"this Chromium ({CHROMIUM}, {' '.join(GPU_ARGS)}) offers no {engine}")


def test_this_chromium_offers_every_engine(offered):
    """The flags give what the module's docstring says: WebGPU on SwiftShader's adapter, WebGL2."""
    require_engine(offered, "webgpu")
    require_engine(offered, "webgl")
    assert offered["webgpu"]["architecture"] == "swiftshader", offered
    assert "SwiftShader" in offered["webgl"], offered


# --- parity -------------------------------------------------------------------------------------

def rgba(img: Image.Image) -> dict:
    return {"rgba": list(img.convert("RGBA").tobytes()), "width": img.width, "height": img.height}


@pytest.fixture(scope="module")
def problem_images():
    """A 32 px photo, a 64 px painting and the canvas evaluated: the photo plus noise (from the
    photo itself the content loss and its gradient would be zero)."""
    from generator.engine.images import fit_long_side, read_image

    photo = fit_long_side(read_image(ROOT / "site_src" / "content" / "rectoria2.jpg"), PHOTO_SIDE)
    painting = fit_long_side(read_image(ROOT / "site_src" / "styles" / "starry_night.jpg"), PAINTING_SIDE)
    noise = np.random.default_rng(0).integers(-40, 41, (photo.height, photo.width, 3))
    canvas = Image.fromarray(np.clip(np.asarray(photo, np.int16) + noise, 0, 255).astype(np.uint8))
    return photo, painting, canvas


def engine_settings():
    """The engine's defaults, the painting's side floor lowered to its size: the page would enlarge
    it to 512 px (objective.json's style_min_side), the harness takes it as given; starting from the
    photo itself, so run_transfer's first evaluation is the composition at the photo."""
    from generator.engine.settings import TransferSettings

    return TransferSettings(steps=1, style_min_side=PAINTING_SIDE, init="content")


def to_nhwc(grad_nchw) -> np.ndarray:
    """The engine's (1, 3, H, W) gradient (BGR, as images.to_tensor) as the browser's flat NHWC
    array (BGR, objective.js's toInput), in float64."""
    return grad_nchw.detach()[0].permute(1, 2, 0).reshape(-1).double().numpy()


@pytest.fixture(scope="module")
def engine_side(problem_images):
    """The engine's first evaluation at the canvas, composed as run_transfer composes it
    (run_canvases: the network, OneCanvas's losses, stage_targets for the one stage), and the
    gradient of its total with respect to the canvas by autograd."""
    import torch

    from generator.engine.images import to_tensor
    from generator.engine.runtime import network
    from generator.engine.transfer import OneCanvas, Problem, run_transfer, stage_targets

    photo, painting, canvas_image = problem_images
    settings = engine_settings()
    model = network(settings.pooling, "cpu", settings.precision, settings.rescale_weights)
    objective = OneCanvas(model, [Problem(photo, (painting,), settings)], "cpu")
    targets = stage_targets(objective.targets_model, photo, [painting], settings, photo.size, photo.size, "cpu")
    losses_of = objective.stage([targets])
    canvas = to_tensor(canvas_image).requires_grad_(True)
    total, content, style, tv = losses_of(canvas, "float32")
    grad, = torch.autograd.grad(total, canvas)
    # The same composition at the photo (init "content") against run_transfer's own first evaluation.
    at_photo = [t.item() for t in losses_of(targets.content, "float32")]
    first = run_transfer(photo, [painting], settings, photo.size).history[0]
    return {"total": total.item(), "content": content.item(), "style": style.item(), "tv": tv.item(),
            "grad": to_nhwc(grad), "painting_as_given": torch.equal(targets.styles[0], to_tensor(painting)),
            "at_photo": at_photo, "run_transfer": [first[k] for k in ("total", "content", "style", "tv")]}


def test_engine_side_is_run_transfers(engine_side):
    """The engine's side is run_transfer's objective (its first evaluation, from the photo) on the
    painting's own pixels (not resized)."""
    assert engine_side["painting_as_given"]
    assert engine_side["at_photo"] == pytest.approx(engine_side["run_transfer"], rel=1e-6, abs=1e-6)
    assert engine_side["content"] > 0 and engine_side["style"] > 0 and np.abs(engine_side["grad"]).max() > 0


def gradient_error(ours: np.ndarray, theirs: np.ndarray) -> tuple[float, float]:
    """(relative L2 error, cosine) of `ours` against `theirs`."""
    rel = float(np.linalg.norm(ours - theirs) / np.linalg.norm(theirs))
    cos = float(ours @ theirs / (np.linalg.norm(ours) * np.linalg.norm(theirs)))
    return rel, cos


def gradient_agrees(ours: np.ndarray, theirs: np.ndarray) -> bool:
    rel, cos = gradient_error(ours, theirs)
    return rel <= GRAD_REL_L2 and cos >= GRAD_COSINE


def wrong_layouts(grad: np.ndarray, height: int, width: int) -> dict:
    """`grad` (flat NHWC) as the mistakes a comparison must catch would make it."""
    hwc = grad.reshape(height, width, 3)
    return {"doubled": 2 * grad, "halved": grad / 2, "channels swapped (RGB for BGR)": hwc[:, :, ::-1].reshape(-1),
            "read as NCHW": hwc.transpose(2, 0, 1).reshape(-1), "rows flipped": hwc[::-1].reshape(-1),
            "negated": -grad}


@pytest.fixture(scope="module")
def parity_record():
    record = {}
    yield record
    if record:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "engines-parity.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


@pytest.mark.parametrize("engine", ENGINES)
def test_first_evaluation_matches_the_engine(engine, harness, offered, problem_images, engine_side, parity_record):
    """Losses within 1e-3 and the gradient vector within GRAD_REL_L2 / GRAD_COSINE of the engine's."""
    require_engine(offered, engine)
    from generator.engine.live_objective import objective
    from generator.engine.settings import TransferSettings

    photo, painting, canvas = problem_images
    ours = harness.ask({"type": "evaluate", "backend": engine, "photo": rgba(photo), "painting": rgba(painting),
                        "canvas": rgba(canvas)})
    assert ours["backend"] == engine
    assert not any(SYNCHRONOUS_READ in text for text in harness.console), harness.console
    if engine == "webgl":
        assert ours["float32"] is True
    # The page's objective is the engine's defaults; the engine side differs only in the painting's
    # side floor, which the harness does not read (it takes the painting at its size), and in the
    # start, which no first evaluation of a given canvas reads.
    served = {k: v for k, v in ours["objective"].items() if k != "network"}
    assert served == json.loads(json.dumps(objective()))
    default = TransferSettings()
    assert replace(engine_settings(), style_min_side=default.style_min_side, steps=default.steps,
                   init=default.init) == default
    grad = np.asarray(ours["grad"], dtype=np.float64)
    theirs = engine_side["grad"]
    assert grad.shape == theirs.shape == (photo.height * photo.width * 3,)
    rel, cos = gradient_error(grad, theirs)
    parity_record[engine] = {
        "browser": {k: ours[k] for k in ("total", "content", "style", "tv")},
        "engine": {k: engine_side[k] for k in ("total", "content", "style", "tv")},
        "relative_error": {k: abs(ours[k] / engine_side[k] - 1) for k in ("total", "content", "style")},
        "gradient": {"relative_l2": rel, "cosine": cos, "max_abs_relative": float(np.abs(grad - theirs).max() / np.abs(theirs).max())},
    }
    for key in ("content", "style", "total"):
        assert ours[key] == pytest.approx(engine_side[key], rel=LOSS_RTOL), key
    assert gradient_agrees(grad, theirs), (rel, cos)
    # The check can fail: the same gradient, scaled or in another layout, does not pass it.
    for mistake, wrong in wrong_layouts(grad, photo.height, photo.width).items():
        assert not gradient_agrees(wrong, theirs), mistake


# --- the page -----------------------------------------------------------------------------------

class LivePage:
    """en-vivo.html in a fresh context of gpu_browser, console and page errors recorded; `routes`
    ((pattern, handler) pairs) are installed first, and `served` records the URLs they answered."""

    def __init__(self, chromium, base, query, routes=()):
        self.context = chromium.new_context(viewport={"width": 1280, "height": 900})
        self.served = []
        for pattern, handler in routes:
            self.context.route(pattern, self.recorded(handler))
        self.page = self.context.new_page()
        self.errors, self.console = [], []
        self.page.on("console", lambda m: self.console.append(m.text) or (m.type == "error" and self.errors.append(m.text)))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(base + "en-vivo.html" + query, wait_until="load")
        settle(self.page)

    def recorded(self, handler):
        def route(r):   # one parameter: Playwright would pass a second one the request
            self.served.append(r.request.url)
            return handler(r)
        return route

    def state(self) -> dict:
        return self.page.evaluate(f"({{...{STATE}}})")

    def text(self, element: str) -> str:
        return self.page.locator(f"#live-{element}").inner_text()

    def wait(self, condition: str, timeout_s: float) -> dict:
        self.page.wait_for_function(condition, timeout=timeout_s * 1000)
        return self.state()

    def wait_run(self, timeout_s: float) -> dict:
        """The state once the run is done or failed, or as soon as TensorFlow.js warns of a
        synchronous read on WebGPU (SYNCHRONOUS_READ)."""
        deadline = time.monotonic() + timeout_s
        while True:
            state = self.state()
            if state["status"] in ("done", "error") or self.synchronous_read():
                return state
            assert time.monotonic() < deadline, f"no end in {timeout_s} s: {state}"
            self.page.wait_for_timeout(500)

    def synchronous_read(self) -> bool:
        return any(SYNCHRONOUS_READ in text for text in self.console)

    def wait_ready(self) -> dict:
        return self.wait(f"{STATE}.ready === '1' || {STATE}.status === 'error'", 120)

    def close(self):
        self.context.close()


def appended(script: str):
    """A route handler serving the file with `script` after it."""
    def handler(route):
        original = route.fetch()
        return route.fulfill(response=original, body=original.text() + "\n;" + script + "\n")
    return handler


def prepended(script: str):
    """A route handler serving the file with `script` before it."""
    def handler(route):
        original = route.fetch()
        return route.fulfill(response=original, body=script + "\n" + original.text())
    return handler


def small_painting(route):
    """objective.json as served, the painting's side floor lowered from 512 to PAINTING_SIDE px. The
    page computes the painting's Gram matrices in the browser: at 512 px a pass of about three
    minutes on software WebGL and thirteen on software WebGPU (measured on 2 busy cores); the site's
    prepared Gram files are to remove it, and then this route."""
    original = route.fetch()
    served = dict(original.json(), style_min_side=PAINTING_SIDE)
    return route.fulfill(response=original, body=json.dumps(served), content_type="application/json")


SMALL_PAINTING = ("**/live/network/objective.json", small_painting)
# TensorFlow.js as served, then its float32 render-target capability reported false, as on a device
# with float16 render targets only: TensorFlow.js would compute in half precision.
FLOAT16_ONLY = ("**/vendor/tfjs/tf.min.js", appended('self.tf.env().set("WEBGL_RENDER_FLOAT32_CAPABLE", false);'))
# worker.js as served, after a line that names WebGL's renderer as a graphics card's (not
# SwiftShader), so that the page's own choice considers WebGL (it skips a software one first).
HARDWARE_WEBGL = ("**/live/worker.js", prepended(
    "{ const get = WebGL2RenderingContext.prototype.getParameter;"
    "  WebGL2RenderingContext.prototype.getParameter = function (p) {"
    "    return p === 0x9246 || p === 0x1F01 ? 'ANGLE (Test, Test GPU, OpenGL)' : get.call(this, p); }; }"))
HALF_PRECISION_SKIPPED = "WebGL solo con media precisión (16 bits)"
PAGE_RUN_SECONDS = {"webgpu": 420, "webgl": 180}   # measured alone: about 106 s and 13 s (5 evaluations)
PAGE_RUN_EVALUATIONS = 2  # the fewest that show the loss going down

@pytest.mark.parametrize("motor,backend,skipped", [
    ("webgpu", "webgpu", []), ("webgl", "webgl", []),
    ("auto", "wasm", ["WebGPU solo por software", "WebGL solo por software"])])
def test_link_picks_the_engine(gpu_browser, site, offered, motor, backend, skipped):
    """An engine asked for in the link is used, software or not; the page's own choice skips both
    software engines here and says why."""
    require_engine(offered, "webgpu")
    require_engine(offered, "webgl")
    live = LivePage(gpu_browser, site, f"?lado=32&motor={motor}")
    state = live.wait_ready()
    line, errors = live.text("backend"), live.errors
    live.close()
    assert errors == [] and state["status"] == "idle" and state["backend"] == backend, (state, errors)
    for reason in skipped:
        assert reason in line, line
    assert ("no hay uno más rápido" in line) == bool(skipped), line


def test_float16_webgl_is_refused_when_asked_for(gpu_browser, site, offered):
    """`motor=webgl` on a WebGL without float32 render targets: the reader is told, nothing runs."""
    require_engine(offered, "webgl")
    live = LivePage(gpu_browser, site, "?lado=32&motor=webgl", routes=[FLOAT16_ONLY])
    state = live.wait_ready()
    message, served = live.text("message"), live.served
    live.close()
    assert served, "the worker did not load TensorFlow.js through the route"
    assert state["status"] == "error" and state["backend"] == "", state
    assert "WebGL con media precisión" in message and "Elige otro motor" in message, message


@pytest.mark.parametrize("float16", [True, False], ids=["float16", "float32"])
def test_automatic_choice_skips_a_float16_webgl(gpu_browser, site, offered, float16):
    """With WebGL looking like a graphics card's, the page picks it, unless it renders float16
    only: then WASM, and the page says why WebGL was skipped."""
    require_engine(offered, "webgl")
    live = LivePage(gpu_browser, site, "?lado=32", routes=[HARDWARE_WEBGL] + ([FLOAT16_ONLY] if float16 else []))
    state = live.wait_ready()
    line, errors = live.text("backend"), live.errors
    live.close()
    assert errors == [] and state["status"] == "idle", (state, errors)
    if float16:
        assert state["backend"] == "wasm", state
        assert HALF_PRECISION_SKIPPED in line and "WASM" in line, line
    else:
        assert state["backend"] == "webgl", state
        assert HALF_PRECISION_SKIPPED not in line, line


# Last: the slowest runs (software WebGPU, then WebGL) after every other test of this Chromium.
@pytest.mark.parametrize("engine", ["webgl", "webgpu"])
def test_link_runs_on_the_engine_asked_for(engine, gpu_browser, site, offered):
    """`motor=ENGINE` in the link: two evaluations on that engine, though only software offers it."""
    require_engine(offered, engine)
    live = LivePage(gpu_browser, site, f"?lado=32&evaluaciones={PAGE_RUN_EVALUATIONS}&motor={engine}&auto=1",
                    routes=[SMALL_PAINTING])
    state = live.wait_run(PAGE_RUN_SECONDS[engine])
    message, line, errors, served = live.text("message"), live.text("backend"), live.errors, live.served
    history, synchronous_read = live.page.evaluate("window.liveRun.history"), live.synchronous_read()
    live.close()
    assert served, "objective.json was not served through the route"
    assert not synchronous_read, "a synchronous read (dataSync) on WebGPU"
    assert state["status"] == "done", (state, message, errors)
    assert state["backend"] == engine and state["evaluations"] == str(PAGE_RUN_EVALUATIONS), state
    assert message == "" and errors == [], (message, errors)
    assert {"webgpu": "WebGPU", "webgl": "WebGL"}[engine] in line, line
    totals = [h["total"] for h in history]
    assert len(totals) == PAGE_RUN_EVALUATIONS and all(np.isfinite(totals)) and totals[-1] < totals[0], totals
