// The link's query parameters (?foto=…&cuadro=…&lado=…): read and checked against what the site
// and the objective offer, with a Spanish message for each value that does not fit. No DOM here:
// page.js applies the values it returns.
import {power} from "./format.js";

export const SIZES = [32, 48, 64, 96, 128, 192, 256, 384, 512];
export const EVALUATIONS = Object.freeze({min: 1, max: 2000});

// The second painting's weight (mezcla): 0 to 1, in the slider's steps.
export const BLEND_STEP = 0.05;

export const validEvaluations = n => Number.isInteger(n) && n >= EVALUATIONS.min && n <= EVALUATIONS.max;

// The parameters that pick one option of a <select>, by their name in the link.
export const SELECT_PARAMETERS = ["optimizador", "inicio", "motor"];

// `params`: a URLSearchParams. `choices`: {photos, paintings (site names), photo, painting (the
// ones used when the link names none or a wrong one), ratioRange: [min, max] (exponents of α/β),
// styleLayers, selects: {optimizador: [values], inicio: [...], motor: [...]}}.
// Returns {values, errors}: values holds only what the link sets and is valid (photo, painting,
// painting2 (a second painting to blend), blend (its weight, 0 to 1), side, evaluations,
// ratioExponent, layers, selects: {name: value}) and auto (true for auto=1);
// errors the Spanish messages, in the order of the parameters above.
export function readQuery(params, choices) {
  const values = {selects: {}, auto: params.get("auto") === "1"};
  const errors = [];
  const foto = params.get("foto");
  if (foto !== null) {
    if (choices.photos.includes(foto)) values.photo = foto;
    else errors.push(`No hay ninguna foto «${foto}» en el sitio; se usa «${choices.photo}» (hay: ${choices.photos.join(", ")}).`);
  }
  const cuadro = params.get("cuadro");
  if (cuadro !== null) {
    if (choices.paintings.includes(cuadro)) values.painting = cuadro;
    else errors.push(`No hay ningún cuadro «${cuadro}» en el sitio; se usa «${choices.painting}» (hay: ${choices.paintings.join(", ")}).`);
  }
  const cuadro2 = params.get("cuadro2");
  if (cuadro2 !== null) {
    if (choices.paintings.includes(cuadro2)) values.painting2 = cuadro2;
    else errors.push(`No hay ningún cuadro «${cuadro2}» en el sitio para mezclar; no se mezcla (hay: ${choices.paintings.join(", ")}).`);
  }
  const mezcla = params.get("mezcla");
  if (mezcla !== null) {
    const w = mezcla.trim() === "" ? NaN : Number(mezcla);
    const onStep = Math.abs(w / BLEND_STEP - Math.round(w / BLEND_STEP)) < 1e-9;
    if (w >= 0 && w <= 1 && onStep) values.blend = w;
    else errors.push(`La mezcla «${mezcla}» no vale: es el peso del segundo cuadro, de 0 a 1 en pasos de ${BLEND_STEP} (como 0.3).`);
  }
  const lado = params.get("lado");
  if (lado !== null) {
    const side = Number(lado);
    if (SIZES.includes(side)) values.side = side;
    else errors.push(`El lado «${lado}» no vale: elige uno de ${SIZES.join(", ")} píxeles.`);
  }
  const evals = params.get("evaluaciones");
  if (evals !== null) {
    const n = Number(evals);
    if (validEvaluations(n)) values.evaluations = n;
    else errors.push(`«${evals}» evaluaciones no vale: debe ser un entero de ${EVALUATIONS.min} a ${EVALUATIONS.max}.`);
  }
  const ab = params.get("ab");
  if (ab !== null) {
    const [low, high] = choices.ratioRange;
    const e = Math.log10(Number(ab));
    if (Number.isFinite(e) && e >= low && e <= high) values.ratioExponent = e;
    else errors.push(`α/β = «${ab}» no vale: debe ir de ${power(low)} a ${power(high)}.`);
  }
  const capas = params.get("capas");
  if (capas !== null) {
    const wanted = capas.split(",").map(s => s.trim()).filter(Boolean);
    const unknown = wanted.filter(n => !choices.styleLayers.includes(n));
    if (unknown.length || wanted.length === 0) {
      errors.push(`Capas de estilo desconocidas: «${capas}» (hay: ${choices.styleLayers.join(", ")}).`);
    } else values.layers = wanted;
  }
  for (const key of SELECT_PARAMETERS) {
    const value = params.get(key);
    if (value === null) continue;
    const options = choices.selects[key];
    if (options.includes(value)) values.selects[key] = value;
    else errors.push(`«${key}=${value}» no vale (opciones: ${options.join(", ")}).`);
  }
  return {values, errors};
}

// The inverse of readQuery: the parameters of a link that sets `values` (the same names; only the
// values given, in readQuery's order). `ratio` is α/β itself; auto is never written, so a copied
// link sets the page up and waits for «Empezar».
export function writeQuery(values) {
  const params = new URLSearchParams();
  if (values.photo) params.set("foto", values.photo);
  if (values.painting) params.set("cuadro", values.painting);
  if (values.painting2) params.set("cuadro2", values.painting2);
  if (values.blend !== undefined) params.set("mezcla", String(values.blend));
  if (values.side !== undefined) params.set("lado", String(values.side));
  if (values.evaluations !== undefined) params.set("evaluaciones", String(values.evaluations));
  if (values.ratio !== undefined) params.set("ab", String(Number(values.ratio.toPrecision(6))));
  if (values.layers) params.set("capas", values.layers.join(","));
  for (const key of SELECT_PARAMETERS) {
    if (values.selects && values.selects[key] !== undefined) params.set(key, values.selects[key]);
  }
  return params;
}
