// Gradients with respect to the INPUT: dLoss/dx [N, ...] and the logits, for FGSM (Boundary Shrink's
// nearest-boundary search) and UNSIR's error-maximising noise. The loss defaults to the per-example
// cross-entropy SUMMED over the batch (reduction 'sum'), so row i of the gradient is example i's own
// dCE_i/dx_i; per-example weights (negative = ascent), label smoothing and the KL / NPO terms of
// loss-terms.ts can be used as in the training step (not L1: there are no trainable parameters here).
// Evaluated in 'eval' mode by default (BatchNorm running statistics, no dropout), like model.eval().

import { type Model, type DType, type Dim, cloneGraph } from '../onnx/ir';
import { normalizeTrainingExport } from '../models/import';
import { builderFor, dataInputs, defaultLogits, mergeInto, promoteToInputs, trainingOpset, withOpset } from './graph-utils';
import { emitLoss } from './loss-terms';
import { getBackward, type BackwardFn, type LowerFn } from './deps';
import { STEP_IO, checkParams, lowerIfNeeded, type LossSettings, type TrainStepGraph, type ValueSpec } from './train-step';
import { openSession, ort, type OpenedSession, type SessionSettings } from './session';

/** Output names of the input-gradient graph (besides STEP_IO.loss / STEP_IO.losses). */
export const INPUT_GRAD_IO = { grad: 'lethe_input_grad', logits: 'lethe_logits' } as const;

export interface InputGradGraphOptions {
  /** default reduction 'sum' (each row of the gradient is that example's own) */
  loss?: LossSettings;
  logits?: string;
  /** 'eval' (default): running statistics; 'train': batch statistics, dropout identity */
  mode?: 'eval' | 'train';
  /** parameters that become graph inputs so one session serves changing weights (default none: baked) */
  paramInputs?: string[];
  backward?: BackwardFn;
  lower?: LowerFn;
}

export interface InputGradGraph {
  model: Model;
  dataInput: ValueSpec;
  labels: string;
  weights: string | null;
  terms: TrainStepGraph['terms'];
  loss: string;
  losses: string;
  /** dLoss/dx, same shape as the data input */
  grad: string;
  logits: string;
  paramInputs: string[];
}

export function buildInputGradGraph(raw: Model, o: InputGradGraphOptions = {}): InputGradGraph {
  const model = normalizeTrainingExport(raw).model;
  const opset = trainingOpset(model);
  if (o.loss?.terms?.l1) throw new Error('the input-gradient graph has no trainable parameters: the L1 term does not apply');
  const logitsName = o.logits ?? defaultLogits(model.graph);
  const data = dataInputs(model.graph);
  if (data.length !== 1) throw new Error(`input gradients need a model with exactly one data input, this one has ${data.length}`);
  const spec = model.graph.inputs.find((v) => v.name === data[0])!;
  if (spec.dtype !== 'float32') throw new Error(`input gradients need a float32 data input, '${spec.name}' is ${spec.dtype}`);
  const paramInputs = o.paramInputs ?? [];
  if (paramInputs.length) checkParams(model.graph, paramInputs, 'parameter inputs');

  let g = cloneGraph(model.graph);
  if ((o.mode ?? 'eval') === 'train') g = lowerIfNeeded(g, { dropout: 'identity', lower: o.lower }).graph;
  if (paramInputs.length) promoteToInputs(g, paramInputs);
  const lb = builderFor(g);
  lb.reserve([...Object.values(STEP_IO), ...Object.values(INPUT_GRAD_IO)]);
  const loss = { ...o.loss, reduction: o.loss?.reduction ?? (o.loss?.terms ? undefined : 'sum') } as LossSettings;
  const em = emitLoss(lb, opset, logitsName, STEP_IO, loss, []);
  lb.addNode('Identity', [logitsName], [INPUT_GRAD_IO.logits]);
  mergeInto(g, lb);
  g.outputs = [{ name: STEP_IO.loss, dtype: 'float32', shape: [] }];
  const bw = getBackward(o.backward)(g, { loss: STEP_IO.loss, wrt: [spec.name], opset });
  g = bw.graph;
  const gr = bw.grads[spec.name];
  if (!gr) throw new Error(`autodiff returned no gradient for the input '${spec.name}'`);
  const ob = builderFor(g);
  ob.addNode('Identity', [gr], [INPUT_GRAD_IO.grad]);
  mergeInto(g, ob);
  g.outputs = [
    { name: STEP_IO.loss, dtype: 'float32', shape: [] },
    { name: STEP_IO.losses, dtype: 'float32', shape: ['N'] },
    ...em.extraOutputs.map((n) => ({ name: n, dtype: 'float32' as DType, shape: ['N'] as Dim[] })),
    { name: INPUT_GRAD_IO.logits, dtype: 'float32', shape: ['N', null] },
    { name: INPUT_GRAD_IO.grad, dtype: 'float32', shape: spec.shape ? ([...spec.shape] as Dim[]) : null },
  ];
  g.name = `${model.graph.name || 'model'}_input_grad`;
  return {
    model: { ...model, opsets: withOpset(model, opset), metadata: { ...model.metadata, 'lethe.graph': 'input-grad' }, graph: g },
    dataInput: { ...spec, shape: spec.shape ? [...spec.shape] : null },
    labels: STEP_IO.labels,
    weights: em.weights,
    terms: { teacherLogits: em.teacherLogits, klWeights: em.klWeights, refLogp: em.refLogp, npoWeights: em.npoWeights, l1: em.l1 },
    loss: STEP_IO.loss,
    losses: STEP_IO.losses,
    grad: INPUT_GRAD_IO.grad,
    logits: INPUT_GRAD_IO.logits,
    paramInputs: [...paramInputs],
  };
}

export interface InputGradBatch {
  x: Float32Array;
  y: BigInt64Array;
  nb: number;
  exampleShape: number[];
  /** CE per-example weights (when the graph has them) */
  weights?: Float32Array;
  teacherLogits?: Float32Array;
  klWeights?: Float32Array;
  refLogp?: Float32Array;
  npoWeights?: Float32Array;
  /** values of the graph's parameter inputs */
  params?: Record<string, Float32Array>;
}

export interface InputGradResult {
  loss: number;
  /** per-example cross-entropy [nb] */
  losses: Float32Array;
  /** dLoss/dx [nb * prod(exampleShape)] */
  grad: Float32Array;
  /** logits [nb * C] */
  logits: Float32Array;
  numClasses: number;
}

/** One input-gradient session, reused across batches (e.g. the iterations of UNSIR's noise). */
export class InputGradientRunner {
  private constructor(
    readonly graph: InputGradGraph,
    private s: OpenedSession,
    private dims: Map<string, number[]>,
  ) {}

  get provider(): string {
    return this.s.provider;
  }

  static async open(model: Model, o: InputGradGraphOptions & SessionSettings = {}): Promise<InputGradientRunner> {
    const gg = buildInputGradGraph(model, o);
    const s = await openSession(gg.model, o);
    const dims = new Map(model.graph.initializers.filter((t) => gg.paramInputs.includes(t.name)).map((t) => [t.name, [...t.dims]]));
    return new InputGradientRunner(gg, s, dims);
  }

  async run(b: InputGradBatch): Promise<InputGradResult> {
    const gg = this.graph;
    const { nb } = b;
    const per = b.exampleShape.reduce((a, c) => a * c, 1);
    if (b.x.length !== nb * per) throw new Error(`x holds ${b.x.length} values, ${nb} examples of shape [${b.exampleShape.join(', ')}] need ${nb * per}`);
    if (b.y.length !== nb) throw new Error(`${nb} examples but ${b.y.length} labels`);
    const feeds: Record<string, ort.Tensor> = {
      [gg.dataInput.name]: new ort.Tensor('float32', b.x, [nb, ...b.exampleShape]),
      [gg.labels]: new ort.Tensor('int64', b.y, [nb]),
    };
    const vec = (what: string, v: Float32Array | undefined, name: string | null) => {
      if (!name) {
        if (v) throw new Error(`${what} given, but the input-gradient graph was not built with them`);
        return;
      }
      if (!v || v.length !== nb) throw new Error(`the input-gradient graph needs ${what}: a Float32Array of ${nb} values`);
      feeds[name] = new ort.Tensor('float32', v, [nb]);
    };
    vec('per-example weights', b.weights, gg.weights);
    vec('KL weights', b.klWeights, gg.terms.klWeights);
    vec('reference log-probabilities', b.refLogp, gg.terms.refLogp);
    vec('NPO weights', b.npoWeights, gg.terms.npoWeights);
    if (gg.terms.teacherLogits) {
      const t = b.teacherLogits;
      if (!t || t.length % nb !== 0) throw new Error(`the input-gradient graph needs teacherLogits: a Float32Array of ${nb} x C values`);
      feeds[gg.terms.teacherLogits] = new ort.Tensor('float32', t, [nb, t.length / nb]);
    }
    for (const p of gg.paramInputs) {
      const v = b.params?.[p];
      const d = this.dims.get(p)!;
      if (!v || v.length !== d.reduce((a, c) => a * c, 1)) throw new Error(`parameter input '${p}' needs a Float32Array of ${d.reduce((a, c) => a * c, 1)} values`);
      feeds[p] = new ort.Tensor('float32', v, d);
    }
    const out = await this.s.session.run(feeds, [gg.loss, gg.losses, gg.grad, gg.logits]);
    const lg = out[gg.logits];
    return {
      loss: (out[gg.loss].data as Float32Array)[0],
      losses: out[gg.losses].data as Float32Array,
      grad: out[gg.grad].data as Float32Array,
      logits: lg.data as Float32Array,
      numClasses: lg.dims[1] as number,
    };
  }

  async dispose(): Promise<void> {
    await this.s.session.release();
  }
}

/** dLoss/dx and the logits of one batch (opens and releases a session; use InputGradientRunner in loops). */
export async function inputGradients(
  model: Model,
  x: Float32Array,
  y: BigInt64Array,
  nb: number,
  exampleShape: number[],
  o: InputGradGraphOptions & SessionSettings & Omit<InputGradBatch, 'x' | 'y' | 'nb' | 'exampleShape'> = {},
): Promise<InputGradResult> {
  const r = await InputGradientRunner.open(model, o);
  try {
    return await r.run({ ...o, x, y, nb, exampleShape });
  } finally {
    await r.dispose();
  }
}
