// Batched evaluation of an inference model (weights baked) through the evaluation graph.

import type { Model } from '../onnx/ir';
import { buildEvalGraph, type EvalGraphOptions } from './eval-graph';
import { openSession, ort, type SessionSettings } from './session';
import { type ArrayDataset, exampleSize, gatherBatch, maxLabel, validateDataset } from './data';

export interface EvaluationResult {
  n: number;
  accuracy: number;
  meanLoss: number;
  logits: Float32Array;
  numClasses: number;
  losses: Float32Array;
  margins: Float32Array;
  pred: Int32Array;
  correct: Uint8Array;
  features: { data: Float32Array; dim: number } | null;
  provider: string;
  threads: number;
}

export interface EvaluateOptions extends SessionSettings, Pick<EvalGraphOptions, 'logits'> {
  batchSize?: number;
  /** return penultimate features (default false): true = default feature value, or a value name */
  features?: boolean | string;
  signal?: AbortSignal;
}

export async function evaluateModel(model: Model, ds: ArrayDataset, o: EvaluateOptions = {}): Promise<EvaluationResult> {
  const bs = o.batchSize ?? 256;
  if (!Number.isInteger(bs) || bs < 1) throw new Error(`batch size must be a positive integer, got ${bs}`);
  validateDataset(ds);
  const top = maxLabel(ds);
  const eg = buildEvalGraph(model, { logits: o.logits, features: o.features === true ? undefined : o.features ? o.features : null });
  if (eg.dataInputs.length !== 1) throw new Error(`evaluation needs a model with exactly one data input, this one has ${eg.dataInputs.length}`);
  const inputName = eg.dataInputs[0].name;
  const s = await openSession(eg.model, o);
  try {
    const per = exampleSize(ds);
    const idx = Uint32Array.from({ length: ds.n }, (_, i) => i);
    const losses = new Float32Array(ds.n);
    const margins = new Float32Array(ds.n);
    const pred = new Int32Array(ds.n);
    const correct = new Uint8Array(ds.n);
    let logits = new Float32Array(0);
    let numClasses = 0;
    let features: { data: Float32Array; dim: number } | null = null;
    const xb = new Float32Array(bs * per);
    const yb = new BigInt64Array(bs);
    for (let start = 0; start < ds.n; start += bs) {
      if (o.signal?.aborted) throw Object.assign(new Error('evaluation cancelled'), { name: 'AbortError' });
      const end = Math.min(ds.n, start + bs);
      const nb = end - start;
      gatherBatch(ds, idx, start, end, xb, yb);
      const feeds: Record<string, ort.Tensor> = {
        [inputName]: new ort.Tensor('float32', nb === bs ? xb : xb.slice(0, nb * per), [nb, ...ds.exampleShape]),
        [eg.labels!]: new ort.Tensor('int64', nb === bs ? yb : yb.slice(0, nb), [nb]),
      };
      const out = await s.session.run(feeds);
      const lg = out[eg.outputs.logits];
      if (!numClasses) {
        numClasses = lg.dims[1] as number;
        if (top >= numClasses) throw new Error(`the data has label ${top}, but the model has only ${numClasses} classes`);
        logits = new Float32Array(ds.n * numClasses);
      }
      logits.set(lg.data as Float32Array, start * numClasses);
      losses.set(out[eg.outputs.losses!].data as Float32Array, start);
      margins.set(out[eg.outputs.margins!].data as Float32Array, start);
      const p = out[eg.outputs.pred].data as BigInt64Array;
      const c = out[eg.outputs.correct!].data as Uint8Array;
      for (let i = 0; i < nb; i++) {
        pred[start + i] = Number(p[i]);
        correct[start + i] = c[i] ? 1 : 0;
      }
      if (eg.outputs.features) {
        const f = out[eg.outputs.features];
        const dim = (f.data as Float32Array).length / nb;
        if (!features) features = { data: new Float32Array(ds.n * dim), dim };
        features.data.set(f.data as Float32Array, start * dim);
      }
    }
    let nc = 0;
    let sl = 0;
    for (let i = 0; i < ds.n; i++) {
      nc += correct[i];
      sl += losses[i];
    }
    return { n: ds.n, accuracy: ds.n ? nc / ds.n : 0, meanLoss: ds.n ? sl / ds.n : 0, logits, numClasses, losses, margins, pred, correct, features, provider: s.provider, threads: s.threads };
  } finally {
    await s.session.release();
  }
}
