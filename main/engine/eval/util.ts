// Row helpers and small numeric helpers of the evaluation suite. Everything is computed in float64
// from the stored float32 logits; the per-example quantities (cross-entropy, the two margins) are
// defined once in quantities.ts.

import { crossEntropyLoss, logitMargin } from './quantities';
import { SPLIT, type EvalInputs, type LayerActivations, type ModelOutputs, type SplitName } from './types';

/** Row indices of one split, in row order. */
export function rowsOf(m: ModelOutputs, split: SplitName): number[] {
  const code = SPLIT[split];
  const out: number[] = [];
  for (let i = 0; i < m.n; i++) if (m.split[i] === code) out.push(i);
  return out;
}

/** log-softmax of row i (float64). */
export function logSoftmaxRow(m: ModelOutputs, i: number, out: Float64Array = new Float64Array(m.numClasses)): Float64Array {
  const C = m.numClasses;
  const base = i * C;
  let mx = -Infinity;
  for (let k = 0; k < C; k++) mx = Math.max(mx, m.logits[base + k]);
  let s = 0;
  for (let k = 0; k < C; k++) s += Math.exp(m.logits[base + k] - mx);
  const lse = mx + Math.log(s);
  for (let k = 0; k < C; k++) out[k] = m.logits[base + k] - lse;
  return out;
}

/** softmax probabilities of row i (float64). */
export function softmaxRow(m: ModelOutputs, i: number, out: Float64Array = new Float64Array(m.numClasses)): Float64Array {
  logSoftmaxRow(m, i, out);
  for (let k = 0; k < out.length; k++) out[k] = Math.exp(out[k]);
  return out;
}

/** argmax of row i (first maximum, as numpy/torch argmax). */
export function predictRow(m: ModelOutputs, i: number): number {
  const C = m.numClasses;
  const base = i * C;
  let best = 0;
  for (let k = 1; k < C; k++) if (m.logits[base + k] > m.logits[base + best]) best = k;
  return best;
}

/** Accuracy in % over the rows of one split; null when the split is empty. */
export function splitAccuracy(m: ModelOutputs, split: SplitName): number | null {
  const code = SPLIT[split];
  let hit = 0;
  let tot = 0;
  for (let i = 0; i < m.n; i++) {
    if (m.split[i] !== code) continue;
    tot++;
    if (predictRow(m, i) === m.labels[i]) hit++;
  }
  return tot === 0 ? null : (100 * hit) / tot;
}

/**
 * Logit-scaled confidence (LiRA; NeurIPS 2023 competition) of row i: φ = log p_y − log Σ_{k≠y} p_k.
 * It is the engine's logitMargin (quantities.ts: z_y − logsumexp_{k≠y} z_k, also KLoM's margin) under
 * its LiRA name; not the scorer's maxMargin z_y − max_{k≠y} z_k.
 */
export const logitScaledConfidence: (logits: ArrayLike<number>, numClasses: number, row: number, label: number) => number = logitMargin;

/** φ (logitScaledConfidence) of every row of a model. */
export function phiAll(m: ModelOutputs): Float64Array {
  const out = new Float64Array(m.n);
  for (let i = 0; i < m.n; i++) out[i] = logitScaledConfidence(m.logits, m.numClasses, i, m.labels[i]);
  return out;
}

/** Per-example cross-entropy loss −log p_y (nats) of row i: quantities.ts crossEntropyLoss. */
export function crossEntropyRow(m: ModelOutputs, i: number): number {
  return crossEntropyLoss(m.logits, m.numClasses, i, m.labels[i]);
}

/** numpy.linspace(start, stop, num) (endpoint=True), the same floating-point operations. */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(Math.max(0, num));
  if (num <= 0) return out;
  if (num === 1) {
    out[0] = start;
    return out;
  }
  const div = num - 1;
  const delta = stop - start;
  const step = delta / div;
  if (step === 0) {
    for (let i = 0; i < num; i++) out[i] = (i / div) * delta + start;
  } else {
    for (let i = 0; i < num; i++) out[i] = i * step + start;
  }
  out[num - 1] = stop;
  return out;
}

/** Seeded uniform [0, 1) generator (mulberry32). */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The first k elements of a seeded Fisher–Yates shuffle of `items` (a new array). */
export function seededSample<T>(items: readonly T[], k: number, seed: number): T[] {
  const a = items.slice();
  const rnd = mulberry32(seed);
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a.slice(0, k);
}

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

/** Quantile with numpy's default (linear) interpolation; xs need not be sorted. */
export function quantile(xs: ArrayLike<number>, q: number): number {
  const a = Float64Array.from(xs).sort();
  if (a.length === 0) return NaN;
  const pos = (a.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return a[lo] + (a[hi] - a[lo]) * (pos - lo);
}

export function median(xs: ArrayLike<number>): number {
  return quantile(xs, 0.5);
}

/** Distribution summary of a list of values (null fields when empty). */
export function summarize(xs: ArrayLike<number>): { n: number; mean: number | null; median: number | null; p95: number | null; min: number | null; max: number | null } {
  if (xs.length === 0) return { n: 0, mean: null, median: null, p95: null, min: null, max: null };
  let mn = Infinity;
  let mx = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    mn = Math.min(mn, xs[i]);
    mx = Math.max(mx, xs[i]);
  }
  return { n: xs.length, mean: mean(xs), median: median(xs), p95: quantile(xs, 0.95), min: mn, max: mx };
}

// ---------------------------------------------------------------------------------------------
// Input validation: absent optional inputs are fine (metrics report null + missing); malformed
// inputs (wrong lengths, mismatched models, NaN logits) throw a plain Error naming the problem.

function checkModel(m: ModelOutputs, what: string): void {
  if (!m || typeof m !== 'object') throw new Error(`${what}: model outputs are missing`);
  const { n, numClasses: C } = m;
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${what}: n must be a positive integer (got ${n})`);
  if (!Number.isInteger(C) || C < 2) throw new Error(`${what}: numClasses must be an integer ≥ 2 (got ${C})`);
  if (!(m.split instanceof Uint8Array) || m.split.length !== n) throw new Error(`${what}: split must be a Uint8Array of length n = ${n}`);
  if (!(m.labels instanceof Int32Array) || m.labels.length !== n) throw new Error(`${what}: labels must be an Int32Array of length n = ${n}`);
  if (!(m.logits instanceof Float32Array) || m.logits.length !== n * C) throw new Error(`${what}: logits must be a Float32Array of length n × numClasses = ${n * C} (got ${m.logits?.length})`);
  for (let i = 0; i < n; i++) {
    if (m.split[i] > 2) throw new Error(`${what}: row ${i} has split code ${m.split[i]} (0 forget, 1 retain, 2 test)`);
    if (m.labels[i] < 0 || m.labels[i] >= C) throw new Error(`${what}: row ${i} has label ${m.labels[i]} outside 0..${C - 1}`);
  }
  for (let j = 0; j < m.logits.length; j++) {
    if (!Number.isFinite(m.logits[j])) throw new Error(`${what}: logit ${m.logits[j]} at row ${Math.floor(j / C)}, class ${j % C} (logits must be finite)`);
  }
}

function checkSameRows(a: ModelOutputs, b: ModelOutputs, what: string): void {
  if (b.n !== a.n) throw new Error(`${what}: n = ${b.n} but the judged model has n = ${a.n} (every model must be evaluated on the same rows)`);
  if (b.numClasses !== a.numClasses) throw new Error(`${what}: numClasses = ${b.numClasses} but the judged model has ${a.numClasses}`);
  for (let i = 0; i < a.n; i++) {
    if (a.split[i] !== b.split[i]) throw new Error(`${what}: row ${i} is in split ${b.split[i]} but in split ${a.split[i]} for the judged model (rows must be in the same order)`);
    if (a.labels[i] !== b.labels[i]) throw new Error(`${what}: row ${i} has label ${b.labels[i]} but ${a.labels[i]} for the judged model (rows must be in the same order)`);
  }
}

function checkLayers(layers: LayerActivations[], what: string): number {
  if (!Array.isArray(layers)) throw new Error(`${what}: must be an array of layer activations`);
  let m = -1;
  const seen = new Set<string>();
  for (const l of layers) {
    if (seen.has(l.layer)) throw new Error(`${what}: layer "${l.layer}" is listed twice`);
    seen.add(l.layer);
    if (!Number.isInteger(l.dim) || l.dim <= 0) throw new Error(`${what}: layer "${l.layer}" has dim ${l.dim}`);
    if (!(l.data instanceof Float32Array) || l.data.length % l.dim !== 0) throw new Error(`${what}: layer "${l.layer}" data length is not a multiple of dim ${l.dim}`);
    const rows = l.data.length / l.dim;
    if (m >= 0 && rows !== m) throw new Error(`${what}: layer "${l.layer}" has ${rows} rows, others ${m} (one fixed sample for every layer)`);
    m = rows;
    for (let j = 0; j < l.data.length; j++) if (!Number.isFinite(l.data[j])) throw new Error(`${what}: layer "${l.layer}" has a non-finite activation at row ${Math.floor(j / l.dim)}`);
  }
  return m;
}

/** Throws a plain Error for malformed inputs; returns nothing when they are usable. */
export function validateInputs(inputs: EvalInputs): void {
  if (!inputs || typeof inputs !== 'object') throw new Error('evaluation inputs are missing');
  checkModel(inputs.model, 'model');
  const others: [ModelOutputs | undefined, string][] = [
    [inputs.reference, 'reference'],
    [inputs.original, 'original'],
  ];
  if (inputs.ensemble) {
    const { unlearned, retrained } = inputs.ensemble;
    if (!Array.isArray(unlearned) || !Array.isArray(retrained)) throw new Error('ensemble: unlearned and retrained must be arrays');
    if (unlearned.length !== retrained.length) throw new Error(`ensemble: ${unlearned.length} unlearned but ${retrained.length} retrained models (N of each)`);
    unlearned.forEach((m, i) => others.push([m, `ensemble.unlearned[${i}]`]));
    retrained.forEach((m, i) => others.push([m, `ensemble.retrained[${i}]`]));
  }
  for (const [m, what] of others) {
    if (m === undefined) continue;
    checkModel(m, what);
    checkSameRows(inputs.model, m, what);
  }
  const act = inputs.activations;
  if (act) {
    const rowsM = checkLayers(act.model, 'activations.model');
    for (const [ls, what] of [
      [act.reference, 'activations.reference'],
      [act.original, 'activations.original'],
    ] as const) {
      if (!ls) continue;
      const r = checkLayers(ls, what);
      if (r >= 0 && rowsM >= 0 && r !== rowsM) throw new Error(`${what}: ${r} rows but the judged model has ${rowsM} (same sample for every model)`);
    }
    if (act.sampleSplit && rowsM >= 0 && act.sampleSplit.length !== rowsM) throw new Error(`activations.sampleSplit: length ${act.sampleSplit.length} but the sample has ${rowsM} rows`);
  }
  if (inputs.runSeconds !== undefined && !(Number.isFinite(inputs.runSeconds) && inputs.runSeconds >= 0)) {
    throw new Error(`runSeconds must be a finite number ≥ 0 (got ${inputs.runSeconds})`);
  }
}

/** number of sorted values < x */
export function countLess(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
/** number of sorted values ≤ x */
export function countLessEq(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
