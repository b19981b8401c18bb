// Training N models at once in ONE ORT graph (issue 10: ensembles and seeds — N retrained and N
// unlearned models — are the norm in unlearning evaluation). Every member has its own weights,
// optimizer state and mini-batch; the graph's loss is the sum of the members' mean cross-entropies,
// so each member's gradient is exactly its own, and one session.run() advances all N members.
//
// Two graph shapes (MultiTrainStepOptions.layout):
//   'prefixed' (default): each member's training step (buildTrainStep: forward, loss, backward,
//       optimizer update) copied in with its names prefixed `m${i}/` (onnx/ensemble.ts's
//       copyPrefixed); only the learning rate and step count inputs are shared. The members are N
//       independent subgraphs, so ORT's 'parallel' execution mode (interOpThreads) can run them
//       concurrently. Per member the nodes are exactly those of its single-model step, so its
//       results are those of a Trainer on the same batches (bit-for-bit on CPU, see the test).
//       Summing the members' losses and differentiating once gives the same graph: the gradient of
//       a sum of independent terms is each term's own gradient, so each step is differentiated alone.
//   'grouped': the members stacked into one model (stack-models.ts: convolutions as one grouped Conv
//       with group = N, fully connected layers as one batched MatMul) and trained with one
//       buildTrainStep over N·B examples, CE weights 1/B and reduction 'sum' (= Σ members' mean CE).
//       Same mathematics, different kernels: equal to the single-model results up to float rounding.
//       Supports the op set of buildSmallCnn / buildMlp only, and trains every parameter.
//
// Not supported (either layout): dropout masks (Dropout with p > 0), parameter masks and the extra
// loss terms of loss-terms.ts; the learning rate is constant unless a step passes its own.

import type { Graph, Model, ValueInfo } from '../onnx/ir';
import { numel } from '../onnx/ir';
import { encodeModel } from '../onnx/codec';
import { copyPrefixed } from '../onnx/ensemble';
import { detectTrainable, normalizeTrainingExport } from '../models/import';
import { buildTrainStep, STEP_IO, type TrainStepGraph } from './train-step';
import type { OptimizerSpec } from './optimizers';
import { stackModels } from './stack-models';
import { bakeInference } from './bake';
import { openSession, ort, type OpenedSession, type ProviderName } from './session';
import type { BackwardFn, LowerFn } from './deps';

export type MultiLayout = 'prefixed' | 'grouped';

/** Name prefix of member i's values in the 'prefixed' layout. */
export const memberPrefix = (i: number): string => `m${i}/`;

export interface MultiTrainStepOptions {
  /** graph shape (default 'prefixed'; see the header) */
  layout?: MultiLayout;
  optimizer: OptimizerSpec;
  /** parameters to train in every member (default: detectTrainable's choice minus `frozen`); 'prefixed' only */
  trainable?: string[];
  frozen?: string[];
  labelSmoothing?: number;
  backward?: BackwardFn;
  lower?: LowerFn;
}

/** Where member `member`'s tensor `name` lives inside a graph input (an element range of it). */
export interface MemberSlice {
  member: number;
  name: string;
  dims: number[];
  offset: number;
  length: number;
}

/** One graph input that is fed back from an output every step (parameter, optimizer state, running statistic). */
export interface MultiSlot {
  kind: 'param' | 'state' | 'stat';
  input: string;
  output: string;
  dims: number[];
  /** optimizer state slot ('momentum', 'exp_avg', ...) for kind 'state' */
  slot?: string;
  parts: MemberSlice[];
}

export interface MultiTrainStepGraph {
  model: Model;
  layout: MultiLayout;
  members: number;
  /** one member's example shape (without batch) */
  exampleShape: number[];
  lr: string;
  step: string;
  /** total loss (Σ of the members' mean cross-entropies) */
  loss: string;
  /**
   * 'prefixed': one entry per member (its data input [B, ...], labels [B], mean loss, per-example losses);
   * 'grouped': one entry (data [N, B, ...], labels [N·B], per-example losses [N·B]; loss null).
   */
  data: { x: string; y: string; loss: string | null; losses: string }[];
  /** 'grouped': the CE per-example weight input [N·B] (fed 1/B) */
  weights: string | null;
  slots: MultiSlot[];
}

const TOTAL_LOSS = STEP_IO.loss;

function fixedExampleShape(st: TrainStepGraph, i: number): number[] {
  if (st.dataInputs.length !== 1) throw new Error(`member ${i} must have exactly one data input, it has ${st.dataInputs.length}`);
  const s = st.dataInputs[0].shape?.slice(1);
  if (!s || s.some((d) => typeof d !== 'number')) throw new Error(`member ${i}'s data input needs a fixed example shape, got [${st.dataInputs[0].shape?.join(', ') ?? '?'}]`);
  return s as number[];
}

function checkStep(st: TrainStepGraph, i: number): void {
  if (st.dropoutMasks.length) throw new Error(`member ${i} has Dropout with p > 0; the multi-model step does not feed dropout masks (build the members without dropout)`);
}

function stepSlots(st: TrainStepGraph, member: number, ren: (n: string) => string): MultiSlot[] {
  const out: MultiSlot[] = [];
  const one = (name: string, dims: number[]): MemberSlice[] => [{ member, name, dims, offset: 0, length: numel(dims) }];
  for (const p of st.params) {
    out.push({ kind: 'param', input: ren(p.input), output: ren(p.output), dims: p.dims, parts: one(p.name, p.dims) });
    for (const s of p.state) out.push({ kind: 'state', slot: s.slot, input: ren(s.input), output: ren(s.output), dims: p.dims, parts: one(p.name, p.dims) });
  }
  for (const r of st.runningStats) out.push({ kind: 'stat', input: ren(r.input), output: ren(r.output), dims: r.dims, parts: one(r.name, r.dims) });
  return out;
}

function prepare(models: Model[], o: MultiTrainStepOptions): { model: Model; trainable: string[] }[] {
  if (!models.length) throw new Error('the multi-model step needs at least one model');
  return models.map((m, i) => {
    const model = normalizeTrainingExport(m).model;
    let trainable = o.trainable ?? detectTrainable(model, { frozen: o.frozen }).trainable;
    if (o.trainable && o.frozen) trainable = trainable.filter((t) => !o.frozen!.includes(t));
    if (!trainable.length) throw new Error(`member ${i} has no trainable parameters (all are frozen or none were detected)`);
    return { model, trainable };
  });
}

function buildPrefixed(models: Model[], o: MultiTrainStepOptions): MultiTrainStepGraph {
  const shared = new Set<string>([STEP_IO.lr, STEP_IO.step]);
  const g: Graph = { name: `multi_train_step_x${models.length}`, nodes: [], inputs: [], outputs: [], initializers: [] };
  const data: MultiTrainStepGraph['data'] = [];
  const slots: MultiSlot[] = [];
  const sharedInputs = new Map<string, ValueInfo>();
  let exampleShape: number[] = [];
  let irVersion = 0;
  let opsets: Model['opsets'] = [];
  prepare(models, o).forEach(({ model, trainable }, i) => {
    const st = buildTrainStep(model, { trainable, optimizer: o.optimizer, loss: { labelSmoothing: o.labelSmoothing }, backward: o.backward, lower: o.lower });
    checkStep(st, i);
    const ex = fixedExampleShape(st, i);
    if (i === 0) exampleShape = ex;
    else if (JSON.stringify(ex) !== JSON.stringify(exampleShape)) throw new Error(`member ${i}'s example shape [${ex.join(', ')}] differs from member 0's [${exampleShape.join(', ')}]`);
    const sg = st.model.graph;
    const ren = copyPrefixed(g, sg, memberPrefix(i), (n) => shared.has(n), `member ${i}`);
    for (const v of sg.inputs) {
      if (shared.has(v.name)) sharedInputs.set(v.name, v);
      else g.inputs.push({ ...v, name: ren(v.name), shape: v.shape ? [...v.shape] : null });
    }
    for (const v of sg.outputs) g.outputs.push({ ...v, name: ren(v.name), shape: v.shape ? [...v.shape] : null });
    data.push({ x: ren(st.dataInputs[0].name), y: ren(st.labels), loss: ren(st.loss), losses: ren(st.losses) });
    slots.push(...stepSlots(st, i, ren));
    irVersion = Math.max(irVersion, st.model.irVersion);
    if (i === 0) opsets = st.model.opsets.map((x) => ({ ...x }));
    else if (JSON.stringify(st.model.opsets) !== JSON.stringify(opsets)) throw new Error(`member ${i}'s training graph uses other opsets than member 0's`);
  });
  for (const n of shared) {
    const v = sharedInputs.get(n);
    if (v) g.inputs.push({ ...v, shape: v.shape ? [...v.shape] : null });
  }
  const losses = data.map((d) => d.loss!);
  g.nodes.push({ op: losses.length === 1 ? 'Identity' : 'Sum', inputs: losses, outputs: [TOTAL_LOSS], attrs: {}, name: 'lethe_total_loss' });
  g.outputs.unshift({ name: TOTAL_LOSS, dtype: 'float32', shape: [] });
  return {
    model: { irVersion, opsets, producerName: 'lethe', graph: g, metadata: { 'lethe.graph': 'multi-train-step', 'lethe.members': String(models.length) } },
    layout: 'prefixed',
    members: models.length,
    exampleShape,
    lr: STEP_IO.lr,
    step: STEP_IO.step,
    loss: TOTAL_LOSS,
    data,
    weights: null,
    slots,
  };
}

function buildGrouped(models: Model[], o: MultiTrainStepOptions): MultiTrainStepGraph {
  if (o.trainable || o.frozen) throw new Error("the 'grouped' layout trains every parameter: do not pass trainable or frozen");
  const stacked = stackModels(prepare(models, o).map((p) => p.model));
  const st = buildTrainStep(stacked.model, {
    trainable: [...stacked.parts.keys()],
    optimizer: o.optimizer,
    loss: { labelSmoothing: o.labelSmoothing, exampleWeights: true, reduction: 'sum' },
    backward: o.backward,
    lower: o.lower,
  });
  checkStep(st, 0);
  if (st.runningStats.length) throw new Error("the 'grouped' layout does not support BatchNorm");
  const slots: MultiSlot[] = [];
  for (const p of st.params) {
    const parts = stacked.parts.get(p.name)!;
    slots.push({ kind: 'param', input: p.input, output: p.output, dims: p.dims, parts });
    for (const s of p.state) slots.push({ kind: 'state', slot: s.slot, input: s.input, output: s.output, dims: p.dims, parts });
  }
  return {
    model: { ...st.model, metadata: { ...st.model.metadata, 'lethe.graph': 'multi-train-step', 'lethe.members': String(models.length) } },
    layout: 'grouped',
    members: models.length,
    exampleShape: stacked.exampleShape,
    lr: st.lr,
    step: st.step,
    loss: st.loss,
    data: [{ x: st.dataInputs[0].name, y: st.labels, loss: null, losses: st.losses }],
    weights: st.weights,
    slots,
  };
}

/** The training step of N models in one graph (see the header). */
export function buildMultiTrainStep(models: Model[], o: MultiTrainStepOptions): MultiTrainStepGraph {
  const layout = o.layout ?? 'prefixed';
  if (layout === 'prefixed') return buildPrefixed(models, o);
  if (layout === 'grouped') return buildGrouped(models, o);
  throw new Error(`unknown multi-model layout '${String(layout)}' (expected prefixed or grouped)`);
}

export interface MultiTrainerOptions extends MultiTrainStepOptions {
  models: Model[];
  /** learning rate of every step that does not pass its own */
  lr: number;
  provider?: ProviderName;
  /** intra-op threads (default 1) */
  threads?: number;
  /** > 0: ORT 'parallel' execution mode with this many inter-op threads (default: sequential) */
  interOpThreads?: number;
}

/** One member's mini-batch: x [nb, ...example] flattened, int64 labels [nb]. */
export interface MemberBatch {
  x: Float32Array;
  y: BigInt64Array;
}

/**
 * Keeps every member's parameters and optimizer state as Float32Arrays and runs the multi-model step
 * graph (one session) on one mini-batch per member: the N-model counterpart of Trainer.trainStep.
 */
export class MultiTrainer {
  globalStep = 0;
  private values = new Map<string, Float32Array>();
  private stacked: { x: Float32Array; y: BigInt64Array; w: Float32Array; nb: number } | null = null;

  private constructor(
    readonly opts: MultiTrainerOptions,
    readonly step: MultiTrainStepGraph,
    private sess: OpenedSession,
    private members: Model[],
  ) {
    const inits = members.map((m) => new Map(m.graph.initializers.map((t) => [t.name, t])));
    for (const s of step.slots) {
      const a = new Float32Array(numel(s.dims));
      if (s.kind !== 'state') for (const p of s.parts) a.set(inits[p.member].get(p.name)!.data as Float32Array, p.offset);
      this.values.set(s.input, a);
    }
  }

  static async create(o: MultiTrainerOptions): Promise<MultiTrainer> {
    if (!(Number.isFinite(o.lr) && o.lr > 0)) throw new Error(`learning rate must be a positive number, got ${o.lr}`);
    const step = buildMultiTrainStep(o.models, o);
    const sess = await openSession(encodeModel(step.model), { provider: o.provider, threads: o.threads, interOpThreads: o.interOpThreads });
    return new MultiTrainer(o, step, sess, o.models.map((m) => normalizeTrainingExport(m).model));
  }

  get provider(): string {
    return this.sess.provider;
  }

  get size(): number {
    return this.step.members;
  }

  /**
   * One optimizer step of every member, member i on batches[i] (nb examples each). Returns the total
   * loss (Σ of the members' mean cross-entropies) and each member's mean cross-entropy.
   */
  async trainStep(batches: MemberBatch[], nb: number, lr?: number): Promise<{ loss: number; memberLosses: number[] }> {
    const st = this.step;
    const N = st.members;
    const per = numel(st.exampleShape);
    if (batches.length !== N) throw new Error(`expected ${N} batches (one per member), got ${batches.length}`);
    if (!Number.isInteger(nb) || nb < 1) throw new Error(`batch size must be a positive integer, got ${nb}`);
    batches.forEach((b, i) => {
      if (!(b.x instanceof Float32Array) || b.x.length !== nb * per) throw new Error(`member ${i}'s x must be a Float32Array of ${nb} x ${per} values`);
      if (!(b.y instanceof BigInt64Array) || b.y.length !== nb) throw new Error(`member ${i}'s y must be a BigInt64Array of ${nb} labels`);
    });
    const rate = lr ?? this.opts.lr;
    const feeds: Record<string, ort.Tensor> = {
      [st.lr]: new ort.Tensor('float32', new Float32Array([rate]), []),
      [st.step]: new ort.Tensor('float32', new Float32Array([this.globalStep + 1]), []),
    };
    if (st.layout === 'prefixed') {
      st.data.forEach((d, i) => {
        feeds[d.x] = new ort.Tensor('float32', batches[i].x, [nb, ...st.exampleShape]);
        feeds[d.y] = new ort.Tensor('int64', batches[i].y, [nb]);
      });
    } else {
      if (!this.stacked || this.stacked.nb !== nb) this.stacked = { x: new Float32Array(N * nb * per), y: new BigInt64Array(N * nb), w: new Float32Array(N * nb).fill(1 / nb), nb };
      const s = this.stacked;
      batches.forEach((b, i) => {
        s.x.set(b.x, i * nb * per);
        s.y.set(b.y, i * nb);
      });
      const d = st.data[0];
      feeds[d.x] = new ort.Tensor('float32', s.x, [N, nb, ...st.exampleShape]);
      feeds[d.y] = new ort.Tensor('int64', s.y, [N * nb]);
      feeds[st.weights!] = new ort.Tensor('float32', s.w, [N * nb]);
    }
    for (const s of st.slots) feeds[s.input] = new ort.Tensor('float32', this.values.get(s.input)!, s.dims);
    const out = await this.sess.session.run(feeds);
    const loss = (out[st.loss].data as Float32Array)[0];
    if (!Number.isFinite(loss)) throw new Error(`training diverged: loss is ${loss} at step ${this.globalStep + 1} (lower the learning rate)`);
    for (const s of st.slots) this.values.set(s.input, out[s.output].data as Float32Array);
    this.globalStep++;
    let memberLosses: number[];
    if (st.layout === 'prefixed') memberLosses = st.data.map((d) => (out[d.loss!].data as Float32Array)[0]);
    else {
      const l = out[st.data[0].losses].data as Float32Array;
      memberLosses = Array.from({ length: N }, (_, i) => {
        let s = 0;
        for (let k = i * nb; k < (i + 1) * nb; k++) s += l[k];
        return s / nb;
      });
    }
    return { loss, memberLosses };
  }

  private memberValues(i: number, kinds: MultiSlot['kind'][], slot?: string): Record<string, Float32Array> {
    if (!Number.isInteger(i) || i < 0 || i >= this.step.members) throw new Error(`member index must be 0..${this.step.members - 1}, got ${i}`);
    const w: Record<string, Float32Array> = {};
    for (const s of this.step.slots) {
      if (!kinds.includes(s.kind) || (slot !== undefined && s.slot !== slot)) continue;
      const a = this.values.get(s.input)!;
      for (const p of s.parts) if (p.member === i) w[p.name] = p.offset === 0 && p.length === a.length ? a : a.subarray(p.offset, p.offset + p.length);
    }
    return w;
  }

  /** Member i's trainable parameters and running statistics by its own names (views; do not mutate). */
  weights(i: number): Record<string, Float32Array> {
    return this.memberValues(i, ['param', 'stat']);
  }

  /** Member i's optimizer state of one slot ('momentum', 'exp_avg', 'exp_avg_sq'), by parameter name. */
  optimizerState(i: number, slot: string): Record<string, Float32Array> {
    return this.memberValues(i, ['state'], slot);
  }

  /** Inference model of member i with its current weights. */
  memberModel(i: number, metadata: Record<string, string> = {}): Model {
    return bakeInference(this.members[i], this.weights(i), { 'lethe.trained.steps': String(this.globalStep), ...metadata });
  }

  async dispose(): Promise<void> {
    await this.sess.session.release();
  }
}
