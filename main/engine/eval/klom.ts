// KLoM (Attribute-to-Delete, Georgiev et al. 2024; data-unlearning-bench src/eval.py:
// compute_binned_KL_div / kl_from_margins): per example, the margins (logit_y − logsumexp of the other
// logits: quantities.ts logitMargin, the same quantity as φ) under N unlearned and N retrained models are clipped to ±100 and
// binned into 20 equal bins on their shared range [min, max] (np.linspace(min, max, 21) + np.digitize,
// so a value equal to the top edge falls outside every bin, as in the reference); the unlearned
// histogram P_u and the retrained one P_r give KL(P_u ‖ P_r) with P_r raised to 1e-5 in bins where
// P_u > 0 and both renormalised (scipy.stats.entropy).

import { countLessEq, linspace } from './util';

export const KLOM_BINS = 20;
export const KLOM_EPS = 1e-5;
export const KLOM_CLIP = 100;

/** numpy.digitize(x, bins) for increasing bins: the number of edges ≤ x. */
const digitize = (x: number, bins: Float64Array): number => countLessEq(bins, x);

/** KL(P ‖ Q) between 20-bin histograms of two sample sets, exactly as compute_binned_KL_div. NaN when P has no counted sample. */
export function binnedKl(pSamples: ArrayLike<number>, qSamples: ArrayLike<number>, binCount = KLOM_BINS, eps = KLOM_EPS, minVal = -KLOM_CLIP, maxVal = KLOM_CLIP): number {
  const clip = (v: number) => Math.min(maxVal, Math.max(minVal, v));
  const p = Array.from(pSamples, clip);
  const q = Array.from(qSamples, clip);
  let start = Infinity;
  let end = -Infinity;
  for (const v of p) {
    start = Math.min(start, v);
    end = Math.max(end, v);
  }
  for (const v of q) {
    start = Math.min(start, v);
    end = Math.max(end, v);
  }
  if (start >= end) end = start + 1;
  const bins = linspace(start, end, binCount + 1);
  const pc = new Float64Array(binCount);
  const qc = new Float64Array(binCount);
  for (const v of p) {
    const i = digitize(v, bins);
    if (i >= 1 && i <= binCount) pc[i - 1]++;
  }
  for (const v of q) {
    const i = digitize(v, bins);
    if (i >= 1 && i <= binCount) qc[i - 1]++;
  }
  const pt = pc.reduce((a, b) => a + b, 0);
  const qt = qc.reduce((a, b) => a + b, 0);
  const pp = pc.map((c) => (pt > 0 ? c / pt : 0));
  const qp = qc.map((c) => (qt > 0 ? c / qt : 0));
  const qs = qp.map((v, i) => (pp[i] > 0 ? Math.max(v, eps) : v));
  // scipy.stats.entropy(pk, qk): normalise both, then Σ rel_entr(pk, qk).
  const ps = pp.reduce((a, b) => a + b, 0);
  const qss = qs.reduce((a, b) => a + b, 0);
  let kl = 0;
  for (let i = 0; i < binCount; i++) {
    const a = pp[i] / ps;
    const b = qs[i] / qss;
    if (a > 0 && b > 0) kl += a * Math.log(a / b);
    else if (a > 0) kl = Infinity;
    else if (Number.isNaN(a) || Number.isNaN(b)) kl = NaN;
  }
  return kl;
}
