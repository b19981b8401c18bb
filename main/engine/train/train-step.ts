// The training-step graph: one ONNX graph that runs forward, loss, backward and the optimizer update
// for one mini-batch, executed by an ordinary InferenceSession.
//
// Inputs : the model's data inputs (e.g. 'input' [N,...]), labels int64 [N], optionally per-example
//          weights float [N], learning rate (scalar), step count t (scalar, 1-based, Adam bias
//          correction), every trainable parameter (same name as its initializer), its optimizer state,
//          its 0/1 mask if masked, BatchNorm running statistics, dropout masks.
// Outputs: loss (scalar), per-example losses [N], updated parameters, updated optimizer state,
//          updated running statistics.
// Frozen parameters stay initializers (no gradient is computed for them and they never change).

import { type Graph, type Model, type DType, type Dim, cloneGraph } from '../onnx/ir';
import { builderFor, dataInputs, defaultLogits, mergeInto, promoteToInputs, trainingOpset, withOpset, usedNames, floatInitializers } from './graph-utils';
import { emitLoss, TERM_IO, type LossTerms } from './loss-terms';
import { emitOptimizerScalars, emitParamUpdate, stateSlots, validateOptimizer, type OptimizerSpec } from './optimizers';
import { getBackward, getLower, type BackwardFn, type LowerFn, type LoweredGraph } from './deps';
import { FORMULATION } from '../autodiff/formulation';
import { fuseMomentumIntoGemm, inlineOutputIdentities } from './fuse-update';

/** Fixed names of the step graph's own inputs and outputs. */
export const STEP_IO = {
  labels: 'lethe_labels',
  weights: 'lethe_example_weights',
  lr: 'lethe_lr',
  step: 'lethe_step',
  loss: 'lethe_loss',
  losses: 'lethe_losses',
  /** extra loss terms (loss-terms.ts): teacher logits [N, C], KL weights [N], reference log-probabilities [N], NPO weights [N], L1 coefficient (scalar); outputs: per-example KL and NPO values [N] */
  ...TERM_IO,
} as const;

export const suffix = {
  newParam: (p: string) => `${p}__new`,
  state: (p: string, slot: string) => `${p}__${slot}`,
  newState: (p: string, slot: string) => `${p}__${slot}__new`,
  mask: (p: string) => `${p}__mask`,
  grad: (p: string) => `${p}__grad`,
  newStat: (s: string) => `${s}__new`,
};

export interface LossSettings {
  labelSmoothing?: number;
  /** add a per-example weight input (float [N]) */
  exampleWeights?: boolean;
  reduction?: 'mean' | 'sum';
  /**
   * extra terms (KL distillation, NPO, L1; loss-terms.ts). When any is on, the loss has reduction
   * 'sum' semantics and the CE gets the per-example weight input STEP_IO.weights.
   */
  terms?: LossTerms;
}

export interface TrainStepOptions {
  /** initializer names that are trained */
  trainable: string[];
  optimizer: OptimizerSpec;
  /** subset of `trainable` that gets an elementwise 0/1 mask input */
  masked?: string[];
  loss?: LossSettings;
  /** value holding the logits [N, C] (default: the model's first output) */
  logits?: string;
  /** dropout in training: seeded mask inputs (default) or identity */
  dropout?: 'mask-inputs' | 'identity';
  /** BatchNorm momentum override (default: the node's own, i.e. PyTorch's 0.1) */
  bnMomentum?: number;
  backward?: BackwardFn;
  lower?: LowerFn;
}

export interface ValueSpec {
  name: string;
  dtype: DType;
  shape: Dim[] | null;
}

export interface ParamIO {
  name: string;
  dims: number[];
  /** graph input carrying the current value (the parameter's own name) */
  input: string;
  /** graph output carrying the updated value */
  output: string;
  mask: string | null;
  state: { slot: string; input: string; output: string }[];
}

export interface TrainStepGraph {
  model: Model;
  dataInputs: ValueSpec[];
  labels: string;
  weights: string | null;
  lr: string;
  step: string;
  loss: string;
  losses: string;
  /** inputs of the extra loss terms (null when the term is off) */
  terms: { teacherLogits: string | null; klWeights: string | null; refLogp: string | null; npoWeights: string | null; l1: string | null };
  /** per-example outputs of the extra terms: STEP_IO.klLosses / STEP_IO.npoLosses when on */
  termOutputs: { kl: string | null; npo: string | null };
  params: ParamIO[];
  runningStats: { name: string; dims: number[]; input: string; output: string }[];
  dropoutMasks: { input: string; shapeOf: string; ratio: number }[];
}

const TRAINING_OPS = new Set(['BatchNormalization', 'Dropout', 'LayerNormalization']);

/** Lower BN/Dropout/LayerNorm for training when the graph has any (no-op otherwise). */
export function lowerIfNeeded(g: Graph, o: { dropout?: 'mask-inputs' | 'identity'; bnMomentum?: number; lower?: LowerFn }): LoweredGraph {
  if (!g.nodes.some((n) => TRAINING_OPS.has(n.op) && (!n.domain || n.domain === 'ai.onnx'))) return { graph: g, runningStats: [], dropoutMasks: [] };
  return getLower(o.lower)(g, { dropout: o.dropout ?? 'mask-inputs', bnMomentum: o.bnMomentum });
}

/** Check a list of parameter names against the model's float initializers. */
export function checkParams(g: Graph, names: string[], what: string): void {
  const floats = floatInitializers(g);
  const all = new Set(g.initializers.map((t) => t.name));
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new Error(`${what}: '${n}' is listed twice`);
    seen.add(n);
    if (!all.has(n)) throw new Error(`${what}: '${n}' is not an initializer of the model`);
    if (!floats.has(n)) throw new Error(`${what}: '${n}' is not a float32 initializer`);
  }
}

export function buildTrainStep(model: Model, o: TrainStepOptions): TrainStepGraph {
  const opset = trainingOpset(model);
  validateOptimizer(o.optimizer);
  if (!o.trainable.length) throw new Error('nothing to train: the list of trainable parameters is empty');
  checkParams(model.graph, o.trainable, 'trainable parameters');
  const masked = o.masked ?? [];
  for (const m of masked) if (!o.trainable.includes(m)) throw new Error(`masked parameter '${m}' is not trainable`);
  const logitsName = o.logits ?? defaultLogits(model.graph);
  const origData = dataInputs(model.graph);
  const dataSpecs: ValueSpec[] = model.graph.inputs.filter((v) => origData.includes(v.name)).map((v) => ({ ...v, shape: v.shape ? [...v.shape] : null }));
  const initDims = new Map(model.graph.initializers.map((t) => [t.name, [...t.dims]]));

  // 1. training-mode lowering (batch statistics, dropout masks)
  const lowered = lowerIfNeeded(cloneGraph(model.graph), o);
  let g = lowered.graph;
  for (const rs of lowered.runningStats) {
    if (o.trainable.includes(rs.name)) throw new Error(`'${rs.name}' is a BatchNorm running statistic, not a trainable parameter`);
  }

  // reserve the names we hand out, and refuse models that already use them
  const taken = usedNames(g);
  const ours: string[] = [...Object.values(STEP_IO)];
  for (const p of o.trainable) {
    ours.push(suffix.newParam(p));
    for (const s of stateSlots(o.optimizer)) ours.push(suffix.state(p, s), suffix.newState(p, s));
    if (masked.includes(p)) ours.push(suffix.mask(p));
  }
  for (const rs of lowered.runningStats) ours.push(suffix.newStat(rs.name));
  for (const n of ours) if (taken.has(n)) throw new Error(`the model already uses the name '${n}', which Lethe's training graph needs`);

  // 2. parameters and running statistics become inputs
  promoteToInputs(g, [...o.trainable, ...lowered.runningStats.map((r) => r.name)]);

  // 3. loss
  const lb = builderFor(g, '');
  for (const n of ours) lb.reserve([n]);
  const em = emitLoss(lb, opset, logitsName, STEP_IO, o.loss, o.trainable);
  const weights = em.weights;
  mergeInto(g, lb);
  g.outputs = [{ name: STEP_IO.loss, dtype: 'float32', shape: [] }];

  // 4. backward
  const bw = getBackward(o.backward)(g, { loss: STEP_IO.loss, wrt: [...o.trainable], opset });
  g = bw.graph;
  for (const p of o.trainable) if (!bw.grads[p]) throw new Error(`autodiff returned no gradient for '${p}'`);

  // 5. optimizer update
  const ob = builderFor(g, '');
  for (const n of ours) ob.reserve([n]);
  ob.input(STEP_IO.lr, 'float32', []);
  ob.input(STEP_IO.step, 'float32', []);
  const sc = emitOptimizerScalars(ob, o.optimizer, STEP_IO.lr, STEP_IO.step);
  const params: ParamIO[] = [];
  for (const p of o.trainable) {
    const dims = initDims.get(p)!;
    const state: Record<string, string> = {};
    const stateIO: ParamIO['state'] = [];
    for (const slot of stateSlots(o.optimizer)) {
      state[slot] = ob.input(suffix.state(p, slot), 'float32', dims);
    }
    const mask = masked.includes(p) ? ob.input(suffix.mask(p), 'float32', dims) : null;
    const upd = emitParamUpdate(ob, o.optimizer, sc, { param: p, grad: bw.grads[p], state, mask: mask ?? undefined });
    ob.addNode('Identity', [upd.param], [suffix.newParam(p)]);
    for (const slot of Object.keys(state)) {
      ob.addNode('Identity', [upd.state[slot]], [suffix.newState(p, slot)]);
      stateIO.push({ slot, input: suffix.state(p, slot), output: suffix.newState(p, slot) });
    }
    params.push({ name: p, dims, input: p, output: suffix.newParam(p), mask, state: stateIO });
  }
  const runningStats = lowered.runningStats.map((rs) => {
    ob.addNode('Identity', [rs.updated], [suffix.newStat(rs.name)]);
    return { name: rs.name, dims: initDims.get(rs.name) ?? [], input: rs.name, output: suffix.newStat(rs.name) };
  });
  mergeInto(g, ob);

  g.outputs = [
    { name: STEP_IO.loss, dtype: 'float32', shape: [] },
    { name: STEP_IO.losses, dtype: 'float32', shape: ['N'] },
    ...em.extraOutputs.map((n) => ({ name: n, dtype: 'float32' as DType, shape: ['N'] as Dim[] })),
    ...params.flatMap((p) => [
      { name: p.output, dtype: 'float32' as DType, shape: p.dims as Dim[] },
      ...p.state.map((s) => ({ name: s.output, dtype: 'float32' as DType, shape: p.dims as Dim[] })),
    ]),
    ...runningStats.map((r) => ({ name: r.output, dtype: 'float32' as DType, shape: r.dims as Dim[] })),
  ];
  g.name = `${model.graph.name || 'model'}_train_step`;
  if (FORMULATION.fuseUpdate) {
    fuseMomentumIntoGemm(g, new Set(params.flatMap((p) => p.state.filter((s) => s.slot === 'momentum').map((s) => s.input))));
    inlineOutputIdentities(g);
  }

  return {
    model: { ...model, opsets: withOpset(model, opset), metadata: { ...model.metadata, 'lethe.graph': 'train-step' }, graph: g },
    dataInputs: dataSpecs,
    labels: STEP_IO.labels,
    weights,
    lr: STEP_IO.lr,
    step: STEP_IO.step,
    loss: STEP_IO.loss,
    losses: STEP_IO.losses,
    terms: { teacherLogits: em.teacherLogits, klWeights: em.klWeights, refLogp: em.refLogp, npoWeights: em.npoWeights, l1: em.l1 },
    termOutputs: { kl: em.extraOutputs.includes(STEP_IO.klLosses) ? STEP_IO.klLosses : null, npo: em.extraOutputs.includes(STEP_IO.npoLosses) ? STEP_IO.npoLosses : null },
    params,
    runningStats,
    dropoutMasks: lowered.dropoutMasks,
  };
}
