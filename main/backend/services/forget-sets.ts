// Forget-set service: API handlers for forgetSets.* and the functions the CLI calls. The builder
// itself is main/engine/data/forget-sets.ts; this file adds lookup by id or name, name rules, the
// model scorer for worst-case sets (OnnxExampleScorer over a workspace model or an ONNX file) and the
// lock that makes a forget set immutable once a run uses it.
//
// Workspace models for worst-case scoring: see modelInferenceBlob (score-cache.ts).

import { collectAfterDelete } from '../workspace/gc';
import { ApiError } from '../../../preload/api/common';
import { isCodedError } from '../errors';
import type {
  DatasetMethods,
  ForgetSetCreateArgs,
  ForgetSetDetail,
  ForgetSetPreview,
  ForgetSetSummary,
  ScoringModelRef,
} from '../../../preload/api/datasets';
import {
  type ForgetSetManifest,
  type ForgetSetRecord,
  assertUnlocked,
  buildForgetSet,
  forgetSetIds,
  lockForgetSet,
  newForgetSetId,
  parseRule,
  resolveRule,
  ruleNeedsSeed,
  SAMPLE_SIZE,
  sampleAcrossClasses,
  saveForgetSet,
  type ResolveDeps,
} from '../../engine/data/forget-sets';
import type { DatasetReader } from '../../engine/data/store';
import { OnnxExampleScorer, SCORE_METRICS, type ExampleScorer, type ScoreMetric } from '../../engine/data/scorer';
import type { JobInfo, JobSubmit } from '../../../preload/api/jobs';
import { cachingScorer, modelInferenceBlob, scoreStatus, type ScoringMode } from './score-cache';
import type { Workspace } from '../workspace/types';
import { type MethodHandlers, findDataset, openReader, validateName, wrap } from './datasets';
import { exportForgetSet } from './forget-set-export';

export async function findForgetSet(ws: Workspace, idOrName: string): Promise<ForgetSetRecord> {
  const byId = /^[A-Za-z0-9._-]{1,128}$/.test(idOrName) ? await ws.getRecord<ForgetSetManifest>('forgetSets', idOrName).catch(() => null) : null;
  if (byId) return byId;
  const hit = (await ws.listRecords<ForgetSetManifest>('forgetSets')).find((r) => r.data.name === idOrName);
  if (!hit) throw new ApiError('not_found', `There is no forget set '${idOrName}'.`);
  return hit;
}

export function summarizeForgetSet(r: ForgetSetRecord): ForgetSetSummary {
  return {
    id: r.id,
    name: r.data.name,
    kind: r.data.kind,
    datasetId: r.data.dataset.id,
    datasetName: r.data.dataset.name,
    count: r.data.count,
    idsSha256: r.data.idsSha256,
    locked: r.data.lockedBy.length > 0,
    createdAt: r.createdAt,
  };
}

export async function listForgetSets(ws: Workspace, datasetId?: string): Promise<ForgetSetSummary[]> {
  let all = await ws.listRecords<ForgetSetManifest>('forgetSets');
  if (datasetId) {
    const ds = await findDataset(ws, datasetId);
    all = all.filter((r) => r.data.dataset.id === ds.id);
  }
  return all.map(summarizeForgetSet).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name));
}

export async function getForgetSet(ws: Workspace, idOrName: string, includeIds = true): Promise<ForgetSetDetail> {
  const r = await findForgetSet(ws, idOrName);
  const ids = await forgetSetIds(r, ws);
  const reader = await openReader(ws, await findDataset(ws, r.data.dataset.id));
  const detail = detailOf(r, reader, ids);
  if (includeIds) detail.ids = ids;
  return detail;
}

/** A stored forget set as the API returns it, with its sample gallery's IDs (without the full ID list). */
function detailOf(r: ForgetSetRecord, reader: DatasetReader, ids: readonly string[]): ForgetSetDetail {
  return { ...summarizeForgetSet(r), manifest: r.data, sampleIds: sampleIdsOf(r.data, reader, ids) };
}

/** worst-case sets: the hardest examples first; otherwise a sample across the classes */
function sampleIdsOf(m: ForgetSetManifest, reader: DatasetReader, ids: readonly string[]): string[] {
  return m.scores ? m.scores.chosen.slice(0, SAMPLE_SIZE).map((c) => c.id) : sampleAcrossClasses(reader, ids);
}

/** Build the scorer for a worst-case rule's model reference. */
export async function scorerForModel(ws: Workspace, model: Record<string, unknown>): Promise<ExampleScorer> {
  const norm = model.norm as { mean: number[]; std: number[] } | undefined;
  try {
    if (typeof model.modelId === 'string') {
      const b = await modelInferenceBlob(ws, model.modelId);
      return await OnnxExampleScorer.create(await ws.getBlob(b.sha256), { modelId: b.id, blob: b.blob, sha256: b.sha256 }, { norm });
    }
    if (typeof model.path === 'string') {
      // the same validation as 'lethe model import' (size, dims, ops; external data refused) before ORT sees it
      const { loadModelFile, ModelValidationError } = await import('../../engine/onnx/load');
      let loaded;
      try {
        loaded = await loadModelFile(model.path);
      } catch (e) {
        if (e instanceof ModelValidationError) {
          if (/does not exist/.test(e.message)) throw new ApiError('not_found', `The model file ${model.path} does not exist.`);
          throw new ApiError('invalid_argument', `The model ${model.path} cannot be used for scoring: ${e.message}`);
        }
        throw e;
      }
      if (loaded.externalData.length > 0)
        throw new ApiError('invalid_argument', `The model ${model.path} keeps its weights in external files; export it with the weights embedded to score with it.`);
      return await OnnxExampleScorer.create(loaded.model, { path: model.path, sha256: loaded.sha256 }, { norm });
    }
  } catch (e) {
    if (isCodedError(e)) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err?.code === 'ENOENT') throw new ApiError('not_found', `The model file ${String(model.path)} does not exist.`);
    throw new ApiError('invalid_argument', `The model could not be loaded for scoring: ${err?.message ?? String(e)}`);
  }
  throw new ApiError('invalid_argument', 'A worst-case forget set needs model.modelId or model.path.');
}

function resolveDeps(ws: Workspace, scoring: ScoringMode, signal?: AbortSignal): ResolveDeps {
  return {
    getForgetSet: async (ref) => findForgetSet(ws, ref).catch((e) => (isCodedError(e) && e.code === 'not_found' ? null : Promise.reject(e))),
    scorer: async (model) => cachingScorer(ws, model, scoring, (m) => scorerForModel(ws, m)),
    signal,
  };
}

/** How preview/create get worst-case scores: 'inline' scores on a cache miss (CLI, job workers); the API process uses 'cache-only'. */
export interface BuildOptions {
  scoring?: ScoringMode;
}

function checkSeed(seed: unknown): number {
  if (seed === undefined) return 0;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new ApiError('invalid_argument', 'seed must be an integer from 0 to 4294967295.');
  return seed;
}

async function build(ws: Workspace, args: Omit<ForgetSetCreateArgs, 'name'>, name: string, o: BuildOptions = {}) {
  const rule = parseRule(args.rule);
  const seed = checkSeed(args.seed);
  const ds = await findDataset(ws, args.datasetId);
  const reader = await openReader(ws, ds);
  const res = await resolveRule(reader, rule, seed, resolveDeps(ws, o.scoring ?? 'inline'));
  const built = buildForgetSet(reader, res, { name, rule, seed: ruleNeedsSeed(rule) ? seed : null });
  return { built, reader };
}

export async function previewForgetSet(ws: Workspace, args: Omit<ForgetSetCreateArgs, 'name'>, o: BuildOptions = {}): Promise<ForgetSetPreview> {
  const { built, reader } = await build(ws, args, '(preview)', o);
  const m = built.manifest;
  const p: ForgetSetPreview = {
    count: m.count,
    idsSha256: m.idsSha256,
    classNames: m.classNames,
    forgetCounts: m.forgetCounts,
    retainCounts: m.retainCounts,
    retainCount: m.retain.count,
    sampleIds: sampleIdsOf(m, reader, built.ids),
    report: m.report,
  };
  if (m.scores) p.scores = m.scores;
  if (m.sequence) p.sequence = m.sequence;
  return p;
}

export async function createForgetSet(ws: Workspace, args: ForgetSetCreateArgs, o: BuildOptions = {}): Promise<ForgetSetDetail> {
  const name = validateName(args.name, 'forget set');
  const existing = await ws.listRecords<ForgetSetManifest>('forgetSets');
  if (existing.some((r) => r.data.name === name)) throw new ApiError('conflict', `A forget set named '${name}' already exists.`);
  const { built, reader } = await build(ws, args, name, o);
  const rec = await saveForgetSet(ws, newForgetSetId(), built);
  return detailOf(rec, reader, built.ids);
}

export async function deleteForgetSet(ws: Workspace, idOrName: string): Promise<{ deleted: true }> {
  const rec = await findForgetSet(ws, idOrName);
  assertUnlocked(rec, 'deleted');
  const parents = (await ws.listRecords<ForgetSetManifest>('forgetSets')).filter((r) => r.data.sequence?.steps.some((s) => s.forgetSetId === rec.id));
  if (parents.length > 0)
    throw new ApiError('conflict', `Forget set '${rec.data.name}' is a step of sequential set(s) ${parents.map((p) => `'${p.data.name}'`).join(', ')}; delete them first.`);
  await ws.deleteRecord('forgetSets', rec.id);
  await collectAfterDelete(ws);
  return { deleted: true };
}

/** Called by the run layer when a run starts using a forget set (makes it immutable). */
export async function markForgetSetUsed(ws: Workspace, idOrName: string, runId: string): Promise<ForgetSetRecord> {
  const rec = await findForgetSet(ws, idOrName);
  return lockForgetSet(ws, rec.id, runId);
}

/** Rename (the only edit allowed, and only while no run uses the set). */
export async function renameForgetSet(ws: Workspace, idOrName: string, newName: string): Promise<ForgetSetRecord> {
  const rec = await findForgetSet(ws, idOrName);
  assertUnlocked(rec, 'changed');
  const name = validateName(newName, 'forget set');
  if ((await ws.listRecords<ForgetSetManifest>('forgetSets')).some((r) => r.data.name === name && r.id !== rec.id))
    throw new ApiError('conflict', `A forget set named '${name}' already exists.`);
  return ws.putRecord<ForgetSetManifest>('forgetSets', rec.id, { ...rec.data, name }, rec.blobs);
}

/**
 * Make sure a worst-case rule's scores exist: { cached: true } when they do, else the submitted
 * forgetSet.score job (the scoring runs in a worker, never in the API process).
 */
export async function ensureScores(
  ws: Workspace,
  submitJob: (job: JobSubmit) => Promise<JobInfo>,
  args: { datasetId: string; model: ScoringModelRef; metric: ScoreMetric },
): Promise<{ cached: boolean; count: number; job: JobInfo | null }> {
  const model = args.model as Record<string, unknown>;
  if (!SCORE_METRICS.includes(args.metric)) throw new ApiError('invalid_argument', `metric must be one of ${SCORE_METRICS.join(', ')}.`);
  const ds = await findDataset(ws, args.datasetId);
  const reader = await openReader(ws, ds);
  const st = await scoreStatus(ws, reader, model, args.metric);
  if (st.cached) return { cached: true, count: st.count, job: null };
  const what = typeof model.modelId === 'string' ? `model '${model.modelId}'` : String(model.path).split(/[\\/]/).pop();
  const job = await submitJob({
    kind: 'forgetSet.score',
    title: `Score ${st.count.toLocaleString('en-US')} examples of '${ds.data.name}' (${args.metric}) with ${what}`,
    params: { datasetId: ds.id, model: args.model, metric: args.metric },
  });
  return { cached: false, count: st.count, job };
}

type ForgetOnly = Pick<DatasetMethods, 'forgetSets.list' | 'forgetSets.get' | 'forgetSets.preview' | 'forgetSets.create' | 'forgetSets.delete' | 'forgetSets.score' | 'forgetSets.export'>;

export function forgetSetHandlers(deps: { workspace: Workspace; submitJob: (job: JobSubmit) => Promise<JobInfo> }): MethodHandlers<ForgetOnly> {
  const ws = deps.workspace;
  return {
    'forgetSets.list': wrap(async ({ datasetId }) => listForgetSets(ws, datasetId)),
    'forgetSets.get': wrap(async ({ id, includeIds }) => getForgetSet(ws, id, includeIds ?? true)),
    'forgetSets.preview': wrap(async (args) => previewForgetSet(ws, args, { scoring: 'cache-only' })),
    'forgetSets.create': wrap(async (args) => createForgetSet(ws, args, { scoring: 'cache-only' })),
    'forgetSets.score': wrap(async (args) => ensureScores(ws, deps.submitJob, args)),
    'forgetSets.delete': wrap(async ({ id }) => deleteForgetSet(ws, id)),
    'forgetSets.export': wrap(async ({ id, path }) => exportForgetSet(ws, id, path)),
  };
}
