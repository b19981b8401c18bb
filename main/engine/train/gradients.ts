// Running gradient graphs over data: the loss gradient of one batch (`lethe model grad`), or per-batch
// transformed gradients accumulated over a dataset (Fisher diagonal / SSD importances = mean over
// batches of the squared mini-batch gradient; SalUn saliency = |gradient|).

import type { Model } from '../onnx/ir';
import { detectTrainable, normalizeTrainingExport } from '../models/import';
import { buildGradGraph, type GradGraphOptions } from './grad-graph';
import { openSession, ort, type SessionSettings } from './session';
import { type ArrayDataset, exampleSize, gatherBatch, validateDataset } from './data';
import { defaultLogits } from './graph-utils';
import { hasTerms } from './loss-terms';

export interface GradientOptions extends SessionSettings, Omit<GradGraphOptions, 'params' | 'paramsAsInputs'> {
  /** default: detectTrainable's trainable initializers */
  params?: string[];
  /** default: the whole dataset in one batch */
  batchSize?: number;
  /** how per-batch results combine: 'mean' (default) or 'sum' over batches */
  combine?: 'mean' | 'sum';
  signal?: AbortSignal;
}

export interface GradientResult {
  /** mean of the per-batch losses */
  loss: number;
  grads: Record<string, Float32Array>;
  dims: Record<string, number[]>;
  batches: number;
  n: number;
  provider: string;
  threads: number;
}

export async function computeGradients(model: Model, ds: ArrayDataset, o: GradientOptions = {}): Promise<GradientResult> {
  const m = normalizeTrainingExport(model).model;
  const logitsOut = m.graph.outputs.find((v) => v.name === (o.logits ?? defaultLogits(m.graph)));
  const c = logitsOut?.shape?.[1];
  validateDataset(ds, typeof c === 'number' ? c : undefined);
  if (hasTerms(o.loss?.terms)) throw new Error('computeGradients takes cross-entropy only; for extra loss terms build the graph with buildGradGraph and feed its term inputs');
  const params = o.params ?? detectTrainable(m).trainable;
  const gg = buildGradGraph(m, { ...o, params });
  if (gg.dataInputs.length !== 1) throw new Error(`gradients need a model with exactly one data input, this one has ${gg.dataInputs.length}`);
  if (gg.weights && !ds.weights) throw new Error('per-example weights were requested but the data has none');
  const bs = o.batchSize ?? ds.n;
  if (!Number.isInteger(bs) || bs < 1) throw new Error(`batch size must be a positive integer, got ${bs}`);
  const s = await openSession(gg.model, o);
  try {
    const per = exampleSize(ds);
    const idx = Uint32Array.from({ length: ds.n }, (_, i) => i);
    const dims = Object.fromEntries(m.graph.initializers.filter((t) => params.includes(t.name)).map((t) => [t.name, [...t.dims]]));
    const acc: Record<string, Float64Array> = {};
    let lossSum = 0;
    let batches = 0;
    for (let start = 0; start < ds.n; start += bs) {
      if (o.signal?.aborted) throw Object.assign(new Error('gradient computation cancelled'), { name: 'AbortError' });
      const end = Math.min(ds.n, start + bs);
      const nb = end - start;
      const xb = new Float32Array(nb * per);
      const yb = new BigInt64Array(nb);
      const wb = gg.weights ? new Float32Array(nb) : undefined;
      gatherBatch(ds, idx, start, end, xb, yb, wb);
      const feeds: Record<string, ort.Tensor> = {
        [gg.dataInputs[0].name]: new ort.Tensor('float32', xb, [nb, ...ds.exampleShape]),
        [gg.labels]: new ort.Tensor('int64', yb, [nb]),
      };
      if (gg.weights) feeds[gg.weights] = new ort.Tensor('float32', wb!, [nb]);
      const out = await s.session.run(feeds);
      lossSum += (out[gg.loss].data as Float32Array)[0];
      for (const p of params) {
        const gdata = out[gg.grads[p]].data as Float32Array;
        const a = (acc[p] ??= new Float64Array(gdata.length));
        for (let i = 0; i < gdata.length; i++) a[i] += gdata[i];
      }
      batches++;
    }
    const scale = (o.combine ?? 'mean') === 'mean' ? 1 / batches : 1;
    const grads: Record<string, Float32Array> = {};
    for (const p of params) grads[p] = Float32Array.from(acc[p], (v) => v * scale);
    return { loss: lossSum / batches, grads, dims, batches, n: ds.n, provider: s.provider, threads: s.threads };
  } finally {
    await s.session.release();
  }
}
