// scikit-learn's LogisticRegression() defaults for a binary problem (L2 penalty, C = 1, intercept
// fitted and not penalised): minimise ½‖w‖² + C Σ log(1 + exp(−s_i (w·x_i + b))), s_i = ±1, here
// solved to full precision by Newton's method (sklearn's lbfgs stops at tol 1e-4; the optimum is the
// same), and StratifiedKFold(n_splits, shuffle=False) fold assignment exactly as sklearn computes it.

/** log(1 + exp(z)) without overflow */
function log1pexp(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}
function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Fit on one feature: returns (w, b). y in {0, 1}. */
export function fitLogReg1D(x: ArrayLike<number>, y: ArrayLike<number>, C = 1): { w: number; b: number } {
  let w = 0;
  let b = 0;
  const n = x.length;
  const obj = (w_: number, b_: number) => {
    let s = 0.5 * w_ * w_;
    for (let i = 0; i < n; i++) {
      const sgn = y[i] === 1 ? 1 : -1;
      s += C * log1pexp(-sgn * (w_ * x[i] + b_));
    }
    return s;
  };
  let f = obj(w, b);
  for (let it = 0; it < 200; it++) {
    // gradient and Hessian of the objective
    let gw = w;
    let gb = 0;
    let hww = 1;
    let hwb = 0;
    let hbb = 0;
    for (let i = 0; i < n; i++) {
      const p = sigmoid(w * x[i] + b);
      const r = C * (p - (y[i] === 1 ? 1 : 0));
      gw += r * x[i];
      gb += r;
      const s = C * p * (1 - p);
      hww += s * x[i] * x[i];
      hwb += s * x[i];
      hbb += s;
    }
    const det = hww * hbb - hwb * hwb;
    let dw: number;
    let db: number;
    if (det > 1e-300 * Math.max(1, hww * hbb)) {
      dw = -(hbb * gw - hwb * gb) / det;
      db = -(-hwb * gw + hww * gb) / det;
    } else {
      dw = -gw / hww;
      db = hbb > 0 ? -gb / hbb : 0;
    }
    let t = 1;
    let fNew = obj(w + t * dw, b + t * db);
    while (fNew > f && t > 1e-12) {
      t /= 2;
      fNew = obj(w + t * dw, b + t * db);
    }
    const moved = Math.abs(t * dw) + Math.abs(t * db);
    w += t * dw;
    b += t * db;
    const done = f - fNew <= 1e-15 * Math.max(1, Math.abs(f)) && moved <= 1e-12 * Math.max(1, Math.abs(w) + Math.abs(b));
    f = fNew;
    if (done || Math.abs(gw) + Math.abs(gb) < 1e-13) break;
  }
  return { w, b };
}

/** sklearn predict: class 1 when the decision value is > 0. */
export function predictLogReg1D(model: { w: number; b: number }, x: number): number {
  return model.w * x + model.b > 0 ? 1 : 0;
}

/** Test-fold index of each sample, as sklearn.model_selection.StratifiedKFold(n_splits, shuffle=False). */
export function stratifiedKFold(y: ArrayLike<number>, nSplits: number): Int32Array {
  const n = y.length;
  // classes encoded in order of first appearance
  const first = new Map<number, number>();
  for (let i = 0; i < n; i++) if (!first.has(y[i])) first.set(y[i], i);
  const classes = [...first.keys()].sort((a, b) => a - b);
  const byFirst = classes.slice().sort((a, b) => first.get(a)! - first.get(b)!);
  const code = new Map(byFirst.map((c, k) => [c, k]));
  const enc = Array.from(y, (v) => code.get(v)!);
  const K = byFirst.length;
  const counts = new Array(K).fill(0);
  for (const e of enc) counts[e]++;
  if (Math.max(...counts) < nSplits) throw new Error(`n_splits=${nSplits} cannot be greater than the number of members in each class`);
  const order = enc.slice().sort((a, b) => a - b);
  // allocation[f][k] = number of class-k samples in order[f::nSplits]
  const alloc: number[][] = [];
  for (let f = 0; f < nSplits; f++) {
    const row = new Array(K).fill(0);
    for (let i = f; i < n; i += nSplits) row[order[i]]++;
    alloc.push(row);
  }
  const folds = new Int32Array(n);
  for (let k = 0; k < K; k++) {
    const seq: number[] = [];
    for (let f = 0; f < nSplits; f++) for (let c = 0; c < alloc[f][k]; c++) seq.push(f);
    let j = 0;
    for (let i = 0; i < n; i++) if (enc[i] === k) folds[i] = seq[j++];
  }
  return folds;
}

/** Mean K-fold accuracy of the logistic-regression attack (sklearn cross_val_score(LogisticRegression(), X, y, cv=StratifiedKFold(k))). */
export function crossValidatedLogRegAccuracy(x: ArrayLike<number>, y: ArrayLike<number>, nSplits = 10): { mean: number; folds: number[] } {
  const folds = stratifiedKFold(y, nSplits);
  const accs: number[] = [];
  for (let f = 0; f < nSplits; f++) {
    const trX: number[] = [];
    const trY: number[] = [];
    const teX: number[] = [];
    const teY: number[] = [];
    for (let i = 0; i < x.length; i++) {
      if (folds[i] === f) {
        teX.push(x[i]);
        teY.push(y[i]);
      } else {
        trX.push(x[i]);
        trY.push(y[i]);
      }
    }
    const model = fitLogReg1D(trX, trY);
    let hit = 0;
    teX.forEach((v, i) => {
      if (predictLogReg1D(model, v) === teY[i]) hit++;
    });
    accs.push(hit / teX.length);
  }
  return { mean: accs.reduce((a, b) => a + b, 0) / accs.length, folds: accs };
}
