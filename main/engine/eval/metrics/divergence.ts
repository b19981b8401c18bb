// Output-distribution divergences to the retrain reference, per example, in nats.

import { logSoftmaxRow } from '../util';
import { SPLIT_NAMES, SPLIT, type ModelOutputs } from '../types';

/** KL(p_r ‖ p_u) = Σ_k p_r,k (log p_r,k − log p_u,k) of row i; r = reference, u = judged model. */
export function klRow(r: ModelOutputs, u: ModelOutputs, i: number, a: Float64Array, b: Float64Array): number {
  logSoftmaxRow(r, i, a);
  logSoftmaxRow(u, i, b);
  let s = 0;
  for (let k = 0; k < a.length; k++) {
    const p = Math.exp(a[k]);
    if (p > 0) s += p * (a[k] - b[k]);
  }
  return Math.max(0, s);
}

/** JS(p_r, p_u) = ½ KL(p_r ‖ m) + ½ KL(p_u ‖ m), m = (p_r + p_u)/2, of row i (natural log; ≤ ln 2). */
export function jsRow(r: ModelOutputs, u: ModelOutputs, i: number, a: Float64Array, b: Float64Array): number {
  logSoftmaxRow(r, i, a);
  logSoftmaxRow(u, i, b);
  let s = 0;
  for (let k = 0; k < a.length; k++) {
    const p = Math.exp(a[k]);
    const q = Math.exp(b[k]);
    const m = 0.5 * (p + q);
    if (m <= 0) continue;
    const lm = Math.log(m);
    if (p > 0) s += 0.5 * p * (a[k] - lm);
    if (q > 0) s += 0.5 * q * (b[k] - lm);
  }
  return Math.max(0, s);
}

export function perSplitMeans(r: ModelOutputs, u: ModelOutputs, f: typeof klRow): Record<string, number | null> {
  const a = new Float64Array(u.numClasses);
  const b = new Float64Array(u.numClasses);
  const sum = [0, 0, 0];
  const cnt = [0, 0, 0];
  for (let i = 0; i < u.n; i++) {
    sum[u.split[i]] += f(r, u, i, a, b);
    cnt[u.split[i]]++;
  }
  const out: Record<string, number | null> = {};
  for (const s of SPLIT_NAMES) out[s] = cnt[SPLIT[s]] ? sum[SPLIT[s]] / cnt[SPLIT[s]] : null;
  return out;
}
