// Reading the reader's images in the page: any image the browser decodes, upright (EXIF), alpha
// over white, colour values as stored (like Pillow, no colour management), resized before they
// reach the network as the engine resizes them (Pillow's LANCZOS, ported below: the browser's own
// "high quality" downscaling aliases, a moiré the canvas then inherits). Errors are Spanish
// sentences naming the file.

export class ImageError extends Error {}

// Python's round() (half to even), so sizes match generator/engine/images.fit_long_side.
export function pyRound(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// (width, height) with the long side `longSide`; never larger than the original unless allowed.
export function fitLongSide(width, height, longSide, allowUpscale = false) {
  const scale = longSide / Math.max(width, height);
  if (scale >= 1 && !allowUpscale) return [width, height];
  return [Math.max(1, pyRound(width * scale)), Math.max(1, pyRound(height * scale))];
}

// The largest image the page decodes: browsers refuse or run out of memory beyond about this.
export const MAX_SIDE = 16384;
export const MAX_PIXELS = 100e6;

// (width, height) as a PNG, GIF, JPEG or WebP file's header says, or null (another format, or no header).
export function headerSize(bytes) {
  const b = bytes;
  const u16 = i => (b[i] << 8) | b[i + 1];
  const u32 = i => ((b[i] << 24) >>> 0) + (b[i + 1] << 16) + (b[i + 2] << 8) + b[i + 3];
  const webp = webpSize(b);
  if (webp) return webp;
  if (b.length >= 24 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return [u32(16), u32(20)];
  if (b.length >= 10 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return [b[6] | (b[7] << 8), b[8] | (b[9] << 8)];
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
    let i = 2;
    while (i + 9 < b.length && b[i] === 0xff) {
      const marker = b[i + 1];
      if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) return [u16(i + 7), u16(i + 5)];
      i += 2 + u16(i + 2);
    }
  }
  return null;
}

// A WebP file's size from its first chunk (RIFF, "WEBP"): VP8 (lossy: the key frame's 14-bit width and
// height after its start code), VP8L (lossless: 14-bit width - 1 and height - 1 after the 0x2f
// signature) or VP8X (extended: the canvas's 24-bit width - 1 and height - 1). Null for anything else.
function webpSize(b) {
  const tag = (i, text) => [...text].every((ch, k) => b[i + k] === ch.charCodeAt(0));
  if (b.length < 30 || !tag(0, "RIFF") || !tag(8, "WEBP")) return null;
  const u24 = i => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16);
  if (tag(12, "VP8 ") && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a) {
    return [(b[26] | (b[27] << 8)) & 0x3fff, (b[28] | (b[29] << 8)) & 0x3fff];
  }
  if (tag(12, "VP8L") && b[20] === 0x2f) {
    const bits = (b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24)) >>> 0;
    return [(bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1];
  }
  if (tag(12, "VP8X")) return [u24(24) + 1, u24(27) + 1];
  return null;
}

function tooLarge(size) {
  return size !== null && (Math.max(...size) > MAX_SIDE || size[0] * size[1] > MAX_PIXELS);
}

// An ImageBitmap of the file, upright, or an ImageError saying what is wrong with it.
export async function decode(blob, name) {
  if (!blob || blob.size === 0) throw new ImageError(`«${name}» está vacío (0 bytes): elige otra imagen.`);
  const size = headerSize(new Uint8Array(await blob.slice(0, 256 * 1024).arrayBuffer()));
  const large = () => new ImageError(`«${name}» es demasiado grande para abrirla en el navegador (${size[0]} × ${size[1]} px; `
    + `el máximo es ${MAX_SIDE} px por lado y ${MAX_PIXELS / 1e6} megapíxeles): redúcela, por ejemplo a 4000 px de lado mayor, y vuelve a elegirla.`);
  if (tooLarge(size)) throw large();
  try {
    return await createImageBitmap(blob, {imageOrientation: "from-image", premultiplyAlpha: "none",
      colorSpaceConversion: "none"});
  } catch (err) {
    throw new ImageError(`«${name}» no es una imagen que este navegador pueda leer (JPEG, PNG, WebP, GIF…).`);
  }
}

// Pillow's resampling (libImaging/Resample.c) with its LANCZOS filter, for 8-bit RGBA: a horizontal
// pass, then a vertical one, each rounding to 8 bits; weights normalised per output pixel and held
// in fixed point with PRECISION_BITS fractional bits, as Pillow does, so the bytes are Pillow's.
const PRECISION_BITS = 32 - 8 - 2;
const SUPPORT = 3;

function sinc(x) {
  if (x === 0) return 1;
  x *= Math.PI;
  return Math.sin(x) / x;
}

const lanczos = x => (x >= -SUPPORT && x < SUPPORT ? sinc(x) * sinc(x / SUPPORT) : 0);

// For each of `outSize` outputs: the first input it reads and its integer weights (precompute_coeffs
// and normalize_coeffs_8bpc).
function coefficients(inSize, outSize) {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = SUPPORT * filterscale;
  const out = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    const k = new Float64Array(xmax);
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      k[x] = lanczos((x + xmin - center + 0.5) / filterscale);
      ww += k[x];
    }
    const weights = new Int32Array(xmax);
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x] / ww : k[x];
      weights[x] = Math.trunc(w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
    }
    out.push({xmin, weights});
  }
  return out;
}

// Pillow's clip8: the fixed-point sum back to a byte (an arithmetic shift, then clamped).
const clip8 = v => Math.min(255, Math.max(0, Math.floor(v / (1 << PRECISION_BITS))));

// One pass along x (`horizontal`) or y of RGBA bytes (width x height), to `size` along that axis;
// Pillow makes a pass only along an axis whose size changes.
function pass(rgba, width, height, size, horizontal) {
  const coeffs = coefficients(horizontal ? width : height, size);
  const [ow, oh] = horizontal ? [size, height] : [width, size];
  const out = new Uint8ClampedArray(ow * oh * 4);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const {xmin, weights} = coeffs[horizontal ? x : y];
      const step = horizontal ? 4 : 4 * width;
      let i = horizontal ? 4 * (y * width + xmin) : 4 * (xmin * width + x);
      let r = half, g = half, b = half, a = half;
      for (let t = 0; t < weights.length; t++, i += step) {
        const w = weights[t];
        r += rgba[i] * w;
        g += rgba[i + 1] * w;
        b += rgba[i + 2] * w;
        a += rgba[i + 3] * w;
      }
      const o = 4 * (y * ow + x);
      out[o] = clip8(r);
      out[o + 1] = clip8(g);
      out[o + 2] = clip8(b);
      out[o + 3] = clip8(a);
    }
  }
  return out;
}

// Rows of the bitmap read at a time (its full size is never held: a 100-megapixel photo would need
// 400 MB), each strip composited on white and resized along x before the next is read.
const STRIP_PIXELS = 1 << 22;

// RGBA bytes of `bitmap` at (width, height): composited on white, resized as the engine resizes
// (images.fit_long_side, resize_to: alpha composited on white first, then Pillow's LANCZOS).
// `stripPixels`: how much is read at a time (the tests read a small image in several strips).
export async function pixels(bitmap, width, height, stripPixels = STRIP_PIXELS) {
  const [w, h] = [bitmap.width, bitmap.height];
  const strip = Math.max(1, Math.min(h, Math.floor(stripPixels / w)));
  const canvas = new OffscreenCanvas(w, strip);
  const ctx = canvas.getContext("2d", {willReadFrequently: true});
  ctx.fillStyle = "#ffffff";
  const rows = new Uint8ClampedArray(width * h * 4);   // every row, resized along x
  for (let y = 0; y < h; y += strip) {
    const n = Math.min(strip, h - y);
    ctx.fillRect(0, 0, w, n);
    ctx.drawImage(bitmap, 0, y, w, n, 0, 0, w, n);
    const part = ctx.getImageData(0, 0, w, n).data;
    rows.set(width === w ? part : pass(part, w, n, width, true), y * width * 4);
  }
  return height === h ? rows : pass(rows, width, h, height, false);
}

// Draw a bitmap into a visible canvas scaled to fit `maxSide` (the previews).
export function preview(canvas, bitmap, maxSide) {
  const [w, h] = fitLongSide(bitmap.width, bitmap.height, maxSide, true);
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, w, h);
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(bitmap, 0, 0, w, h);
}
