// Per-example scores from an original model, for worst-case forget sets.
//
// ExampleScorer is the small interface the forget-set builder needs: given a dataset, example indices
// and a metric, return one score per example. OnnxExampleScorer implements it by running the model
// through the engine's one inference path, the evaluation graph (train/evaluator.ts EvalRunner, the
// same graph and session code as evaluateModel), on batches streamed from the dataset reader, and
// computing the scores from its logits with the per-example quantities of eval/quantities.ts:
//
//   loss                crossEntropyLoss  CE_i = logsumexp(z_i) - z_i[y_i]               (worst = highest)
//   margin              maxMargin         z_i[y_i] - max_{k != y_i} z_i[k]                (worst = lowest)
//                       (the max margin; not the evaluation graph's logitMargin z_y - logsumexp_{k != y} z_k,
//                       KLoM's margin. The metric id stays 'margin': it is stored in forget sets.)
//   memorization-proxy  class-standardised loss  (CE_i - mean_c CE) / std_c CE over the scored
//                       examples of the same class c = y_i                              (worst = highest)
//
// The memorization proxy is a cheap stand-in for Feldman-style memorization scores (which need many
// models trained with and without each example): examples the original model finds unusually hard
// relative to their own class are the atypical, often memorized ones. It differs from plain loss by
// not letting one globally hard class dominate the top of the ranking. It is documented in the
// forget set's manifest wherever it is used.
//
// Input preprocessing: images are fed as float32 in [0, 1] (uint8 / 255), optionally normalised by a
// per-channel mean/std, in the layout the model declares: rank-4 inputs are NCHW unless the last dim
// equals the channel count and the second does not (then NHWC); rank-2 inputs get flattened rows.

import { readFile } from 'node:fs/promises';
import type { DatasetReader } from './store';
import type { Model } from '../onnx/ir';
import { decodeModel } from '../onnx/codec';
import { EvalRunner } from '../train/evaluator';
import { crossEntropyLoss, maxMargin, type QuantityName } from '../eval/quantities';

export type ScoreMetric = 'loss' | 'margin' | 'memorization-proxy';
export const SCORE_METRICS: ScoreMetric[] = ['loss', 'margin', 'memorization-proxy'];

/** The engine quantity (eval/quantities.ts) each score metric is built from. */
export const SCORE_QUANTITY = { loss: 'crossEntropyLoss', margin: 'maxMargin', 'memorization-proxy': 'crossEntropyLoss' } as const satisfies Record<ScoreMetric, QuantityName>;

export const SCORE_DEFINITIONS: Record<ScoreMetric, string> = {
  loss: 'cross-entropy loss of the true label under the original model (higher = harder to unlearn)',
  margin: 'max margin: z_y − max of the other logits (the true label\'s logit minus the largest other logit) under the original model (lower = harder to unlearn)',
  'memorization-proxy':
    'class-standardised cross-entropy (loss - mean loss of the scored examples of the same class) / their std (higher = more atypical for its class, a proxy for memorization)',
};

/** true when a higher score means harder to unlearn */
export function higherIsWorse(metric: ScoreMetric): boolean {
  return metric !== 'margin';
}

export interface ScoreRequest {
  reader: DatasetReader;
  indices: readonly number[];
  metric: ScoreMetric;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface ExampleScorer {
  /** a short description of the model (recorded in the forget set) */
  readonly description: Record<string, unknown>;
  score(req: ScoreRequest): Promise<Float64Array>;
}

export interface OnnxScorerOptions {
  batchSize?: number;
  norm?: { mean: number[]; std: number[] };
  /** intra-op threads (default 0 = all cores) */
  intraOpThreads?: number;
  /** which output holds the logits (default: 'logits' if present, else the first output) */
  outputName?: string;
}

export class OnnxExampleScorer implements ExampleScorer {
  private constructor(
    private runner: EvalRunner,
    private opts: OnnxScorerOptions,
    readonly description: Record<string, unknown>,
  ) {}

  /** model: the inference model (IR), its ONNX bytes, or an ONNX file path (weights embedded). */
  static async create(model: Model | Uint8Array | string, description: Record<string, unknown>, opts: OnnxScorerOptions = {}): Promise<OnnxExampleScorer> {
    let m: Model;
    if (typeof model === 'string' || model instanceof Uint8Array) {
      const d = decodeModel(typeof model === 'string' ? await readFile(model) : model);
      if (d.externalData.length) throw new Error('the model keeps its weights in external files; export it with the weights embedded');
      m = d.model;
    } else m = model;
    const outs = m.graph.outputs.map((o) => o.name);
    if (outs.length < 1) throw new Error('the model has no outputs');
    const outputName = opts.outputName ?? (outs.includes('logits') ? 'logits' : outs[0]);
    if (!outs.includes(outputName)) throw new Error(`the model has no output '${outputName}'`);
    const runner = await EvalRunner.open(m, { logits: outputName, threads: opts.intraOpThreads ?? 0 });
    return new OnnxExampleScorer(runner, opts, description);
  }

  private layout(reader: DatasetReader): 'NCHW' | 'NHWC' | 'flat' {
    const m = reader.manifest;
    const shape = this.runner.inputShape ?? [];
    if (m.kind === 'tabular' || shape.length === 2) return 'flat';
    const C = m.sampleShape[2];
    if (shape.length === 4 && shape[3] === C && shape[1] !== C) return 'NHWC';
    return 'NCHW';
  }

  /** Row-major logits [indices.length, k] from the evaluation graph. */
  async logits(reader: DatasetReader, indices: readonly number[], signal?: AbortSignal, onProgress?: (d: number, t: number) => void): Promise<{ logits: Float32Array; k: number }> {
    const bs = this.opts.batchSize ?? 256;
    const layout = this.layout(reader);
    let out: Float32Array | null = null;
    let k = 0;
    for (let s = 0; s < indices.length; s += bs) {
      if (signal?.aborted) throw Object.assign(new Error('scoring was cancelled'), { name: 'AbortError' });
      const idx = indices.slice(s, s + bs);
      let data: Float32Array;
      let dims: number[];
      if (layout === 'NCHW' || reader.manifest.kind === 'tabular') {
        ({ data, dims } = await reader.readBatchFloat32(idx, this.opts.norm));
      } else {
        // HWC order as stored (NHWC, or flattened like numpy's reshape of [N, H, W, C])
        const raw = await reader.readRowBytes(idx);
        const C = reader.manifest.sampleShape[2];
        const mean = this.opts.norm?.mean ?? new Array(C).fill(0);
        const std = this.opts.norm?.std ?? new Array(C).fill(1);
        data = new Float32Array(raw.length);
        for (let i = 0; i < raw.length; i++) data[i] = (raw[i] / 255 - mean[i % C]) / std[i % C];
        dims = layout === 'NHWC' ? [idx.length, ...reader.manifest.sampleShape] : [idx.length, reader.rowElems];
      }
      const labels = BigInt64Array.from(idx, (i) => BigInt(reader.labels[i]));
      const res = await this.runner.run(data, dims, labels);
      const vals = res.logits;
      if (!out) {
        k = vals.length / idx.length;
        if (!Number.isInteger(k) || k < 2) throw new Error(`the model's logits do not look like class logits (${vals.length} values for ${idx.length} examples)`);
        if (k < reader.manifest.classNames.length)
          throw new Error(`the model predicts ${k} classes but the dataset has ${reader.manifest.classNames.length}`);
        out = new Float32Array(indices.length * k);
      }
      out.set(vals, s * k);
      onProgress?.(Math.min(s + bs, indices.length), indices.length);
    }
    return { logits: out ?? new Float32Array(0), k };
  }

  async score(req: ScoreRequest): Promise<Float64Array> {
    const { logits, k } = await this.logits(req.reader, req.indices, req.signal, req.onProgress);
    const labels = req.indices.map((i) => req.reader.labels[i]);
    return scoresFromLogits(logits, k, labels, req.metric);
  }

  async release(): Promise<void> {
    await this.runner.release();
  }
}

/** Scores from row-major logits [N, K] and labels (exported for tests and other engines). */
export function scoresFromLogits(logits: Float32Array | Float64Array, k: number, labels: readonly number[], metric: ScoreMetric): Float64Array {
  const n = labels.length;
  const out = new Float64Array(n);
  const q = metric === 'margin' ? maxMargin : crossEntropyLoss;
  for (let i = 0; i < n; i++) out[i] = q(logits, k, i, labels[i]);
  if (metric === 'memorization-proxy') {
    const sum = new Map<number, { s: number; s2: number; n: number }>();
    for (let i = 0; i < n; i++) {
      const a = sum.get(labels[i]) ?? { s: 0, s2: 0, n: 0 };
      a.s += out[i];
      a.s2 += out[i] * out[i];
      a.n++;
      sum.set(labels[i], a);
    }
    for (let i = 0; i < n; i++) {
      const a = sum.get(labels[i])!;
      const mean = a.s / a.n;
      const sd = Math.sqrt(Math.max(0, a.s2 / a.n - mean * mean));
      out[i] = sd > 1e-12 ? (out[i] - mean) / sd : 0;
    }
  }
  return out;
}
