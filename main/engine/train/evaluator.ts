// Batched evaluation of an inference model (weights baked) through the evaluation graph.
//
// EvalRunner is the one inference path of the engine: it builds the evaluation graph once, opens one
// session and runs batches through it. evaluateModel (in-memory datasets: runs, guardrails, methods)
// and the worst-case scorer (engine/data/scorer.ts, streaming from a dataset reader) both use it.
// The per-example quantities it returns are defined in engine/eval/quantities.ts.

import type { Dim, Model } from '../onnx/ir';
import { buildEvalGraph, type EvalGraph, type EvalGraphOptions } from './eval-graph';
import { openSession, ort, type SessionSettings } from './session';
import { type ArrayDataset, exampleSize, gatherBatch, maxLabel, validateDataset } from './data';

export interface EvaluationResult {
  n: number;
  accuracy: number;
  meanLoss: number;
  logits: Float32Array;
  numClasses: number;
  /** cross-entropy per example (quantities.ts crossEntropyLoss) */
  losses: Float32Array;
  /** z_y − logsumexp_{k≠y} z_k per example (quantities.ts logitMargin; KLoM's margin) */
  logitMargins: Float32Array;
  pred: Int32Array;
  correct: Uint8Array;
  features: { data: Float32Array; dim: number } | null;
  provider: string;
  threads: number;
}

export interface EvalRunnerOptions extends SessionSettings, Pick<EvalGraphOptions, 'logits'> {
  /** return penultimate features (default false): true = default feature value, or a value name */
  features?: boolean | string;
}

/** The outputs of one batch of nb examples. */
export interface EvalBatch {
  /** [nb, numClasses] */
  logits: Float32Array;
  numClasses: number;
  losses: Float32Array;
  logitMargins: Float32Array;
  pred: BigInt64Array;
  correct: Uint8Array;
  /** [nb, dim] when features were asked for */
  features: Float32Array | null;
}

/** One evaluation-graph session, run batch by batch. Call release() when done. */
export class EvalRunner {
  private constructor(
    readonly graph: EvalGraph,
    private session: ort.InferenceSession,
    readonly provider: string,
    readonly threads: number,
  ) {}

  static async open(model: Model, o: EvalRunnerOptions = {}): Promise<EvalRunner> {
    const eg = buildEvalGraph(model, { logits: o.logits, features: o.features === true ? undefined : o.features ? o.features : null });
    if (eg.dataInputs.length !== 1) throw new Error(`evaluation needs a model with exactly one data input, this one has ${eg.dataInputs.length}`);
    const s = await openSession(eg.model, o);
    return new EvalRunner(eg, s.session, s.provider, s.threads);
  }

  /** name of the model's data input */
  get inputName(): string {
    return this.graph.dataInputs[0].name;
  }

  /** declared shape of the data input (null = unknown rank) */
  get inputShape(): Dim[] | null {
    return this.graph.dataInputs[0].shape;
  }

  /** Run one batch: x has shape dims = [nb, ...], labels nb integer class labels. */
  async run(x: Float32Array, dims: number[], labels: BigInt64Array): Promise<EvalBatch> {
    const nb = dims[0];
    const out = await this.session.run({
      [this.inputName]: new ort.Tensor('float32', x, dims),
      [this.graph.labels!]: new ort.Tensor('int64', labels, [nb]),
    });
    const lg = out[this.graph.outputs.logits];
    const o = this.graph.outputs;
    return {
      logits: lg.data as Float32Array,
      numClasses: lg.dims[1] as number,
      losses: out[o.losses!].data as Float32Array,
      logitMargins: out[o.logitMargins!].data as Float32Array,
      pred: out[o.pred].data as BigInt64Array,
      correct: out[o.correct!].data as Uint8Array,
      features: o.features ? (out[o.features].data as Float32Array) : null,
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

export interface EvaluateOptions extends EvalRunnerOptions {
  batchSize?: number;
  signal?: AbortSignal;
}

export async function evaluateModel(model: Model, ds: ArrayDataset, o: EvaluateOptions = {}): Promise<EvaluationResult> {
  const bs = o.batchSize ?? 256;
  if (!Number.isInteger(bs) || bs < 1) throw new Error(`batch size must be a positive integer, got ${bs}`);
  validateDataset(ds);
  const top = maxLabel(ds);
  const runner = await EvalRunner.open(model, o);
  try {
    const per = exampleSize(ds);
    const idx = Uint32Array.from({ length: ds.n }, (_, i) => i);
    const losses = new Float32Array(ds.n);
    const logitMargins = new Float32Array(ds.n);
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
      const out = await runner.run(nb === bs ? xb : xb.slice(0, nb * per), [nb, ...ds.exampleShape], nb === bs ? yb : yb.slice(0, nb));
      if (!numClasses) {
        numClasses = out.numClasses;
        if (top >= numClasses) throw new Error(`the data has label ${top}, but the model has only ${numClasses} classes`);
        logits = new Float32Array(ds.n * numClasses);
      }
      logits.set(out.logits, start * numClasses);
      losses.set(out.losses, start);
      logitMargins.set(out.logitMargins, start);
      for (let i = 0; i < nb; i++) {
        pred[start + i] = Number(out.pred[i]);
        correct[start + i] = out.correct[i] ? 1 : 0;
      }
      if (out.features) {
        const dim = out.features.length / nb;
        if (!features) features = { data: new Float32Array(ds.n * dim), dim };
        features.data.set(out.features, start * dim);
      }
    }
    let nc = 0;
    let sl = 0;
    for (let i = 0; i < ds.n; i++) {
      nc += correct[i];
      sl += losses[i];
    }
    return { n: ds.n, accuracy: ds.n ? nc / ds.n : 0, meanLoss: ds.n ? sl / ds.n : 0, logits, numClasses, losses, logitMargins, pred, correct, features, provider: runner.provider, threads: runner.threads };
  } finally {
    await runner.release();
  }
}
