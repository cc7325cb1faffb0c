// The engine's optimisers on plain arrays (no tensors): L-BFGS as generator/engine/lbfgs.py with
// transfer.py's settings (history, lr 1, first step moving the largest pixel by `firstMove`) and its
// preconditioner (`precondition`: M, a function of a Float32Array, or null for the identity;
// pyramid.js), and Adam as torch.optim.Adam. Both update `x` (Float32Array) in place from a gradient `g`.
import {preconditioner} from "./pyramid.js";

function dot(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export class LBFGS {
  constructor(n, {lr = 1, history = 50, first_move: firstMove = 0, curvature_eps: eps = 1e-10} = {},
    precondition = null) {
    Object.assign(this, {n, lr, m: history, firstMove, eps});
    this.M = precondition || (v => v);
    this.S = [];
    this.Y = [];
    this.rho = new Float64Array(history);
    this.hDiag = 1;
    this.iteration = 0;
    this.prevG = null;
    this.d = null;
    this.t = 0;
  }

  // -H g by the two-loop recursion over the filled slots, newest first; H0 = hDiag M.
  direction(g) {
    const filled = Math.min(this.iteration - 1, this.m);
    const order = [];
    for (let i = 0; i < filled; i++) order.push((((this.iteration - 2 - i) % this.m) + this.m) % this.m);
    const q = Float32Array.from(g, v => -v);
    const alphas = [];
    for (const j of order) {
      const a = this.rho[j] * dot(this.S[j], q);
      const y = this.Y[j];
      for (let i = 0; i < q.length; i++) q[i] -= a * y[i];
      alphas.push(a);
    }
    const r = Float32Array.from(this.M(q), v => v * this.hDiag);
    for (let k = order.length - 1; k >= 0; k--) {
      const j = order[k];
      const b = this.rho[j] * dot(this.Y[j], r);
      const s = this.S[j];
      const c = alphas[k] - b;
      for (let i = 0; i < r.length; i++) r[i] += c * s[i];
    }
    return r;
  }

  step(x, g) {
    this.iteration += 1;
    let d, t;
    if (this.iteration === 1) {
      d = Float32Array.from(this.M(g), v => -v);
      let l1 = 0, max = 0;
      for (const v of g) l1 += Math.abs(v);
      for (const v of d) max = Math.max(max, Math.abs(v));
      t = Math.min(1 / l1, 1) * this.lr;
      if (this.firstMove) t = Math.max(t, this.firstMove / Math.max(max, 1e-30));
      this.hDiag = t;
    } else {
      const slot = (this.iteration - 2) % this.m;
      const y = this.Y[slot] || (this.Y[slot] = new Float32Array(this.n));
      const s = this.S[slot] || (this.S[slot] = new Float32Array(this.n));
      for (let i = 0; i < this.n; i++) {
        y[i] = g[i] - this.prevG[i];
        s[i] = this.d[i] * this.t;
      }
      const ys = dot(y, s);
      const ok = ys > this.eps;
      this.rho[slot] = ok ? 1 / ys : 0;
      if (ok) this.hDiag = ys / Math.max(dot(y, this.M(y)), 1e-30);
      d = this.direction(g);
      t = this.lr;
    }
    this.prevG = Float32Array.from(g);
    this.d = d;
    this.t = t;
    for (let i = 0; i < this.n; i++) x[i] += t * d[i];
  }
}

export class Adam {
  constructor(n, {lr = 10, beta1 = 0.9, beta2 = 0.999, eps = 1e-8} = {}) {
    Object.assign(this, {lr, beta1, beta2, eps});
    this.m = new Float32Array(n);
    this.v = new Float32Array(n);
    this.iteration = 0;
  }

  step(x, g) {
    this.iteration += 1;
    const {beta1, beta2, eps} = this;
    const c1 = 1 - beta1 ** this.iteration;
    const c2 = Math.sqrt(1 - beta2 ** this.iteration);
    for (let i = 0; i < x.length; i++) {
      this.m[i] = beta1 * this.m[i] + (1 - beta1) * g[i];
      this.v[i] = beta2 * this.v[i] + (1 - beta2) * g[i] * g[i];
      x[i] -= (this.lr / c1) * this.m[i] / (Math.sqrt(this.v[i]) / c2 + eps);
    }
  }
}

// The run's optimiser for a canvas of `shape` ([height, width, channels], channels last); L-BFGS
// with objective.json's preconditioner (lbfgs.precondition), built for that shape.
export function makeOptimizer(kind, shape, objective) {
  const n = shape.reduce((a, b) => a * b, 1);
  if (kind === "adam") return new Adam(n, objective.adam);
  return new LBFGS(n, objective.lbfgs, preconditioner(objective.lbfgs.precondition, shape));
}
