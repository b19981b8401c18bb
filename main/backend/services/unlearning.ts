// Unlearning runs, evaluations and comparisons in the workspace. The engine does the computing
// (engine/unlearn: methods; engine/runs: stored outputs; engine/eval: metrics); this file resolves
// records into engine inputs, caches results, and writes records whose typed references make the
// chain deletion request -> forget set -> run -> model -> comparison explicit.
//
// Cache keys: a run is reused when the canonical JSON of (type, method id, validated params, seed,
// guardrail settings, original model sha256, forget-set idsSha256, dataset manifest sha256, the
// original's training indices rule) hashes to the key of a stored run whose output model still
// exists with the recorded hash.

import { arch, cpus, platform, release } from 'node:os';
import { ApiError } from '../../../preload/api/common';
import type { Workspace, RecordEnvelope } from '../workspace/types';
import type { ModelManifest } from './models';
import { getModelRecord, loadRegisteredModel, saveDerivedModel } from './models';
import { findForgetSet } from './forget-sets';
import { openReader } from './datasets';
import { defaultRecipe } from './models-api';
import { APP_VERSION, onnxruntimeVersion } from './app';
import type { Model } from '../../engine/onnx/ir';
import { encodeModel } from '../../engine/onnx/codec';
import { loadModelBytes } from '../../engine/onnx/load';
import { buildArchitecture } from '../../engine/models';
import { detectTrainable, normalizeTrainingExport } from '../../engine/models/import';
import { reinitializeParams } from '../../engine/train/weight-edits';
import { bakeInference } from '../../engine/train/bake';
import type { ProviderName } from '../../engine/train/session';
import { datasetManifestSha256, type DatasetRecord, type DatasetReader } from '../../engine/data/store';
import { indicesOfRecordIds, type ForgetSetRecord } from '../../engine/data/forget-sets';
import { canonicalJson } from '../../engine/util/canonical-json';
import { sha256Hex } from '../../engine/util/sha256';
import { holdOut, loadArrays, splitIndices, trainingIndices, type UnlearningIndices } from '../../engine/unlearn/data';
import { getMethod } from '../../engine/unlearn/registry';
import { parseMethodParams } from '../../engine/unlearn/params';
import { runMethod } from '../../engine/unlearn/run';
import { DEFAULT_GUARDRAIL, type GuardrailSettings } from '../../engine/unlearn/guardrail';
import type { Recipe } from '../../engine/unlearn/types';
import { computeOutputs, decodeOutputs, encodeOutputs, type StoredOutputs } from '../../engine/runs/outputs';
import type { RunManifest, TypedRef, RunDataCounts } from '../../engine/runs/contract-types';
import { randomBytes } from 'node:crypto';
import { ensureMia } from './metric-cache';

export type RunRecord = RecordEnvelope<RunManifest>;

export interface Hooks {
  signal?: AbortSignal;
  progress?: (fraction: number, message: string, extra?: { loss?: number; retainAccuracy?: number; forgetAccuracy?: number }) => void;
  log?: (level: 'info' | 'warn', message: string) => void;
}

export interface Session {
  provider?: ProviderName;
  threads?: number;
  /**
   * leave MIA-Efficacy (one SVC fit per model) to the comparison that follows, which fits every model's
   * SVC side by side on worker threads (default false: the run computes and caches it itself)
   */
  deferMia?: boolean;
}

// ---------- the basis: original model, forget set, dataset, the data rows ----------

export interface Basis {
  original: { name: string; sha256: string; model: Model; manifest: ModelManifest };
  forgetSet: ForgetSetRecord;
  dataset: DatasetRecord;
  reader: DatasetReader;
  indices: UnlearningIndices;
  trainRule: { maxTrainExamples: number | null; seed: number | null };
  recipe: Recipe;
  recipeKnown: boolean;
  numClasses: number;
  notes: string[];
}

function modelClasses(m: ModelManifest): number | null {
  const c = m.outputs[0]?.shape?.[1];
  return typeof c === 'number' ? c : null;
}

/** The model whose training data defines D: an unlearned model points back to its original. */
async function trainingRoot(ws: Workspace, manifest: ModelManifest): Promise<ModelManifest> {
  let m = manifest;
  for (let hops = 0; m.unlearning && hops < 16; hops++) {
    const rec = await ws.getRecord<ModelManifest>('models', m.unlearning.original.name);
    if (!rec || rec.data.sha256 !== m.unlearning.original.sha256) break;
    m = rec.data;
  }
  return m;
}

export async function resolveBasis(ws: Workspace, modelName: string, forgetSetName: string): Promise<Basis> {
  const orig = await loadRegisteredModel(ws, modelName);
  const fs = await findForgetSet(ws, forgetSetName);
  const notes: string[] = [];
  const dsRec = await ws.getRecord<DatasetRecord['data']>('datasets', fs.data.dataset.id);
  if (!dsRec) throw new ApiError('not_found', `The dataset of forget set '${fs.data.name}' (${fs.data.dataset.name}) is no longer in the workspace.`);
  const dataset = dsRec as DatasetRecord;
  if (datasetManifestSha256(dataset.data) !== fs.data.dataset.manifestSha256) throw new ApiError('conflict', `Dataset '${dataset.data.name}' changed since forget set '${fs.data.name}' was made from it.`);
  const root = await trainingRoot(ws, orig.manifest);
  const trained = root.training?.data.dataset;
  if (trained && trained.id !== dataset.id) {
    throw new ApiError('invalid_argument', `Forget set '${fs.data.name}' belongs to dataset '${dataset.data.name}', but model '${modelName}' was trained on '${trained.name}'; choose a forget set of that dataset.`);
  }
  if (trained && trained.manifestSha256 !== fs.data.dataset.manifestSha256) throw new ApiError('conflict', `Model '${modelName}' was trained on an earlier version of dataset '${dataset.data.name}'.`);
  const numClasses = dataset.data.classNames.length;
  const mc = modelClasses(orig.manifest);
  if (mc !== null && mc !== numClasses) throw new ApiError('invalid_argument', `Model '${modelName}' outputs ${mc} classes, but dataset '${dataset.data.name}' has ${numClasses}.`);
  const reader = await openReader(ws, dataset);
  const maxTrain = trained?.maxTrainExamples ?? null;
  const tseed = root.training?.seed ?? null;
  if (!trained) notes.push(`Model '${modelName}' records no workspace training dataset; its training data is taken to be the whole train split of '${dataset.data.name}'.`);
  const train = trainingIndices(reader.labels, reader.splits, numClasses, maxTrain ?? undefined, tseed ?? 0);
  const forgetIdx = await indicesOfRecordIds(reader, fs, ws);
  let indices: UnlearningIndices;
  try {
    indices = splitIndices(reader, forgetIdx, train, numClasses);
  } catch (e) {
    throw new ApiError('invalid_argument', (e as Error).message);
  }
  if (indices.notTrained) notes.push(`${indices.notTrained} forget-set examples were not in the model's training data (it trained on a ${train.length}-example subset) and are left out of D_f.`);
  const t = root.training;
  const recipe: Recipe = t
    ? { optimizer: t.optimizer, lr: t.lr, schedule: t.schedule, scheduleUnit: t.scheduleUnit ?? 'epoch', warmup: t.warmup ?? null, epochs: t.epochs, batchSize: t.batchSize, seed: t.seed, ...(t.labelSmoothing ? { labelSmoothing: t.labelSmoothing } : {}) }
    : recipeFromDefaults(root.arch);
  return {
    original: { name: modelName, sha256: orig.manifest.sha256, model: orig.model, manifest: orig.manifest },
    forgetSet: fs,
    dataset,
    reader,
    indices,
    trainRule: { maxTrainExamples: maxTrain, seed: tseed },
    recipe,
    recipeKnown: !!t,
    numClasses,
    notes,
  };
}

function recipeFromDefaults(archName: string | null): Recipe {
  const r = defaultRecipe(archName);
  const optimizer = r.optimizer === 'sgd' ? { kind: 'sgd' as const, momentum: r.momentum, nesterov: r.nesterov, weightDecay: r.weightDecay } : { kind: r.optimizer, weightDecay: r.weightDecay };
  return { optimizer, lr: r.lr, schedule: null, epochs: r.epochs, batchSize: r.batchSize, seed: r.seed };
}

/** The untrained starting point of the original (its training's base model), or null. */
async function initModelOf(ws: Workspace, root: ModelManifest): Promise<Model | null> {
  const base = root.training?.baseModel;
  if (!base) return null;
  if (base.name) {
    const rec = await ws.getRecord<ModelManifest>('models', base.name);
    if (rec && rec.data.sha256 === base.sha256) return (await loadRegisteredModel(ws, base.name)).model;
  }
  if (root.arch && root.archOptions) {
    const bytes = encodeModel(buildArchitecture(root.arch, root.archOptions));
    const l = loadModelBytes(bytes);
    if (l.sha256 === base.sha256) return l.model;
  }
  return null;
}

/** The run's references for its record envelope (where generic tools follow them). */
export function envelopeRefs(refs: Record<string, TypedRef | undefined>): Record<string, TypedRef> {
  return Object.fromEntries(Object.entries(refs).filter((e): e is [string, TypedRef] => e[1] !== undefined));
}

function ref(kind: TypedRef['kind'], id: string, sha256: string): TypedRef {
  return { kind, id, sha256 };
}

function counts(b: Basis, heldOut: number): RunDataCounts {
  return { train: b.indices.train.length, forget: b.indices.forget.length, retain: b.indices.retain.length, heldOut, test: b.indices.test.length, notTrained: b.indices.notTrained };
}

async function environment(provider: string, threads: number): Promise<RunManifest['environment']> {
  return { provider, threads, app: APP_VERSION, onnxruntime: await onnxruntimeVersion(), node: process.versions.node, os: `${platform()} ${release()} ${arch()}`, cpu: cpus()[0]?.model?.trim() ?? 'unknown' };
}

function newRunId(prefix: string): string {
  return `${prefix}-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(4).toString('hex')}`;
}

/**
 * The key under which a run is reused: the same method (and its version), parameters, seed, effective
 * guardrail, original model, forget set, dataset, training subset and (for retrain) recipe, by this app version.
 */
export function unlearnCacheKey(method: { id: string; exact: boolean; version?: number }, params: Record<string, unknown>, seed: number, guardrail: GuardrailSettings, b: Basis): string {
  const effGuard: GuardrailSettings = method.exact ? { ...guardrail, action: 'off' } : guardrail;
  return sha256Hex(
    new TextEncoder().encode(canonicalJson({ type: 'unlearn', v: 1, app: APP_VERSION, method: method.id, methodVersion: method.version ?? 1, params, seed, guardrail: effGuard, model: b.original.sha256, forgetSet: b.forgetSet.data.idsSha256, dataset: b.forgetSet.data.dataset.manifestSha256, train: b.trainRule, recipe: method.id === 'retrain' ? b.recipe : null })),
  );
}

/** The stored run with this cache key whose model and outputs are still in the workspace, or null. */
export async function findCached(ws: Workspace, key: string): Promise<RunRecord | null> {
  for (const r of await ws.listRecords<RunManifest>('runs')) {
    if (r.data.cacheKey !== key) continue;
    const out = r.data.refs.output;
    if (out) {
      const m = await ws.getRecord<ModelManifest>('models', out.id);
      if (!m || m.data.sha256 !== out.sha256) continue;
    }
    if (!r.blobs.outputs || !(await ws.hasBlob(r.blobs.outputs.sha256))) continue;
    return r;
  }
  return null;
}

async function loadEvalRows(b: Basis) {
  const ids = (idx: number[]) => idx.map((i) => b.reader.ids[i]);
  return {
    forget: await loadArrays(b.reader, b.indices.forget),
    retain: await loadArrays(b.reader, b.indices.retain),
    test: await loadArrays(b.reader, b.indices.test),
    ids: { forget: ids(b.indices.forget), retain: ids(b.indices.retain), test: ids(b.indices.test) },
  };
}

function accuracies(o: StoredOutputs): RunManifest['summary'] {
  const hit = [0, 0, 0];
  const cnt = [0, 0, 0];
  const C = o.numClasses;
  for (let i = 0; i < o.n; i++) {
    let best = 0;
    for (let k = 1; k < C; k++) if (o.logits[i * C + k] > o.logits[i * C + best]) best = k;
    cnt[o.split[i]]++;
    if (best === o.labels[i]) hit[o.split[i]]++;
  }
  const pct = (k: number) => (cnt[k] ? (100 * hit[k]) / cnt[k] : 0);
  return { forgetAccuracy: pct(0), retainAccuracy: pct(1), testAccuracy: pct(2) };
}

// ---------- evaluate ----------

export interface EvaluateParams extends Session {
  model: string;
  forgetSet: string;
}

/** Per-example outputs of a model on the forget set's rows (cached as an 'evaluate' run). */
export async function evaluateOnForgetSet(ws: Workspace, p: EvaluateParams, h: Hooks = {}): Promise<{ run: RunRecord; cached: boolean }> {
  const b = await resolveBasis(ws, p.model, p.forgetSet);
  return evaluateWithBasis(ws, b, p.model, p, h);
}

async function evaluateWithBasis(ws: Workspace, b: Basis, modelName: string, s: Session, h: Hooks): Promise<{ run: RunRecord; cached: boolean }> {
  const m = modelName === b.original.name ? b.original : await loadRegisteredModel(ws, modelName).then((r) => ({ name: modelName, sha256: r.manifest.sha256, model: r.model, manifest: r.manifest }));
  const key = sha256Hex(new TextEncoder().encode(canonicalJson({ type: 'evaluate', v: 1, model: m.sha256, forgetSet: b.forgetSet.data.idsSha256, dataset: b.forgetSet.data.dataset.manifestSha256, train: b.trainRule })));
  const hit = await findCached(ws, key);
  if (hit) return { run: hit, cached: true };
  const startedAt = new Date().toISOString();
  h.progress?.(0, 'loading the data');
  const rows = await loadEvalRows(b);
  const outputs = await computeOutputs(m.model, rows, { provider: s.provider, threads: s.threads, signal: h.signal, onProgress: (f) => h.progress?.(f, 'evaluating every example') });
  const bytes = encodeOutputs(outputs);
  const blob = await ws.putBlob(bytes);
  const id = newRunId('eval');
  const data: RunManifest = {
    format: 'lethe.run/1',
    type: 'evaluate',
    cacheKey: key,
    refs: {
      original: ref('models', m.name, m.sha256),
      forgetSet: ref('forgetSets', b.forgetSet.id, b.forgetSet.data.idsSha256),
      dataset: ref('datasets', b.dataset.id, b.forgetSet.data.dataset.manifestSha256),
      outputs: ref('runs', id, blob.sha256),
    },
    method: null,
    seed: 0,
    guardrail: null,
    seconds: null,
    steps: null,
    stats: {},
    notes: [...b.notes],
    counts: counts(b, 0),
    summary: accuracies(outputs),
    environment: await environment(s.provider ?? 'cpu', s.threads ?? 1),
    startedAt,
    endedAt: new Date().toISOString(),
  };
  const run = await ws.putRecord<RunManifest>('runs', id, data, { outputs: blob }, envelopeRefs(data.refs));
  if (!s.deferMia) await ensureMia(ws, blob.sha256, outputs, undefined, h.signal);
  return { run, cached: false };
}

// ---------- unlearn ----------

export interface UnlearnParams extends Session {
  model: string;
  forgetSet: string;
  method: string;
  params?: Record<string, unknown>;
  seed?: number;
  guardrail?: Partial<GuardrailSettings>;
  /** name of the unlearned model (default '<model>-<method>-s<seed>', made unique) */
  saveAs?: string;
}

export function validateUnlearnParams(p: UnlearnParams): { params: Record<string, unknown>; guardrail: GuardrailSettings } {
  const m = getMethod(p.method);
  const params = parseMethodParams(m.id, m.params, p.params ?? {}) as Record<string, unknown>;
  const g = { ...DEFAULT_GUARDRAIL, ...(p.guardrail ?? {}) };
  if (!(Number.isFinite(g.maxDropPoints) && g.maxDropPoints >= 0 && g.maxDropPoints <= 100)) throw new ApiError('invalid_argument', 'guardrail.maxDropPoints must be between 0 and 100 percentage points.');
  if (!['stop', 'flag', 'off'].includes(g.action)) throw new ApiError('invalid_argument', "guardrail.action must be 'stop', 'flag' or 'off'.");
  if (!(Number.isInteger(g.sliceSize) && g.sliceSize >= 0 && g.sliceSize <= 100_000)) throw new ApiError('invalid_argument', 'guardrail.sliceSize must be an integer from 0 to 100000.');
  return { params, guardrail: g };
}

async function uniqueName(ws: Workspace, base: string): Promise<string> {
  const stem = base.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 110) || 'model';
  if (!(await ws.getRecord('models', stem))) return stem;
  for (let i = 2; i < 100_000; i++) if (!(await ws.getRecord('models', `${stem}-${i}`))) return `${stem}-${i}`;
  throw new ApiError('conflict', `no free model name starting with '${stem}'`);
}

export interface UnlearnOutcome {
  run: RunRecord;
  cached: boolean;
  modelId: string;
}

export async function runUnlearning(ws: Workspace, p: UnlearnParams, h: Hooks = {}): Promise<UnlearnOutcome> {
  const method = getMethod(p.method);
  const { params, guardrail } = validateUnlearnParams(p);
  const seed = p.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new ApiError('invalid_argument', `seed must be a non-negative integer, got ${seed}`);
  const b = await resolveBasis(ws, p.model, p.forgetSet);
  if (method.scope === 'class' && b.indices.forgottenClasses.length === 0) {
    throw new ApiError('invalid_argument', `${method.name} forgets whole classes only; forget set '${b.forgetSet.data.name}' does not contain every training example of any class.`);
  }
  const effGuard: GuardrailSettings = method.exact ? { ...guardrail, action: 'off' } : guardrail;
  const key = unlearnCacheKey(method, params, seed, guardrail, b);
  const hit = await findCached(ws, key);
  if (hit) {
    h.log?.('info', `Reusing run ${hit.id} (same method, parameters, seed, model and forget set).`);
    return { run: hit, cached: true, modelId: hit.data.refs.output!.id };
  }
  const startedAt = new Date().toISOString();
  const root = await trainingRoot(ws, b.original.manifest);
  let initModel = await initModelOf(ws, root);
  if (method.id === 'retrain' && !initModel) throw new ApiError('invalid_argument', `Retrain needs the untrained model '${root.name}' was trained from (its training record names ${root.training?.baseModel.name ?? 'none'}); it is not in the workspace.`);
  const norm = normalizeTrainingExport(b.original.model).model;
  const trainable = detectTrainable(norm, root.overrides).trainable;
  if (initModel && seed > 0) {
    // ensemble member s: the starting weights are re-drawn with seed s (seed 0 = the original's own start)
    const init = normalizeTrainingExport(initModel).model;
    initModel = bakeInference(init, reinitializeParams(init, trainable, seed));
  }
  h.progress?.(0, 'loading the data');
  const tLoad = performance.now();
  const { slice, rest } = method.exact || effGuard.action === 'off' ? { slice: [], rest: b.indices.retain } : holdOut(b.indices.retain, effGuard.sliceSize, seed);
  const forget = await loadArrays(b.reader, b.indices.forget);
  const retain = await loadArrays(b.reader, rest);
  const retainSlice = await loadArrays(b.reader, slice);
  for (const n of b.notes) h.log?.('warn', n);
  const loadSeconds = (performance.now() - tLoad) / 1000;
  const out = await runMethod({
    methodId: method.id,
    params,
    model: norm,
    initModel: initModel ? normalizeTrainingExport(initModel).model : null,
    trainable,
    recipe: b.recipe,
    recipeKnown: b.recipeKnown,
    forget,
    retain,
    retainSlice,
    numClasses: b.numClasses,
    forgottenClasses: b.indices.forgottenClasses,
    seed,
    provider: p.provider,
    threads: p.threads,
    signal: h.signal,
    guardrail: effGuard,
    progress: (mp) => h.progress?.(0.02 + 0.83 * mp.fraction, mp.message, { loss: mp.loss, retainAccuracy: mp.retainAccuracy, forgetAccuracy: mp.forgetAccuracy }),
    log: h.log,
  });
  h.progress?.(0.86, 'evaluating the unlearned model on every example');
  const tEval = performance.now();
  const rows = { forget, retain: await loadArrays(b.reader, b.indices.retain), test: await loadArrays(b.reader, b.indices.test), ids: { forget: b.indices.forget.map((i) => b.reader.ids[i]), retain: b.indices.retain.map((i) => b.reader.ids[i]), test: b.indices.test.map((i) => b.reader.ids[i]) } };
  const outputs = await computeOutputs(out.model, rows, { provider: p.provider, threads: p.threads, signal: h.signal, onProgress: (f) => h.progress?.(0.86 + 0.12 * f, 'evaluating the unlearned model on every example') });
  if (h.signal?.aborted) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
  const evalSeconds = (performance.now() - tEval) / 1000;
  const tSave = performance.now();
  // nothing is written before here: a failed or cancelled run leaves no half-written record
  const bytes = encodeModel(out.model);
  const id = newRunId(method.id);
  const name = p.saveAs ?? (await uniqueName(ws, `${p.model}-${method.id}-s${seed}`));
  const saved = await saveDerivedModel(ws, bytes, {
    name,
    source: 'unlearned',
    arch: b.original.manifest.arch,
    archOptions: b.original.manifest.archOptions,
    overrides: root.overrides,
    unlearning: { runId: id, method: method.id, seed, original: { name: b.original.name, sha256: b.original.sha256 }, forgetSet: { id: b.forgetSet.id, idsSha256: b.forgetSet.data.idsSha256 } },
  });
  const blob = await ws.putBlob(encodeOutputs(outputs));
  const data: RunManifest = {
    format: 'lethe.run/1',
    type: 'unlearn',
    cacheKey: key,
    refs: {
      original: ref('models', b.original.name, b.original.sha256),
      forgetSet: ref('forgetSets', b.forgetSet.id, b.forgetSet.data.idsSha256),
      dataset: ref('datasets', b.dataset.id, b.forgetSet.data.dataset.manifestSha256),
      output: ref('models', saved.name, saved.sha256),
      outputs: ref('runs', id, blob.sha256),
    },
    method: { id: method.id, name: method.name, exact: method.exact, params },
    seed,
    guardrail: out.guardrail,
    seconds: out.seconds,
    steps: out.steps,
    timings: { load: loadSeconds, method: out.seconds, evaluate: evalSeconds, save: (performance.now() - tSave) / 1000 },
    stats: out.stats,
    notes: [...b.notes, ...out.notes],
    counts: counts(b, slice.length),
    summary: accuracies(outputs),
    environment: await environment(out.provider, out.threads),
    startedAt,
    endedAt: new Date().toISOString(),
  };
  const run = await ws.putRecord<RunManifest>('runs', id, data, { outputs: blob }, envelopeRefs(data.refs));
  await lockForgetSetFor(ws, b.forgetSet.id, id);
  // MIA-Efficacy (one SVC fit) is computed here, cached by the outputs' hash, so comparisons reuse it
  if (!p.deferMia) {
    h.progress?.(0.98, 'membership-inference attack (SVC) on the unlearned model');
    await ensureMia(ws, blob.sha256, outputs, undefined, h.signal);
  }
  return { run, cached: false, modelId: saved.name };
}

async function lockForgetSetFor(ws: Workspace, forgetSetId: string, runId: string): Promise<void> {
  const { markForgetSetUsed } = await import('./forget-sets');
  await markForgetSetUsed(ws, forgetSetId, runId);
}

export async function getRun(ws: Workspace, id: string): Promise<RunRecord> {
  const r = await ws.getRecord<RunManifest>('runs', id);
  if (!r) throw new ApiError('not_found', `There is no run '${id}'.`);
  return r;
}

export async function runOutputs(ws: Workspace, run: RunRecord): Promise<StoredOutputs> {
  const blob = run.blobs.outputs;
  if (!blob) throw new ApiError('internal', `run '${run.id}' has no stored outputs`);
  return decodeOutputs(await ws.getBlob(blob.sha256));
}

export { getModelRecord };
