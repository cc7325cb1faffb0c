// The engine's L-BFGS preconditioner (generator/engine/precondition.py) on the worker's canvas
// layout: a Float32Array of height × width × channels values, channels last (NHWC, one image).
// M v = v + Σ_k ratio^(2k) U_k U_kᵀ v for k = 1 … levels − 1, where U_k is the bilinear enlargement
// (torch's F.interpolate, mode "bilinear", align_corners=False, no antialias) from 1/2^k of the
// canvas's size. M acts on each channel alike, so it is the engine's map on (1, C, H, W) canvases
// with the values reordered. Pure functions, tested against the engine in tests/browser/test_live.py.
import {pyRound} from "./images.js";

// The coarser levels' [height, width] at 1/2, 1/4, … of (height, width), none under 1 px
// (precondition.pyramid_sizes).
export function pyramidSizes(height, width, levels) {
  const sizes = [];
  for (let k = 1; k < levels; k++) sizes.push([Math.max(1, pyRound(height / 2 ** k)), Math.max(1, pyRound(width / 2 ** k))]);
  return sizes;
}

// For an axis enlarged from `small` to `large` samples: each output sample's two source samples
// and their weights, as torch computes them (half-pixel centres, a source index under 0 clamped to
// 0, the second neighbour the first one at the last sample).
function axisWeights(small, large) {
  const i0 = new Int32Array(large), i1 = new Int32Array(large);
  const w0 = new Float64Array(large), w1 = new Float64Array(large);
  const scale = small / large;
  for (let o = 0; o < large; o++) {
    const src = Math.max(scale * (o + 0.5) - 0.5, 0);
    const a = Math.floor(src);
    i0[o] = a;
    i1[o] = a + (a < small - 1 ? 1 : 0);
    w1[o] = src - a;
    w0[o] = 1 - w1[o];
  }
  return {i0, i1, w0, w1};
}

// U: `image` ([h, w, channels], channels last) enlarged bilinearly to [height, width].
export function enlarge(image, [h, w], [height, width], channels = 3) {
  const ax = axisWeights(w, width), ay = axisWeights(h, height);
  const rows = new Float64Array(h * width * channels);     // along x first: h × width
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < width; x++) {
      const a = (y * w + ax.i0[x]) * channels, b = (y * w + ax.i1[x]) * channels, o = (y * width + x) * channels;
      for (let c = 0; c < channels; c++) rows[o + c] = ax.w0[x] * image[a + c] + ax.w1[x] * image[b + c];
    }
  }
  const out = new Float32Array(height * width * channels);
  const line = width * channels;
  for (let y = 0; y < height; y++) {
    const a = ay.i0[y] * line, b = ay.i1[y] * line, o = y * line;
    const u = ay.w0[y], v = ay.w1[y];
    for (let i = 0; i < line; i++) out[o + i] = u * rows[a + i] + v * rows[b + i];
  }
  return out;
}

// Uᵀ: the exact adjoint of enlarge from [h, w] to [height, width], applied to `image` ([height,
// width, channels]): every output sample's value given back to its source samples with the weights
// enlarge read them with.
export function enlargeAdjoint(image, [h, w], [height, width], channels = 3) {
  const ax = axisWeights(w, width), ay = axisWeights(h, height);
  const line = width * channels;
  const rows = new Float64Array(h * line);
  for (let y = 0; y < height; y++) {
    const a = ay.i0[y] * line, b = ay.i1[y] * line, o = y * line;
    const u = ay.w0[y], v = ay.w1[y];
    for (let i = 0; i < line; i++) {
      rows[a + i] += u * image[o + i];
      rows[b + i] += v * image[o + i];
    }
  }
  const out = new Float64Array(h * w * channels);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < width; x++) {
      const a = (y * w + ax.i0[x]) * channels, b = (y * w + ax.i1[x]) * channels, o = (y * width + x) * channels;
      for (let c = 0; c < channels; c++) {
        out[a + c] += ax.w0[x] * rows[o + c];
        out[b + c] += ax.w1[x] * rows[o + c];
      }
    }
  }
  return out;
}

// M for canvases of `shape` ([height, width, channels]): v ↦ v + Σ_k ratio^(2k) U_k U_kᵀ v
// (precondition.pyramid). Returns a function of a Float32Array of that many values.
export function pyramid([height, width, channels = 3], levels, ratio) {
  const sizes = pyramidSizes(height, width, levels);
  const n = height * width * channels;
  return v => {
    if (v.length !== n) throw new Error(`pyramid: ${v.length} values for a ${height} × ${width} × ${channels} canvas`);
    const out = Float32Array.from(v);
    sizes.forEach((size, i) => {
      const weight = ratio ** (2 * (i + 1));
      const back = enlarge(enlargeAdjoint(v, size, [height, width], channels), size, [height, width], channels);
      for (let j = 0; j < n; j++) out[j] += weight * back[j];
    });
    return out;
  };
}

// The L-BFGS preconditioner that objective.json's `lbfgs.precondition` names for a canvas of
// `shape`, or null for none (the identity).
export function preconditioner(spec, shape) {
  if (!spec || spec.kind === "none") return null;
  if (spec.kind !== "pyramid") throw new Error(`objective.json: unknown precondition «${spec.kind}»`);
  return pyramid(shape, spec.levels, spec.ratio);
}
