// Evaluation graph: the inference model (weights baked, batch size symbolic) plus per-example
//   logits  [N, C]
//   losses  [N]     cross-entropy (no smoothing): eval/quantities.ts crossEntropyLoss
//   logitMargins [N] logit_y - logsumexp_{k != y} logit_k: eval/quantities.ts logitMargin (KLoM's
//                   margin = LiRA's φ; not the scorer's maxMargin z_y - max_{k != y} z_k; stable: the
//                   true class is pushed to -1e30 before a ReduceLogSumExp)
//   pred    [N]     int64 argmax
//   correct [N]     bool, pred == y
//   features [N,..] penultimate-layer features: a chosen value, by default the input of the last
//                   Gemm/MatMul node (the classifier head)
// Without labels only logits, pred and features are returned.

import { type Graph, type Model, type DType, type Dim, cloneGraph } from '../onnx/ir';
import { builderFor, dataInputs, defaultLogits, mergeInto, reduce, requireOpset, usedNames } from './graph-utils';
import { emitCrossEntropy } from './loss';
import { normalizeImportedModel } from '../models/import';
import type { ValueSpec } from './train-step';

export const EVAL_IO = {
  labels: 'lethe_labels',
  logits: 'lethe_logits',
  losses: 'lethe_losses',
  logitMargins: 'lethe_logit_margins',
  pred: 'lethe_pred',
  correct: 'lethe_correct',
  features: 'lethe_features',
} as const;

export interface EvalGraphOptions {
  logits?: string;
  /** value to return as features; null = none; default: input of the last Gemm/MatMul */
  features?: string | null;
  /** add labels input and the label-dependent outputs (default true) */
  withLabels?: boolean;
}

export interface EvalGraph {
  model: Model;
  dataInputs: ValueSpec[];
  labels: string | null;
  outputs: { logits: string; pred: string; losses: string | null; logitMargins: string | null; correct: string | null; features: string | null };
  /** the model value the features come from */
  featureSource: string | null;
}

/**
 * Default feature value: the model's 'lethe.features' metadata (set by the built-in architectures),
 * else the data input of the last Gemm or MatMul node (the classifier's input).
 */
export function defaultFeatureValue(g: Graph, metadata: Record<string, string> = {}): string | null {
  const declared = metadata['lethe.features'];
  if (declared && usedNames(g).has(declared)) return declared;
  const init = new Set(g.initializers.map((t) => t.name));
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (n.op === 'Gemm' || n.op === 'MatMul') {
      const x = n.inputs.find((v) => v && !init.has(v));
      if (x) return x;
    }
  }
  return null;
}

export function buildEvalGraph(raw: Model, o: EvalGraphOptions = {}): EvalGraph {
  // an imported training-mode export (5-output BatchNorm, Dropout with training_mode) evaluates in
  // inference form, like PyTorch's model.eval(); built-in and inference models pass through unchanged
  const model = normalizeImportedModel(raw).model;
  const opset = requireOpset(model);
  const g = cloneGraph(model.graph);
  const logits = o.logits ?? defaultLogits(g);
  const names = usedNames(g);
  if (!names.has(logits)) throw new Error(`logits value '${logits}' is not in the model`);
  const featureSource = o.features === null ? null : (o.features ?? defaultFeatureValue(g, model.metadata));
  if (featureSource && !names.has(featureSource)) throw new Error(`feature value '${featureSource}' is not in the model`);
  for (const n of Object.values(EVAL_IO)) if (names.has(n)) throw new Error(`the model already uses the name '${n}', which Lethe's evaluation graph needs`);
  const origData = dataInputs(model.graph);
  const dataSpecs = model.graph.inputs.filter((v) => origData.includes(v.name)).map((v) => ({ ...v, shape: v.shape ? [...v.shape] : null }));
  const withLabels = o.withLabels ?? true;

  const b = builderFor(g);
  b.reserve(Object.values(EVAL_IO));
  const outs: { name: string; dtype: DType; shape: Dim[] | null }[] = [];
  b.addNode('Identity', [logits], [EVAL_IO.logits]);
  outs.push({ name: EVAL_IO.logits, dtype: 'float32', shape: ['N', null] });
  b.addNode('ArgMax', [logits], [EVAL_IO.pred], { axis: 1, keepdims: 0 });
  outs.push({ name: EVAL_IO.pred, dtype: 'int64', shape: ['N'] });
  let losses: string | null = null;
  let logitMargins: string | null = null;
  let correct: string | null = null;
  if (withLabels) {
    b.input(EVAL_IO.labels, 'int64', ['N']);
    const ce = emitCrossEntropy(b, opset, logits, EVAL_IO.labels, {});
    b.addNode('Identity', [ce.losses], [EVAL_IO.losses]);
    losses = EVAL_IO.losses;
    const ly = reduce(b, opset, 'ReduceSum', b.op('Mul', [logits, ce.onehot]), [1], 0, 'logit_true');
    const others = b.op('Sub', [logits, b.op('Mul', [ce.onehot, b.constF(1e30)])], {}, 'logits_others');
    const lse = reduce(b, opset, 'ReduceLogSumExp', others, [1], 0, 'lse_others');
    b.addNode('Sub', [ly, lse], [EVAL_IO.logitMargins]);
    logitMargins = EVAL_IO.logitMargins;
    const eq = b.op('Equal', [EVAL_IO.pred, EVAL_IO.labels]);
    b.addNode('Identity', [eq], [EVAL_IO.correct]);
    correct = EVAL_IO.correct;
    outs.push(
      { name: EVAL_IO.losses, dtype: 'float32', shape: ['N'] },
      { name: EVAL_IO.logitMargins, dtype: 'float32', shape: ['N'] },
      { name: EVAL_IO.correct, dtype: 'bool', shape: ['N'] },
    );
  }
  let features: string | null = null;
  if (featureSource) {
    b.addNode('Identity', [featureSource], [EVAL_IO.features]);
    features = EVAL_IO.features;
    outs.push({ name: EVAL_IO.features, dtype: 'float32', shape: null });
  }
  mergeInto(g, b);
  g.outputs = outs;
  g.name = `${model.graph.name || 'model'}_eval`;
  return {
    model: { ...model, opsets: model.opsets.map((x) => ({ ...x })), metadata: { ...model.metadata, 'lethe.graph': 'eval' }, graph: g },
    dataInputs: dataSpecs,
    labels: withLabels ? EVAL_IO.labels : null,
    outputs: { logits: EVAL_IO.logits, pred: EVAL_IO.pred, losses, logitMargins, correct, features },
    featureSource,
  };
}
