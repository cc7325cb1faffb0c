// The live page's Web Worker: loads TensorFlow.js and the site's VGG19, then runs the optimisation
// so the page stays responsive. Messages in: TO_WORKER, out: FROM_WORKER (protocol.js); an error's
// message is Spanish text for the reader.
import {FROM_WORKER, TO_WORKER} from "./protocol.js";
import {Network, Problem, dequantise, paintingGrams, toInput, toRGBA} from "./objective.js";
import {makeOptimizer} from "./optim.js";
import "../numbers.js";   // a classic script: defines self.SiteNumbers, the site's formatter

const {formatEs} = globalThis.SiteNumbers;

const VENDOR = new URL("../../vendor/tfjs/", import.meta.url);
const MANIFEST = new URL("../../generated/manifest.json", import.meta.url);
const FIGURE = "live/network";

let tf = null;
let objective = null;
let net = null;
let run = null;          // {problem, x, optimizer, pending, evaluations, width, height, started}
let stopRequested = false;
let painting = null;     // {key, grams}: the last painting's Gram matrices, reused while it stays

class ReaderError extends Error {}

const post = (type, data = {}) => self.postMessage({type, ...data});

async function loadTf() {
  try {
    await import(new URL("tf.min.js", VENDOR).href);
    await import(new URL("tf-backend-wasm.min.js", VENDOR).href);
    await import(new URL("tf-backend-webgpu.min.js", VENDOR).href);
  } catch (err) {
    throw new ReaderError("No se pudo cargar TensorFlow.js (vendor/tfjs/), que esta página necesita: falta en esta versión del sitio.");
  }
  tf = self.tf;
  tf.wasm.setWasmPaths(VENDOR.href);
}

// A WebGL that only a CPU emulates (SwiftShader, llvmpipe) is slower than WASM: skipped.
function softwareWebGL() {
  try {
    const gl = new OffscreenCanvas(1, 1).getContext("webgl2");
    if (!gl) return "sin WebGL";
    const info = gl.getExtension("WEBGL_debug_renderer_info");
    const renderer = info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
    return /swiftshader|llvmpipe|software|basic render/i.test(renderer) ? "WebGL solo por software" : null;
  } catch (err) {
    return "sin WebGL";
  }
}

async function webgpuProblem() {
  if (!self.navigator.gpu) return "sin WebGPU";
  try {
    const adapter = await self.navigator.gpu.requestAdapter();
    if (!adapter) return "sin WebGPU";
    if (adapter.info && adapter.info.isFallbackAdapter) return "WebGPU solo por software";
    return null;
  } catch (err) {
    return "sin WebGPU";
  }
}

// A WebGL that cannot render to float32 textures makes TensorFlow.js compute in float16, whose
// losses and gradients are not the engine's: refused, never used.
function halfPrecisionWebGL() {
  try {
    return tf.env().getNumber("WEBGL_VERSION") > 0 && !tf.env().getBool("WEBGL_RENDER_FLOAT32_ENABLED");
  } catch (err) {
    return false;   // no WebGL at all: setBackend says so
  }
}

// Fastest first: WebGPU, WebGL, WASM. A backend asked for (`wanted`) is tried first even when only
// emulated in software; if it cannot start, the others follow. A half-precision WebGL is skipped,
// or the error when asked for. Returns the backend and what was skipped.
const BACKENDS = ["webgpu", "webgl", "wasm"];

async function pickBackend(wanted) {
  const auto = !wanted || wanted === "auto";
  const order = auto ? BACKENDS : [wanted, ...BACKENDS.filter(n => n !== wanted)];
  const skipped = [];
  for (const name of order) {
    const forced = !auto && name === wanted;
    const problem = name === "webgpu" ? await webgpuProblem() : name === "webgl" ? softwareWebGL() : null;
    if (problem && !forced) {
      skipped.push(problem);
      continue;
    }
    if (name === "webgl" && halfPrecisionWebGL()) {
      if (forced) {
        throw new ReaderError("Tu navegador solo ofrece WebGL con media precisión (números de 16 bits en lugar de 32): con ella las pérdidas y el lienzo no serían los del programa. Elige otro motor de cálculo, o «el más rápido».");
      }
      skipped.push("WebGL solo con media precisión (16 bits)");
      continue;
    }
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return {backend: name, skipped};
      }
    } catch (err) { /* try the next one */ }
    skipped.push(`${name.toUpperCase()} no arrancó`);
  }
  throw new ReaderError(`Ningún motor de cálculo funcionó en este navegador (${skipped.join("; ")}).`);
}

async function fetchOk(url, what) {
  let response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new ReaderError(`No se pudo leer ${what} (${url.pathname}): ${err.message}.`);
  }
  if (!response.ok) {
    throw new ReaderError(`Falta ${what} en el sitio (${url.pathname}, HTTP ${response.status}). Vuelve a cargar la página; si sigue igual, esta versión del sitio no trae lo que la página en vivo necesita.`);
  }
  return response;
}

async function sha256(buffer) {
  if (!self.crypto || !self.crypto.subtle) {
    throw new ReaderError("Este navegador no puede verificar la red (sin crypto.subtle): abre el sitio por https o desde localhost.");
  }
  const digest = await self.crypto.subtle.digest("SHA-256", buffer);
  return [...new Uint8Array(digest)].map(b => b.toString(16).padStart(2, "0")).join("");
}

// The manifest names the files; its recorded SHA-256 is checked against the bytes received.
async function loadNetwork() {
  const manifest = await (await fetchOk(MANIFEST, "el manifiesto de la construcción")).json();
  const figure = manifest.figures && manifest.figures[FIGURE];
  if (!figure) throw new ReaderError("Esta versión del sitio no incluye la red para el navegador (live/network), así que la página en vivo no puede funcionar aquí.");
  const base = new URL("../../", import.meta.url);
  objective = await (await fetchOk(new URL(figure.files.objective, base), "la definición del objetivo")).json();
  const buffer = await (await fetchOk(new URL(figure.files.weights, base), "el archivo de pesos de la red")).arrayBuffer();
  const expected = figure.numbers.sha256;
  const got = await sha256(buffer);
  if (got !== expected || got !== objective.network.sha256) {
    throw new ReaderError(`El archivo de pesos de la red está dañado o incompleto (${formatEs(buffer.byteLength, ",d", "text")} bytes; su SHA-256 no coincide con el de la construcción). Vuelve a cargar la página.`);
  }
  net = new Network(tf, objective, dequantise(buffer, objective.network));
  return {bytes: buffer.byteLength};
}

// The painting resized to the canvas (bilinear, half-pixel centres: torch's align_corners=False).
function styleInit(style, height, width) {
  return tf.tidy(() => {
    const t = tf.tensor4d(toInput(objective, style.rgba, style.width, style.height), [1, style.height, style.width, 3]);
    return tf.image.resizeBilinear(t, [height, width], false, true);
  });
}

function initialCanvas(kind, content, style, [_, height, width]) {
  if (kind === "style") {
    const t = styleInit(style, height, width);
    const data = t.dataSync().slice();
    t.dispose();
    return data;
  }
  const base = content.dataSync().slice();
  if (kind === "noise") {
    const [mb, mg, mr] = objective.input.mean;
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let i = 0; i < base.length; i += 3) {
      base[i] = rand() * 255 - mb;
      base[i + 1] = rand() * 255 - mg;
      base[i + 2] = rand() * 255 - mr;
    }
  }
  return base;
}

function disposeRun() {
  if (run) run.problem.dispose();
  run = null;
}

function memory() {
  const m = tf.memory();
  return {numTensors: m.numTensors, numBytes: m.numBytes};
}

function gramsFor(style, key) {
  const layers = objective.style_layers;
  if (painting && painting.key === key && key !== null) return painting.grams;
  if (painting) tf.dispose(Object.values(painting.grams).map(g => g.gram));
  painting = null;
  const styleT = tf.tensor4d(toInput(objective, style.rgba, style.width, style.height), [1, style.height, style.width, 3]);
  try {
    painting = {key, grams: paintingGrams(net, styleT, layers)};
  } finally {
    styleT.dispose();
  }
  return painting.grams;
}

// A new problem: photo and painting as RGBA bytes (the painting's `key` names it, so its Gram
// matrices are reused while it stays the same); settings from the page.
function prepare({content, style, settings}) {
  disposeRun();
  const grams = gramsFor(style, style.key ?? null);
  const contentT = tf.tensor4d(toInput(objective, content.rgba, content.width, content.height), [1, content.height, content.width, 3]);
  try {
    const problem = new Problem(net, contentT, grams, settings);
    const x = initialCanvas(settings.init, contentT, style, contentT.shape);
    run = {problem, x, optimizer: makeOptimizer(settings.optimizer, x.length, objective), pending: null,
      evaluations: 0, width: content.width, height: content.height, seconds: 0};
  } finally {
    contentT.dispose();
  }
}

const nextTask = () => new Promise(resolve => setTimeout(resolve, 0));

// `count` more evaluations: step with the last gradient, evaluate the new canvas.
async function optimise(count, {quiet = false} = {}) {
  stopRequested = false;
  for (let i = 0; i < count; i++) {
    await nextTask();                       // lets a "stop" message in
    if (stopRequested) return false;
    const t0 = performance.now();
    if (run.pending) run.optimizer.step(run.x, run.pending);
    const r = await run.problem.evaluate(run.x);
    run.pending = r.grad;
    run.evaluations += 1;
    run.seconds += (performance.now() - t0) / 1000;
    if (!Number.isFinite(r.total)) {
      throw new ReaderError(`La optimización divergió en la evaluación ${run.evaluations} (pérdida no finita): prueba con Adam o con otro α/β.`);
    }
    if (!quiet) {
      const rgba = toRGBA(objective, run.x, run.width, run.height);
      post(FROM_WORKER.PROGRESS, {evaluation: run.evaluations, content: r.content, style: r.style, tv: r.tv, total: r.total,
        seconds: run.seconds, width: run.width, height: run.height, rgba});
    }
  }
  return true;
}

// Seconds per evaluation at 64 x 64 (the second of two, the first warms the kernels up).
async function calibrate() {
  const side = 64;
  const rgba = new Uint8ClampedArray(side * side * 4).map((_, i) => (i * 2654435761) % 251);
  const image = {rgba, width: side, height: side};
  const settings = {contentWeight: objective.content_weight, styleWeight: objective.style_weight, tvWeight: 0,
    styleLayers: Object.fromEntries(objective.style_layers.map(n => [n, 1 / objective.style_layers.length])),
    init: "content", optimizer: "lbfgs"};
  prepare({content: image, style: image, settings});
  await optimise(1, {quiet: true});
  const before = run.seconds;
  await optimise(2, {quiet: true});
  const perEvaluation = (run.seconds - before) / 2;
  disposeRun();
  return {side, perEvaluation};
}

function fail(err) {
  const message = err instanceof ReaderError ? err.message
    : `Error inesperado en el cálculo: ${err && err.message ? err.message : err}`;
  post(FROM_WORKER.ERROR, {message, memory: tf && tf.getBackend() ? memory() : null});   // no backend yet: pickBackend refused
}

self.onmessage = async ({data}) => {
  try {
    if (data.type === TO_WORKER.INIT) {
      const t0 = performance.now();
      await loadTf();
      const {backend, skipped} = await pickBackend(data.backend);
      const t1 = performance.now();
      const {bytes} = await loadNetwork();
      const seconds = {tf: (t1 - t0) / 1000, network: (performance.now() - t1) / 1000};
      const threads = backend === "wasm" ? tf.wasm.getThreadsCount() : null;
      post(FROM_WORKER.READY, {backend, skipped, bytes, objective, seconds, threads, memory: memory()});
      if (data.calibrate) post(FROM_WORKER.CALIBRATED, {...(await calibrate()), memory: memory()});
    } else if (data.type === TO_WORKER.START) {
      const t0 = performance.now();
      prepare(data);
      post(FROM_WORKER.STARTED, {width: run.width, height: run.height, seconds: (performance.now() - t0) / 1000});
      const finished = await optimise(data.evaluations);
      post(finished ? FROM_WORKER.DONE : FROM_WORKER.STOPPED, {evaluations: run.evaluations, seconds: run.seconds, memory: memory()});
    } else if (data.type === TO_WORKER.CONTINUE) {
      if (!run) throw new ReaderError("No hay ninguna pintura en curso que continuar: pulsa «Empezar».");
      post(FROM_WORKER.STARTED, {width: run.width, height: run.height, continued: true});
      const finished = await optimise(data.evaluations);
      post(finished ? FROM_WORKER.DONE : FROM_WORKER.STOPPED, {evaluations: run.evaluations, seconds: run.seconds, memory: memory()});
    } else if (data.type === TO_WORKER.STOP) {
      stopRequested = true;
    }
  } catch (err) {
    fail(err);
  }
};
