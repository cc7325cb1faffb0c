// The live page's Web Worker: loads TensorFlow.js and the site's VGG19, prepares a painting's Gram
// matrices (the build's file for the site's paintings, computed here for the reader's own), then
// runs the optimisation stage by stage (coarse to fine) so the page stays responsive. Messages in:
// TO_WORKER, out: FROM_WORKER (protocol.js); an error's message is Spanish text for the reader.
import {FROM_WORKER, PHASE, TO_WORKER} from "./protocol.js";
import {Network, Problem, blendGrams, dequantise, paintingGrams, preparedGrams, toInput, toRGBA} from "./objective.js";
import {makeOptimizer} from "./optim.js";
import {recolouredRGBA} from "./palette.js";
import "../numbers.js";   // a classic script: defines self.SiteNumbers, the site's formatter

const {formatEs} = globalThis.SiteNumbers;

const VENDOR = new URL("../../vendor/tfjs/", import.meta.url);
const SITE = new URL("../../", import.meta.url);
const MANIFEST = new URL("generated/manifest.json", SITE);
const FIGURE = "live/network";
const PAINTING_FIGURE = "live/painting/";

let tf = null;
let manifest = null;
let objective = null;
let net = null;
let run = null;          // {problem, x, optimizer, pending, evaluations, width, height, seconds, stage, stages, grams}
let stopRequested = false;
const paintings = new Map();   // key -> {grams, source}: the prepared paintings, kept while they stay chosen

class ReaderError extends Error {}

const post = (type, data = {}) => self.postMessage({type, ...data});

// WASM threads: TensorFlow.js uses half of navigator.hardwareConcurrency (it assumes two logical
// cores per physical one) and never more; the worker is the only thing computing, so every core
// counts. Only possible where the page is cross-origin isolated (SharedArrayBuffer).
function useEveryCore() {
  const cores = self.navigator.hardwareConcurrency || 1;
  if (!self.crossOriginIsolated || cores < 2) return;
  Object.defineProperty(self.navigator, "hardwareConcurrency", {value: 2 * cores, configurable: true});
  tf.wasm.setThreadsCount(cores);
}

async function loadTf() {
  try {
    await import(new URL("tf.min.js", VENDOR).href);
    await import(new URL("tf-backend-wasm.min.js", VENDOR).href);
    await import(new URL("tf-backend-webgpu.min.js", VENDOR).href);
  } catch (err) {
    throw new ReaderError("No se pudo cargar TensorFlow.js, que esta página necesita. Vuelve a cargar la página; si sigue igual, esta copia del sitio está incompleta.");
  }
  tf = self.tf;
  tf.wasm.setWasmPaths(VENDOR.href);
  useEveryCore();
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
    throw new ReaderError(`No se pudo descargar ${what} (${url.pathname}): revisa tu conexión y vuelve a cargar la página.`);
  }
  if (!response.ok) {
    throw new ReaderError(`No se pudo descargar ${what} (${url.pathname}, error HTTP ${response.status}). Vuelve a cargar la página; si sigue igual, esta copia del sitio está incompleta.`);
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

// A file the manifest names, its bytes checked against the SHA-256 the build recorded.
async function checkedBytes(url, expected, what) {
  const buffer = await (await fetchOk(url, what)).arrayBuffer();
  if (await sha256(buffer) !== expected) {
    throw new ReaderError(`${what[0].toUpperCase()}${what.slice(1)} llegó dañado o incompleto (${formatEs(buffer.byteLength, ",d", "text")} bytes; no es el archivo que generó el sitio). Vuelve a cargar la página.`);
  }
  return buffer;
}

// The manifest names the files; its recorded SHA-256 is checked against the bytes received.
async function loadNetwork() {
  manifest = await (await fetchOk(MANIFEST, "el índice del sitio")).json();
  const figure = manifest.figures && manifest.figures[FIGURE];
  if (!figure) throw new ReaderError("Esta copia del sitio no trae la red para el navegador, así que la página en vivo no puede funcionar aquí.");
  objective = await (await fetchOk(new URL(figure.files.objective, SITE), "la definición del objetivo")).json();
  if (figure.numbers.sha256 !== objective.network.sha256) {
    throw new ReaderError("La red y la definición del objetivo no son de la misma versión del sitio. Vuelve a cargar la página.");
  }
  const buffer = await checkedBytes(new URL(figure.files.weights, SITE), figure.numbers.sha256, "el archivo de pesos de la red");
  net = new Network(tf, objective, dequantise(buffer, objective.network));
  return {bytes: buffer.byteLength};
}

function tensorOf(image) {
  return tf.tensor4d(toInput(objective, image.rgba, image.width, image.height), [1, image.height, image.width, 3]);
}

// The painting resized to the canvas (bilinear, half-pixel centres: torch's align_corners=False).
function resized(t, height, width) {
  return tf.image.resizeBilinear(t, [height, width], false, true);
}

// The first stage's canvas: the photo (`content`, RGBA at the stage's size), the photo in the
// painting's palette (the two paintings' pooled with the blend's weights), the (first) painting
// resized to it, or noise. Read back asynchronously: a synchronous read loses software WebGPU's device.
async function initialCanvas(kind, content, style, blend) {
  if (kind === "recoloured") {
    const rgba = blend ? recolouredRGBA(content.rgba, [style.rgba, blend.style.rgba], [1 - blend.weight, blend.weight])
      : recolouredRGBA(content.rgba, style.rgba);
    return toInput(objective, rgba, content.width, content.height);
  }
  if (kind === "style") {
    const t = tf.tidy(() => resized(tensorOf(style), content.height, content.width));
    const data = (await t.data()).slice();
    t.dispose();
    return data;
  }
  const base = toInput(objective, content.rgba, content.width, content.height);
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

// The previous stage's canvas enlarged to the next stage's size (transfer.run_canvases: bilinear).
async function enlarged(pixels, [from, to]) {
  const t = tf.tidy(() => resized(tf.tensor4d(pixels, [1, from.height, from.width, 3]), to.height, to.width));
  const data = (await t.data()).slice();
  t.dispose();
  return data;
}

function disposeRun() {
  if (run && run.problem) run.problem.dispose();
  if (run && run.blended) dropGrams(run.grams);
  run = null;
}

function memory() {
  const m = tf.memory();
  return {numTensors: m.numTensors, numBytes: m.numBytes};
}

function dropGrams(grams) {
  tf.dispose(Object.values(grams).map(g => g.gram));
}

// Drops the prepared paintings whose key is not in `keep`.
function dropPaintings(keep) {
  for (const [key, p] of paintings) {
    if (keep.includes(key)) continue;
    dropGrams(p.grams);
    paintings.delete(key);
  }
}

// The build's Gram matrices of a site painting, or null when the build has none for this objective.
async function prepared(name) {
  const figure = manifest.figures[PAINTING_FIGURE + name];
  if (!figure || figure.numbers.objective_id !== objective.id) return null;
  const index = await (await fetchOk(new URL(figure.files.index, SITE), "el índice del cuadro preparado")).json();
  const buffer = await checkedBytes(new URL(figure.files.grams, SITE), figure.numbers.sha256, "el cuadro preparado");
  const chosen = objective.style_layers;
  if (!chosen.every(n => index.layers.some(l => l.name === n))) return null;
  return preparedGrams(tf, buffer, index);
}

// A painting's Gram matrices, kept under `key`: the build's file for a site painting (`site`),
// otherwise computed here from its pixels at the engine's style side (`image`). The paintings
// not in `keep` (the page's chosen ones) go.
async function preparePainting({key, site, image, keep = []}) {
  dropPaintings([...keep, key]);
  if (paintings.has(key)) return paintings.get(key);
  const t0 = performance.now();
  let grams = site ? await prepared(site) : null;
  let source = "prepared";
  if (!grams) {
    source = "computed";
    const t = tensorOf(image);
    try {
      grams = await paintingGrams(net, t, objective.style_layers, (done, total) =>
        post(FROM_WORKER.PAINTING_PROGRESS, {key, done, total, seconds: (performance.now() - t0) / 1000}));
    } finally {
      t.dispose();
    }
  }
  const painting = {grams, source};
  paintings.set(key, painting);
  post(FROM_WORKER.PAINTING_READY, {key, source, seconds: (performance.now() - t0) / 1000, memory: memory()});
  return painting;
}

// One stage's problem: the photo at the stage's size and the canvas to start it from.
async function startStage(index, x) {
  const stage = run.stages[index];
  const contentT = tensorOf(stage);
  try {
    if (run.problem) run.problem.dispose();
    run.problem = new Problem(net, contentT, run.grams, run.settings);
    run.x = x ?? await initialCanvas(run.settings.init, stage, run.style, run.blend);
  } finally {
    contentT.dispose();
  }
  Object.assign(run, {stage: index, stageDone: 0, width: stage.width, height: stage.height, pending: null,
    optimizer: makeOptimizer(run.settings.optimizer, [stage.height, stage.width, 3], objective)});
}

const nextTask = () => new Promise(resolve => setTimeout(resolve, 0));

// `count` more evaluations of the current stage: step with the last gradient, evaluate the new canvas.
async function optimise(count) {
  for (let i = 0; i < count; i++) {
    await nextTask();                       // lets a "stop" message in
    if (stopRequested) return false;
    const t0 = performance.now();
    const before = run.pending ? run.x.slice() : null;
    if (run.pending) run.optimizer.step(run.x, run.pending);
    const r = await run.problem.evaluate(run.x);
    if (!Number.isFinite(r.total)) {
      if (before) run.x = before;           // keep the last finite canvas for the download
      run.diverged = true;
      throw new ReaderError(`La optimización divergió en la evaluación ${run.evaluations + 1} (pérdida no finita): `
        + "se conserva el último lienzo válido. Prueba con Adam o con otro α/β y pulsa «Empezar».");
    }
    run.pending = r.grad;
    run.evaluations += 1;
    run.stageDone += 1;
    run.seconds += (performance.now() - t0) / 1000;
    if (!run.quiet) {
      const rgba = toRGBA(objective, run.x, run.width, run.height);
      post(FROM_WORKER.PROGRESS, {evaluation: run.evaluations, content: r.content, style: r.style, tv: r.tv, total: r.total,
        seconds: run.seconds, width: run.width, height: run.height, stage: run.stage, stages: run.stages.length, rgba});
    }
  }
  return true;
}

// Runs the stages from the current one on, each with its evaluations; enlarges between stages.
async function runStages() {
  while (true) {
    const stage = run.stages[run.stage];
    if (!(await optimise(Math.max(0, stage.evaluations - run.stageDone)))) return false;
    if (run.stage === run.stages.length - 1) return true;
    const next = run.stages[run.stage + 1];
    await startStage(run.stage + 1, await enlarged(run.x, [stage, next]));
  }
}

// A new run: the photo at each stage's size, the painting (prepared under `key`; its pixels only
// for a start from the painting or its palette), an optional second painting to blend ({key, weight
// (the second's; the first's is 1 - weight), style: its pixels}), the settings and the evaluations per stage.
async function start({stages, key, style, blend = null, settings}, quiet = false) {
  disposeRun();
  const first = paintings.get(key);
  const second = blend && paintings.get(blend.key);
  if (!first || (blend && !second)) {
    throw new ReaderError("El cuadro todavía no está listo: espera a que termine de prepararse y pulsa «Empezar».");
  }
  const grams = second ? blendGrams(tf, [first.grams, second.grams], [1 - blend.weight, blend.weight]) : first.grams;
  run = {stages, style, blend, settings, quiet, grams, blended: Boolean(second), evaluations: 0, seconds: 0, problem: null};
  const t0 = performance.now();
  await startStage(0, null);
  if (!quiet) post(FROM_WORKER.STARTED, {width: run.width, height: run.height, seconds: (performance.now() - t0) / 1000});
  return runStages();
}

// Seconds per evaluation at side x side: the median of three after one that warms the kernels up
// (the median, because the page may be decoding images on the same cores meanwhile).
async function calibrate(side) {
  const rgba = new Uint8ClampedArray(side * side * 4).map((_, i) => (i * 2654435761) % 251);
  const image = {rgba, width: side, height: side};
  const layers = objective.style_layers;
  const t = tensorOf(image);
  const grams = await paintingGrams(net, t, layers).finally(() => t.dispose());
  const settings = {contentWeight: objective.content_weight, styleWeight: objective.style_weight, tvWeight: 0,
    styleLayers: Object.fromEntries(layers.map(n => [n, 1 / layers.length])), init: "content", optimizer: "lbfgs"};
  paintings.set("calibration", {grams});
  try {
    await start({stages: [{...image, evaluations: 1}], key: "calibration", style: image, settings}, true);
    const times = [];
    for (let i = 0; i < 3; i++) {
      const before = run.seconds;
      run.stages[0].evaluations = run.stageDone + 1;
      await runStages();
      times.push(run.seconds - before);
    }
    return {side, perEvaluation: times.sort((a, b) => a - b)[1]};
  } finally {
    disposeRun();
    dropGrams(grams);
    paintings.delete("calibration");
  }
}

function fail(err, phase) {
  const known = err instanceof ReaderError;
  const detail = err && err.message ? err.message : String(err);
  const message = known ? err.message
    : `Algo falló dentro del cálculo (detalle técnico: ${detail}). El motor se reinicia; vuelve a intentarlo.`;
  post(FROM_WORKER.ERROR, {message, phase, unexpected: !known, diverged: Boolean(run && run.diverged),
    memory: tf && tf.getBackend() ? memory() : null});   // no backend yet: pickBackend refused
}

self.onmessage = async ({data}) => {
  if (data.type === TO_WORKER.STOP) {
    stopRequested = true;
    return;
  }
  const phase = {[TO_WORKER.INIT]: PHASE.INIT, [TO_WORKER.PAINTING]: PHASE.PAINTING}[data.type] || PHASE.RUN;
  try {
    if (data.type === TO_WORKER.INIT) {
      const t0 = performance.now();
      await loadTf();
      const {backend, skipped} = await pickBackend(data.backend);
      const t1 = performance.now();
      const {bytes} = await loadNetwork();
      const seconds = {tf: (t1 - t0) / 1000, network: (performance.now() - t1) / 1000};
      const threads = backend === "wasm" ? tf.wasm.getThreadsCount() : null;
      post(FROM_WORKER.READY, {backend, skipped, bytes, objective, seconds, threads, isolated: Boolean(self.crossOriginIsolated),
        memory: memory()});
      if (data.calibrate) {
        try {
          post(FROM_WORKER.CALIBRATED, {...(await calibrate(data.calibrate)), memory: memory()});
        } catch (err) {
          fail(err, PHASE.CALIBRATE);
        }
      }
    } else if (data.type === TO_WORKER.PAINTING) {
      await preparePainting(data);
    } else if (data.type === TO_WORKER.START) {
      stopRequested = false;
      const finished = await start(data);
      post(finished ? FROM_WORKER.DONE : FROM_WORKER.STOPPED, {evaluations: run.evaluations, seconds: run.seconds, memory: memory()});
    } else if (data.type === TO_WORKER.CONTINUE) {
      if (!run) throw new ReaderError("No hay ninguna pintura en curso que continuar: pulsa «Empezar».");
      if (run.diverged) throw new ReaderError("La última pintura divergió y no se puede continuar: pulsa «Empezar» para empezar de nuevo.");
      stopRequested = false;
      // More evaluations at the final size: a run stopped in a coarse stage is enlarged first.
      const last = run.stages.length - 1;
      if (run.stage < last) await startStage(last, await enlarged(run.x, [run.stages[run.stage], run.stages[last]]));
      run.stages[last].evaluations = run.stageDone + data.evaluations;
      post(FROM_WORKER.STARTED, {width: run.width, height: run.height, continued: true});
      const finished = await runStages();
      post(finished ? FROM_WORKER.DONE : FROM_WORKER.STOPPED, {evaluations: run.evaluations, seconds: run.seconds, memory: memory()});
    }
  } catch (err) {
    fail(err, phase);
  }
};
