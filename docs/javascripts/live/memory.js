// A run's memory, estimated before it starts, as generator/engine/memory.py does for the engine:
// VGG19's float32 activations up to the deepest layer the losses read (kept for the gradient),
// the optimiser's canvases (L-BFGS keeps 2 x history of them) and the weights. The browser's
// limit is read where it says one (Chromium's JS heap limit, otherwise the device's memory).

const BLOCKS = [[2, 64], [2, 128], [4, 256], [4, 512], [4, 512]];   // convolutions, channels
const BACKWARD_FACTOR = 2;    // activations kept for backward, their gradients (memory.py)
const WEIGHTS_BYTES = 80e6;   // VGG19's 16 convolutions in float32
export const SAFE_SHARE = 0.5;   // a run may take half of what the browser allows

// Elements of all activations for a width x height image up to `deepest` ("relu5_1").
export function activationElements(width, height, deepest) {
  let w = width;
  let h = height;
  let total = 0;
  for (let b = 0; b < BLOCKS.length; b++) {
    const [convs, channels] = BLOCKS[b];
    for (let i = 1; i <= convs; i++) {
      for (const kind of ["conv", "relu"]) {
        total += channels * w * h;
        if (`${kind}${b + 1}_${i}` === deepest) return total;
      }
    }
    w = Math.floor(w / 2);
    h = Math.floor(h / 2);
    total += channels * w * h;
    if (`pool${b + 1}` === deepest) return total;
  }
  return total;
}

// Peak bytes of a run at width x height (memory.py's estimate_bytes); Adam keeps 2 canvases.
export function estimateBytes(width, height, deepest, optimizer = "lbfgs", history = 50) {
  const pixels = width * height;
  const canvases = optimizer === "lbfgs" ? 2 * history + 4 : 6;
  return Math.round(activationElements(width, height, deepest) * 4 * BACKWARD_FACTOR + canvases * 3 * pixels * 4
    + WEIGHTS_BYTES);
}

// The bytes this browser says a page may use, or null when it says nothing.
export function browserLimit(nav = globalThis.navigator, perf = globalThis.performance) {
  const heap = perf && perf.memory && perf.memory.jsHeapSizeLimit;
  if (Number.isFinite(heap) && heap > 0) return heap;
  const gib = nav && nav.deviceMemory;
  if (Number.isFinite(gib) && gib > 0) return gib * 1024 ** 3;
  return null;
}

// Whether `bytes` fits the limit's safe share (always, when there is no limit to read).
export function fits(bytes, limit) {
  return limit === null || bytes <= SAFE_SHARE * limit;
}
