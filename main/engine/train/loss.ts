// Cross-entropy from logits, written with standard ONNX ops (LogSoftmax + a one-hot built from
// Equal against a Range, which is faster in ORT than OneHot).
//
// Semantics (PyTorch's F.cross_entropy with label_smoothing):
//   q_ik   = (1 - eps) * [k == y_i] + eps / C
//   l_i    = -sum_k q_ik * log_softmax(z_i)_k                      (per-example loss)
//   loss   = mean_i l_i                       (no weights, reduction 'mean')
//          = sum_i w_i l_i / sum_i w_i        (per-example weights, reduction 'mean')
//          = sum_i w_i l_i                    (reduction 'sum'; w_i = 1 when no weights; lets
//                                             callers pre-normalise signed weights, e.g. NegGrad+)

import type { GraphBuilder } from '../onnx/builder';
import { DTYPE_CODE } from '../onnx/ir';
import { reduce } from './graph-utils';

export interface CrossEntropyOptions {
  labelSmoothing?: number;
  /** name of a float [N] per-example weight input, if any */
  weights?: string;
  reduction?: 'mean' | 'sum';
}

export function validateLossOptions(o: CrossEntropyOptions): void {
  const ls = o.labelSmoothing ?? 0;
  if (!(Number.isFinite(ls) && ls >= 0 && ls <= 1)) throw new Error(`label smoothing must be in [0, 1], got ${ls}`);
  if (o.reduction !== undefined && o.reduction !== 'mean' && o.reduction !== 'sum') throw new Error(`loss reduction must be 'mean' or 'sum', got ${String(o.reduction)}`);
}

/** One-hot [N, C] float32 of int64 labels [N], C taken from the logits at run time. */
export function emitOneHot(b: GraphBuilder, logits: string, labels: string): { onehot: string; numClasses: string } {
  const shape = b.op('Shape', [logits], {}, 'logits_shape');
  const c = b.op('Gather', [shape, b.constI64(1, [])], { axis: 0 }, 'num_classes');
  const range = b.op('Range', [b.constI64(0, []), c, b.constI64(1, [])], {}, 'class_ids');
  const y = b.op('Unsqueeze', [labels, b.constI64([1])], {}, 'labels_col');
  const eq = b.op('Equal', [y, range], {}, 'label_eq');
  const onehot = b.op('Cast', [eq], { to: DTYPE_CODE.float32 }, 'onehot');
  return { onehot, numClasses: c };
}

/** Emit the loss; returns the scalar loss and the per-example losses [N]. */
export function emitCrossEntropy(
  b: GraphBuilder,
  opset: number,
  logits: string,
  labels: string,
  o: CrossEntropyOptions = {},
): { loss: string; losses: string; logp: string; onehot: string } {
  validateLossOptions(o);
  const eps = o.labelSmoothing ?? 0;
  const logp = b.op('LogSoftmax', [logits], { axis: 1 }, 'logp');
  const { onehot, numClasses } = emitOneHot(b, logits, labels);
  let q = onehot;
  if (eps > 0) {
    const cF = b.op('Cast', [numClasses], { to: DTYPE_CODE.float32 }, 'num_classes_f');
    const uniform = b.op('Div', [b.constF(eps), cF], {}, 'smooth_uniform');
    q = b.op('Add', [b.op('Mul', [onehot, b.constF(1 - eps)]), uniform], {}, 'target_dist');
  }
  const s = reduce(b, opset, 'ReduceSum', b.op('Mul', [q, logp]), [1], 0, 'neg_losses');
  const losses = b.op('Neg', [s], {}, 'losses');
  let loss: string;
  const reduction = o.reduction ?? 'mean';
  if (o.weights) {
    const wl = reduce(b, opset, 'ReduceSum', b.op('Mul', [losses, o.weights]), null, 0, 'weighted_sum');
    loss = reduction === 'sum' ? wl : b.op('Div', [wl, reduce(b, opset, 'ReduceSum', o.weights, null, 0, 'weight_sum')], {}, 'loss');
  } else {
    loss = reduction === 'sum' ? reduce(b, opset, 'ReduceSum', losses, null, 0, 'loss') : reduce(b, opset, 'ReduceMean', losses, null, 0, 'loss');
  }
  return { loss, losses, logp, onehot };
}
