// The engine's objective in TensorFlow.js, driven entirely by the build's objective.json
// (generator/engine/live_objective.py): layer order, pooling, which responses are read (their names say
// before or after the ReLU), content and style layers with their weights, alpha and beta, and the
// loss formulas (content: factor * sum (X - P)^2, or mean (X - P)^2 when content_normalise is
// "mean"; style: sum (G - A)^2 / (divisor N^2 M^2), each w_l divided once per run by the photo's
// own style loss at that layer when style_balance is "photo" and both terms are on).
//
// Speed on WASM: autograd's Conv2DBackpropInput is a slow single-threaded loop there, so each
// convolution's input gradient is computed as a forward convolution with the kernel rotated 180
// degrees and its channel axes swapped (tf.customGrad); the Gram matrix and its gradient are
// likewise 1x1 convolutions. Only the image is optimised: no weight gradients are ever formed.

// Dequantised conv layers from the weights file: {name, shape [3,3,in,out], kernel, bias}.
export function dequantise(buffer, network) {
  return network.layers.map(layer => {
    const [kh, kw, cin, cout] = layer.shape;
    const n = kh * kw * cin * cout;
    const indices = new Uint8Array(buffer, layer.indices, n);
    const table = new Float32Array(buffer, layer.table, 256);
    const kernel = new Float32Array(n);
    for (let i = 0; i < n; i++) kernel[i] = table[indices[i]];
    return {name: layer.name, shape: layer.shape, kernel, bias: new Float32Array(buffer, layer.bias, cout).slice()};
  });
}

// The layers the objective reads, and their weights, for a chosen subset of style layers: the
// engine's rule (equal weights summing to one unless the build gives them explicitly).
export function styleWeights(objective, chosen) {
  const given = objective.style_layer_weights;
  const equal = objective.style_layer_weights_rule !== "given";
  const layers = objective.style_layers.filter(name => chosen.includes(name));
  return Object.fromEntries(layers.map(name => [name, equal ? 1 / layers.length : given[name]]));
}

export class Network {
  constructor(tf, objective, layers) {
    this.tf = tf;
    this.objective = objective;
    this.convs = new Map();
    for (const layer of layers) {
      const w = tf.tensor4d(layer.kernel, layer.shape);
      const b = tf.tensor1d(layer.bias);
      const wBack = tf.tidy(() => tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]));
      const apply = tf.customGrad(x => ({
        value: tf.fused.conv2d({x, filter: w, bias: b, strides: 1, pad: "same"}),
        gradFunc: dy => [tf.conv2d(dy, wBack, 1, "same")],
      }));
      this.convs.set(layer.name, {w, b, wBack, apply});
    }
    this.gram = tf.customGrad((f, save) => {
      const [, h, w, c] = f.shape;
      const flat = tf.reshape(f, [h * w, c]);
      save([f]);
      // G = F^T F as a 1x1 convolution (XNNPACK's GEMM on WASM; BatchMatMul is far slower there):
      // the "image" is F^T (1 x C positions x M channels), the filter F (M in, C out).
      const value = tf.reshape(tf.conv2d(tf.reshape(tf.transpose(flat), [1, 1, c, h * w]),
        tf.reshape(flat, [1, 1, h * w, c]), 1, "valid"), [c, c]);
      return {
        value,
        gradFunc: (dg, [saved]) => {
          const sym = tf.reshape(tf.add(dg, tf.transpose(dg)), [1, 1, c, c]);
          return [tf.conv2d(saved, sym, 1, "valid")];
        },
      };
    });
  }

  // Activations named in `wanted` for x (1, H, W, 3), running only as deep as needed.
  features(x, wanted) {
    const out = {};
    const todo = new Set(wanted);
    for (const name of this.objective.layers) {
      if (todo.size === 0) break;
      x = this.run(x, [name]);
      if (todo.has(name)) {
        out[name] = x;
        todo.delete(name);
      }
    }
    return out;
  }

  // x through the consecutive layers `names` (convolution, ReLU or pooling by the name).
  run(x, names) {
    const tf = this.tf;
    for (const name of names) {
      const kind = name.slice(0, 4);
      if (kind === "conv") x = this.convs.get(name).apply(x);
      else if (kind === "relu") x = tf.relu(x);
      else if (this.objective.pooling === "avg") x = tf.avgPool(x, 2, 2, "valid");
      else x = tf.maxPool(x, 2, 2, "valid");
    }
    return x;
  }

  dispose() {
    for (const {w, b, wBack} of this.convs.values()) this.tf.dispose([w, b, wBack]);
    this.convs.clear();
  }
}

// The painting's Gram matrices per style layer, with its number of positions M_l: computed once per
// painting, one layer at a time so `onLayer(done, total)` can report progress (a forward pass at
// 512 px is the slowest part of preparing a run on WASM).
export async function paintingGrams(net, style, layers, onLayer = () => {}) {
  const tf = net.tf;
  const order = net.objective.layers;
  const wanted = [...layers].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const grams = {};
  let x = tf.clone(style);
  let from = 0;
  try {
    for (const name of wanted) {
      const to = order.indexOf(name) + 1;
      const next = tf.tidy(() => net.run(x, order.slice(from, to)));
      x.dispose();
      x = next;
      from = to;
      const [, h, w] = x.shape;
      grams[name] = {gram: tf.tidy(() => net.gram(x)), positions: h * w};
      await grams[name].gram.data();   // computed now, so the progress is real
      onLayer(Object.keys(grams).length, wanted.length);
    }
  } catch (err) {
    tf.dispose(Object.values(grams).map(g => g.gram));
    throw err;
  } finally {
    x.dispose();
  }
  return grams;
}

// The build's prepared Gram matrices (generator/figures/live_paintings.py): each layer's upper
// triangle, row by row, as float32; `index` is its grams.json.
export function preparedGrams(tf, buffer, index) {
  const grams = {};
  for (const {name, channels: c, positions, offset} of index.layers) {
    const upper = new Float32Array(buffer, offset, (c * (c + 1)) / 2);
    const full = new Float32Array(c * c);
    for (let i = 0, k = 0; i < c; i++) {
      for (let j = i; j < c; j++, k++) {
        full[i * c + j] = upper[k];
        full[j * c + i] = upper[k];
      }
    }
    grams[name] = {gram: tf.tensor2d(full, [c, c]), positions};
  }
  return grams;
}

// Several paintings' Gram matrices blended with `weights` (stylize --style-blend-weights, normalised
// to sum 1 as there): per layer sum_i w_i G_i / M_i, with one position (positions: 1), so Problem's
// rescaling to the canvas's M_l gives transfer.style_targets' sum_i w_i G_i M_l / M_i. New tensors.
export function blendGrams(tf, grams, weights) {
  const total = weights.reduce((a, b) => a + b, 0);
  const blended = {};
  for (const name of Object.keys(grams[0])) {
    blended[name] = {positions: 1, gram: tf.tidy(() => tf.addN(grams.map((g, i) =>
      tf.mul(g[name].gram, weights[i] / total / g[name].positions))))};
  }
  return blended;
}

// One problem: targets from a photo (a (1, H, W, 3) tensor in the network's input convention) and
// a painting's Gram matrices (paintingGrams), and the loss of a canvas.
export class Problem {
  constructor(net, content, grams, {contentWeight, styleWeight, tvWeight, styleLayers}) {
    const tf = net.tf;
    const obj = net.objective;
    if (!["sum", "mean"].includes(obj.content_normalise) || !["none", "photo"].includes(obj.style_balance)) {
      throw new Error(`objective.json: unknown content_normalise ${obj.content_normalise} or style_balance ${obj.style_balance}`);
    }
    this.net = net;
    this.weights = {content: contentWeight, style: styleWeight, tv: tvWeight};
    this.styleLayers = styleWeight ? styleLayers : {};   // {name: w_l}
    this.contentLayers = contentWeight ? obj.content_layers : [];
    const names = [...new Set([...this.contentLayers, ...Object.keys(this.styleLayers)])];
    this.layers = obj.layers.filter(n => names.includes(n));
    this.shape = content.shape;
    // transfer.balanced_weights: w_l / E_l(photo), the photo's own gap to the painting at l.
    const balance = obj.style_balance === "photo" && this.contentLayers.length > 0 && Object.keys(this.styleLayers).length > 0;
    this.targets = tf.tidy(() => {
      const c = net.features(content, this.layers);
      const kept = {};
      for (const name of this.contentLayers) kept[`content:${name}`] = c[name];
      for (const name of Object.keys(this.styleLayers)) {
        // The painting's Gram matrix rescaled to the canvas's M_l, as transfer.style_targets does.
        const [, h, w] = c[name].shape;
        kept[`gram:${name}`] = tf.mul(grams[name].gram, (h * w) / grams[name].positions);
      }
      if (balance) {
        kept.photoLosses = tf.stack(Object.keys(this.styleLayers).map(name => this.layerLoss(c[name], kept[`gram:${name}`])));
      }
      return kept;
    });
    // Read back on the first evaluation, asynchronously: a synchronous read (dataSync) on WebGPU
    // goes through a canvas, which Chromium's software WebGPU cannot back (its device is lost).
    this.photoLosses = balance ? this.targets.photoLosses : null;
    delete this.targets.photoLosses;
  }

  // Each w_l divided by the photo's own E_l, once (see the constructor).
  async balance() {
    if (!this.photoLosses) return;
    const values = await this.photoLosses.data();
    this.photoLosses.dispose();
    this.photoLosses = null;
    this.styleLayers = Object.fromEntries(Object.entries(this.styleLayers)
      .map(([name, w], i) => [name, w / Math.max(values[i], 1e-30)]));
  }

  // E_l = sum (G - A)^2 / (divisor N^2 M^2) for the features f of one layer.
  layerLoss(f, targetGram) {
    const tf = this.net.tf;
    const [, h, w, c] = f.shape;
    const diff = tf.sub(this.net.gram(f), targetGram);
    return tf.div(tf.sum(tf.square(diff)), this.net.objective.style_divisor * c * c * (h * w) * (h * w));
  }

  // The content term of one layer: the paper's factor * sum of squares, or the mean square.
  contentLoss(f, target) {
    const tf = this.net.tf;
    const sq = tf.square(tf.sub(f, target));
    return this.net.objective.content_normalise === "mean" ? tf.mean(sq)
      : tf.mul(this.net.objective.content_factor, tf.sum(sq));
  }

  // Scalar tensors {content, style, tv, total} for the canvas x; call inside a gradient.
  terms(x) {
    const tf = this.net.tf;
    const feats = this.net.features(x, this.layers);
    let content = tf.scalar(0);
    for (const name of this.contentLayers) {
      content = tf.add(content, this.contentLoss(feats[name], this.targets[`content:${name}`]));
    }
    let style = tf.scalar(0);
    for (const [name, weight] of Object.entries(this.styleLayers)) {
      style = tf.add(style, tf.mul(weight, this.layerLoss(feats[name], this.targets[`gram:${name}`])));
    }
    let tv = tf.scalar(0);
    if (this.weights.tv) {
      const [, h, w] = x.shape;
      const dy = tf.sub(tf.slice(x, [0, 1, 0, 0], [-1, h - 1, -1, -1]), tf.slice(x, [0, 0, 0, 0], [-1, h - 1, -1, -1]));
      const dx = tf.sub(tf.slice(x, [0, 0, 1, 0], [-1, -1, w - 1, -1]), tf.slice(x, [0, 0, 0, 0], [-1, -1, w - 1, -1]));
      tv = tf.add(tf.sum(tf.square(dy)), tf.sum(tf.square(dx)));
    }
    const total = tf.addN([tf.mul(this.weights.content, content), tf.mul(this.weights.style, style),
      tf.mul(this.weights.tv, tv)]);
    return {content, style, tv, total};
  }

  // Losses and gradient at the canvas `pixels` (Float32Array, NHWC): plain numbers and arrays.
  async evaluate(pixels) {
    await this.balance();
    const tf = this.net.tf;
    const x = tf.tensor4d(pixels, this.shape);
    let parts = [];
    const {value, grad} = tf.valueAndGrad(input => {
      const t = this.terms(input);
      parts = [tf.keep(t.content), tf.keep(t.style), tf.keep(t.tv)];
      return t.total;
    })(x);
    try {
      const [total, content, style, tv, g] = await Promise.all(
        [value, ...parts, grad].map(t => t.data()));
      return {total: total[0], content: content[0], style: style[0], tv: tv[0], grad: g};
    } finally {
      tf.dispose([x, value, grad, ...parts]);
    }
  }

  dispose() {
    this.net.tf.dispose([...Object.values(this.targets), ...(this.photoLosses ? [this.photoLosses] : [])]);
    this.photoLosses = null;
  }
}

// RGB bytes (RGBA, as ImageData gives) -> the network's input: BGR, 0-255, means removed, NHWC.
export function toInput(objective, rgba, width, height) {
  const [mb, mg, mr] = objective.input.mean;
  const out = new Float32Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height; i++, j += 3) {
    out[j] = rgba[4 * i + 2] - mb;
    out[j + 1] = rgba[4 * i + 1] - mg;
    out[j + 2] = rgba[4 * i] - mr;
  }
  return out;
}

// Inverse of toInput, clamped and rounded (images.to_image): RGBA bytes for a canvas.
export function toRGBA(objective, pixels, width, height) {
  const [mb, mg, mr] = objective.input.mean;
  const out = new Uint8ClampedArray(width * height * 4);
  for (let i = 0, j = 0; i < width * height; i++, j += 3) {
    out[4 * i] = Math.round(pixels[j + 2] + mr);
    out[4 * i + 1] = Math.round(pixels[j + 1] + mg);
    out[4 * i + 2] = Math.round(pixels[j] + mb);
    out[4 * i + 3] = 255;
  }
  return out;
}
