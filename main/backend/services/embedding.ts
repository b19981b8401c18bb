// The embedding view of a comparison: every model's penultimate features on one fixed, seeded,
// class-stratified sample of its forget, retain and test examples (engine/eval/features.ts), projected
// to 2-D by PCA (engine/eval/pca.ts).
//
// Inference is real compute and onnxruntime-node runs a session on the calling thread, so the API
// process never computes: `comparisons.embedding` answers from the cache and, for what is missing,
// submits one 'comparison.embedding' job (or reports the one already queued or running), whose worker
// computes and caches each model's projection in
//
//   <workspace>/cache/embeddings/<key>.json    key = SHA-256 of {v, projection, model SHA-256, sample ids SHA-256}
//
// so a projection is computed once per (model, sample), whichever comparison asks for it. A damaged
// cache file is recomputed.

import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError } from '../../../preload/api/common';
import type { JobInfo, JobSubmit } from '../../../preload/api/jobs';
import type { ComparisonEmbeddingArgs, ComparisonEmbeddingResult } from '../../../preload/api/unlearning';
import type { Workspace } from '../workspace/types';
import { writeFileAtomic } from '../workspace/atomic';
import type { ComparisonManifest } from '../../engine/runs/contract-types';
import type { StoredOutputs } from '../../engine/runs/outputs';
import type { EmbeddingData, EmbeddingModelData, EmbeddingSampleInfo, EntryRole } from '../../engine/eval/contract-types';
import { EMBEDDING_SAMPLE_SIZES, embeddingSample } from '../../engine/eval/features';
import { SPLIT_NAMES } from '../../engine/eval/types';
import { canonicalJson } from '../../engine/util/canonical-json';
import { sha256Hex } from '../../engine/util/sha256';
import { embeddingChart } from '../../engine/reports/charts/embedding';
import { getComparison } from './comparisons';
import { getRun, runOutputs } from './unlearning';

export const EMBEDDING_JOB_KIND = 'comparison.embedding';
const SAMPLE_SEED = 0;
const CACHE_VERSION = 1;

// ---------- the comparison's models and stored outputs ----------

export interface EntryModel {
  key: string;
  label: string;
  role: EntryRole;
  /** the seed-0 run of the entry (its stored outputs) and the model it evaluated or produced */
  runId: string;
  model: { id: string; sha256: string };
}

/** Seed 0 of every entry of the comparison (the original, the retrain reference, each method). */
export function entryModels(cmp: ComparisonManifest): EntryModel[] {
  return cmp.entries.map((e) => {
    const r = [...e.runs].sort((a, b) => a.seed - b.seed)[0];
    return { key: e.key, label: e.label, role: e.role, runId: r.run.id, model: { id: r.model.id, sha256: r.model.sha256 } };
  });
}

// decoded stored outputs, by the run record's outputs blob (content-addressed: never stale)
const outputsCache = new Map<string, StoredOutputs>();
const OUTPUTS_CACHE_SIZE = 12;

/** The stored per-example outputs of a run (a small in-memory cache of decoded copies). */
export async function cachedRunOutputs(ws: Workspace, runId: string): Promise<StoredOutputs> {
  const run = await getRun(ws, runId);
  const sha = run.blobs.outputs?.sha256;
  const key = `${ws.root}\u0000${sha}`;
  const hit = sha ? outputsCache.get(key) : undefined;
  if (hit) {
    outputsCache.delete(key);
    outputsCache.set(key, hit);
    return hit;
  }
  const o = await runOutputs(ws, run);
  if (sha) {
    outputsCache.set(key, o);
    while (outputsCache.size > OUTPUTS_CACHE_SIZE) outputsCache.delete(outputsCache.keys().next().value!);
  }
  return o;
}

/** The comparison's fixed embedding sample (rows of the stored outputs, the same for every model). */
export async function comparisonSample(ws: Workspace, cmp: ComparisonManifest): Promise<{ rows: Int32Array; info: EmbeddingSampleInfo; outputs: StoredOutputs }> {
  const original = entryModels(cmp).find((e) => e.role === 'original') ?? entryModels(cmp)[0];
  if (!original) throw new ApiError('invalid_argument', 'The comparison has no models.');
  const outputs = await cachedRunOutputs(ws, original.runId);
  const s = embeddingSample(outputs, EMBEDDING_SAMPLE_SIZES, SAMPLE_SEED);
  const rows = Array.from(s.rows);
  return {
    rows: s.rows,
    outputs,
    info: {
      ids: rows.map((r) => outputs.ids[r]),
      split: rows.map((r) => SPLIT_NAMES[outputs.split[r]]),
      labels: rows.map((r) => outputs.labels[r]),
      idsSha256: s.idsSha256,
      seed: SAMPLE_SEED,
      sizes: { ...EMBEDDING_SAMPLE_SIZES },
    },
  };
}

// ---------- the cache ----------

interface CachedProjection {
  v: number;
  model: string;
  sample: string;
  dim: number;
  explainedVarianceRatio: [number, number];
  /** x0, y0, x1, y1, ... in sample order (empty when `error`) */
  points: number[];
  /**
   * why this model cannot be projected (e.g. no penultimate layer, non-finite features): the same
   * bytes give the same failure, so it is cached too instead of being retried on every request
   */
  error?: string;
}

export function projectionKey(modelSha256: string, sampleIdsSha256: string): string {
  return sha256Hex(canonicalJson({ v: CACHE_VERSION, projection: 'pca', model: modelSha256, sample: sampleIdsSha256 }));
}

function cacheFile(ws: Workspace, key: string): string {
  return join(ws.root, 'cache', 'embeddings', `${key}.json`);
}

export async function readProjection(ws: Workspace, modelSha256: string, sampleIdsSha256: string, n: number): Promise<CachedProjection | null> {
  try {
    const c = JSON.parse(await readFile(cacheFile(ws, projectionKey(modelSha256, sampleIdsSha256)), 'utf8')) as CachedProjection;
    const shaped = Array.isArray(c.points) && (typeof c.error === 'string' ? c.points.length === 0 : c.points.length === 2 * n && c.points.every((v) => typeof v === 'number'));
    const ok = c && c.v === CACHE_VERSION && c.model === modelSha256 && c.sample === sampleIdsSha256 && shaped;
    return ok ? c : null;
  } catch {
    return null;
  }
}

export async function writeProjection(ws: Workspace, c: CachedProjection): Promise<void> {
  await mkdir(join(ws.root, 'cache', 'embeddings'), { recursive: true });
  await writeFileAtomic(cacheFile(ws, projectionKey(c.model, c.sample)), new TextEncoder().encode(JSON.stringify(c)));
}

/** Why a model's projection cannot be computed (its record is gone or holds other bytes), or null. */
async function unavailable(ws: Workspace, m: EntryModel): Promise<string | null> {
  const rec = await ws.getRecord<{ sha256: string }>('models', m.model.id).catch(() => null);
  if (!rec) return `model '${m.model.id}' is no longer in the workspace`;
  if (rec.data.sha256 !== m.model.sha256) return `model '${m.model.id}' changed since the comparison was made`;
  return null;
}

// ---------- reading (API process) ----------

export interface EmbeddingState {
  data: EmbeddingData;
  /** models whose projection can still be computed */
  pending: EntryModel[];
}

/** What the cache holds for a comparison; points are included for the models in `withPoints` only. */
export async function embeddingState(ws: Workspace, comparisonId: string, withPoints: readonly string[] | 'all' = 'all'): Promise<EmbeddingState> {
  const cmp = (await getComparison(ws, comparisonId)).data;
  const { info } = await comparisonSample(ws, cmp);
  const n = info.ids.length;
  const pending: EntryModel[] = [];
  const models: EmbeddingModelData[] = [];
  for (const m of entryModels(cmp)) {
    const c = await readProjection(ws, m.model.sha256, info.idsSha256, n);
    const base = { key: m.key, label: m.label, role: m.role, model: m.model };
    if (c?.error) {
      models.push({ ...base, points: null, explainedVarianceRatio: null, dim: null, computed: false, missing: c.error });
      continue;
    }
    if (c) {
      const want = withPoints === 'all' || withPoints.includes(m.key);
      const points = want ? Array.from({ length: n }, (_, i) => [c.points[2 * i], c.points[2 * i + 1]] as [number, number]) : null;
      models.push({ ...base, points, explainedVarianceRatio: c.explainedVarianceRatio, dim: c.dim, computed: true });
      continue;
    }
    const why = await unavailable(ws, m);
    if (!why) pending.push(m);
    models.push({ ...base, points: null, explainedVarianceRatio: null, dim: null, computed: false, ...(why ? { missing: why } : {}) });
  }
  return { data: { comparisonId, projection: 'pca', classNames: cmp.classNames, sample: info, models }, pending };
}

export interface EmbeddingDeps {
  workspace: Workspace;
  submitJob(job: JobSubmit): Promise<JobInfo>;
  /** queued and running jobs, so a second request joins the job already computing */
  listJobs?(): Promise<JobInfo[]>;
}

export type EmbeddingArgs = ComparisonEmbeddingArgs;
export type EmbeddingResult = ComparisonEmbeddingResult;

function defaultPair(data: EmbeddingData): [string, string] {
  const keys = data.models.map((m) => m.key);
  const ref = data.models.find((m) => m.role === 'reference')?.key;
  const unl = data.models.find((m) => m.role === 'unlearned')?.key;
  const orig = data.models.find((m) => m.role === 'original')?.key;
  const a = ref ?? orig ?? keys[0];
  const b = unl ?? orig ?? keys.find((k) => k !== a) ?? a;
  return [a, b];
}

/** comparisons.embedding: the cached projections, and the job that computes the missing ones. */
export async function comparisonEmbedding(deps: EmbeddingDeps, args: EmbeddingArgs): Promise<EmbeddingResult> {
  const ws = deps.workspace;
  const cmp = (await getComparison(ws, args.id)).data;
  const keys = cmp.entries.map((e) => e.key);
  for (const k of [args.a, args.b]) if (k !== undefined && !keys.includes(k)) throw new ApiError('not_found', `Comparison '${args.id}' has no model '${k}' (it has ${keys.join(', ')}).`);
  const probe = await embeddingState(ws, args.id, []);
  const [da, db] = defaultPair(probe.data);
  const a = args.a ?? da;
  const b = args.b ?? db;
  const { data, pending } = await embeddingState(ws, args.id, [a, b]);
  let job: JobInfo | null = null;
  if (pending.length) {
    const running = (await deps.listJobs?.()) ?? [];
    job = running.find((j) => j.kind === EMBEDDING_JOB_KIND && (j.state === 'queued' || j.state === 'running') && (j.params as { comparisonId?: string } | null)?.comparisonId === args.id) ?? null;
    if (!job && args.compute !== false) {
      job = await deps.submitJob({
        kind: EMBEDDING_JOB_KIND,
        title: `Embedding view of '${cmp.name}': penultimate features of ${pending.length} ${pending.length === 1 ? 'model' : 'models'} on ${data.sample.ids.length.toLocaleString('en-US')} examples`,
        params: { comparisonId: args.id },
      });
    }
  }
  return { status: pending.length === 0 ? 'ready' : job ? 'computing' : 'incomplete', job, data, a, b, charts: [embeddingChart(data, a), embeddingChart(data, b)] };
}

// ---------- computing (job worker, CLI, tests) ----------

export interface ComputeHooks {
  signal?: AbortSignal;
  provider?: 'cpu' | 'cuda' | 'webgpu' | 'dml' | 'coreml';
  threads?: number;
  progress?: (done: number, total: number, message: string) => void;
  log?: (level: 'info' | 'warn', message: string) => void;
}

/** Compute and cache every missing projection of the comparison; returns how many were computed. */
export async function computeEmbeddings(ws: Workspace, comparisonId: string, h: ComputeHooks = {}): Promise<{ computed: number; cached: number; unavailable: number }> {
  const { penultimateFeatures, project2d } = await import('../../engine/eval/features');
  const { loadRegisteredModel } = await import('./models');
  const { openReader } = await import('./datasets');
  const cmp = (await getComparison(ws, comparisonId)).data;
  const { info } = await comparisonSample(ws, cmp);
  const { pending, data } = await embeddingState(ws, comparisonId, []);
  const unavailableCount = data.models.filter((m) => m.missing).length;
  for (const m of data.models) if (m.missing) h.log?.('warn', `${m.label}: ${m.missing}; it has no embedding.`);
  if (!pending.length) return { computed: 0, cached: data.models.length - unavailableCount, unavailable: unavailableCount };
  const dsRec = await ws.getRecord<never>('datasets', cmp.refs.dataset.id);
  if (!dsRec) throw new ApiError('not_found', `The dataset of the comparison ('${cmp.datasetName}') is no longer in the workspace.`);
  const reader = await openReader(ws, dsRec);
  const index = new Map<string, number>();
  reader.ids.forEach((id, i) => index.set(id, i));
  const indices = info.ids.map((id) => {
    const i = index.get(id);
    if (i === undefined) throw new ApiError('conflict', `Example '${id}' of the comparison is not in dataset '${cmp.datasetName}' any more.`);
    return i;
  });
  const { loadArrays } = await import('../../engine/unlearn/data');
  const ds = await loadArrays(reader, indices);
  let done = 0;
  let failed = 0;
  for (const m of pending) {
    if (h.signal?.aborted) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
    h.progress?.(done + failed, pending.length, `penultimate features of ${m.label}`);
    const loaded = await loadRegisteredModel(ws, m.model.id);
    if (loaded.manifest.sha256 !== m.model.sha256) throw new ApiError('conflict', `Model '${m.model.id}' changed since the comparison was made.`);
    let projection: Omit<CachedProjection, 'v' | 'model' | 'sample'>;
    try {
      const f = await penultimateFeatures(loaded.model, ds, { provider: h.provider, threads: h.threads, signal: h.signal, batchSize: 256 });
      const p = project2d(f);
      projection = { dim: f.dim, explainedVarianceRatio: p.explainedVarianceRatio, points: Array.from(p.points, (v) => Math.fround(v)) };
      done++;
    } catch (e) {
      if (h.signal?.aborted || (e as Error).name === 'AbortError') throw e;
      // a property of the model's bytes (no penultimate layer, non-finite features): recorded, not retried
      const error = `its penultimate features could not be projected: ${(e as Error).message}`;
      h.log?.('warn', `${m.label}: ${error}`);
      projection = { dim: 0, explainedVarianceRatio: [0, 0], points: [], error };
      failed++;
    }
    await writeProjection(ws, { v: CACHE_VERSION, model: m.model.sha256, sample: info.idsSha256, ...projection });
    h.progress?.(done + failed, pending.length, `projected ${m.label}${projection.error ? ' (failed)' : ` (${projection.dim} features)`}`);
  }
  return { computed: done, cached: data.models.length - unavailableCount - done - failed, unavailable: unavailableCount + failed };
}
