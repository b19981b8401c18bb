// Principal component analysis, deterministic: the embedding view's 2-D projection of penultimate
// features (one projection per model on the same fixed sample of examples).
//
// Definition (scikit-learn's PCA with svd_solver='full', which the parity test uses as the oracle):
//   X  [n, d] rows = examples, centred by the column means μ;
//   C  = XᵀX / (n − 1), the sample covariance;
//   components = the k eigenvectors of C with the largest eigenvalues (= right singular vectors of X);
//   explained variance = those eigenvalues; explained variance ratio = eigenvalue / trace(C);
//   scores = X · componentsᵀ  [n, k].
// The sign of a component is arbitrary (any eigenvector times −1 is one); Lethe fixes it so that the
// component's largest-magnitude loading is positive (scikit-learn ≥ 1.5 does the same), so the same
// features always give the same picture.
//
// Computed in float64 from the covariance: a symmetric eigendecomposition by Householder reduction to
// tridiagonal form and the implicit QL algorithm (JAMA's tred2/tql2), O(d³ + n·d²): well under a
// second for d = 512 and n = 2,000.

export interface PcaResult {
  n: number;
  dim: number;
  k: number;
  /** column means [dim] */
  mean: Float64Array;
  /** [k, dim] row-major unit vectors */
  components: Float64Array;
  /** [k] eigenvalues of the sample covariance (ddof 1) */
  explainedVariance: Float64Array;
  /** [k] share of the total variance */
  explainedVarianceRatio: Float64Array;
  /** [n, k] row-major projections of the centred rows */
  scores: Float64Array;
}

/** PCA of `data` ([n, dim] row-major) onto its first k principal components. */
export function pca(data: ArrayLike<number>, n: number, dim: number, k = 2): PcaResult {
  if (!Number.isInteger(n) || !Number.isInteger(dim) || n < 1 || dim < 1) throw new Error(`PCA needs at least one row and one column, got ${n} × ${dim}`);
  if (data.length !== n * dim) throw new Error(`PCA: ${data.length} values is not ${n} × ${dim}`);
  const kk = Math.min(k, dim);
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j] += data[i * dim + j];
  for (let j = 0; j < dim; j++) mean[j] /= n;
  const X = new Float64Array(n * dim);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) {
      const v = data[i * dim + j] - mean[j];
      if (!Number.isFinite(v)) throw new Error(`PCA: row ${i}, column ${j} is not a finite number`);
      X[i * dim + j] = v;
    }
  }
  // covariance, upper triangle accumulated row by row (cache-friendly), then mirrored
  const C = new Float64Array(dim * dim);
  for (let i = 0; i < n; i++) {
    const r = i * dim;
    for (let a = 0; a < dim; a++) {
      const xa = X[r + a];
      if (xa === 0) continue;
      const ca = a * dim;
      for (let b = a; b < dim; b++) C[ca + b] += xa * X[r + b];
    }
  }
  const denom = Math.max(1, n - 1);
  let trace = 0;
  for (let a = 0; a < dim; a++) {
    for (let b = a; b < dim; b++) {
      const v = C[a * dim + b] / denom;
      C[a * dim + b] = v;
      C[b * dim + a] = v;
    }
    trace += C[a * dim + a];
  }
  const { values, vectors } = symmetricEigen(C, dim);
  // eigenvalues ascending from tql2: take the largest kk
  const components = new Float64Array(kk * dim);
  const explainedVariance = new Float64Array(kk);
  const explainedVarianceRatio = new Float64Array(kk);
  for (let c = 0; c < kk; c++) {
    const col = dim - 1 - c;
    let big = 0;
    for (let j = 0; j < dim; j++) if (Math.abs(vectors[j * dim + col]) > Math.abs(big)) big = vectors[j * dim + col];
    const s = big < 0 ? -1 : 1;
    for (let j = 0; j < dim; j++) components[c * dim + j] = s * vectors[j * dim + col];
    const ev = Math.max(0, values[col]);
    explainedVariance[c] = ev;
    explainedVarianceRatio[c] = trace > 0 ? ev / trace : 0;
  }
  const scores = new Float64Array(n * kk);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < kk; c++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += X[i * dim + j] * components[c * dim + j];
      scores[i * kk + c] = s;
    }
  }
  return { n, dim, k: kk, mean, components, explainedVariance, explainedVarianceRatio, scores };
}

/**
 * Eigen-decomposition of a symmetric matrix A [n, n] (row-major; not modified): eigenvalues ascending
 * and the eigenvectors as the columns of `vectors` (row-major [n, n]). JAMA's tred2 + tql2.
 */
export function symmetricEigen(A: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const V: Float64Array[] = Array.from({ length: n }, (_, i) => Float64Array.from(A.subarray(i * n, (i + 1) * n)));
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tred2(V, d, e, n);
  tql2(V, d, e, n);
  const vectors = new Float64Array(n * n);
  for (let i = 0; i < n; i++) vectors.set(V[i], i * n);
  return { values: d, vectors };
}

function tred2(V: Float64Array[], d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = V[n - 1][j];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = V[i - 1][j];
        V[i][j] = 0;
        V[j][i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        V[j][i] = f;
        g = e[j] + V[j][j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k][j] * d[k];
          e[k] += V[k][j] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) V[k][j] -= f * e[k] + g * d[k];
        d[j] = V[i - 1][j];
        V[i][j] = 0;
      }
    }
    d[i] = h;
  }
  for (let i = 0; i < n - 1; i++) {
    V[n - 1][i] = V[i][i];
    V[i][i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k][i + 1] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k][i + 1] * V[k][j];
        for (let k = 0; k <= i; k++) V[k][j] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) V[k][i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[n - 1][j];
    V[n - 1][j] = 0;
  }
  V[n - 1][n - 1] = 1;
  e[0] = 0;
}

function tql2(V: Float64Array[], d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 100) throw new Error('PCA: the eigenvalue iteration did not converge');
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          for (let k = 0; k < n; k++) {
            h = V[k][i + 1];
            V[k][i + 1] = s * V[k][i] + c * h;
            V[k][i] = c * V[k][i] - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  // sort eigenvalues ascending, with their vectors
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = d[i];
    for (let j = i + 1; j < n; j++) {
      if (d[j] < p) {
        k = j;
        p = d[j];
      }
    }
    if (k !== i) {
      d[k] = d[i];
      d[i] = p;
      for (let j = 0; j < n; j++) {
        const t = V[j][i];
        V[j][i] = V[j][k];
        V[j][k] = t;
      }
    }
  }
}
