// Per-example gradients of a small sample (influence functions, WoodFisher / IU): one flattened
// gradient vector of the chosen parameters per example, as rows of an n x P Float32Array, with the
// layout (name, offset, size, dims) of each parameter in a row. Computed by one batch-1 gradient graph
// (cross-entropy of that example, reduction 'sum'; eval mode by default) in one reused session.

import type { Model } from '../onnx/ir';
import { detectTrainable, normalizeTrainingExport } from '../models/import';
import { buildGradGraph } from './grad-graph';
import { openSession, ort, type SessionSettings } from './session';
import { type ArrayDataset, exampleSize, validateDataset } from './data';
import type { BackwardFn, LowerFn } from './deps';

export interface ParamSlice {
  name: string;
  /** offset of the parameter's first value within a row */
  offset: number;
  size: number;
  dims: number[];
}

export interface PerExampleOptions extends SessionSettings {
  /** parameters (default: detectTrainable's trainable initializers), in row order */
  params?: string[];
  /** dataset rows to use (default all) */
  indices?: ArrayLike<number>;
  /** labels to differentiate against, one per index (default the dataset's; e.g. each class for an expected Fisher) */
  labels?: ArrayLike<number>;
  /** 'eval' (default) or 'train' (batch statistics of one example: rarely what you want) */
  mode?: 'eval' | 'train';
  labelSmoothing?: number;
  logits?: string;
  /** refuse results larger than this many float32 values (default 2^28 = 1 GiB) */
  maxValues?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  backward?: BackwardFn;
  lower?: LowerFn;
}

export interface PerExampleResult {
  /** n rows of P values: row i is dCE_i/dθ of example indices[i] */
  grads: Float32Array;
  n: number;
  P: number;
  layout: ParamSlice[];
  /** per-example cross-entropy */
  losses: Float32Array;
  indices: Uint32Array;
  seconds: number;
  provider: string;
  threads: number;
}

export async function perExampleGradients(model: Model, ds: ArrayDataset, o: PerExampleOptions = {}): Promise<PerExampleResult> {
  const m = normalizeTrainingExport(model).model;
  const params = o.params ?? detectTrainable(m).trainable;
  const dims = new Map(m.graph.initializers.map((t) => [t.name, [...t.dims]]));
  const layout: ParamSlice[] = [];
  let P = 0;
  for (const p of params) {
    const d = dims.get(p);
    if (!d) throw new Error(`'${p}' is not an initializer of the model`);
    const size = d.reduce((a, b) => a * b, 1);
    layout.push({ name: p, offset: P, size, dims: d });
    P += size;
  }
  const indices = o.indices ? Uint32Array.from(o.indices as ArrayLike<number>) : Uint32Array.from({ length: ds.n }, (_, i) => i);
  for (const i of indices) if (i >= ds.n) throw new Error(`index ${i} is outside the dataset (${ds.n} examples)`);
  if (o.labels && o.labels.length !== indices.length) throw new Error(`${indices.length} indices but ${o.labels.length} labels`);
  const out0 = m.graph.outputs.find((v) => v.name === (o.logits ?? m.graph.outputs[0]?.name));
  const classes = typeof out0?.shape?.[1] === 'number' ? out0.shape[1] : undefined;
  validateDataset(ds, classes);
  if (o.labels) {
    for (let r = 0; r < o.labels.length; r++) {
      const v = Number(o.labels[r]);
      if (!Number.isInteger(v) || v < 0 || (classes !== undefined && v >= classes)) throw new Error(`label ${r} is ${o.labels[r]}; labels must be integers in [0, ${classes ?? 'classes'})`);
    }
  }
  const n = indices.length;
  const maxValues = o.maxValues ?? 2 ** 28;
  if (n * P > maxValues) {
    throw new Error(`${n} examples x ${P} parameters = ${n * P} values exceeds the limit of ${maxValues} (${((maxValues * 4) / 2 ** 30).toFixed(2)} GiB): choose fewer examples or parameters`);
  }
  const gg = buildGradGraph(m, { params, loss: { reduction: 'sum', labelSmoothing: o.labelSmoothing }, mode: o.mode, logits: o.logits, backward: o.backward, lower: o.lower });
  if (gg.dataInputs.length !== 1) throw new Error(`per-example gradients need a model with exactly one data input, this one has ${gg.dataInputs.length}`);
  const s = await openSession(gg.model, o);
  const t0 = performance.now();
  try {
    const per = exampleSize(ds);
    const grads = new Float32Array(n * P);
    const losses = new Float32Array(n);
    const y = new BigInt64Array(1);
    const outNames = [gg.losses, ...params.map((p) => gg.grads[p])];
    for (let r = 0; r < n; r++) {
      if (o.signal?.aborted) throw Object.assign(new Error('per-example gradients cancelled'), { name: 'AbortError' });
      const j = indices[r];
      y[0] = BigInt(o.labels ? o.labels[r] : ds.y[j]);
      const feeds: Record<string, ort.Tensor> = {
        [gg.dataInputs[0].name]: new ort.Tensor('float32', ds.x.subarray(j * per, (j + 1) * per), [1, ...ds.exampleShape]),
        [gg.labels]: new ort.Tensor('int64', y, [1]),
      };
      const out = await s.session.run(feeds, outNames);
      losses[r] = (out[gg.losses].data as Float32Array)[0];
      for (const l of layout) grads.set(out[gg.grads[l.name]].data as Float32Array, r * P + l.offset);
      o.onProgress?.(r + 1, n);
    }
    return { grads, n, P, layout, losses, indices, seconds: (performance.now() - t0) / 1000, provider: s.provider, threads: s.threads };
  } finally {
    await s.session.release();
  }
}

export interface ExpectedFisherOptions extends SessionSettings {
  params?: string[];
  indices?: ArrayLike<number>;
  mode?: 'eval' | 'train';
  logits?: string;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  backward?: BackwardFn;
  lower?: LowerFn;
}

export interface ExpectedFisherResult {
  /** per parameter: (1/n) Σ_i Σ_y p(y|x_i)·(dCE(x_i, y)/dθ)² */
  fisher: Record<string, Float32Array>;
  dims: Record<string, number[]>;
  n: number;
  numClasses: number;
  seconds: number;
}

/**
 * The diagonal Fisher of Fisher forgetting (Golatkar et al. 2020, the public `hessian`): for each
 * example (batch 1, eval mode) and each class y, the squared gradient of CE(x, y) weighted by the
 * model's p(y|x), averaged over the examples. n x C batch-1 runs of one squared-gradient session;
 * p(y|x) = exp(-CE(x, y)) from the same run.
 */
export async function expectedFisherDiagonal(model: Model, ds: ArrayDataset, o: ExpectedFisherOptions = {}): Promise<ExpectedFisherResult> {
  const m = normalizeTrainingExport(model).model;
  const out0 = m.graph.outputs.find((v) => v.name === (o.logits ?? m.graph.outputs[0]?.name));
  const C = out0?.shape?.[1];
  if (typeof C !== 'number') throw new Error('the expected Fisher needs a model whose logits have a fixed number of classes');
  validateDataset(ds, C);
  const params = o.params ?? detectTrainable(m).trainable;
  const indices = o.indices ? Uint32Array.from(o.indices as ArrayLike<number>) : Uint32Array.from({ length: ds.n }, (_, i) => i);
  for (const i of indices) if (i >= ds.n) throw new Error(`index ${i} is outside the dataset (${ds.n} examples)`);
  if (!indices.length) throw new Error('the expected Fisher needs at least one example');
  const gg = buildGradGraph(m, { params, transform: 'square', loss: { reduction: 'sum' }, mode: o.mode, logits: o.logits, backward: o.backward, lower: o.lower });
  if (gg.dataInputs.length !== 1) throw new Error(`the expected Fisher needs a model with exactly one data input, this one has ${gg.dataInputs.length}`);
  const dims = Object.fromEntries(m.graph.initializers.filter((t) => params.includes(t.name)).map((t) => [t.name, [...t.dims]]));
  const acc = Object.fromEntries(params.map((p) => [p, new Float64Array(dims[p].reduce((a, b) => a * b, 1))]));
  const s = await openSession(gg.model, o);
  const t0 = performance.now();
  try {
    const per = exampleSize(ds);
    const y = new BigInt64Array(1);
    const outNames = [gg.losses, ...params.map((p) => gg.grads[p])];
    for (let r = 0; r < indices.length; r++) {
      if (o.signal?.aborted) throw Object.assign(new Error('Fisher computation cancelled'), { name: 'AbortError' });
      const j = indices[r];
      const x = new ort.Tensor('float32', ds.x.subarray(j * per, (j + 1) * per), [1, ...ds.exampleShape]);
      for (let c = 0; c < C; c++) {
        y[0] = BigInt(c);
        const out = await s.session.run({ [gg.dataInputs[0].name]: x, [gg.labels]: new ort.Tensor('int64', y, [1]) }, outNames);
        const p = Math.exp(-(out[gg.losses].data as Float32Array)[0]);
        for (const name of params) {
          const g2 = out[gg.grads[name]].data as Float32Array;
          const a = acc[name];
          for (let i = 0; i < g2.length; i++) a[i] += p * g2[i];
        }
      }
      o.onProgress?.(r + 1, indices.length);
    }
    const fisher = Object.fromEntries(params.map((p) => [p, Float32Array.from(acc[p], (v) => v / indices.length)]));
    return { fisher, dims, n: indices.length, numClasses: C, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await s.session.release();
  }
}
