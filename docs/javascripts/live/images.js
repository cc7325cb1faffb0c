// Reading the reader's images in the page: any image the browser decodes, upright (EXIF), alpha
// over white, colour values as stored (like Pillow, no colour management), resized before they
// reach the network. Errors are Spanish sentences naming the file.

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

// An ImageBitmap of the file, upright, or an ImageError saying what is wrong with it.
export async function decode(blob, name) {
  if (!blob || blob.size === 0) throw new ImageError(`«${name}» está vacío (0 bytes): elige otra imagen.`);
  try {
    return await createImageBitmap(blob, {imageOrientation: "from-image", premultiplyAlpha: "none",
      colorSpaceConversion: "none"});
  } catch (err) {
    throw new ImageError(`«${name}» no es una imagen que este navegador pueda leer (JPEG, PNG, WebP, GIF…).`);
  }
}

// RGBA bytes of `bitmap` at (width, height): composited on white, resized with high quality.
export async function pixels(bitmap, width, height) {
  let source = bitmap;
  if (bitmap.width !== width || bitmap.height !== height) {
    source = await createImageBitmap(bitmap, {resizeWidth: width, resizeHeight: height, resizeQuality: "high",
      premultiplyAlpha: "none", colorSpaceConversion: "none"});
  }
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext("2d", {willReadFrequently: true});
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, width, height);
  ctx.drawImage(source, 0, 0);
  if (source !== bitmap) source.close();
  return ctx.getImageData(0, 0, width, height).data;
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
