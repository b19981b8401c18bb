// Per-example quantities computed from a model's logits, each defined once here. Every engine module
// that needs one of them (the worst-case scorer, the evaluation metrics, the names of the evaluation
// graph's outputs) refers to these names; the evaluation graph computes the same formulas in ONNX.
//
// Notation: z = the logits of one example (row-major [N, C] arrays, row `row`), y = its label.
// All three are computed in float64 from the given (usually float32) logits, stably (max-shifted).
//
// Two different "margins" exist in the literature and both are used in Lethe, so they have two names:
//   maxMargin    z_y − max_{k≠y} z_k            (the classic multi-class margin; worst-case forget sets)
//   logitMargin  z_y − logsumexp_{k≠y} z_k      (KLoM's margin = LiRA's logit-scaled confidence φ)
// They agree in sign (both > 0 exactly when y is the unique argmax) but differ in value:
// logsumexp_{k≠y} z_k ≥ max_{k≠y} z_k, so logitMargin ≤ maxMargin, with equality only when there is
// a single other class, and the gap is at most log(C − 1) (reached when the other logits are equal).

/**
 * Cross-entropy loss of the true label, −log p_y = logsumexp_k z_k − z_y (nats, no label smoothing).
 * The evaluation graph's `losses` output; the scorer's 'loss'; the loss attack's feature.
 */
export function crossEntropyLoss(logits: ArrayLike<number>, numClasses: number, row: number, label: number): number {
  const base = row * numClasses;
  let mx = -Infinity;
  for (let k = 0; k < numClasses; k++) mx = Math.max(mx, logits[base + k]);
  let s = 0;
  for (let k = 0; k < numClasses; k++) s += Math.exp(logits[base + k] - mx);
  return mx + Math.log(s) - logits[base + label];
}

/**
 * Max margin: z_y − max_{k≠y} z_k, the true label's logit minus the largest other logit.
 * The scorer's 'margin' (worst-case forget sets: lowest = hardest). +Infinity with a single class.
 */
export function maxMargin(logits: ArrayLike<number>, numClasses: number, row: number, label: number): number {
  const base = row * numClasses;
  let mx = -Infinity;
  for (let k = 0; k < numClasses; k++) if (k !== label) mx = Math.max(mx, logits[base + k]);
  return logits[base + label] - mx;
}

/**
 * Logit margin: z_y − logsumexp_{k≠y} z_k = log p_y − log Σ_{k≠y} p_k.
 * The same number is KLoM's margin (Attribute-to-Delete: logit_y − logsumexp of the other logits) and
 * LiRA's logit-scaled confidence φ (NeurIPS 2023 unlearning competition); the evaluation graph's
 * `logitMargins` output. +Infinity with a single class (nothing else to compare with).
 */
export function logitMargin(logits: ArrayLike<number>, numClasses: number, row: number, label: number): number {
  const base = row * numClasses;
  let mx = -Infinity;
  for (let k = 0; k < numClasses; k++) if (k !== label) mx = Math.max(mx, logits[base + k]);
  if (mx === -Infinity) return Infinity;
  let s = 0;
  for (let k = 0; k < numClasses; k++) if (k !== label) s += Math.exp(logits[base + k] - mx);
  return logits[base + label] - (mx + Math.log(s));
}

export type QuantityName = 'crossEntropyLoss' | 'maxMargin' | 'logitMargin';

/** One-line definition of each quantity (shown wherever the quantity is named). */
export const QUANTITY_DEFINITIONS: Record<QuantityName, string> = {
  crossEntropyLoss: 'cross-entropy loss −log p_y = logsumexp_k z_k − z_y',
  maxMargin: 'max margin z_y − max_{k≠y} z_k (true-label logit minus the largest other logit)',
  logitMargin: 'logit margin z_y − logsumexp_{k≠y} z_k = log p_y − log Σ_{k≠y} p_k (KLoM margin; LiRA logit-scaled confidence φ)',
};

export const QUANTITIES: Record<QuantityName, (logits: ArrayLike<number>, numClasses: number, row: number, label: number) => number> = {
  crossEntropyLoss,
  maxMargin,
  logitMargin,
};

/** One quantity for every row of row-major logits [N, C] with labels (float64). */
export function perExample(quantity: QuantityName, logits: ArrayLike<number>, numClasses: number, labels: ArrayLike<number>): Float64Array {
  const f = QUANTITIES[quantity];
  const out = new Float64Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = f(logits, numClasses, i, Number(labels[i]));
  return out;
}
