// The NeurIPS 2023 Machine Unlearning competition's forgetting quality F (google-deepmind/
// unlearning_evaluation, metric.py: compute_forget_score_from_confs), over the logit-scaled
// confidences φ of each forget example under N unlearned and N retrained models.
//
// Per example: the "positive" ensemble is the one with the larger median φ. If the smaller of the two
// ranges (max − min) is under 1% of the larger, ε = 50 (a peaky unlearned distribution). Otherwise two
// families of decision rules are scanned: single thresholds t (predict positive when φ ≥ t; t on
// linspace(min, max, ⌈100·range⌉) of all 2N values) and double thresholds l ≤ φ ≤ r around the peakier
// ensemble (r on linspace(min_P + w − 2, max_P + 2, ⌈100·(…)⌉), for each r, l on linspace(r − w − 2,
// r − w + 2, 400), w = the smaller range). For each rule, FPR and FNR over the N + N models give
// ε = max(log(1 − δ − FPR) − log FNR, log(1 − δ − FNR) − log FPR) clipped below at 0 (δ = 1e-5);
// rules with exactly one of FPR, FNR zero are discarded, perfect separation gives ∞. ε_i = max over
// rules, capped at 50. Points: H(ε) = 2^(−⌊ε / 0.5⌋) for ε < ⌈ln(N − 1)⌉, else 0. F = mean over examples.
//
// Counting differs from the reference only in how it is done: the reference broadcasts every
// threshold against every model; here the N values are sorted and counted by binary search and a
// monotone sweep, and FPR/FNR are exact count ratios (the reference averages float32 indicators).

import { countLess, countLessEq, linspace, median } from './util';

export const FQ_DELTA = 1e-5;
export const FQ_EPSILON_CAP = 50;
const THRESHOLDS_PER_UNIT = 100;
const BUFFER = 2.0;

/** ε for every (FNR count, FPR count) pair of N models: NaN = discarded rule, ∞ = perfect separation. */
function epsilonTable(N: number): Float64Array {
  const t = new Float64Array((N + 1) * (N + 1));
  for (let fn = 0; fn <= N; fn++) {
    for (let fp = 0; fp <= N; fp++) {
      let e: number;
      if (fn === 0 && fp === 0) e = Infinity;
      else if (fn === 0 || fp === 0) e = NaN;
      else {
        const fnr = fn / N;
        const fpr = fp / N;
        const e1 = Math.log(1 - FQ_DELTA - fpr) - Math.log(fnr);
        const e2 = Math.log(1 - FQ_DELTA - fnr) - Math.log(fpr);
        // np.nanmax of the two, then np.clip(·, 0, None); NaN when both are NaN.
        const m = Number.isNaN(e1) ? e2 : Number.isNaN(e2) ? e1 : Math.max(e1, e2);
        e = Number.isNaN(m) ? NaN : Math.max(0, m);
      }
      t[fn * (N + 1) + fp] = e;
    }
  }
  return t;
}


function range(a: Float64Array): { min: number; max: number } {
  let mn = Infinity;
  let mx = -Infinity;
  for (const v of a) {
    mn = Math.min(mn, v);
    mx = Math.max(mx, v);
  }
  return { min: mn, max: mx };
}

/** ε of one forget example; pos/neg are the N values of the positive and the negative ensemble. */
export function exampleEpsilon(pos: Float64Array, neg: Float64Array, table: Float64Array): { epsilon: number; keptRules: number } {
  const N = pos.length;
  const W = N + 1;
  const rp = range(pos);
  const rn = range(neg);
  const posDiff = rp.max - rp.min;
  const negDiff = rn.max - rn.min;
  const largest = posDiff > negDiff ? posDiff : negDiff;
  const smallest = posDiff > negDiff ? negDiff : posDiff;
  if (smallest / largest < 0.01) return { epsilon: FQ_EPSILON_CAP, keptRules: 0 };

  let best = NaN;
  let kept = 0;
  const take = (tp: number, fp: number): void => {
    const e = table[(N - tp) * W + fp];
    if (Number.isNaN(e)) return;
    kept++;
    best = Number.isNaN(best) ? e : Math.max(best, e);
  };

  // Double-threshold rules: the peakier ensemble (smaller range) is the positive class here.
  {
    let P = pos;
    let Q = neg;
    if (posDiff >= negDiff) {
      P = neg;
      Q = pos;
    }
    const Ps = Float64Array.from(P).sort();
    const Qs = Float64Array.from(Q).sort();
    const width = smallest;
    const minR = Ps[0] + width - BUFFER;
    const maxR = Ps[N - 1] + BUFFER;
    const rights = linspace(minR, maxR, Math.ceil((maxR - minR) * THRESHOLDS_PER_UNIT));
    const numLeft = Math.ceil(2 * BUFFER * THRESHOLDS_PER_UNIT);
    for (const r of rights) {
      const pLe = countLessEq(Ps, r);
      const qLe = countLessEq(Qs, r);
      const lefts = linspace(r - width - BUFFER, r - width + BUFFER, numLeft);
      let pi = 0; // number of Ps < l (l nondecreasing)
      let qi = 0;
      for (const l of lefts) {
        while (pi < N && Ps[pi] < l) pi++;
        while (qi < N && Qs[qi] < l) qi++;
        take(Math.max(0, pLe - pi), Math.max(0, qLe - qi));
      }
    }
  }

  // Single-threshold rules: predict positive when φ ≥ t.
  {
    const Ps = Float64Array.from(pos).sort();
    const Qs = Float64Array.from(neg).sort();
    const lo = Math.min(rp.min, rn.min);
    const hi = Math.max(rp.max, rn.max);
    const ts = linspace(lo, hi, Math.ceil((hi - lo) * THRESHOLDS_PER_UNIT));
    for (const t of ts) take(N - countLess(Ps, t), N - countLess(Qs, t));
  }

  return { epsilon: Number.isNaN(best) ? NaN : Math.min(FQ_EPSILON_CAP, Math.max(0, best)), keptRules: kept };
}

/** Points of one ε: 2^(−⌊ε/0.5⌋) below ⌈ln(N − 1)⌉, else 0 (the reference's bucket loop). */
export function bucketPoints(eps: number, N: number): number {
  const maxEps = Math.ceil(Math.log(N - 1));
  let start = 0;
  let points = 1;
  while (start + 0.5 <= maxEps) {
    if (eps < start + 0.5) return points;
    points /= 2;
    start += 0.5;
  }
  return 0;
}

export interface ForgetQuality {
  /** F in [0, 1] */
  score: number;
  /** ε per forget example (NaN where every rule was discarded; scored 0) */
  epsilons: Float64Array;
  N: number;
  maxEpsilon: number;
  /** examples where no rule survived (the reference would fail an assertion there) */
  undefinedExamples: number;
}

/**
 * F from confidences: unlearned[j][i], retrained[j][i] = φ of forget example i under model j (N models each).
 */
export function forgetScoreFromConfs(unlearned: ArrayLike<number>[], retrained: ArrayLike<number>[]): ForgetQuality {
  const N = unlearned.length;
  if (N !== retrained.length) throw new Error(`forget quality: ${N} unlearned but ${retrained.length} retrained models`);
  if (N < 1) throw new Error('forget quality: no models');
  const S = unlearned[0].length;
  for (const a of [...unlearned, ...retrained]) if (a.length !== S) throw new Error('forget quality: every model needs one value per forget example');
  const table = epsilonTable(N);
  const epsilons = new Float64Array(S);
  let total = 0;
  let undef = 0;
  const u = new Float64Array(N);
  const r = new Float64Array(N);
  for (let i = 0; i < S; i++) {
    for (let j = 0; j < N; j++) {
      u[j] = unlearned[j][i];
      r[j] = retrained[j][i];
    }
    const retrainPositive = median(r) > median(u);
    const { epsilon } = retrainPositive ? exampleEpsilon(r, u, table) : exampleEpsilon(u, r, table);
    epsilons[i] = epsilon;
    if (Number.isNaN(epsilon)) undef++;
    else total += bucketPoints(epsilon, N);
  }
  return { score: S === 0 ? NaN : total / S, epsilons, N, maxEpsilon: Math.ceil(Math.log(N - 1)), undefinedExamples: undef };
}
