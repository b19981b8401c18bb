// Linear CKA (Kornblith et al. 2019), as the Unlearning Comparator uses it for layer-wise similarity:
// CKA(X, Y) = ‖Yᵀ X‖_F² / (‖Xᵀ X‖_F ‖Yᵀ Y‖_F) on column-centred X [m, d1], Y [m, d2] (same m rows).

/** Column-centred float64 copy of the rows `rows` of a [m, dim] matrix. */
function centred(data: Float32Array, dim: number, rows: number[]): Float64Array {
  const m = rows.length;
  const out = new Float64Array(m * dim);
  const mu = new Float64Array(dim);
  for (const r of rows) for (let j = 0; j < dim; j++) mu[j] += data[r * dim + j];
  for (let j = 0; j < dim; j++) mu[j] /= m;
  rows.forEach((r, i) => {
    for (let j = 0; j < dim; j++) out[i * dim + j] = data[r * dim + j] - mu[j];
  });
  return out;
}

/** Gram matrix A Aᵀ of a [m, d] matrix. */
function gram(A: Float64Array, m: number, d: number): Float64Array {
  const G = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = i; j < m; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += A[i * d + k] * A[j * d + k];
      G[i * m + j] = s;
      G[j * m + i] = s;
    }
  }
  return G;
}

/** Cross-covariance Aᵀ B of [m, da] and [m, db] matrices ([da, db]). */
function cross(A: Float64Array, da: number, B: Float64Array, db: number, m: number): Float64Array {
  const C = new Float64Array(da * db);
  for (let r = 0; r < m; r++) {
    for (let i = 0; i < da; i++) {
      const a = A[r * da + i];
      if (a === 0) continue;
      for (let j = 0; j < db; j++) C[i * db + j] += a * B[r * db + j];
    }
  }
  return C;
}

function sumSq(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += v * v;
  return s;
}

function dotAll(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Linear CKA between two activation matrices on the same rows (optionally a subset of rows).
 * NaN when either centred matrix is zero (a constant layer) or fewer than 2 rows.
 */
export function linearCka(x: Float32Array, dx: number, y: Float32Array, dy: number, rows?: number[]): number {
  const mAll = x.length / dx;
  if (y.length / dy !== mAll) throw new Error(`linearCka: ${mAll} rows vs ${y.length / dy}`);
  const rs = rows ?? Array.from({ length: mAll }, (_, i) => i);
  const m = rs.length;
  if (m < 2) return NaN;
  const X = centred(x, dx, rs);
  const Y = centred(y, dy, rs);
  let num: number;
  let nx: number;
  let ny: number;
  // The cheaper of the feature-space (d×d) and the sample-space (m×m) forms; both are exact.
  if (m * m * (dx + dy) < m * (dx * dy + dx * dx + dy * dy)) {
    const K = gram(X, m, dx);
    const L = gram(Y, m, dy);
    num = dotAll(K, L); // tr(K L) = ‖Yᵀ X‖_F²
    nx = Math.sqrt(sumSq(K));
    ny = Math.sqrt(sumSq(L));
  } else {
    num = sumSq(cross(Y, dy, X, dx, m));
    nx = Math.sqrt(sumSq(cross(X, dx, X, dx, m)));
    ny = Math.sqrt(sumSq(cross(Y, dy, Y, dy, m)));
  }
  if (nx === 0 || ny === 0) return NaN;
  return num / (nx * ny);
}
