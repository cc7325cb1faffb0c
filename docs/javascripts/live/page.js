// The live page: its controls, its images and the #live-state element; the link's parameters are
// read in query.js, the optimisation runs in worker.js (messages named in protocol.js). Nothing is
// sent anywhere: the only requests are the site's own files.
import {ImageError, decode, fitLongSide, pixels, preview} from "./images.js";
import {drawPlot} from "./plot.js";
import {fixed, formatEs, plain, scientific} from "./format.js";
import {FROM_WORKER, TO_WORKER} from "./protocol.js";
import {EVALUATIONS, SELECT_PARAMETERS, SIZES, readQuery, validEvaluations} from "./query.js";

const $ = id => document.getElementById(id);
// The #live-state element's data-status: what the page is doing, for scripts and tests.
const STATUS = Object.freeze({IDLE: "idle", RUNNING: "running", DONE: "done", ERROR: "error"});
const TARGET_SECONDS = 60;       // a default run should end in about a minute
const PREVIEW_SIDE = 320;
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
  photoPreview: $("live-photo-preview"), paintingPreview: $("live-painting-preview"),
};

const page = {
  worker: null, objective: null, manifest: null, ready: false, running: false, history: [],
  photo: null, painting: null, sizeChosen: false, calibration: null, backend: null, auto: false,
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

function buttons() {
  const ready = page.ready && page.photo && page.painting;
  ui.start.disabled = !ready || page.running;
  ui.stop.disabled = !page.running;
  ui.resume.disabled = !ready || page.running || page.history.length === 0;
  ui.download.disabled = page.history.length === 0;
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
  const entry = siteImages(kind).find(e => e.name === name);
  const response = await fetch(entry.figure.files.image);
  if (!response.ok) throw new ImageError(`No se pudo leer la imagen del sitio «${name}» (HTTP ${response.status}).`);
  return useImage(kind, await response.blob(), entry.title, name);
}

async function useImage(kind, blob, label, siteName = null) {
  const bitmap = await decode(blob, label);
  const target = kind === "photo" ? "photo" : "painting";
  if (page[target]) page[target].bitmap.close();
  page.loaded = (page.loaded || 0) + 1;
  page[target] = {bitmap, label, siteName, id: page.loaded};
  preview(kind === "photo" ? ui.photoPreview : ui.paintingPreview, bitmap, PREVIEW_SIDE);
  ui[`${target}Preview`].setAttribute("aria-label", `${kind === "photo" ? "Foto" : "Cuadro"}: ${label}, ${bitmap.width} × ${bitmap.height} px`);
  setState({[`${target}Width`]: bitmap.width, [`${target}Height`]: bitmap.height});
  const select = kind === "photo" ? ui.photoSelect : ui.paintingSelect;
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
  buttons();
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
    ui.layers.append(label);
  }
}

function chooseDefaultSize(perEvaluation64) {
  // Time per evaluation grows about with the number of pixels; 64 px carries the most overhead,
  // so scaling from it overestimates larger sizes (a safe side).
  const evaluations = Number(ui.evaluations.value) || EVALUATIONS.default;
  let best = 64;
  for (const side of SIZES) {
    if (side >= 64 && evaluations * perEvaluation64 * (side / 64) ** 2 <= TARGET_SECONDS) best = side;
  }
  return best;
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
  if (!page.ready || page.running) return;
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
  // transfer.style_side: the canvas's long side, at least style_min_side, times style_scale.
  const styleSide = Math.max(1, Math.round(Math.max(Math.max(w, h), obj.style_min_side) * obj.style_scale));
  const [sw, sh] = fitLongSide(page.painting.bitmap.width, page.painting.bitmap.height, styleSide, true);
  const content = {rgba: await pixels(page.photo.bitmap, w, h), width: w, height: h};
  const style = {rgba: await pixels(page.painting.bitmap, sw, sh), width: sw, height: sh,
    key: `${page.painting.id}:${sw}x${sh}`};
  page.history = [];
  page.running = true;
  page.runWeights = settings;
  page.plannedEvaluations = evaluations;
  ui.canvas.width = w;
  ui.canvas.height = h;
  setState({status: STATUS.RUNNING, evaluations: 0, width: w, height: h});
  status(`Preparando: foto a ${w} × ${h} px, cuadro a ${sw} × ${sh} px…`);
  buttons();
  page.worker.postMessage({type: TO_WORKER.START, content, style, settings, evaluations},
    [content.rgba.buffer, style.rgba.buffer]);
}

function resume() {
  if (!page.ready || page.running || page.history.length === 0) return;
  const evaluations = Math.round(Number(ui.evaluations.value));
  if (!validEvaluations(evaluations)) {
    say(EVALUATIONS_MESSAGE);
    return;
  }
  page.running = true;
  page.plannedEvaluations = page.history.length + evaluations;
  setState({status: STATUS.RUNNING});
  buttons();
  page.worker.postMessage({type: TO_WORKER.CONTINUE, evaluations});
}

function onProgress(m) {
  page.history.push({evaluation: m.evaluation, content: m.content * page.runWeights.contentWeight,
    style: m.style * page.runWeights.styleWeight, total: m.total, rawContent: m.content, rawStyle: m.style,
    seconds: m.seconds});
  ui.canvas.hidden = false;
  const ctx = ui.canvas.getContext("2d");
  ctx.putImageData(new ImageData(m.rgba, m.width, m.height), 0, 0);
  drawPlot(ui.plot, page.history);
  const rate = m.evaluation / m.seconds;
  setState({evaluations: m.evaluation, contentLoss: plain(m.content), styleLoss: plain(m.style),
    totalLoss: plain(m.total), evaluationsPerSecond: plain(rate)});
  status(`Evaluación ${m.evaluation} de ${page.plannedEvaluations} · ${fixed(rate, 2)} evaluaciones por segundo`
    + ` · pérdida total ${formatEs(m.total, ".3e", "text")}`);
  showBackend(rate);
}

function showBackend(rate = null) {
  const skipped = page.skipped && page.skipped.length ? `; no hay uno más rápido (${page.skipped.join("; ")})` : "";
  const threads = page.backend === "wasm" ? `, ${page.threads} hilo${page.threads === 1 ? "" : "s"}` : "";
  const speed = rate ? ` · ${fixed(rate, 2)} evaluaciones por segundo` : "";
  ui.backend.textContent = `Motor de cálculo: ${BACKEND_NAMES[page.backend] || page.backend}${threads}${skipped}${speed}.`;
}

function finished(m, type) {
  page.running = false;
  setState({status: STATUS.DONE, tensors: m.memory ? m.memory.numTensors : "",
    bytes: m.memory ? m.memory.numBytes : ""});
  if (type === FROM_WORKER.DONE) {
    status(`Listo: ${m.evaluations} evaluaciones en ${fixed(m.seconds)} s (${fixed(m.evaluations / m.seconds, 2)} por segundo).`);
  } else {
    status(`Detenido tras ${m.evaluations} evaluaciones; puedes continuar o descargar la imagen.`);
  }
  buttons();
}

function download() {
  ui.canvas.toBlob(blob => {
    const a = Object.assign(document.createElement("a"), {href: URL.createObjectURL(blob), download: "pintura-en-vivo.png"});
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }, "image/png");
}

// --- the link's parameters ----------------------------------------------------------------

const SELECTS = {optimizador: ui.optimizer, inicio: ui.init, motor: ui.engine};

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
  if (values.side !== undefined) {
    ui.size.value = String(values.side);
    page.sizeChosen = true;
  }
  if (values.evaluations !== undefined) ui.evaluations.value = String(values.evaluations);
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
  page.ready = false;
  page.running = false;
  page.history = [];
  setState({ready: "0", status: STATUS.IDLE, evaluations: 0, backend: ""});
  buttons();
  page.worker = new Worker(new URL("./worker.js", import.meta.url), {type: "module"});
  page.worker.onmessage = onWorkerMessage;
  page.worker.onerror = e => {
    say(`El cálculo no pudo arrancar en este navegador (${e.message || "error del worker"}).`);
    setState({status: STATUS.ERROR});
  };
  page.calibrating = !page.sizeChosen;
  page.worker.postMessage({type: TO_WORKER.INIT, backend: ui.engine.value, calibrate: page.calibrating});
  const megabytes = page.manifest.figures["live/network"].numbers.megabytes;
  status(`Cargando TensorFlow.js y la red VGG19 (${fixed(megabytes)} MB)…`);
}

// --- start-up ------------------------------------------------------------------------------

function onWorkerMessage({data: m}) {
  if (m.type === FROM_WORKER.READY) {
    page.ready = !page.calibrating;   // a run waits for the speed measurement (same worker)
    page.backend = m.backend;
    page.skipped = m.skipped;
    page.loadSeconds = m.seconds;
    page.threads = m.threads;
    setState({backend: m.backend, ready: page.ready ? "1" : "0", status: STATUS.IDLE, tensors: m.memory.numTensors});
    showBackend();
    status(page.sizeChosen ? "Listo. Haz clic en «Empezar»." : "Listo; midiendo la velocidad de este dispositivo…");
    buttons();
    if (page.sizeChosen) maybeAuto();
  } else if (m.type === FROM_WORKER.CALIBRATED) {
    page.calibration = m;
    page.calibrating = false;
    page.ready = true;
    buttons();
    const side = chooseDefaultSize(m.perEvaluation);
    if (!page.sizeChosen) ui.size.value = String(side);
    setState({defaultSize: side, secondsPerEvaluation64: plain(m.perEvaluation), tensors: m.memory.numTensors, ready: "1"});
    status(`Listo: ${fixed(1 / m.perEvaluation, 1)} evaluaciones por segundo a 64 px en este dispositivo; `
      + `tamaño sugerido ${side} px (una transferencia de ${ui.evaluations.value} evaluaciones en un minuto, más o menos).`);
    maybeAuto();
  } else if (m.type === FROM_WORKER.STARTED) {
    if (!m.continued) page.prepareSeconds = m.seconds;
    status(m.continued ? "Continuando…" : "Pintando…");
  } else if (m.type === FROM_WORKER.PROGRESS) {
    onProgress(m);
  } else if (m.type === FROM_WORKER.DONE || m.type === FROM_WORKER.STOPPED) {
    finished(m, m.type);
  } else if (m.type === FROM_WORKER.ERROR) {
    page.running = false;
    say(m.message);
    setState({status: STATUS.ERROR});
    status("Se detuvo por un error.");
    buttons();
  }
}

function maybeAuto() {
  if (page.auto && page.ready && page.photo && page.painting && !page.running) {
    page.auto = false;
    start();
  }
}

async function init() {
  setState({status: STATUS.IDLE, ready: "0", evaluations: 0, backend: ""});
  ui.canvas.hidden = true;   // until the first evaluation paints it
  drawPlot(ui.plot, []);
  buttons();
  setRatio(Number(ui.ratio.value));
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
  const defaultPhoto = page.manifest.hero && page.manifest.hero.content;
  const defaultPainting = page.manifest.hero && page.manifest.hero.style;
  if (siteImages("photo").some(e => e.name === defaultPhoto)) ui.photoSelect.value = defaultPhoto;
  if (siteImages("painting").some(e => e.name === defaultPainting)) ui.paintingSelect.value = defaultPainting;
  buildLayerBoxes(page.objective);
  setRatioRange(Math.log10(page.objective.content_weight / page.objective.style_weight));
  ui.evaluations.value = String(EVALUATIONS.default);
  ui.size.value = "64";
  const errors = applyQuery(new URLSearchParams(location.search));
  showRatio();
  if (errors.length) say(errors.join(" "));

  startWorker();

  await guarded(() => loadSite("photo", ui.photoSelect.value), false);
  await guarded(() => loadSite("painting", ui.paintingSelect.value), false);
  if (page.sizeChosen) maybeAuto();
}

function wire() {
  ui.ratio.addEventListener("input", () => setRatio(Number(ui.ratio.value)));
  ui.size.addEventListener("change", () => { page.sizeChosen = true; });
  ui.start.addEventListener("click", () => guarded(start));
  ui.stop.addEventListener("click", () => page.worker.postMessage({type: TO_WORKER.STOP}));
  ui.resume.addEventListener("click", resume);
  ui.download.addEventListener("click", download);
  ui.engine.addEventListener("change", () => {
    say("");
    startWorker();
  });
  for (const kind of ["photo", "painting"]) {
    const select = ui[`${kind}Select`];
    const file = ui[`${kind}File`];
    select.addEventListener("change", () => {
      if (select.value !== "__own__") guarded(() => loadSite(kind, select.value));
    });
    file.addEventListener("change", () => {
      if (file.files[0]) guarded(() => useImage(kind, file.files[0], file.files[0].name));
    });
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
