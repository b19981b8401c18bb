// Composable loss terms for the training-step, gradient and input-gradient graphs (what unlearning
// methods train with). With no terms the loss is emitCrossEntropy's cross-entropy exactly as before (same
// nodes, same order). With terms, every term has reduction 'sum' semantics and its own per-example
// weight input, so callers pre-normalise (w_i = 1/N gives the batch mean; negative weights ascend):
//
//   loss = Σ_i wCE_i·CE_i  +  Σ_i wKL_i·KL_i  +  Σ_i wNPO_i·NPO_i  +  λ·Σ_p Σ|θ_p|
//
//   CE_i  = cross-entropy of logits z_i on the labels input (label smoothing applies to CE only);
//           its weights are STEP_IO.weights.
//   KL_i  = T²·Σ_k p_t,k (log p_t,k − log p_s,k),  p_t = softmax(t_i/T) from the teacher-logits INPUT
//           t [N, C], log p_s = log_softmax(z_i/T): SCRUB's / Bad Teacher's DistillKL
//           (F.kl_div(log_softmax(z/T), softmax(t/T), reduction='sum')·T²; with w = 1/N it is their
//           batch mean). No gradient flows into the teacher's logits (they are an input).
//   NPO_i = (2/β)·softplus(β·(log p_θ(y_i|x_i) − refLogp_i)) = (2/β)·log(1 + (p_θ/p_ref)^β), the
//           reference log-probabilities an INPUT [N]; ONNX Softplus is evaluated stably by ORT
//           (x + log1p(e^{-x}) for x > 0) and its derivative is the sigmoid (exact at 0, where NPO starts).
//           log p_θ(y|x) is the plain log-softmax of the true class (no label smoothing).
//   L1    = λ·Σ over the graph's parameters (the trainable ones) of Σ|θ|, λ a scalar INPUT so it can
//           change every step; the subgradient of |x| at 0 is 0 (like torch.sign).

import type { GraphBuilder } from '../onnx/builder';
import { emitCrossEntropy, type CrossEntropyOptions } from './loss';
import { reduce } from './graph-utils';

/** Names of the inputs and outputs the terms add to a graph (also listed in STEP_IO). */
export const TERM_IO = {
  teacherLogits: 'lethe_teacher_logits',
  klWeights: 'lethe_kl_weights',
  refLogp: 'lethe_ref_logp',
  npoWeights: 'lethe_npo_weights',
  l1: 'lethe_l1',
  klLosses: 'lethe_kl_losses',
  npoLosses: 'lethe_npo_losses',
} as const;

export interface LossTerms {
  /** distillation KL(teacher ‖ student)·T²; the teacher's logits are an input */
  kl?: { temperature?: number };
  /** NPO for classifiers with reference log-probabilities as an input; β > 0 */
  npo?: { beta: number };
  /** L1 penalty on the trainable parameters with a per-step scalar coefficient input */
  l1?: boolean;
}

/** True when any extra term is enabled (the loss then uses reduction 'sum' and CE weights). */
export function hasTerms(t: LossTerms | undefined): boolean {
  return !!t && (!!t.kl || !!t.npo || !!t.l1);
}

export function validateTerms(t: LossTerms | undefined, reduction: 'mean' | 'sum' | undefined): void {
  if (!t) return;
  const known = new Set(['kl', 'npo', 'l1']);
  for (const k of Object.keys(t)) if (!known.has(k)) throw new Error(`unknown loss term '${k}' (known: kl, npo, l1)`);
  if (t.kl) {
    const T = t.kl.temperature ?? 1;
    if (!(Number.isFinite(T) && T > 0)) throw new Error(`KL temperature must be a positive number, got ${T}`);
  }
  if (t.npo) {
    const b = t.npo.beta;
    if (!(typeof b === 'number' && Number.isFinite(b) && b > 0)) throw new Error(`NPO beta must be a positive number, got ${String(b)}`);
  }
  if (hasTerms(t) && reduction === 'mean') {
    throw new Error("extra loss terms use reduction 'sum' (pre-normalise with the per-example weights); do not set reduction 'mean'");
  }
}

export interface LossNames {
  labels: string;
  weights: string;
  loss: string;
  losses: string;
}

export interface EmittedLoss {
  /** the CE per-example weight input, if any */
  weights: string | null;
  teacherLogits: string | null;
  klWeights: string | null;
  refLogp: string | null;
  npoWeights: string | null;
  l1: string | null;
  /** extra per-example outputs (unweighted term values), in order: KL then NPO */
  extraOutputs: string[];
}

/**
 * Declare the loss inputs and emit the loss into `b`: `names.loss` (scalar) and `names.losses`
 * (per-example CE) become values of the graph. `params` are the values the L1 term sums over.
 */
export function emitLoss(
  b: GraphBuilder,
  opset: number,
  logits: string,
  names: LossNames,
  settings: { labelSmoothing?: number; exampleWeights?: boolean; reduction?: 'mean' | 'sum'; terms?: LossTerms } | undefined,
  params: string[],
): EmittedLoss {
  const terms = settings?.terms;
  validateTerms(terms, settings?.reduction);
  const on = hasTerms(terms);
  b.input(names.labels, 'int64', ['N']);
  const weights = settings?.exampleWeights || on ? b.input(names.weights, 'float32', ['N']) : null;
  const ceOpts: CrossEntropyOptions = { labelSmoothing: settings?.labelSmoothing, reduction: on ? 'sum' : settings?.reduction, weights: weights ?? undefined };
  const ce = emitCrossEntropy(b, opset, logits, names.labels, ceOpts);
  const out: EmittedLoss = { weights, teacherLogits: null, klWeights: null, refLogp: null, npoWeights: null, l1: null, extraOutputs: [] };
  if (!on) {
    b.addNode('Identity', [ce.loss], [names.loss]);
    b.addNode('Identity', [ce.losses], [names.losses]);
    return out;
  }
  const parts = [ce.loss];
  const weightedSum = (perExample: string, w: string, hint: string) => reduce(b, opset, 'ReduceSum', b.op('Mul', [perExample, w]), null, 0, hint);
  if (terms!.kl) {
    const T = terms!.kl.temperature ?? 1;
    out.teacherLogits = b.input(TERM_IO.teacherLogits, 'float32', ['N', null]);
    out.klWeights = b.input(TERM_IO.klWeights, 'float32', ['N']);
    const tT = b.constF(T);
    const logPs = b.op('LogSoftmax', [b.op('Div', [logits, tT])], { axis: 1 }, 'kl_student_logp');
    const logPt = b.op('LogSoftmax', [b.op('Div', [out.teacherLogits, tT])], { axis: 1 }, 'kl_teacher_logp');
    const pt = b.op('Exp', [logPt], {}, 'kl_teacher_p');
    const kl = reduce(b, opset, 'ReduceSum', b.op('Mul', [pt, b.op('Sub', [logPt, logPs])]), [1], 0, 'kl_rows');
    const klT = b.op('Mul', [kl, b.constF(T * T)], {}, 'kl_losses');
    b.addNode('Identity', [klT], [TERM_IO.klLosses]);
    out.extraOutputs.push(TERM_IO.klLosses);
    parts.push(weightedSum(klT, out.klWeights, 'kl_term'));
  }
  if (terms!.npo) {
    const beta = terms!.npo.beta;
    out.refLogp = b.input(TERM_IO.refLogp, 'float32', ['N']);
    out.npoWeights = b.input(TERM_IO.npoWeights, 'float32', ['N']);
    const logpy = reduce(b, opset, 'ReduceSum', b.op('Mul', [ce.logp, ce.onehot]), [1], 0, 'npo_logp_true');
    const u = b.op('Mul', [b.op('Sub', [logpy, out.refLogp]), b.constF(beta)], {}, 'npo_u');
    const npo = b.op('Mul', [b.op('Softplus', [u]), b.constF(2 / beta)], {}, 'npo_losses');
    b.addNode('Identity', [npo], [TERM_IO.npoLosses]);
    out.extraOutputs.push(TERM_IO.npoLosses);
    parts.push(weightedSum(npo, out.npoWeights, 'npo_term'));
  }
  if (terms!.l1) {
    if (!params.length) throw new Error('the L1 term needs parameters to penalise, and this graph has none');
    out.l1 = b.input(TERM_IO.l1, 'float32', []);
    const sums = params.map((p) => reduce(b, opset, 'ReduceSum', b.op('Abs', [p]), null, 0, 'l1_norm'));
    const total = sums.length === 1 ? sums[0] : b.op('Sum', sums, {}, 'l1_total');
    parts.push(b.op('Mul', [total, out.l1], {}, 'l1_term'));
  }
  const loss = parts.length === 1 ? parts[0] : b.op('Sum', parts, {}, 'total_loss');
  b.addNode('Identity', [loss], [names.loss]);
  b.addNode('Identity', [ce.losses], [names.losses]);
  return out;
}
