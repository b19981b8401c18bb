// Worst-case scores, computed once and cached in the workspace.
//
// Scoring every training example with the original model is real compute (a ResNet over 50,000 images
// takes minutes), and onnxruntime-node runs a session synchronously on the calling thread. The API
// process therefore never scores: `forgetSets.score` submits a `forgetSet.score` job, whose worker
// scores the whole train split and writes the scores to
//
//   <workspace>/cache/scores/<key>.f64      key = SHA-256 of {dataset manifest hash, model SHA-256,
//                                                 metric, input normalisation}
//
// (a 64-byte JSON-free header: magic 'LETHESC1', uint32 count, then count float64 scores in the order of
// the dataset's training examples, written atomically). `forgetSets.preview` / `create` then read the
// cached scores ('cache-only'); a miss is an `unavailable` error that tells the caller to score first.
// The CLI and tests, which are not the UI's main process, may score inline ('inline'), which also
// fills the cache. Class-restricted worst-case sets use the same cache: every metric is per example or
// standardised within the example's own class, so restricting the pool to whole classes does not
// change a score.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { ApiError } from '../../../preload/api/common';
import type { DatasetReader } from '../../engine/data/store';
import { datasetManifestSha256 } from '../../engine/data/store';
import type { ExampleScorer, ScoreMetric, ScoreRequest } from '../../engine/data/scorer';
import { ensureDirDurable, writeFileAtomic } from '../workspace/atomic';
import type { Workspace } from '../workspace/types';

const MAGIC = 'LETHESC1';
const HEADER = 64;

export type ScoringMode = 'inline' | 'cache-only';

export interface ModelRef {
  modelId?: string;
  path?: string;
  norm?: { mean: number[]; std: number[] };
}

/**
 * A workspace model's inference ONNX: the first present blob among 'inference', 'model', 'onnx' (or
 * the record's only blob).
 */
export async function modelInferenceBlob(ws: Workspace, modelId: string): Promise<{ id: string; blob: string; sha256: string }> {
  const rec = await ws.getRecord<Record<string, unknown>>('models', modelId);
  if (!rec) throw new ApiError('not_found', `There is no model '${modelId}'.`);
  const keys = Object.keys(rec.blobs);
  const key = ['inference', 'model', 'onnx'].find((k) => rec.blobs[k]) ?? (keys.length === 1 ? keys[0] : undefined);
  if (!key) throw new ApiError('invalid_argument', `Model '${modelId}' has no inference ONNX blob.`);
  return { id: rec.id, blob: key, sha256: rec.blobs[key].sha256 };
}

/** The model's identity for the cache key and the forget set's manifest (no ORT session is created). */
export async function modelRefInfo(ws: Workspace, model: Record<string, unknown>): Promise<{ sha256: string; description: Record<string, unknown> }> {
  if (typeof model.modelId === 'string') {
    const b = await modelInferenceBlob(ws, model.modelId);
    return { sha256: b.sha256, description: { modelId: b.id, blob: b.blob, sha256: b.sha256 } };
  }
  if (typeof model.path === 'string') {
    const bytes = await readFile(model.path).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') throw new ApiError('not_found', `The model file ${model.path} does not exist.`);
      throw new ApiError('invalid_argument', `The model file ${model.path} cannot be read: ${e.message}`);
    });
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return { sha256, description: { path: model.path, sha256 } };
  }
  throw new ApiError('invalid_argument', 'A worst-case forget set needs model.modelId or model.path.');
}

export function scoreKey(datasetSha: string, modelSha: string, metric: ScoreMetric, norm: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify({ v: 1, dataset: datasetSha, model: modelSha, metric, norm: norm ?? null }))
    .digest('hex');
}

export function scoreFile(ws: Workspace, key: string): string {
  return join(ws.root, 'cache', 'scores', `${key}.f64`);
}

/** Indices of the training examples, in dataset order: the order of a score file. */
export function trainIndices(reader: DatasetReader): number[] {
  const out: number[] = [];
  for (let i = 0; i < reader.count; i++) if (reader.splits[i] === 0) out.push(i);
  return out;
}

/** Cached scores of every training example, or null (missing, truncated or of another length). */
export async function readScores(ws: Workspace, key: string, count: number): Promise<Float64Array | null> {
  const buf = await readFile(scoreFile(ws, key)).catch(() => null);
  if (!buf || buf.length !== HEADER + count * 8) return null;
  if (buf.subarray(0, 8).toString('latin1') !== MAGIC || buf.readUInt32LE(8) !== count) return null;
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = buf.readDoubleLE(HEADER + i * 8);
  return out;
}

export async function writeScores(ws: Workspace, key: string, scores: Float64Array): Promise<void> {
  const buf = Buffer.alloc(HEADER + scores.length * 8);
  buf.write(MAGIC, 0, 'latin1');
  buf.writeUInt32LE(scores.length, 8);
  for (let i = 0; i < scores.length; i++) buf.writeDoubleLE(scores[i], HEADER + i * 8);
  await ensureDirDurable(join(ws.root, 'cache', 'scores'));
  await writeFileAtomic(scoreFile(ws, key), buf);
}

export interface ScoreStatus {
  key: string;
  cached: boolean;
  count: number;
  model: Record<string, unknown>;
}

export async function scoreStatus(ws: Workspace, reader: DatasetReader, model: Record<string, unknown>, metric: ScoreMetric): Promise<ScoreStatus> {
  const info = await modelRefInfo(ws, model);
  const key = scoreKey(datasetManifestSha256(reader.manifest), info.sha256, metric, model.norm);
  const count = trainIndices(reader).length;
  return { key, cached: (await readScores(ws, key, count)) !== null, count, model: info.description };
}

/**
 * Score every training example (inline: the caller is a job worker or the CLI) and cache the result.
 * Returns the scores in the order of trainIndices(reader).
 */
export async function computeAndCacheScores(
  ws: Workspace,
  reader: DatasetReader,
  model: Record<string, unknown>,
  metric: ScoreMetric,
  makeScorer: (model: Record<string, unknown>) => Promise<ExampleScorer>,
  o: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<{ key: string; scores: Float64Array; description: Record<string, unknown> }> {
  const st = await scoreStatus(ws, reader, model, metric);
  const pool = trainIndices(reader);
  const scorer = await makeScorer(model);
  try {
    const cached = await readScores(ws, st.key, pool.length);
    if (cached) return { key: st.key, scores: cached, description: scorer.description };
    const scores = await scorer.score({ reader, indices: pool, metric, signal: o.signal, onProgress: o.onProgress });
    await writeScores(ws, st.key, scores);
    return { key: st.key, scores, description: scorer.description };
  } finally {
    await (scorer as { release?: () => Promise<void> }).release?.();
  }
}

/**
 * The ExampleScorer the forget-set builder gets: it answers from the cache; on a miss it scores
 * inline ('inline') or refuses ('cache-only', the API process).
 */
export function cachingScorer(
  ws: Workspace,
  model: Record<string, unknown>,
  mode: ScoringMode,
  makeScorer: (model: Record<string, unknown>) => Promise<ExampleScorer>,
): ExampleScorer {
  const description: Record<string, unknown> = {};
  return {
    description,
    async score(req: ScoreRequest): Promise<Float64Array> {
      const pool = trainIndices(req.reader);
      const st = await scoreStatus(ws, req.reader, model, req.metric);
      let all = await readScores(ws, st.key, pool.length);
      Object.assign(description, st.model);
      if (!all) {
        if (mode === 'cache-only') {
          throw new ApiError(
            'unavailable',
            `The ${pool.length.toLocaleString('en-US')} training examples of '${req.reader.manifest.name}' have not been scored with this model (${req.metric}) yet; score them first (forgetSets.score, a background job).`,
          );
        }
        all = (await computeAndCacheScores(ws, req.reader, model, req.metric, makeScorer, { signal: req.signal, onProgress: req.onProgress })).scores;
      }
      const pos = new Map<number, number>();
      pool.forEach((idx, k) => pos.set(idx, k));
      return Float64Array.from(req.indices, (i) => {
        const k = pos.get(i);
        if (k === undefined) throw new Error(`example ${req.reader.ids[i]} is not a training example`);
        return all![k];
      });
    },
  };
}
