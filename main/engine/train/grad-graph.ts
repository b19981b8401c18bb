// Gradient-only graphs: loss and dLoss/dparam (no update), or an elementwise transform of the
// gradient per mini-batch: 'square' (Fisher diagonal, SSD importances: accumulate the per-batch
// squared mini-batch gradients in JS) or 'abs' (SalUn weight saliency |grad|).

import { type Model, type DType, type Dim, cloneGraph } from '../onnx/ir';
import { builderFor, dataInputs, defaultLogits, mergeInto, promoteToInputs, trainingOpset, withOpset } from './graph-utils';
import { emitLoss } from './loss-terms';
import { type BackwardFn, type LowerFn } from './deps';
import { getBackward } from './deps';
import { STEP_IO, suffix, checkParams, lowerIfNeeded, type LossSettings, type ValueSpec, type TrainStepGraph } from './train-step';

export interface GradGraphOptions {
  /** parameters (float initializers) whose gradients are returned */
  params: string[];
  transform?: 'none' | 'square' | 'abs';
  loss?: LossSettings;
  logits?: string;
  /**
   * 'eval' (default): the model as it is (BatchNorm uses running statistics, Dropout is identity);
   * 'train': BatchNorm uses batch statistics, Dropout identity (deterministic gradients).
   */
  mode?: 'eval' | 'train';
  /** params become graph inputs (true) so one session serves changing weights; default false (baked) */
  paramsAsInputs?: boolean;
  backward?: BackwardFn;
  lower?: LowerFn;
}

export interface GradGraph {
  model: Model;
  dataInputs: ValueSpec[];
  labels: string;
  weights: string | null;
  loss: string;
  losses: string;
  /** inputs of the extra loss terms (see TrainStepGraph.terms) */
  terms: TrainStepGraph['terms'];
  /** param name -> output name of its (transformed) gradient */
  grads: Record<string, string>;
  /** params that are graph inputs (empty unless paramsAsInputs) */
  paramInputs: string[];
}

export function buildGradGraph(model: Model, o: GradGraphOptions): GradGraph {
  const opset = trainingOpset(model);
  if (!o.params.length) throw new Error('no parameters given for the gradient graph');
  checkParams(model.graph, o.params, 'gradient parameters');
  const transform = o.transform ?? 'none';
  if (!['none', 'square', 'abs'].includes(transform)) throw new Error(`gradient transform must be none, square or abs, got '${transform}'`);
  const logitsName = o.logits ?? defaultLogits(model.graph);
  const origData = dataInputs(model.graph);
  const dataSpecs = model.graph.inputs.filter((v) => origData.includes(v.name)).map((v) => ({ ...v, shape: v.shape ? [...v.shape] : null }));
  const dims = new Map(model.graph.initializers.map((t) => [t.name, [...t.dims]]));

  let g = cloneGraph(model.graph);
  if ((o.mode ?? 'eval') === 'train') {
    const lowered = lowerIfNeeded(g, { dropout: 'identity', lower: o.lower });
    g = lowered.graph;
  }
  if (o.paramsAsInputs) promoteToInputs(g, o.params);
  const lb = builderFor(g);
  const outNames = o.params.map((p) => suffix.grad(p));
  lb.reserve([...Object.values(STEP_IO), ...outNames]);
  const em = emitLoss(lb, opset, logitsName, STEP_IO, o.loss, o.params);
  const weights = em.weights;
  mergeInto(g, lb);
  g.outputs = [{ name: STEP_IO.loss, dtype: 'float32', shape: [] }];
  const bw = getBackward(o.backward)(g, { loss: STEP_IO.loss, wrt: [...o.params], opset });
  g = bw.graph;
  const ob = builderFor(g);
  const grads: Record<string, string> = {};
  for (const p of o.params) {
    const gr = bw.grads[p];
    if (!gr) throw new Error(`autodiff returned no gradient for '${p}'`);
    const t = transform === 'square' ? ob.op('Mul', [gr, gr]) : transform === 'abs' ? ob.op('Abs', [gr]) : gr;
    ob.addNode('Identity', [t], [suffix.grad(p)]);
    grads[p] = suffix.grad(p);
  }
  mergeInto(g, ob);
  g.outputs = [
    { name: STEP_IO.loss, dtype: 'float32', shape: [] },
    { name: STEP_IO.losses, dtype: 'float32', shape: ['N'] },
    ...em.extraOutputs.map((n) => ({ name: n, dtype: 'float32' as DType, shape: ['N'] as Dim[] })),
    ...o.params.map((p) => ({ name: suffix.grad(p), dtype: 'float32' as DType, shape: dims.get(p) as Dim[] })),
  ];
  g.name = `${model.graph.name || 'model'}_grad`;
  return {
    model: { ...model, opsets: withOpset(model, opset), metadata: { ...model.metadata, 'lethe.graph': `grad-${transform}` }, graph: g },
    dataInputs: dataSpecs,
    labels: STEP_IO.labels,
    weights,
    loss: STEP_IO.loss,
    losses: STEP_IO.losses,
    terms: { teacherLogits: em.teacherLogits, klWeights: em.klWeights, refLogp: em.refLogp, npoWeights: em.npoWeights, l1: em.l1 },
    grads,
    paramInputs: o.paramsAsInputs ? [...o.params] : [],
  };
}
