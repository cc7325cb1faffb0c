// The live page: its controls, its images and the #live-state element; the link's parameters are
// read in query.js, the optimisation runs in worker.js (messages named in protocol.js). Nothing is
// sent anywhere: the only requests are the site's own files.
import {ImageError, decode, fitLongSide, pixels, preview} from "./images.js";
import {drawPlot} from "./plot.js";
import {fixed, formatEs, plain, scientific} from "./format.js";
import {FROM_WORKER, PHASE, TO_WORKER} from "./protocol.js";
import {BLEND_STEP, EVALUATIONS, SELECT_PARAMETERS, SIZES, readQuery, validEvaluations, writeQuery} from "./query.js";
import {planStages, relativeCost} from "./schedule.js";
import {isolate} from "./isolation.js";
import {browserLimit, estimateBytes, fits} from "./memory.js";

const $ = id => document.getElementById(id);
// The #live-state element's data-status: what the page is doing, for scripts and tests.
const STATUS = Object.freeze({IDLE: "idle", RUNNING: "running", DONE: "done", ERROR: "error"});
const TARGET_SECONDS = 45;       // a default run's evaluations: with loading, the page ends within a minute
const CALIBRATION_SIDE = 128;    // the speed measurement's canvas (px a side)
// A default run takes fewer evaluations, never under this, to stay larger: at the page's budget 16
// one-stage evaluations with the pyramid at 384 px scored as well as the 46 of the earlier plain
// coarse-to-fine run, 11 at 512 px worse than 20 at 384 (bench/README.md, the browser).
const MIN_DEFAULT_EVALUATIONS = 16;
const PREVIEW_SIDE = 320;
const MAX_FRAMES = 60;   // the run's frames kept for «Repasa el lienzo», thinned to every other one when full
const FRAME_SIDE = 256;  // a kept frame's long side at most (px): 60 frames stay under 16 MB
const BACKEND_NAMES = {webgpu: "WebGPU (tarjeta gráfica)", webgl: "WebGL (tarjeta gráfica)",
  wasm: "WASM (WebAssembly en el procesador)"};

const ui = {
  root: $("live"), state: $("live-state"), message: $("live-message"), status: $("live-status"),
  backend: $("live-backend"), photoSelect: $("live-photo"), photoFile: $("live-photo-file"),
  paintingSelect: $("live-painting"), paintingFile: $("live-painting-file"), ratio: $("live-ratio"),
  ratioOut: $("live-ratio-value"), layers: $("live-layers"), size: $("live-size"),
  evaluations: $("live-evaluations"), optimizer: $("live-optimizer"), init: $("live-init"),
  engine: $("live-engine"), start: $("live-start"), stop: $("live-stop"), resume: $("live-continue"),
  download: $("live-download"), canvas: $("live-canvas"), plot: $("live-plot"),
  progress: $("live-progress"), progressBar: $("live-progress-bar"), progressText: $("live-progress-text"),
  photoPreview: $("live-photo-preview"), paintingPreview: $("live-painting-preview"), announcer: $("live-announce"),
  link: $("live-link"), linkText: $("live-link-text"), compare: $("live-compare"), compareRange: $("live-compare-range"),
  replayBox: $("live-replay-box"), replay: $("live-replay"), replayOut: $("live-replay-value"),
  painting2Select: $("live-painting2"), painting2File: $("live-painting2-file"), painting2Preview: $("live-painting2-preview"),
  blendField: $("live-blend-field"), blend: $("live-blend"), blendOut: $("live-blend-value"),
};

// The three images a reader chooses: the photo, the painting and an optional second painting whose
// Gram matrices blend with the first's (stylize --style-blend-weights). `site`: the manifest's kind.
const KINDS = {
  photo: {site: "photo", noun: "Foto", what: "la foto"},
  painting: {site: "painting", noun: "Cuadro", what: "el cuadro"},
  painting2: {site: "painting", noun: "Segundo cuadro", what: "el segundo cuadro"},
};
const PAINTINGS = ["painting", "painting2"];
const DEFAULT_BLEND = 0.5;   // the second painting's weight; the first's is 1 minus it

const page = {
  worker: null, objective: null, manifest: null, ready: false, running: false, history: [],
  photo: null, painting: null, sizeChosen: false, evaluationsChosen: false, calibration: null, backend: null,
  auto: false, paintingReady: null, threads: 1, isolation: null, frames: [], frameStride: 1, result: null,
};
window.liveRun = page;   // for curious readers and the tests: history, objective, calibration

// --- small helpers -------------------------------------------------------------------------

function setState(values) {
  for (const [k, v] of Object.entries(values)) ui.state.dataset[k] = v;
}

function say(text) {
  ui.message.textContent = text || "";
  ui.message.hidden = !text;
}

function status(text) {
  ui.status.textContent = text;
}

// The milestones (a run starts, a stage begins, it ends, an error), for screen readers: the shown
// status line changes at every evaluation and is not announced.
function announce(text) {
  ui.announcer.textContent = text;
}

// Whether a run can start: the engine loaded (and measured), the photo read, the painting prepared.
function canStart() {
  return Boolean(page.ready && page.photo && page.painting && page.paintingReady === page.painting.key
    && (!page.painting2 || page.painting2Ready === page.painting2.key));
}

function buttons() {
  const ready = canStart();
  ui.start.disabled = !ready || page.running;
  ui.stop.disabled = !page.running;
  ui.resume.disabled = !ready || page.running || page.history.length === 0 || page.diverged;
  ui.download.disabled = page.history.length === 0 || page.canvasHolds !== "result";
  ui.replayBox.hidden = page.running || page.canvasHolds !== "result" || page.frames.length < 2;
}

// --- site images from the manifest ---------------------------------------------------------

function siteImages(kind) {
  const section = kind === "photo" ? "content" : "style";
  return (page.manifest.catalog[section] || [])
    .map(entry => ({name: entry.name, title: entry.title || entry.name,
      figure: page.manifest.figures[`${kind}/${entry.name}`]}))
    .filter(e => e.figure && e.figure.files.image);
}

function fillSelect(select, entries) {
  select.replaceChildren(...entries.map(e => new Option(e.title, e.name)));
}

async function loadSite(kind, name) {
  const entry = siteImages(KINDS[kind].site).find(e => e.name === name);
  const response = await fetch(entry.figure.files.image);
  if (!response.ok) throw new ImageError(`No se pudo leer la imagen del sitio «${name}» (HTTP ${response.status}).`);
  return useImage(kind, await response.blob(), entry.title, name);
}

async function useImage(kind, blob, label, siteName = null) {
  const bitmap = await decode(blob, label);
  const target = kind;
  if (target !== "photo" && page.objective) refuseThinPainting(bitmap, label, target);
  if (page[target]) page[target].bitmap.close();
  page.loaded = (page.loaded || 0) + 1;
  page[target] = {bitmap, label, siteName, id: page.loaded, key: `${page.loaded}:${siteName || label}`};
  preview(ui[`${target}Preview`], bitmap, PREVIEW_SIDE);
  ui[`${target}Preview`].setAttribute("aria-label", `${KINDS[kind].noun}: ${label}, ${bitmap.width} × ${bitmap.height} px`);
  setState({[`${target}Width`]: bitmap.width, [`${target}Height`]: bitmap.height});
  const select = ui[`${target}Select`];
  if (target === "painting2") ui.blendField.hidden = false;
  if (target !== "photo") preparePainting(target);
  if (target === "photo" && page.calibration) calibrated(chooseDefaults(page.calibration.perEvaluation, page.calibration.side));
  if (target === "photo" && !page.running) showPhoto();
  if (!siteName) {
    let own = select.querySelector("option[data-own]");
    if (!own) {
      own = new Option("", "__own__");
      own.dataset.own = "1";
      select.append(own);
    }
    own.textContent = `Tu archivo: ${label}`;
    select.value = "__own__";
  }
  refresh();
}

// The painting's long side for every canvas the page offers (objective.json's painting_side:
// transfer.style_side, the same for all of them).
function paintingSide() {
  return page.objective.painting_side;
}

// A painting whose short side, at the painting's side, is under the network's minimum leaves the
// deepest style layer without positions (a NaN loss): refused, and no painting stays chosen there.
function refuseThinPainting(bitmap, label, kind) {
  const [sw, sh] = fitLongSide(bitmap.width, bitmap.height, paintingSide(), true);
  const least = page.objective.min_canvas_side;
  if (Math.min(sw, sh) >= least) return;
  bitmap.close();
  dropImage(kind);
  buttons();
  throw new ImageError(`El cuadro «${label}» es demasiado alargado (${bitmap.width} × ${bitmap.height} px): `
    + `al reducirlo a ${sw} × ${sh} px quedaría con menos de ${least} px de lado menor, y la red no puede leer su estilo. `
    + "Elige un cuadro menos alargado o recórtalo.");
}

// No image chosen for `kind` any more (a painting too thin, or no second painting).
function dropImage(kind) {
  if (page[kind]) page[kind].bitmap.close();
  Object.assign(page, {[kind]: null, [`${kind}Ready`]: null, [`${kind}Requested`]: null});
  ui[`${kind}Select`].value = "";
  ui[`${kind}Preview`].width = ui[`${kind}Preview`].height = 1;
  if (kind === "painting2") ui.blendField.hidden = true;
}

// Asks the worker for a chosen painting's Gram matrices (the build's file for a site painting,
// computed in the worker for the reader's own), as soon as both exist: before «Empezar». The worker
// keeps the two paintings chosen (`keep`) and drops the others.
async function preparePainting(kind = "painting") {
  if (!page[kind] || !page.workerReady) return;
  const p = page[kind];
  if (page[`${kind}Requested`] === p.key) return;
  page[`${kind}Requested`] = p.key;
  const [sw, sh] = fitLongSide(p.bitmap.width, p.bitmap.height, paintingSide(), true);
  p.pixels = {rgba: await pixels(p.bitmap, sw, sh), width: sw, height: sh};
  if (page[kind] !== p) return;
  status(`Preparando ${KINDS[kind].what} «${p.label}»…`);
  showProgress(0, `Preparando ${KINDS[kind].what}`);
  page.worker.postMessage({type: TO_WORKER.PAINTING, key: p.key, site: p.siteName,
    image: {rgba: p.pixels.rgba.slice(), width: sw, height: sh}, keep: PAINTINGS.map(k => page[k] && page[k].key).filter(Boolean)});
  buttons();
}

// The second painting's weight (the slider), and the first's, 1 minus it.
function blendWeight() {
  return Number(ui.blend.value);
}

function showBlend() {
  const w = blendWeight();
  const text = `${fixed(100 * w, 0)} % (el primero, ${fixed(100 * (1 - w), 0)} %)`;
  ui.blendOut.textContent = text;
  ui.blend.setAttribute("aria-valuetext", `segundo cuadro ${fixed(100 * w, 0)} %, primer cuadro ${fixed(100 * (1 - w), 0)} %`);
}

async function guarded(action, clear = true) {
  try {
    if (clear) say("");
    await action();
  } catch (err) {
    say(err instanceof ImageError ? err.message : `Algo falló: ${err.message}`);
  }
}

// --- controls ------------------------------------------------------------------------------

// The exponent of α/β: exact from the objective or a link, the slider's value once it is moved.
function ratio() {
  return 10 ** page.ratioExponent;
}

function setRatio(exponent) {
  page.ratioExponent = exponent;
  ui.ratio.value = String(exponent);
  showRatio();
}

// The slider spans RATIO_SPAN decades either side of the engine's α/β and starts there.
const RATIO_SPAN = 3;

function setRatioRange(exponent) {
  ui.ratio.min = String(Math.floor(exponent) - RATIO_SPAN);
  ui.ratio.max = String(Math.ceil(exponent) + RATIO_SPAN);
  page.defaultRatioExponent = exponent;
  setState({defaultRatioExponent: plain(exponent)});
  setRatio(exponent);
}

function showRatio() {
  ui.ratioOut.textContent = `α/β = ${scientific(page.ratioExponent)}`;
  ui.ratio.setAttribute("aria-valuetext", ui.ratioOut.textContent);
}

function chosenLayers() {
  return [...ui.layers.querySelectorAll("input:checked")].map(i => i.value);
}

function buildLayerBoxes(objective) {
  ui.layers.querySelectorAll("label").forEach(l => l.remove());
  for (const name of objective.style_layers) {
    const label = document.createElement("label");
    const box = Object.assign(document.createElement("input"), {type: "checkbox", value: name, checked: true});
    label.append(box, ` ${name}`);
    ui.layers.insertBefore(label, $("live-layers-hint"));   // the boxes, then the hint
  }
}

// The largest canvas whose run fits TARGET_SECONDS at the measured speed, with the schedule's
// evaluations, or fewer (never under MIN_DEFAULT_EVALUATIONS) to stay
// large. An evaluation costs about its pixel count; the measurement's small canvas carries more
// overhead per pixel, so larger sizes are overestimated (a safe side).
function chooseDefaults(perEvaluation, side) {
  const steps = page.objective.schedule.steps;
  const [w, h] = page.photo ? [page.photo.bitmap.width, page.photo.bitmap.height] : [4, 3];
  const secondsAt = (size, n) => {
    const [cw, ch] = fitLongSide(w, h, size);
    return relativeCost(planStages([cw, ch], size, n, page.objective.schedule, page.objective.min_canvas_side))
      * perEvaluation * (cw * ch) / (side * side);
  };
  for (const size of [...SIZES].reverse()) {
    if (secondsAt(size, steps) <= TARGET_SECONDS) return {size, evaluations: steps};
    const n = Math.floor(steps * TARGET_SECONDS / secondsAt(size, steps));
    if (n >= MIN_DEFAULT_EVALUATIONS) return {size, evaluations: n};
  }
  return {size: SIZES[0], evaluations: steps};
}

const EVALUATIONS_MESSAGE = `El número de evaluaciones debe ir de ${EVALUATIONS.min} a ${EVALUATIONS.max}.`;

function readSettings() {
  const layers = chosenLayers();
  const r = ratio();
  const weights = {};
  const obj = page.objective;
  const given = obj.style_layer_weights;
  const chosen = obj.style_layers.filter(n => layers.includes(n));
  for (const name of chosen) weights[name] = obj.style_layer_weights_rule === "given" ? given[name] : 1 / chosen.length;
  return {
    contentWeight: obj.content_weight, styleWeight: obj.content_weight / r, tvWeight: obj.tv_weight,
    styleLayers: weights, optimizer: ui.optimizer.value, init: ui.init.value,
  };
}

// --- running -------------------------------------------------------------------------------

async function start() {
  if (!canStart() || page.running) return;
  say("");
  const settings = readSettings();
  if (Object.keys(settings.styleLayers).length === 0) {
    say("Elige al menos una capa de estilo.");
    return;
  }
  const evaluations = Math.round(Number(ui.evaluations.value));
  if (!validEvaluations(evaluations)) {
    say(EVALUATIONS_MESSAGE);
    return;
  }
  const side = Number(ui.size.value);
  const obj = page.objective;
  const [w, h] = fitLongSide(page.photo.bitmap.width, page.photo.bitmap.height, side);
  if (Math.min(w, h) < obj.min_canvas_side) {
    say(`La foto «${page.photo.label}» quedaría de ${w} × ${h} px: la red necesita al menos ${obj.min_canvas_side} px por lado (elige una foto más grande o un tamaño mayor).`);
    return;
  }
  const limit = browserLimit();
  const need = estimateBytes(w, h, obj.deepest, settings.optimizer, obj.lbfgs.history);
  if (!fits(need, limit)) {
    const smaller = SIZES.filter(size => size < side
      && fits(estimateBytes(...fitLongSide(page.photo.bitmap.width, page.photo.bitmap.height, size), obj.deepest,
        settings.optimizer, obj.lbfgs.history), limit));
    const advice = smaller.length ? `elige ${smaller[smaller.length - 1]} px o menos en «Tamaño»` : "prueba en otro dispositivo";
    say(`A ${w} × ${h} px el cálculo necesitaría unos ${fixed(need / 2 ** 20, 0)} MB de memoria, más de lo que este navegador `
      + `puede dar con seguridad (unos ${fixed(limit / 2 ** 20 / 2, 0)} MB): ${advice}.`);
    return;
  }
  const plan = planStages([w, h], side, evaluations, obj.schedule, obj.min_canvas_side);
  const stages = [];
  for (const st of plan) stages.push({...st, rgba: await pixels(page.photo.bitmap, st.width, st.height)});
  const style = page.painting.pixels;
  page.history = [];
  resetFrames();
  drawPlot(ui.plot, []);   // the previous run's plot goes at once
  page.running = true;
  page.diverged = false;
  page.runInputs = runInputs();
  page.runWeights = settings;
  page.plannedEvaluations = evaluations;
  page.plan = plan;
  sizeCanvas(w, h);
  drawPhoto();
  showCanvas("photo", `El lienzo: la foto a ${w} × ${h} px, antes de la primera evaluación`);
  page.announcedStage = 0;
  const second = page.painting2;
  page.runNames = {photo: fileStem(page.photo.siteName || page.photo.label, "foto"),
    painting: fileStem(page.painting.siteName || page.painting.label, "cuadro")
      + (second ? `-y-${fileStem(second.siteName || second.label, "cuadro")}` : "")};
  page.runs = (page.runs || 0) + 1;
  setBeforeImage(stages[stages.length - 1].rgba, w, h);
  setState({status: STATUS.RUNNING, runs: page.runs, evaluations: 0, width: w, height: h, size: Math.max(w, h),
    stages: plan.map(st => `${st.width}x${st.height}:${st.evaluations}`).join(" ")});
  status(`Preparando: ${plan.map(st => `${st.evaluations} evaluaciones a ${st.width} × ${st.height} px`).join(", luego ")}…`);
  showProgress(0, "Pintando");
  buttons();
  const blend = second ? {key: second.key, weight: blendWeight(),
    style: {rgba: second.pixels.rgba.slice(), width: second.pixels.width, height: second.pixels.height}} : null;
  page.worker.postMessage({type: TO_WORKER.START, stages, key: page.painting.key,
    style: {rgba: style.rgba.slice(), width: style.width, height: style.height}, blend, settings},
  stages.map(st => st.rgba.buffer));
}

// What a run was started with; «Continuar» refuses when any of it changed since.
function runInputs() {
  return {"la foto": page.photo.key, "el cuadro": page.painting.key,
    "el segundo cuadro": page.painting2 ? page.painting2.key : "", "la mezcla": page.painting2 ? ui.blend.value : "",
    "α/β": String(page.ratioExponent),
    "las capas de estilo": chosenLayers().join(), "el optimizador": ui.optimizer.value,
    "el lienzo inicial": ui.init.value, "el tamaño": ui.size.value};
}

function changedInputs() {
  const now = runInputs();
  return Object.keys(now).filter(what => page.runInputs && now[what] !== page.runInputs[what]);
}

function resume() {
  if (!canStart() || page.running || page.history.length === 0) return;
  const changed = changedInputs();
  if (changed.length) {
    const list = changed.length === 1 ? changed[0] : `${changed.slice(0, -1).join(", ")} y ${changed[changed.length - 1]}`;
    say(`Cambiaste ${list} desde el último cálculo: «Continuar» seguiría con lo anterior. Pulsa «Empezar» para pintar con los cambios.`);
    return;
  }
  say("");
  const evaluations = Math.round(Number(ui.evaluations.value));
  if (!validEvaluations(evaluations)) {
    say(EVALUATIONS_MESSAGE);
    return;
  }
  page.running = true;
  page.plannedEvaluations = page.history.length + evaluations;
  if (page.result) paint(page.result);   // the canvas may show an earlier frame (the replay)
  showCanvas("result");
  setState({status: STATUS.RUNNING});
  buttons();
  page.worker.postMessage({type: TO_WORKER.CONTINUE, evaluations});
}

// The share of the run's cost done after `evaluation` evaluations (an evaluation costs its pixels).
function runFraction(evaluation) {
  const last = page.plan[page.plan.length - 1];
  let done = 0;
  let left = evaluation;
  for (const st of page.plan) {
    const n = Math.min(left, st.evaluations);
    done += n * (st.width * st.height) / (last.width * last.height);
    left -= n;
  }
  done += left;   // «Continuar»: more evaluations at the final size
  return done / Math.max(relativeCost(page.plan) + Math.max(0, page.plannedEvaluations - sumEvaluations(page.plan)), 1e-9);
}

const sumEvaluations = plan => plan.reduce((s, st) => s + st.evaluations, 0);

function onProgress(m) {
  page.history.push({evaluation: m.evaluation, content: m.content * page.runWeights.contentWeight,
    style: m.style * page.runWeights.styleWeight, total: m.total, rawContent: m.content, rawStyle: m.style,
    seconds: m.seconds, stage: m.stage});
  if (page.canvasHolds !== "result") showCanvas("result");
  const frame = new ImageData(m.rgba, m.width, m.height);
  paint(frame);
  keepFrame(m.evaluation, frame);
  if (m.stage !== page.announcedStage) {
    page.announcedStage = m.stage;
    announce(`Etapa ${m.stage + 1} de ${m.stages}: ${m.width} × ${m.height} px.`);
  }
  drawPlot(ui.plot, page.history);
  const rate = m.evaluation / m.seconds;
  const fraction = runFraction(m.evaluation);
  setState({evaluations: m.evaluation, stage: m.stage, contentLoss: plain(m.content), styleLoss: plain(m.style),
    totalLoss: plain(m.total), evaluationsPerSecond: plain(rate)});
  const stage = m.stages > 1 ? ` (etapa ${m.stage + 1} de ${m.stages}: ${m.width} × ${m.height} px)` : "";
  status(`Evaluación ${m.evaluation} de ${page.plannedEvaluations}${stage} · pérdida total ${formatEs(m.total, ".3e", "text")}`);
  showProgress(fraction, "Pintando", fraction > 0 ? m.seconds * (1 - fraction) / fraction : null);
  showBackend(rate);
}

// A frame (ImageData) on `canvas` (the visible one by default), enlarged when it comes from a
// coarse stage or from the replay's smaller copies.
function paint(frame, canvas = ui.canvas) {
  const ctx = canvas.getContext("2d");
  if (frame.width === canvas.width && frame.height === canvas.height) {
    ctx.putImageData(frame, 0, 0);
    return;
  }
  const small = new OffscreenCanvas(frame.width, frame.height);
  small.getContext("2d").putImageData(frame, 0, 0);
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
}

// --- the run's frames and «Repasa el lienzo» ----------------------------------------------

function resetFrames() {
  Object.assign(page, {frames: [], frameStride: 1, result: null});
  setState({frames: 0});
}

// Every frame is the latest result (for the download and the replay's end); the first evaluation
// and every frameStride-th are kept, at FRAME_SIDE px at most. When MAX_FRAMES would be reached the
// stride doubles and the frames off it go, so the kept ones stay spread over the whole run.
function keepFrame(evaluation, frame) {
  page.result = frame;
  page.resultEvaluation = evaluation;
  if (evaluation !== 1 && evaluation % page.frameStride !== 0) return;
  page.frames.push({evaluation, image: shrunk(frame)});
  if (page.frames.length >= MAX_FRAMES) {
    page.frameStride *= 2;
    page.frames = page.frames.filter(f => f.evaluation === 1 || f.evaluation % page.frameStride === 0);
  }
  setState({frames: page.frames.length});
}

function shrunk(frame) {
  if (Math.max(frame.width, frame.height) <= FRAME_SIDE) return frame;
  const [w, h] = fitLongSide(frame.width, frame.height, FRAME_SIDE);
  const small = new OffscreenCanvas(w, h);
  paint(frame, small);
  return small.getContext("2d").getImageData(0, 0, w, h);
}

// When a run stops or ends: its last frame joins the kept ones, and the slider stands on it.
function offerReplay() {
  const last = page.frames[page.frames.length - 1];
  if (page.result && (!last || last.evaluation !== page.resultEvaluation)) {
    page.frames.push({evaluation: page.resultEvaluation, image: shrunk(page.result)});
  }
  setState({frames: page.frames.length});
  ui.replay.max = String(Math.max(0, page.frames.length - 1));
  ui.replay.value = ui.replay.max;
  showReplayValue();
}

function replayAtEnd() {
  return Number(ui.replay.value) >= page.frames.length - 1;
}

function showReplayValue() {
  const frame = page.frames[Number(ui.replay.value)];
  if (!frame) return;
  const of = page.frames[page.frames.length - 1].evaluation;
  const text = replayAtEnd() ? `evaluación ${frame.evaluation} de ${of} (el resultado)` : `evaluación ${frame.evaluation} de ${of}`;
  ui.replayOut.textContent = text;
  ui.replay.setAttribute("aria-valuetext", text);
  setState({replayEvaluation: frame.evaluation});
}

// The slider moved: the kept frame on the canvas, or at its end the result and the before/after slider.
function replay() {
  if (page.running || page.canvasHolds !== "result") return;
  showReplayValue();
  const frame = page.frames[Number(ui.replay.value)];
  if (!frame) return;
  if (replayAtEnd()) {
    paint(page.result);
    showCanvas("result", `El resultado: ${ui.canvas.width} × ${ui.canvas.height} px`);
    showCompare();
    return;
  }
  paint(frame.image);
  showCanvas("result", `El lienzo en la evaluación ${frame.evaluation} (repaso)`);
}

// The progress bar: `fraction` of `what` done, with the seconds left when known.
function showProgress(fraction, what, secondsLeft = null) {
  ui.progress.hidden = false;
  ui.progressBar.value = Math.min(1, Math.max(0, fraction));
  const left = secondsLeft === null || !Number.isFinite(secondsLeft) ? "" : ` · quedan unos ${fixed(Math.max(0, secondsLeft), 0)} s`;
  ui.progressText.textContent = `${what}: ${fixed(100 * Math.min(1, fraction), 0)} %${left}`;
}

function showBackend(rate = null) {
  const skipped = page.skipped && page.skipped.length ? `; no hay uno más rápido (${page.skipped.join("; ")})` : "";
  const threads = page.backend === "wasm" ? `, ${page.threads} hilo${page.threads === 1 ? "" : "s"}`
    + (page.isolation && !page.isolation.isolated ? ` (${page.isolation.reason})` : "") : "";
  const speed = rate ? ` · ${fixed(rate, 2)} evaluaciones por segundo` : "";
  ui.backend.textContent = `Motor de cálculo: ${BACKEND_NAMES[page.backend] || page.backend}${threads}${skipped}${speed}.`;
}

function finished(m, type) {
  page.running = false;
  showProgress(type === FROM_WORKER.DONE ? 1 : runFraction(m.evaluations), type === FROM_WORKER.DONE ? "Listo" : "Detenido");
  setState({status: STATUS.DONE, tensors: m.memory ? m.memory.numTensors : "",
    bytes: m.memory ? m.memory.numBytes : ""});
  if (type === FROM_WORKER.DONE) {
    status(`Listo: ${m.evaluations} evaluaciones en ${fixed(m.seconds)} s (${fixed(m.evaluations / m.seconds, 2)} por segundo).`);
  } else if (m.evaluations === 0) {
    status("Detenido antes de la primera evaluación: pulsa «Empezar» cuando quieras.");
  } else {
    status(`Detenido tras ${m.evaluations} evaluaciones; puedes continuar o descargar la imagen.`);
  }
  announce(ui.status.textContent);
  offerReplay();
  if (page.canvasHolds === "result") showCompare();
  buttons();
}

// --- the canvas, the before/after slider, the download -----------------------------------------

// The canvas shows the photo from the moment it is read (at the size a run would paint), then the
// run's frames; `holds` says which ("photo" or "result": only a result is downloaded or compared).
function showCanvas(holds, label = null) {
  page.canvasHolds = holds;
  ui.canvas.setAttribute("aria-label", label || "El lienzo que se está pintando");
  ui.compare.hidden = true;
  ui.canvas.hidden = false;
}

// The canvas at w × h px; it and the before/after slider are shown at most twice that wide
// (live.css): a small result is not blown up to the column's width.
function sizeCanvas(w, h) {
  ui.canvas.width = w;
  ui.canvas.height = h;
  ui.canvas.parentElement.style.setProperty("--live-canvas-width", `${w}px`);
}

function drawPhoto() {
  const ctx = ui.canvas.getContext("2d");
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, ui.canvas.width, ui.canvas.height);
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(page.photo.bitmap, 0, 0, ui.canvas.width, ui.canvas.height);
}

// The chosen photo on the canvas, at the chosen size, while no run is painting and none was
// painted from this photo at this size.
function showPhoto() {
  if (!page.photo || page.running) return;
  const [w, h] = fitLongSide(page.photo.bitmap.width, page.photo.bitmap.height, Number(ui.size.value));
  sizeCanvas(w, h);
  drawPhoto();
  showCanvas("photo", `El lienzo, todavía sin pintar: la foto a ${w} × ${h} px`);
  setState({canvasWidth: w, canvasHeight: h});
  buttons();
}

// The photo as the run's final stage reads it, for the slider's «before» side.
function setBeforeImage(rgba, width, height) {
  const canvas = new OffscreenCanvas(width, height);
  canvas.getContext("2d").putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
  const run = page.runs;
  canvas.convertToBlob({type: "image/png"}).then(blob => {
    if (run !== page.runs) return;   // a newer run has begun
    swapURL(compareImage("before"), URL.createObjectURL(blob));
  });
}

// The slider's two pictures (compare.js's classes), made on first use: an <img> without a source
// would count as a broken image. The photo ("before") lies above the result and is clipped.
function compareImage(which) {
  const id = `live-compare-${which}`;
  let img = $(id);
  if (!img) {
    img = Object.assign(document.createElement("img"), {id, className: `st-compare__${which} off-glb`, alt: ""});
    if (which === "after") ui.compare.prepend(img);
    else ui.compare.querySelector(".st-compare__tag").before(img);
  }
  return img;
}

function swapURL(img, url) {
  if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
  img.src = url;
}

// When a run ends with a result: the slider over the photo and the result, in the canvas's place.
function showCompare() {
  const [w, h] = [ui.canvas.width, ui.canvas.height];
  ui.canvas.toBlob(blob => {
    if (page.running || page.canvasHolds !== "result" || !replayAtEnd()) return;
    const after = compareImage("after");
    swapURL(after, URL.createObjectURL(blob));
    after.alt = `El resultado: ${w} × ${h} px`;
    ui.compare.style.aspectRatio = `${w} / ${h}`;
    ui.compareRange.value = "50";
    ui.compareRange.dispatchEvent(new Event("input", {bubbles: true}));   // compare.js sets --pos and the text
    ui.canvas.hidden = true;
    ui.compare.hidden = false;
  }, "image/png");
}

// A file name's part from a site name or the reader's file name: no extension, no accents, only
// lowercase letters, digits, «_» and «-».
function fileStem(name, fallback) {
  const stem = String(name).replace(/\.[A-Za-z0-9]{1,5}$/, "").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
    .toLowerCase().replace(/[^a-z0-9_]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40).replace(/-+$/, "");
  return stem || fallback;
}

function downloadName() {
  const names = page.runNames || {photo: "foto", painting: "cuadro"};
  return `${names.photo}-${names.painting}-${Math.max(ui.canvas.width, ui.canvas.height)}px.png`;
}

// The final canvas, as a PNG, even while the replay shows an earlier frame.
async function download() {
  const canvas = new OffscreenCanvas(ui.canvas.width, ui.canvas.height);
  if (page.result && !replayAtEnd()) paint(page.result, canvas);
  else canvas.getContext("2d").drawImage(ui.canvas, 0, 0);
  const blob = await canvas.convertToBlob({type: "image/png"});
  const a = Object.assign(document.createElement("a"), {href: URL.createObjectURL(blob), download: downloadName()});
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// --- the link's parameters ----------------------------------------------------------------

const SELECTS = {optimizador: ui.optimizer, inicio: ui.init, motor: ui.engine};

// The current settings as a link (query.js's writeQuery, the inverse of readQuery): size and
// evaluations always, the rest where they differ from the page's defaults. The reader's own files
// cannot go in a link. The address bar takes it too.
async function copyLink() {
  const values = {side: Number(ui.size.value), selects: {}};
  const evaluations = Math.round(Number(ui.evaluations.value));
  if (validEvaluations(evaluations)) values.evaluations = evaluations;
  const own = [];
  if (ui.photoSelect.value && ui.photoSelect.value !== "__own__") values.photo = ui.photoSelect.value;
  else own.push("tu foto");
  if (ui.paintingSelect.value && ui.paintingSelect.value !== "__own__") values.painting = ui.paintingSelect.value;
  else own.push("tu cuadro");
  if (ui.painting2Select.value === "__own__") own.push("tu segundo cuadro");
  else if (ui.painting2Select.value) {
    values.painting2 = ui.painting2Select.value;
    if (blendWeight() !== DEFAULT_BLEND) values.blend = blendWeight();
  }
  if (page.ratioExponent !== page.defaultRatioExponent) values.ratio = ratio();
  const layers = chosenLayers();
  if (layers.length && layers.length !== page.objective.style_layers.length) values.layers = layers;
  for (const key of SELECT_PARAMETERS) {
    if (SELECTS[key].value !== SELECTS[key].options[0].value) values.selects[key] = SELECTS[key].value;
  }
  const url = new URL(`?${writeQuery(values)}`, location.href).href;   // this page's address, its query replaced
  history.replaceState(null, "", url);
  const list = own.length > 1 ? `${own.slice(0, -1).join(", ")} y ${own[own.length - 1]}` : own.join("");
  const left = own.length ? ` (${list} no ${own.length > 1 ? "van" : "va"} en el enlace: nunca sale${own.length > 1 ? "n" : ""} de tu navegador)` : "";
  let copied = false;
  try {
    await navigator.clipboard.writeText(url);
    copied = true;
  } catch (err) { /* no clipboard here: the reader copies it by hand */ }
  ui.linkText.textContent = copied ? `Enlace copiado${left}: ${url}` : `No se pudo copiar el enlace; cópialo de aquí${left}: ${url}`;
  ui.linkText.hidden = false;
}

// Sets the controls from the link; returns the Spanish messages for the values that did not fit.
function applyQuery(params) {
  const options = select => [...select.options].map(o => o.value);
  const {values, errors} = readQuery(params, {
    photos: siteImages("photo").map(e => e.name), paintings: siteImages("painting").map(e => e.name),
    photo: ui.photoSelect.value, painting: ui.paintingSelect.value,
    ratioRange: [Number(ui.ratio.min), Number(ui.ratio.max)], styleLayers: page.objective.style_layers,
    selects: Object.fromEntries(SELECT_PARAMETERS.map(key => [key, options(SELECTS[key])])),
  });
  if (values.photo !== undefined) ui.photoSelect.value = values.photo;
  if (values.painting !== undefined) ui.paintingSelect.value = values.painting;
  if (values.painting2 !== undefined) ui.painting2Select.value = values.painting2;
  if (values.blend !== undefined) ui.blend.value = String(values.blend);
  if (values.side !== undefined) {
    ui.size.value = String(values.side);
    page.sizeChosen = true;
  }
  if (values.evaluations !== undefined) {
    ui.evaluations.value = String(values.evaluations);
    page.evaluationsChosen = true;
  }
  if (values.ratioExponent !== undefined) setRatio(values.ratioExponent);
  if (values.layers !== undefined) {
    ui.layers.querySelectorAll("input").forEach(box => { box.checked = values.layers.includes(box.value); });
  }
  for (const [key, value] of Object.entries(values.selects)) SELECTS[key].value = value;
  page.auto = values.auto;
  return errors;
}

// A fresh worker on the chosen backend ("auto": the fastest this browser has).
function startWorker() {
  if (page.worker) page.worker.terminate();
  Object.assign(page, {ready: false, workerReady: false, running: false, history: [], paintingReady: null,
    paintingRequested: null, painting2Ready: null, painting2Requested: null, frames: []});
  setState({ready: "0", status: STATUS.IDLE, evaluations: 0, backend: ""});
  buttons();
  page.worker = new Worker(new URL("./worker.js", import.meta.url), {type: "module"});
  page.worker.onmessage = onWorkerMessage;
  page.worker.onerror = e => {
    e.preventDefault();
    say(`El motor de cálculo no pudo arrancar en este navegador (${e.message || "error del worker"}). Prueba otro motor en «Motor de cálculo» o vuelve a cargar la página.`);
    setState({status: STATUS.ERROR});
  };
  page.calibrating = !page.sizeChosen;
  page.worker.postMessage({type: TO_WORKER.INIT, backend: ui.engine.value, calibrate: page.calibrating ? CALIBRATION_SIDE : 0});
  const megabytes = page.manifest.figures["live/network"].numbers.megabytes;
  status(`Cargando TensorFlow.js y la red VGG19 (${fixed(megabytes)} MB)…`);
}

// --- start-up ------------------------------------------------------------------------------

function onWorkerMessage({data: m}) {
  if (m.type === FROM_WORKER.READY) {
    page.workerReady = true;
    page.ready = !page.calibrating;   // a run waits for the speed measurement (same worker)
    Object.assign(page, {backend: m.backend, skipped: m.skipped, loadSeconds: m.seconds, threads: m.threads});
    setState({backend: m.backend, ready: page.ready ? "1" : "0", status: STATUS.IDLE, tensors: m.memory.numTensors,
      threads: m.threads ?? "", isolated: m.isolated ? "1" : "0"});
    showBackend();
    page.readyText = "Listo. Haz clic en «Empezar».";
    status(page.calibrating ? "Listo; midiendo la velocidad de este dispositivo…" : page.readyText);
    preparePainting("painting");
    preparePainting("painting2");
    refresh();
  } else if (m.type === FROM_WORKER.CALIBRATED) {
    page.calibration = m;
    setState({secondsPerEvaluation: plain(m.perEvaluation), calibrationSide: m.side, tensors: m.memory.numTensors});
    calibrated(chooseDefaults(m.perEvaluation, m.side));
    status(page.readyText);
    refresh();
  } else if (m.type === FROM_WORKER.PAINTING_PROGRESS) {
    const kind = PAINTINGS.find(k => page[k] && m.key === page[k].key);
    if (kind) {
      showProgress(m.done / m.total, `Preparando ${KINDS[kind].what}`, m.done ? m.seconds * (m.total - m.done) / m.done : null);
    }
  } else if (m.type === FROM_WORKER.PAINTING_READY) {
    const kind = PAINTINGS.find(k => page[k] && m.key === page[k].key);
    if (kind) {
      page[`${kind}Ready`] = m.key;
      setState({[`${kind}Source`]: m.source, [`${kind}Seconds`]: plain(m.seconds)});
      const noun = KINDS[kind].noun;
      showProgress(1, m.source === "prepared" ? `${noun} listo (preparado por el sitio)` : `${noun} listo`);
      if (!page.running) status(page.ready ? page.readyText : `${noun} listo; midiendo la velocidad…`);
    }
    refresh();
  } else if (m.type === FROM_WORKER.STARTED) {
    if (!m.continued) page.prepareSeconds = m.seconds;
    status(m.continued ? "Continuando…" : "Pintando…");
    const plan = page.plan;
    const first = `${plan[0].width} × ${plan[0].height} px`;
    announce(m.continued ? `Sigue pintando: ${page.plannedEvaluations - page.history.length} evaluaciones más.`
      : plan.length > 1 ? `Empieza a pintar: ${page.plannedEvaluations} evaluaciones en ${plan.length} etapas; etapa 1 de ${plan.length}: ${first}.`
        : `Empieza a pintar: ${page.plannedEvaluations} evaluaciones a ${first}.`);
  } else if (m.type === FROM_WORKER.PROGRESS) {
    onProgress(m);
  } else if (m.type === FROM_WORKER.DONE || m.type === FROM_WORKER.STOPPED) {
    finished(m, m.type);
  } else if (m.type === FROM_WORKER.ERROR) {
    workerError(m);
  }
}

// The size and evaluations once the speed is known (or a safe default when it could not be); again
// for each new photo, whose shape changes what fits. The ready line names the defaults just chosen.
function calibrated(defaults) {
  page.calibrating = false;
  page.ready = page.workerReady;
  if (!page.sizeChosen) ui.size.value = String(defaults.size);
  if (!page.evaluationsChosen) ui.evaluations.value = String(defaults.evaluations);
  setState({defaultSize: defaults.size, defaultEvaluations: defaults.evaluations, ready: page.ready ? "1" : "0"});
  if (page.canvasHolds !== "result") showPhoto();
  const m = page.calibration;
  if (!m) return;
  const previous = page.readyText;
  page.readyText = `Listo: ${fixed(1 / m.perEvaluation, 1)} evaluaciones por segundo a ${m.side} × ${m.side} px en este dispositivo; `
    + `sugerimos ${defaults.size} px y ${defaults.evaluations} evaluaciones (un minuto, más o menos).`;
  if (!page.running && ui.status.textContent === previous) status(page.readyText);
}

function workerError(m) {
  page.running = false;
  say(m.message);
  setState({status: STATUS.ERROR, phase: m.phase});
  if (m.phase === PHASE.CALIBRATE) {
    // The engine works but could not be measured: small, safe defaults, and the reader may start.
    calibrated({size: 64, evaluations: page.objective.schedule.steps});
    status("No se pudo medir la velocidad; se propone un lienzo pequeño (64 px).");
  } else if (m.phase === PHASE.PAINTING) {
    page.paintingRequested = null;
    page.painting2Requested = null;
    status("El cuadro no se pudo preparar.");
  } else if (m.phase === PHASE.INIT) {
    status("La página en vivo no pudo arrancar.");
  } else if (m.phase === PHASE.RUN) {
    status(m.diverged ? "Se detuvo: la optimización divergió." : "Se detuvo por un error.");
    if (m.diverged) page.diverged = true;
    offerReplay();
  }
  announce(ui.status.textContent);
  if (m.unexpected) restartWorker();
  refresh();
}

// After an unexpected error the worker's state is not trusted: a fresh one, same choices.
function restartWorker() {
  const keepSize = page.sizeChosen;
  page.sizeChosen = true;   // no second speed measurement
  startWorker();
  page.sizeChosen = keepSize;
}

function refresh() {
  buttons();
  maybeAuto();
}

function maybeAuto() {
  if (page.auto && canStart() && !page.running) {
    page.auto = false;
    start();
  }
}

async function init() {
  setState({status: STATUS.IDLE, ready: "0", evaluations: 0, backend: ""});
  ui.canvas.hidden = true;   // until the photo is read (showPhoto)
  drawPlot(ui.plot, []);
  buttons();
  setRatio(Number(ui.ratio.value));
  page.isolation = await isolate();   // may reload the page once (isolation.js)
  setState({isolated: page.isolation.isolated ? "1" : "0"});
  try {
    const response = await fetch("generated/manifest.json");
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    page.manifest = await response.json();
    const figure = page.manifest.figures["live/network"];
    if (!figure) throw new Error("sin live/network");
    const objResponse = await fetch(figure.files.objective);
    if (!objResponse.ok) throw new Error(`HTTP ${objResponse.status}`);
    page.objective = await objResponse.json();
  } catch (err) {
    say(`Esta versión del sitio no incluye la red para el navegador (${err.message}), así que la página en vivo no puede funcionar aquí.`);
    setState({status: STATUS.ERROR});
    return;
  }
  fillSelect(ui.photoSelect, siteImages("photo"));
  fillSelect(ui.paintingSelect, siteImages("painting"));
  fillSelect(ui.painting2Select, [{name: "", title: "ninguno"}, ...siteImages("painting")]);
  ui.blend.step = String(BLEND_STEP);
  ui.blend.value = String(DEFAULT_BLEND);
  const defaultPhoto = page.manifest.hero && page.manifest.hero.content;
  const defaultPainting = page.manifest.hero && page.manifest.hero.style;
  if (siteImages("photo").some(e => e.name === defaultPhoto)) ui.photoSelect.value = defaultPhoto;
  if (siteImages("painting").some(e => e.name === defaultPainting)) ui.paintingSelect.value = defaultPainting;
  buildLayerBoxes(page.objective);
  setRatioRange(Math.log10(page.objective.content_weight / page.objective.style_weight));
  ui.evaluations.value = String(page.objective.schedule.steps);
  ui.size.value = "256";
  const errors = applyQuery(new URLSearchParams(location.search));
  showRatio();
  showBlend();
  if (errors.length) say(errors.join(" "));

  startWorker();

  await guarded(() => loadSite("photo", ui.photoSelect.value), false);
  await guarded(() => loadSite("painting", ui.paintingSelect.value), false);
  if (ui.painting2Select.value) await guarded(() => loadSite("painting2", ui.painting2Select.value), false);
  refresh();
}

function wire() {
  ui.ratio.addEventListener("input", () => setRatio(Number(ui.ratio.value)));
  ui.size.addEventListener("change", () => {
    page.sizeChosen = true;
    if (page.canvasHolds !== "result") showPhoto();
  });
  ui.evaluations.addEventListener("change", () => { page.evaluationsChosen = true; });
  ui.start.addEventListener("click", () => guarded(start));
  ui.stop.addEventListener("click", () => page.worker.postMessage({type: TO_WORKER.STOP}));
  ui.resume.addEventListener("click", resume);
  ui.download.addEventListener("click", () => guarded(download));
  ui.replay.addEventListener("input", replay);
  ui.blend.addEventListener("input", showBlend);
  ui.link.addEventListener("click", () => guarded(copyLink));
  ui.engine.addEventListener("change", () => {
    say("");
    startWorker();
  });
  for (const kind of ["photo", "painting", "painting2"]) {
    const select = ui[`${kind}Select`];
    const file = ui[`${kind}File`];
    select.addEventListener("change", () => {
      if (kind === "painting2" && !select.value) {
        dropImage(kind);
        refresh();
      } else if (select.value !== "__own__") guarded(() => loadSite(kind, select.value));
    });
    file.addEventListener("change", () => {
      if (file.files[0]) guarded(() => useImage(kind, file.files[0], file.files[0].name));
    });
    if (kind === "painting2") continue;   // no drop zone: its preview is small
    const zone = ui[`${kind}Preview`].closest(".st-live__drop");
    zone.addEventListener("dragover", e => {
      e.preventDefault();
      zone.classList.add("st-live__drop--over");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("st-live__drop--over"));
    zone.addEventListener("drop", e => {
      e.preventDefault();
      zone.classList.remove("st-live__drop--over");
      const dropped = e.dataTransfer.files[0];
      if (dropped) guarded(() => useImage(kind, dropped, dropped.name));
      else say("Lo que soltaste no es un archivo: arrastra una imagen desde tus carpetas.");
    });
  }
}

wire();
init();
