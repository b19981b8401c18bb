// Attack simulation for the dashboards: a threshold membership-inference attack on one per-example
// score. For every model the score of every forget, retain and test row is computed from its stored
// logits; the dashboards show the three distributions (retain = members, test = non-members, and the
// forget set), the share of each split the attack calls "member" at a threshold the user moves, and
// ROC curves. Everything is computed here from all rows; only binned counts and sampled curves leave.
//
// Rule: "member" when score ≥ t for scores that grow with memorisation (confidence, φ), and when
// score ≤ t for entropy (a memorised example has a peaked, low-entropy output).
//   TPR(t) = share of retain rows called member   (members: D_r, what the model trained on)
//   FPR(t) = share of test rows called member     (non-members: D_t)
//   forget(t) = share of forget rows called member (after unlearning, should match the retrain reference)

import { miaFeatures } from './mia';
import { QUANTITY_DEFINITIONS } from './quantities';
import { countLess, countLessEq, logitScaledConfidence, rowsOf } from './util';
import type { ModelOutputs } from './types';
import type { AttackFeature, AttackPair, AttackRocCurve } from '../reports/contract-types';

export interface AttackFeatureInfo {
  id: AttackFeature;
  name: string;
  definition: string;
  unit: string;
  memberWhen: 'higher' | 'lower';
}

/** The scores an attack can threshold, each defined once (confidence and entropy as in mia.ts / SVC_MIA.py). */
export const ATTACK_FEATURES: Record<AttackFeature, AttackFeatureInfo> = {
  confidence: { id: 'confidence', name: 'Confidence p_y', definition: 'p_y = softmax probability of the true class (the MIA-Efficacy feature)', unit: 'probability', memberWhen: 'higher' },
  entropy: { id: 'entropy', name: 'Entropy of the output', definition: 'H = −Σ_k p_k log p_k over the softmax probabilities (the entropy MIA feature)', unit: 'nats', memberWhen: 'lower' },
  'logit-confidence': { id: 'logit-confidence', name: 'Logit-scaled confidence φ', definition: `φ = ${QUANTITY_DEFINITIONS.logitMargin.replace(/^logit margin /, '')}`, unit: 'nats', memberWhen: 'higher' },
};

/** The attack's score of each given row of one model. */
export function attackScores(m: ModelOutputs, rows: number[], feature: AttackFeature): Float64Array {
  if (feature === 'logit-confidence') return Float64Array.from(rows, (i) => logitScaledConfidence(m.logits, m.numClasses, i, m.labels[i]));
  return Float64Array.from(miaFeatures(m, rows, feature));
}

export interface SplitScores {
  forget: Float64Array;
  retain: Float64Array;
  test: Float64Array;
}

export function splitScores(m: ModelOutputs, feature: AttackFeature): SplitScores {
  return {
    forget: attackScores(m, rowsOf(m, 'forget'), feature),
    retain: attackScores(m, rowsOf(m, 'retain'), feature),
    test: attackScores(m, rowsOf(m, 'test'), feature),
  };
}

/** ascending copy without NaN */
function sortedFinite(a: Float64Array): Float64Array {
  return a.filter((v) => !Number.isNaN(v)).sort();
}


/** Share of the (sorted) scores the attack calls member at threshold t. */
export function memberShare(sorted: Float64Array, t: number, memberWhen: 'higher' | 'lower'): number {
  if (!sorted.length) return 0;
  const n = memberWhen === 'higher' ? sorted.length - countLess(sorted, t) : countLessEq(sorted, t);
  return n / sorted.length;
}

/**
 * Shared histogram edges of a feature: confidence on [0, 1], entropy on [0, ln C], φ on the 0.5th to
 * 99.5th percentile of every score given (rounded out to whole nats; the rest is clipped into the end bins).
 */
export function attackEdges(feature: AttackFeature, numClasses: number, all: Float64Array[], bins = 50): { edges: number[]; clipped: boolean } {
  let lo = 0;
  let hi = 1;
  if (feature === 'entropy') hi = Math.log(Math.max(2, numClasses));
  if (feature === 'logit-confidence') {
    const pooled = sortedFinite(Float64Array.from(all.flatMap((a) => Array.from(a)).filter((v) => Number.isFinite(v))));
    if (pooled.length) {
      lo = Math.floor(pooled[Math.floor(0.005 * (pooled.length - 1))]);
      hi = Math.ceil(pooled[Math.ceil(0.995 * (pooled.length - 1))]);
    }
    if (hi <= lo) hi = lo + 1;
    bins = Math.max(20, Math.min(80, Math.round(hi - lo) * 4));
  }
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);
  let clipped = false;
  for (const a of all) for (const v of a) if (v < lo || v > hi) clipped = true;
  return { edges, clipped };
}

/** Counts per bin [edges[i], edges[i+1]) (the last bin closed); values outside go to the end bins. */
export function histogram(values: Float64Array, edges: number[]): number[] {
  const bins = edges.length - 1;
  const out = new Array<number>(bins).fill(0);
  const lo = edges[0];
  const w = (edges[bins] - lo) / bins;
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    const k = Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / w)));
    out[k]++;
  }
  return out;
}

/**
 * The ROC curve of the attack separating `pos` from `neg` (every distinct threshold; ties counted as
 * in sklearn's roc_curve), its AUC (trapezoid), TPR at FPR ≤ 1% and ≤ 0.1%, and the curve sampled to
 * about `points` points spaced evenly in log FPR (ends kept) for drawing on log axes.
 */
export function rocCurve(pos: Float64Array, neg: Float64Array, memberWhen: 'higher' | 'lower', points = 240): AttackRocCurve {
  return rocFromSorted(orientedDescending(sortedFinite(pos), memberWhen), orientedDescending(sortedFinite(neg), memberWhen), points);
}

/** ascending scores -> "member-likeness" in descending order (negated for the 'lower' rule) */
function orientedDescending(ascending: Float64Array, memberWhen: 'higher' | 'lower'): Float64Array {
  if (memberWhen === 'lower') return ascending.map((v) => -v);
  return ascending.slice().reverse();
}

/** The ROC of member-likeness values P (members) and N (non-members), both sorted descending. */
function rocFromSorted(P: Float64Array, N: Float64Array, points: number): AttackRocCurve {
  if (!P.length || !N.length) return { fpr: [], tpr: [], auc: NaN, tprAt1pct: NaN, tprAt01pct: NaN };
  const fpr: number[] = [0];
  const tpr: number[] = [0];
  let i = 0;
  let j = 0;
  while (i < P.length || j < N.length) {
    const t = Math.max(i < P.length ? P[i] : -Infinity, j < N.length ? N[j] : -Infinity);
    while (i < P.length && P[i] >= t) i++;
    while (j < N.length && N[j] >= t) j++;
    fpr.push(j / N.length);
    tpr.push(i / P.length);
  }
  let auc = 0;
  for (let k = 1; k < fpr.length; k++) auc += ((fpr[k] - fpr[k - 1]) * (tpr[k] + tpr[k - 1])) / 2;
  const tprAt = (f: number) => {
    let best = 0;
    for (let k = 0; k < fpr.length && fpr[k] <= f; k++) best = tpr[k];
    return best;
  };
  // sample: the first point at or past each log-spaced FPR target (the curve is a step function)
  const keep = new Set<number>([0, fpr.length - 1]);
  const minF = 1 / N.length;
  let k = 0;
  for (let g = 0; g < points; g++) {
    const target = minF * Math.pow(1 / minF, g / (points - 1));
    while (k < fpr.length - 1 && fpr[k] < target) k++;
    keep.add(k);
    if (k > 0) keep.add(k - 1);
  }
  const idx = [...keep].sort((a, b) => a - b);
  return { fpr: idx.map((x) => fpr[x]), tpr: idx.map((x) => tpr[x]), auc, tprAt1pct: tprAt(0.01), tprAt01pct: tprAt(0.001) };
}

/** Everything the dashboards draw for one model and one feature (histograms on the shared edges, member rates, ROC curves). */
export function attackSummary(scores: SplitScores, edges: number[], memberWhen: 'higher' | 'lower') {
  // each split sorted once: the member shares and both ROC curves read the same sorted copies
  const sorted = { forget: sortedFinite(scores.forget), retain: sortedFinite(scores.retain), test: sortedFinite(scores.test) };
  const rate = (s: Float64Array) => edges.map((t) => memberShare(s, t, memberWhen));
  const test = orientedDescending(sorted.test, memberWhen);
  const roc: Record<AttackPair, AttackRocCurve> = {
    'retain-vs-test': rocFromSorted(orientedDescending(sorted.retain, memberWhen), test, 240),
    'forget-vs-test': rocFromSorted(orientedDescending(sorted.forget, memberWhen), test, 240),
  };
  return {
    totals: { forget: scores.forget.length, retain: scores.retain.length, test: scores.test.length },
    counts: { forget: histogram(scores.forget, edges), retain: histogram(scores.retain, edges), test: histogram(scores.test, edges) },
    memberRate: { forget: rate(sorted.forget), retain: rate(sorted.retain), test: rate(sorted.test) },
    roc,
  };
}
