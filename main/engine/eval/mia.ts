// The SalUn / l1-sparse membership-inference attack (OPTML-Group, Classification/evaluation/SVC_MIA.py,
// called from main_forget.py as SVC_MIA(shadow_train = first |D_t| retain rows, shadow_test = D_t,
// target_train = None, target_test = D_f)): an SVC(C=3, gamma='auto', kernel='rbf') is fitted on one
// scalar feature per example, shadow members (label 1) vs the test set (label 0); MIA-Efficacy is the
// share of forget rows it predicts as non-members (1 − mean prediction), in %.

import { rowsOf, softmaxRow } from './util';
import { svcFitPredict, svcFitPredictAsync } from './svm';
import type { ModelOutputs, MetricValue, MiaFeature } from './types';

export type { MiaFeature };

/** log(1e-30): the value SVC_MIA.py's m_entropy uses in place of log 0. */
const LOG_TINY = Math.log(1e-30);

/**
 * One scalar feature per row of a group, as SVC_MIA.py defines it:
 * - confidence: p_y (softmax probability of the true class);
 * - entropy: −Σ_k p_k log p_k over p_k > 0;
 * - m-entropy: the file's m_entropy(p, labels) applied to the whole group: −Σ_k q_k ℓ_k with
 *   ℓ_k = log p_k (log 1e-30 where p_k = 0) and q_k = 1 − p_k for every class k that occurs among the
 *   group's labels, q_k = p_k otherwise. (The file indexes columns `[:, labels]` and takes log p for the
 *   "reverse" term, so this is not Song & Mittal's modified entropy; it is what the published numbers use.)
 */
export function miaFeatures(m: ModelOutputs, rows: number[], feature: MiaFeature): number[] {
  const C = m.numClasses;
  const p = new Float64Array(C);
  const out: number[] = new Array(rows.length);
  let inLabels: Uint8Array | null = null;
  if (feature === 'm-entropy') {
    inLabels = new Uint8Array(C);
    for (const i of rows) inLabels[m.labels[i]] = 1;
  }
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r];
    softmaxRow(m, i, p);
    if (feature === 'confidence') out[r] = p[m.labels[i]];
    else if (feature === 'entropy') {
      let h = 0;
      for (let k = 0; k < C; k++) if (p[k] > 0) h -= p[k] * Math.log(p[k]);
      out[r] = h;
    } else {
      let h = 0;
      for (let k = 0; k < C; k++) {
        const l = p[k] > 0 ? Math.log(p[k]) : LOG_TINY;
        const q = inLabels![k] ? 1 - p[k] : p[k];
        h -= q * l;
      }
      out[r] = h;
    }
  }
  return out;
}

const memo = new WeakMap<ModelOutputs, Map<MiaFeature, MetricValue>>();

/** MIA-Efficacy (%) of one model with one feature; memoised per model object (inputs are immutable). */
export function miaEfficacy(m: ModelOutputs, feature: MiaFeature): MetricValue {
  let byFeature = memo.get(m);
  if (!byFeature) memo.set(m, (byFeature = new Map()));
  const hit = byFeature.get(feature);
  if (hit) return hit;
  const res = miaEfficacyUncached(m, feature);
  byFeature.set(feature, res);
  return res;
}

/** Results already known for this model object (e.g. read from a cache keyed by the outputs' hash). */
export function primeMiaEfficacy(m: ModelOutputs, feature: MiaFeature, value: MetricValue): void {
  let byFeature = memo.get(m);
  if (!byFeature) memo.set(m, (byFeature = new Map()));
  byFeature.set(feature, value);
}

/** The results computed (or primed) so far for this model object. */
export function knownMiaEfficacy(m: ModelOutputs): [MiaFeature, MetricValue][] {
  return [...(memo.get(m)?.entries() ?? [])];
}

/** The SVC's inputs for one model and feature (shadow members, shadow non-members, the forget rows), or why there are none. */
function miaProblem(m: ModelOutputs, feature: MiaFeature): { X: number[][]; y: number[]; target: number[][]; extra: Record<string, unknown> } | MetricValue {
  const forget = rowsOf(m, 'forget');
  const retain = rowsOf(m, 'retain');
  const test = rowsOf(m, 'test');
  if (forget.length === 0) return { value: null, missing: 'no forget rows' };
  if (test.length === 0) return { value: null, missing: 'no test rows (the shadow non-members)' };
  if (retain.length === 0) return { value: null, missing: 'no retain rows (the shadow members)' };
  const members = retain.slice(0, Math.min(test.length, retain.length));
  const fm = miaFeatures(m, members, feature);
  const ft = miaFeatures(m, test, feature);
  const ff = miaFeatures(m, forget, feature);
  return {
    X: [...fm, ...ft].map((v) => [v]),
    y: [...fm.map(() => 1), ...ft.map(() => 0)],
    target: ff.map((v) => [v]),
    extra: {
      feature,
      forgetRows: forget.length,
      shadowMembers: members.length,
      shadowNonMembers: test.length,
      ...(members.length < test.length ? { note: `only ${members.length} retain rows: fewer shadow members than test rows` } : {}),
    },
  };
}

/** MIA-Efficacy from the SVC's predictions on the forget rows: the share predicted non-member (label 0), in %. */
function miaResult(pred: number[], extra: Record<string, unknown>): MetricValue {
  let nonMembers = 0;
  for (const v of pred) if (v === 0) nonMembers++;
  return { value: (100 * nonMembers) / pred.length, extra: { ...extra, forgetPredictedNonMember: nonMembers } };
}

function miaEfficacyUncached(m: ModelOutputs, feature: MiaFeature): MetricValue {
  const p = miaProblem(m, feature);
  if ('value' in p) return p;
  return miaResult(svcFitPredict(p.X, p.y, p.target, { C: 3 }), p.extra);
}

/**
 * miaEfficacy with the SVC fitted on a worker thread (the same libsvm build and result): the caller's
 * event loop stays free, and fits of several models run side by side up to setSvmConcurrency().
 * Memoised like miaEfficacy; a later synchronous call returns the same object.
 */
export function miaEfficacyAsync(m: ModelOutputs, feature: MiaFeature, signal?: AbortSignal): Promise<MetricValue> {
  const hit = memo.get(m)?.get(feature);
  if (hit) return Promise.resolve(hit);
  let byFeature = inflight.get(m);
  if (!byFeature) inflight.set(m, (byFeature = new Map()));
  let pending = byFeature.get(feature);
  if (!pending) {
    const p = miaProblem(m, feature);
    pending = ('value' in p ? Promise.resolve(p) : svcFitPredictAsync(p.X, p.y, p.target, { C: 3, ...(signal ? { signal } : {}) }).then((pred) => miaResult(pred, p.extra)))
      .then((res) => {
        primeMiaEfficacy(m, feature, res);
        return res;
      })
      .finally(() => byFeature.delete(feature));
    byFeature.set(feature, pending);
  }
  return pending;
}

const inflight = new WeakMap<ModelOutputs, Map<MiaFeature, Promise<MetricValue>>>();
