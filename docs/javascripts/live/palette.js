// The photo in the painting's palette (the engine's init "recoloured", colour.recolour_to): its RGB
// mean and covariance made the painting's, x -> A (x - mu_photo) + mu_painting with
// A = C_painting^(1/2) C_photo^(-1/2), the symmetric square roots regularised as colour._sqrtm does.

// Mean (3) and covariance (3x3, N - 1 in the denominator as numpy.cov) of RGBA bytes' RGB.
export function colourStats(rgba) {
  const n = rgba.length / 4;
  const mean = [0, 0, 0];
  for (let i = 0; i < rgba.length; i += 4) for (let c = 0; c < 3; c++) mean[c] += rgba[i + c];
  for (let c = 0; c < 3; c++) mean[c] /= n;
  const cov = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  for (let i = 0; i < rgba.length; i += 4) {
    const d = [rgba[i] - mean[0], rgba[i + 1] - mean[1], rgba[i + 2] - mean[2]];
    for (let r = 0; r < 3; r++) for (let c = r; c < 3; c++) cov[r][c] += d[r] * d[c];
  }
  for (let r = 0; r < 3; r++) for (let c = r; c < 3; c++) cov[c][r] = cov[r][c] /= Math.max(1, n - 1);
  return {mean, cov};
}

// Eigen-decomposition of a symmetric 3x3 matrix by Jacobi rotations: {values, vectors (columns)}.
export function symmetricEigen(matrix) {
  const a = matrix.map(row => row.slice());
  const v = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = a[0][1] ** 2 + a[0][2] ** 2 + a[1][2] ** 2;
    if (off < 1e-30) break;
    for (const [p, q] of [[0, 1], [0, 2], [1, 2]]) {
      if (Math.abs(a[p][q]) < 1e-300) continue;
      const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1), s = t * c;
      for (let k = 0; k < 3; k++) {           // a <- a J (columns p, q)
        const akp = a[k][p], akq = a[k][q];
        a[k][p] = c * akp - s * akq;
        a[k][q] = s * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {           // a <- J^T a (rows p, q)
        const apk = a[p][k], aqk = a[q][k];
        a[p][k] = c * apk - s * aqk;
        a[q][k] = s * apk + c * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = v[k][p], vkq = v[k][q];
        v[k][p] = c * vkp - s * vkq;
        v[k][q] = s * vkp + c * vkq;
      }
    }
  }
  return {values: [a[0][0], a[1][1], a[2][2]], vectors: v};
}

// V diag(f(values)) V^T of cov + 1e-5 I, eigenvalues clipped at 1e-8 (colour._sqrtm).
function sqrtm(cov, inverse) {
  const reg = cov.map((row, r) => row.map((x, c) => x + (r === c ? 1e-5 : 0)));
  const {values, vectors} = symmetricEigen(reg);
  const f = values.map(x => Math.max(x, 1e-8) ** (inverse ? -0.5 : 0.5));
  return [0, 1, 2].map(r => [0, 1, 2].map(c => vectors[r][0] * f[0] * vectors[c][0]
    + vectors[r][1] * f[1] * vectors[c][1] + vectors[r][2] * f[2] * vectors[c][2]));
}

const matmul = (x, y) => [0, 1, 2].map(r => [0, 1, 2].map(c => x[r][0] * y[0][c] + x[r][1] * y[1][c] + x[r][2] * y[2][c]));

// The paintings' palette pooled with the blend's weights (colour.recolour_to): the weighted mean
// of their means, and the weighted second moment (covariance plus the mean's outer product) less the
// pooled mean's outer product.
export function pooledStats(paintings, weights) {
  const total = weights.reduce((a, b) => a + b, 0);
  const mean = [0, 0, 0];
  const second = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  paintings.forEach((rgba, i) => {
    const w = weights[i] / total;
    const s = colourStats(rgba);
    for (let r = 0; r < 3; r++) {
      mean[r] += w * s.mean[r];
      for (let c = 0; c < 3; c++) second[r][c] += w * (s.cov[r][c] + s.mean[r] * s.mean[c]);
    }
  });
  return {mean, cov: second.map((row, r) => row.map((x, c) => x - mean[r] * mean[c]))};
}

// The photo's RGBA bytes recoloured to the painting's palette (alpha kept); `painting` may also be
// a list of paintings, pooled with `weights` (equal when not given), as colour.recolour_to does.
export function recolouredRGBA(photo, painting, weights = null) {
  const paintings = Array.isArray(painting) ? painting : [painting];
  const source = colourStats(photo);
  const target = paintings.length === 1 && !weights ? colourStats(paintings[0])
    : pooledStats(paintings, weights || paintings.map(() => 1 / paintings.length));
  const a = matmul(sqrtm(target.cov, false), sqrtm(source.cov, true));
  const out = new Uint8ClampedArray(photo.length);   // rounds half to even and clamps, as numpy's rint + clip
  for (let i = 0; i < photo.length; i += 4) {
    const d = [photo[i] - source.mean[0], photo[i + 1] - source.mean[1], photo[i + 2] - source.mean[2]];
    for (let r = 0; r < 3; r++) out[i + r] = a[r][0] * d[0] + a[r][1] * d[1] + a[r][2] * d[2] + target.mean[r];
    out[i + 3] = photo[i + 3];
  }
  return out;
}
