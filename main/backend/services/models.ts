// Model registry: built-in architectures, imported ONNX files and trained models, stored in the
// workspace as records of kind 'models' whose blob 'model' holds the ONNX bytes (weights as
// initializers). Also the training and gradient services used by the CLI and the 'model.train' job.

import { listText } from '../../engine/util/list-text';
import { basename } from 'node:path';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { ApiError } from '../../../preload/api/common';
import type { Workspace, RecordEnvelope } from '../workspace/types';
import { assertValidId } from '../workspace/paths';
import { writeFileAtomic } from '../workspace/atomic';
import { type Model, type Dim, type DType, defaultOpset, numel } from '../../engine/onnx/ir';
import { encodeModel } from '../../engine/onnx/codec';
import { loadModelBytes, loadModelFile, type LoadedModel } from '../../engine/onnx/load';
import { ModelValidationError } from '../../engine/onnx/validate';
import { buildArchitecture, ARCHITECTURES, detectTrainable, normalizeTrainingExport, normalizeImportedModel } from '../../engine/models';
import { trainingBlockers, trainingBlockerWarning, looksConstantFolded, CONSTANT_FOLDING_WARNING } from '../../engine/models/import';
import { bakeInference } from '../../engine/train/bake';
import { AutodiffError } from '../../engine/autodiff/backward';
import { validateDataset } from '../../engine/train/data';
import { defaultLogits } from '../../engine/train/graph-utils';
import { readNpz, type Npz } from '../../engine/io/npz';
import type { NdArray } from '../../engine/io/npy';
import { Trainer, type TrainerOptions, type FitResult, type StepInfo, type EpochInfo } from '../../engine/train/trainer';
import { computeGradients, type GradientResult } from '../../engine/train/gradients';
import { makeDataset, type ArrayDataset } from '../../engine/train/data';
import type { OptimizerSpec } from '../../engine/train/optimizers';
import type { ScheduleSpec } from '../../engine/train/schedules';
import { decodeCheckpoint, encodeCheckpoint, type TrainerCheckpoint } from '../../engine/train/checkpoint';
import type { ProviderName } from '../../engine/train/session';
import { checkOutputFile, type OutputFileOptions } from './output-target';

export interface ValueSummary {
  name: string;
  dtype: DType;
  shape: Dim[] | null;
}

export interface ModelManifest {
  name: string;
  source: 'builtin' | 'imported' | 'trained' | 'unlearned';
  arch: string | null;
  archOptions: Record<string, unknown> | null;
  sha256: string;
  sizeBytes: number;
  opset: number;
  producer: string;
  inputs: ValueSummary[];
  outputs: ValueSummary[];
  trainable: string[];
  buffers: string[];
  overrides: { trainable: string[]; frozen: string[] };
  /** number of trainable values */
  parameterCount: number;
  warnings: string[];
  /**
   * ops with no derivative rule on a parameter-to-output path (imported models; absent in records
   * made before this was checked): the model can be evaluated but not trained or differentiated
   */
  trainingBlockers?: string[];
  /** file name it was imported from (no folder) */
  importedFrom: string | null;
  /** provenance of training (trained models) */
  training: TrainingProvenance | null;
  /** provenance of unlearning (models made by an unlearning run, including retrain references) */
  unlearning?: UnlearningProvenance;
}

export interface UnlearningProvenance {
  runId: string;
  method: string;
  seed: number;
  /** the model that was unlearned (its training defines the data D) */
  original: { name: string; sha256: string };
  forgetSet: { id: string; idsSha256: string };
}

export interface TrainingDatasetRef {
  id: string;
  name: string;
  /** SHA-256 of the dataset's manifest (which hashes every stored array) */
  manifestSha256: string;
  /** the seeded stratified subset size, when one was asked for */
  maxTrainExamples?: number;
}

export interface TrainingProvenance {
  baseModel: { name: string | null; sha256: string };
  /** the training NPZ's hash, size and file name; `dataset` when it was made from a workspace dataset */
  data: { sha256: string; n: number; file: string | null; dataset?: TrainingDatasetRef };
  optimizer: OptimizerSpec;
  lr: number;
  schedule: ScheduleSpec | null;
  /** what the schedule counts (absent in records made before it was recorded: 'epoch') */
  scheduleUnit?: 'epoch' | 'step';
  warmup?: { length: number; startFactor?: number } | null;
  labelSmoothing?: number;
  epochs: number;
  batchSize: number;
  seed: number;
  provider: string;
  threads: number;
  fallbackReason: string | null;
  epochLosses: number[];
  /** test accuracy after each epoch when measured (TrainHooks.evalEachEpoch), aligned with epochLosses; null = not measured (before a resume) */
  epochTestAccuracies?: (number | null)[];
  testAccuracy: number | null;
  seconds: number;
}

const KIND = 'models' as const;

function summarize(m: Model, sha256: string, size: number, extra: Partial<ModelManifest> & Pick<ModelManifest, 'name' | 'source'>, over: { trainable?: string[]; frozen?: string[] } = {}): ModelManifest {
  const report = detectTrainable(m, over);
  const inits = new Map(m.graph.initializers.map((t) => [t.name, t]));
  const parameterCount = report.trainable.reduce((a, n) => a + numel(inits.get(n)?.dims ?? []), 0);
  const initNames = new Set(inits.keys());
  return {
    arch: null,
    archOptions: null,
    importedFrom: null,
    training: null,
    warnings: [],
    ...extra,
    sha256,
    sizeBytes: size,
    opset: defaultOpset(m),
    producer: [m.producerName, m.producerVersion].filter(Boolean).join(' '),
    inputs: m.graph.inputs.filter((v) => !initNames.has(v.name)).map((v) => ({ name: v.name, dtype: v.dtype, shape: v.shape })),
    outputs: m.graph.outputs.map((v) => ({ name: v.name, dtype: v.dtype, shape: v.shape })),
    trainable: report.trainable,
    buffers: report.buffers,
    overrides: { trainable: over.trainable ?? [], frozen: over.frozen ?? [] },
    parameterCount,
  };
}

async function putModel(ws: Workspace, bytes: Uint8Array, manifest: ModelManifest, replace = false): Promise<ModelManifest> {
  assertValidId(manifest.name);
  if (!replace && (await ws.getRecord(KIND, manifest.name))) {
    throw new ApiError('conflict', `a model named '${manifest.name}' already exists; choose another --name`);
  }
  const blob = await ws.putBlob(bytes);
  if (blob.sha256 !== manifest.sha256) throw new Error('internal: stored model hash differs from the computed one');
  await ws.putRecord(KIND, manifest.name, manifest, { model: blob });
  return manifest;
}

/** Register a model made by Lethe itself (e.g. an unlearning run's output), validated like an import. */
export async function saveDerivedModel(
  ws: Workspace,
  bytes: Uint8Array,
  o: { name: string; source: ModelManifest['source']; arch: string | null; archOptions: Record<string, unknown> | null; overrides?: { trainable: string[]; frozen: string[] }; unlearning?: UnlearningProvenance; training?: TrainingProvenance | null },
): Promise<ModelManifest> {
  const loaded = loadModelBytes(bytes);
  const extra: Partial<ModelManifest> & Pick<ModelManifest, 'name' | 'source'> = { name: o.name, source: o.source, arch: o.arch, archOptions: o.archOptions, training: o.training ?? null, warnings: loaded.warnings };
  if (o.unlearning) extra.unlearning = o.unlearning;
  const over = o.overrides && (o.overrides.trainable.length || o.overrides.frozen.length) ? o.overrides : {};
  return putModel(ws, bytes, summarize(loaded.model, loaded.sha256, bytes.length, extra, over));
}

export interface CreateModelParams {
  name: string;
  arch: string;
  classes?: number;
  inputShape?: number[];
  seed?: number;
  /** other architecture options (hidden, width, dropout, ...) */
  options?: Record<string, unknown>;
}

/** Create a model from a built-in architecture. */
export async function createModel(ws: Workspace, p: CreateModelParams): Promise<ModelManifest> {
  assertValidId(p.name);
  if (!(ARCHITECTURES as readonly string[]).includes(p.arch)) {
    throw new ApiError('invalid_argument', `unknown architecture '${p.arch}' (expected one of: ${ARCHITECTURES.join(', ')})`);
  }
  const opts: Record<string, unknown> = { ...(p.options ?? {}) };
  if (p.classes !== undefined) opts.classes = p.classes;
  if (p.inputShape !== undefined) opts.inputShape = p.inputShape;
  if (p.seed !== undefined) opts.seed = p.seed;
  let model: Model;
  try {
    model = buildArchitecture(p.arch, opts);
  } catch (e) {
    throw new ApiError('invalid_argument', (e as Error).message);
  }
  const bytes = encodeModel(model);
  const loaded = loadModelBytes(bytes); // the same validation as an import, and the hash of the bytes stored
  return putModel(ws, bytes, summarize(loaded.model, loaded.sha256, bytes.length, { name: p.name, source: 'builtin', arch: p.arch, archOptions: opts, warnings: loaded.warnings }));
}

export interface ImportModelParams {
  file: string;
  name?: string;
  trainable?: string[];
  frozen?: string[];
}

/** A valid record name derived from a file name. */
export function nameFromFile(file: string): string {
  const stem = basename(file).replace(/\.onnx$/i, '');
  let s = stem.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/\.\.+/g, '.').replace(/^[^A-Za-z0-9]+/, '').replace(/[.]+$/, '');
  if (!s) s = 'model';
  return s.slice(0, 128);
}

function validationToApi(e: unknown, file: string): never {
  if (e instanceof ModelValidationError) throw new ApiError('invalid_argument', `${basename(file)} is not a usable ONNX model: ${e.message}`, { code: e.code });
  throw e;
}

/** Import an ONNX file: validated (E1's loader), trainable initializers detected, overrides applied. */
export async function importModel(ws: Workspace, p: ImportModelParams): Promise<ModelManifest> {
  const name = p.name ?? nameFromFile(p.file);
  assertValidId(name);
  let loaded: LoadedModel;
  try {
    loaded = await loadModelFile(p.file);
  } catch (e) {
    validationToApi(e, p.file);
  }
  let manifest: ModelManifest;
  try {
    manifest = summarize(loaded!.model, loaded!.sha256, loaded!.byteLength, { name, source: 'imported', importedFrom: basename(p.file), warnings: [...loaded!.warnings] }, { trainable: p.trainable, frozen: p.frozen });
  } catch (e) {
    throw new ApiError('invalid_argument', (e as Error).message);
  }
  manifest.warnings.push(...importDiagnostics(loaded!.model, manifest));
  // store the exact bytes that were validated and hashed (external data, if any, inlined)
  // (no second read of the file: the bytes hashed by the loader are the bytes stored)
  const bytes = loaded!.externalData.length ? encodeModel(loaded!.model) : loaded!.bytes;
  if (loaded!.externalData.length) {
    manifest.sha256 = createHash('sha256').update(bytes).digest('hex');
    manifest.sizeBytes = bytes.length;
  }
  return putModel(ws, bytes, manifest);
}

/**
 * Warnings about training an imported model: a torch export with BatchNorm folded into the
 * convolutions, and ops with no derivative rule between the parameters and the outputs (also stored
 * as `trainingBlockers`).
 */
function importDiagnostics(model: Model, manifest: ModelManifest): string[] {
  const out: string[] = [];
  if (looksConstantFolded(model)) out.push(CONSTANT_FOLDING_WARNING);
  let norm: Model;
  try {
    norm = normalizeImportedModel(model).model;
  } catch (e) {
    out.push(`cannot be trained as exported: ${(e as Error).message}`);
    return out;
  }
  const blockers = trainingBlockers(norm, manifest.trainable);
  manifest.trainingBlockers = blockers.map((b) => b.op);
  const w = trainingBlockerWarning(blockers);
  if (w) out.push(w);
  return out;
}

export async function listModels(ws: Workspace): Promise<ModelManifest[]> {
  const recs = await ws.listRecords<ModelManifest>(KIND);
  return recs.map((r) => r.data).sort((a, b) => a.name.localeCompare(b.name));
}

export async function getModelRecord(ws: Workspace, name: string): Promise<RecordEnvelope<ModelManifest>> {
  assertValidId(name);
  const rec = await ws.getRecord<ModelManifest>(KIND, name);
  if (!rec) throw new ApiError('not_found', `no model named '${name}' in the workspace; 'lethe model list' shows the models`);
  return rec;
}

/** The registered model, decoded and re-validated from its blob. */
export async function loadRegisteredModel(ws: Workspace, name: string): Promise<{ manifest: ModelManifest; model: Model; bytes: Uint8Array }> {
  const rec = await getModelRecord(ws, name);
  const blob = rec.blobs.model;
  if (!blob) throw new ApiError('internal', `model record '${name}' has no model blob`);
  const bytes = await ws.getBlob(blob.sha256);
  const loaded = loadModelBytes(bytes);
  return { manifest: rec.data, model: loaded.model, bytes };
}

/**
 * The registered model as a standalone inference model: training-mode constructs of an imported
 * export (five-output BatchNormalization, Dropout with training_mode=true, de-duplicated weights)
 * converted to inference form and initializers removed from the graph inputs. `changed` is false when
 * the stored bytes already are such a model (they are then used as they are).
 */
export function inferenceBytes(model: Model, bytes: Uint8Array): { bytes: Uint8Array; changed: string[] } {
  let norm: { model: Model; changes: string[] };
  try {
    norm = normalizeImportedModel(model);
  } catch (e) {
    throw new ApiError('invalid_argument', `cannot convert the model to inference form: ${(e as Error).message}`);
  }
  const inits = new Set(model.graph.initializers.map((t) => t.name));
  const initInputs = model.graph.inputs.filter((v) => inits.has(v.name)).length;
  const changed = [...norm.changes];
  if (initInputs) changed.push(`removed ${initInputs} initializer(s) from the graph inputs`);
  if (!changed.length) return { bytes, changed };
  const baked = encodeModel(bakeInference(norm.model, {}, { 'lethe.exported.from': createHash('sha256').update(bytes).digest('hex') }));
  loadModelBytes(baked); // the same validation as an import
  return { bytes: baked, changed };
}

/** Write the registered model as a standalone inference ONNX (see inferenceBytes) to `out`, atomically. */
export async function exportModel(
  ws: Workspace,
  name: string,
  out: string,
  target: OutputFileOptions = {},
): Promise<{ name: string; path: string; sha256: string; sizeBytes: number; modelSha256: string; converted: string[] }> {
  await checkOutputFile(out, target);
  const { manifest, model, bytes } = await loadRegisteredModel(ws, name);
  const inf = inferenceBytes(model, bytes);
  await writeFileAtomic(out, inf.bytes);
  const sha256 = inf.changed.length ? createHash('sha256').update(inf.bytes).digest('hex') : manifest.sha256;
  return { name, path: out, sha256, sizeBytes: inf.bytes.length, modelSha256: manifest.sha256, converted: inf.changed };
}

/** A model given as a registered name or as a path to an .onnx file. */
export async function resolveModel(ws: Workspace | null, ref: string): Promise<{ model: Model; sha256: string; name: string | null; manifest: ModelManifest | null }> {
  const looksLikeFile = /\.onnx$/i.test(ref) || ref.includes('/') || ref.includes('\\');
  if (looksLikeFile || !ws) {
    try {
      const l = await loadModelFile(ref);
      return { model: l.model, sha256: l.sha256, name: null, manifest: null };
    } catch (e) {
      validationToApi(e, ref);
    }
  }
  const r = await loadRegisteredModel(ws!, ref);
  return { model: r.model, sha256: r.manifest.sha256, name: ref, manifest: r.manifest };
}

// ------------------------------------------------------------------------------------------------
// Data from NPZ (keys x float32 [N, ...], y integer [N])

export async function readLabelledNpz(file: string): Promise<{ ds: ArrayDataset; sha256: string }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new ApiError('invalid_argument', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  let npz: Npz;
  try {
    npz = readNpz(bytes, { name: basename(file) });
  } catch (e) {
    throw new ApiError('invalid_argument', `${basename(file)}: ${(e as Error).message}`);
  }
  return { ds: npzToDataset(npz, basename(file)), sha256 };
}

export function npzToDataset(npz: Npz, what: string): ArrayDataset {
  const x = npz.x;
  const y = npz.y;
  if (!x || !y) throw new ApiError('invalid_argument', `${what} must hold arrays 'x' (float32 [N, ...]) and 'y' (int64 [N]); it has: ${listText(Object.keys(npz).map((k) => `'${k.slice(0, 40)}'`), 10)}`);
  if (x.dtype !== 'float32') throw new ApiError('invalid_argument', `${what}: 'x' must be float32, it is ${x.dtype}`);
  if (!['int64', 'int32', 'uint8', 'int8'].includes(y.dtype)) throw new ApiError('invalid_argument', `${what}: 'y' must hold integer class labels (int64), it is ${y.dtype}`);
  if (y.shape.length !== 1) throw new ApiError('invalid_argument', `${what}: 'y' must be 1-D [N], its shape is [${y.shape.join(', ')}]`);
  if (x.shape[0] !== y.shape[0]) throw new ApiError('invalid_argument', `${what}: 'x' has ${x.shape[0]} examples but 'y' has ${y.shape[0]} labels`);
  try {
    return makeDataset(x.data as Float32Array, [...x.shape], labelsOf(y));
  } catch (e) {
    throw new ApiError('invalid_argument', `${what}: ${(e as Error).message}`);
  }
}

function labelsOf(y: NdArray): Int32Array {
  const out = new Int32Array(y.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = y.data[i] as number | bigint;
    const n = typeof v === 'bigint' ? (v > 2147483647n || v < -2147483648n ? -1 : Number(v)) : v;
    out[i] = n;
  }
  return out;
}

/**
 * The trainable/frozen choices in force for a command: the ones stored with the model at import
 * (manifest.overrides), with the command's own flags on top (a command's --trainable un-freezes a
 * stored --frozen and the other way round).
 */
export function effectiveOverrides(manifest: ModelManifest | null, cmd: { trainable?: string[]; frozen?: string[] }): { trainable: string[]; frozen: string[] } {
  const t1 = cmd.trainable ?? [];
  const f1 = cmd.frozen ?? [];
  const t0 = (manifest?.overrides?.trainable ?? []).filter((n) => !f1.includes(n));
  const f0 = (manifest?.overrides?.frozen ?? []).filter((n) => !t1.includes(n));
  return { trainable: [...new Set([...t0, ...t1])], frozen: [...new Set([...f0, ...f1])] };
}

/** Class labels must be in [0, classes) of the model's logits; a bad label is bad input. */
function checkLabels(m: Model, ds: ArrayDataset, what: string): void {
  const out = m.graph.outputs.find((v) => v.name === defaultLogits(m.graph));
  const c = out?.shape?.[1];
  try {
    validateDataset(ds, typeof c === 'number' ? c : undefined);
  } catch (e) {
    throw new ApiError('invalid_argument', `${basename(what)}: ${(e as Error).message}`);
  }
}

// ------------------------------------------------------------------------------------------------
// Gradients (lethe model grad)

export interface GradParams {
  model: string;
  inputs: string;
  mode?: 'eval' | 'train';
  trainable?: string[];
  frozen?: string[];
  threads?: number;
  provider?: ProviderName;
}

export async function modelGradients(ws: Workspace | null, p: GradParams): Promise<GradientResult & { modelSha256: string; inputsSha256: string }> {
  const m = await resolveModel(ws, p.model);
  const { ds, sha256 } = await readLabelledNpz(p.inputs);
  const norm = normalizeTrainingExport(m.model).model;
  let params: string[];
  try {
    params = detectTrainable(norm, effectiveOverrides(m.manifest, p)).trainable;
  } catch (e) {
    throw new ApiError('invalid_argument', (e as Error).message);
  }
  if (!params.length) throw new ApiError('invalid_argument', 'the model has no trainable initializers (use --trainable to name some)');
  checkInputShape(norm, ds, p.inputs);
  checkLabels(norm, ds, p.inputs);
  let r: GradientResult;
  try {
    r = await computeGradients(norm, ds, { params, mode: p.mode ?? 'eval', threads: p.threads ?? 1, provider: p.provider });
  } catch (e) {
    // the model itself cannot be differentiated (e.g. ops without a derivative rule): not a run failure
    if (e instanceof AutodiffError) throw new ApiError('invalid_argument', e.message);
    throw e;
  }
  return { ...r, modelSha256: m.sha256, inputsSha256: sha256 };
}

function checkInputShape(m: Model, ds: ArrayDataset, what: string): void {
  const inits = new Set(m.graph.initializers.map((t) => t.name));
  const inp = m.graph.inputs.filter((v) => !inits.has(v.name));
  if (inp.length !== 1) throw new ApiError('invalid_argument', `the model has ${inp.length} data inputs; Lethe trains models with exactly one`);
  const shape = inp[0].shape;
  if (!shape) return;
  const want = shape.slice(1);
  const ok = want.length === ds.exampleShape.length && want.every((d, i) => typeof d !== 'number' || d === ds.exampleShape[i]);
  if (!ok) throw new ApiError('invalid_argument', `${basename(what)}: examples have shape [${ds.exampleShape.join(', ')}], the model's input '${inp[0].name}' expects [${want.map((d) => d ?? '?').join(', ')}]`);
}

// ------------------------------------------------------------------------------------------------
// Training (lethe model train, job kind 'model.train')

export interface TrainParams {
  model: string;
  data: string;
  test?: string;
  /** recorded in the provenance when `data` was made from a workspace dataset */
  datasetRef?: TrainingDatasetRef;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: OptimizerSpec;
  /** cosine with tMax 0 anneals over the whole run */
  schedule?: ScheduleSpec;
  scheduleUnit?: 'epoch' | 'step';
  warmup?: { length: number; startFactor?: number };
  labelSmoothing?: number;
  seed: number;
  threads?: number;
  provider?: ProviderName;
  trainable?: string[];
  frozen?: string[];
  /** write the trained inference ONNX here (an existing file is refused unless `overwrite`) */
  out?: string;
  /** replace an existing `out` file (CLI --force) */
  overwrite?: boolean;
  /** register the trained model under this name */
  saveAs?: string;
}

export interface TrainHooks {
  signal?: AbortSignal;
  onStep?: (s: StepInfo) => void;
  onEpoch?: (e: EpochInfo) => void;
  /** measure the test accuracy after every epoch (EpochInfo.eval; recorded as epochTestAccuracies) instead of once at the end */
  evalEachEpoch?: boolean;
  /** previous checkpoint (bytes from saveCheckpoint) to resume from */
  resumeFrom?: Uint8Array | null;
  saveCheckpoint?: (bytes: Uint8Array, c: TrainerCheckpoint) => Promise<void>;
  checkpointEvery?: number;
}

export interface TrainOutcome {
  fit: FitResult;
  testAccuracy: number | null;
  out: { path: string; sha256: string } | null;
  saved: ModelManifest | null;
  provenance: TrainingProvenance;
  resumedFromStep: number | null;
}

export async function trainModel(ws: Workspace | null, p: TrainParams, h: TrainHooks = {}): Promise<TrainOutcome> {
  // refuse a bad --out before any work, and again right before writing it (it may have appeared since)
  const outTarget: OutputFileOptions = { overwrite: p.overwrite === true, overwriteHint: 'add --force (CLI) or overwrite: true (job) to replace it' };
  if (p.out) await checkOutputFile(p.out, outTarget);
  const m = await resolveModel(ws, p.model);
  const { ds, sha256 } = await readLabelledNpz(p.data);
  const test = p.test ? (await readLabelledNpz(p.test)).ds : undefined;
  const norm = normalizeTrainingExport(m.model).model;
  checkInputShape(norm, ds, p.data);
  checkLabels(norm, ds, p.data);
  if (test) {
    checkInputShape(norm, test, p.test!);
    checkLabels(norm, test, p.test!);
  }
  const over = effectiveOverrides(m.manifest, p);
  let schedule = p.schedule;
  if (schedule?.kind === 'cosine' && schedule.tMax === 0) {
    // tMax 0 = anneal over the whole run (after warm-up), in the schedule's units
    const units = (p.scheduleUnit ?? 'epoch') === 'epoch' ? p.epochs : p.epochs * Math.ceil(ds.n / p.batchSize);
    const tMax = units - (p.warmup?.length ?? 0);
    if (tMax < 1) throw new ApiError('invalid_argument', 'the warm-up is as long as the whole run; nothing is left for the cosine schedule');
    schedule = { ...schedule, tMax };
  }
  const opts: TrainerOptions = {
    model: norm,
    optimizer: p.optimizer,
    lr: p.lr,
    schedule,
    scheduleUnit: p.scheduleUnit,
    warmup: p.warmup,
    loss: { labelSmoothing: p.labelSmoothing },
    batchSize: p.batchSize,
    seed: p.seed,
    provider: p.provider,
    threads: p.threads ?? 1,
  };
  try {
    opts.trainable = detectTrainable(norm, over).trainable;
  } catch (e) {
    throw new ApiError('invalid_argument', (e as Error).message);
  }
  let trainer: Trainer;
  try {
    trainer = await Trainer.create(opts);
  } catch (e) {
    throw new ApiError('invalid_argument', (e as Error).message);
  }
  try {
    let resumedFromStep: number | null = null;
    if (h.resumeFrom) {
      trainer.restore(decodeCheckpoint(h.resumeFrom));
      resumedFromStep = trainer.globalStep;
    }
    const perEpoch = !!(test && h.evalEachEpoch);
    // epochs done before a resume were measured by the interrupted process: unknown here
    const epochTestAccuracies: (number | null)[] = new Array<number | null>(trainer.epoch).fill(null);
    const fit = await trainer.fit(ds, {
      epochs: p.epochs,
      signal: h.signal,
      onStep: h.onStep,
      onEpoch: (e) => {
        if (e.eval) epochTestAccuracies[e.epoch - 1] = e.eval.accuracy;
        h.onEpoch?.(e);
      },
      ...(perEpoch ? { evalData: test } : {}),
      checkpointEvery: h.checkpointEvery,
      onCheckpoint: h.saveCheckpoint ? (c) => h.saveCheckpoint!(encodeCheckpoint(c), c) : undefined,
    });
    // the last epoch's measurement is of the final weights
    const testAccuracy = test ? (perEpoch && fit.lastEval ? fit.lastEval.accuracy : (await trainer.evaluate(test)).accuracy) : null;
    const provenance: TrainingProvenance = {
      baseModel: { name: m.name, sha256: m.sha256 },
      data: { sha256, n: ds.n, file: basename(p.data), ...(p.datasetRef ? { dataset: p.datasetRef } : {}) },
      optimizer: p.optimizer,
      lr: p.lr,
      schedule: schedule ?? null,
      scheduleUnit: p.scheduleUnit ?? 'epoch',
      warmup: p.warmup ?? null,
      ...(p.labelSmoothing ? { labelSmoothing: p.labelSmoothing } : {}),
      epochs: p.epochs,
      batchSize: p.batchSize,
      seed: p.seed,
      provider: fit.provider,
      threads: fit.threads,
      fallbackReason: fit.fallbackReason,
      epochLosses: fit.epochLosses,
      ...(perEpoch ? { epochTestAccuracies } : {}),
      testAccuracy,
      seconds: fit.seconds,
    };
    const inference = trainer.inferenceModel({ 'lethe.trained.from': m.sha256, 'lethe.trained.data': sha256, 'lethe.trained.seed': String(p.seed) });
    const bytes = encodeModel(inference);
    const loaded = loadModelBytes(bytes);
    let out: TrainOutcome['out'] = null;
    if (p.out) {
      await checkOutputFile(p.out, outTarget);
      await writeFileAtomic(p.out, bytes);
      out = { path: p.out, sha256: loaded.sha256 };
    }
    let saved: ModelManifest | null = null;
    if (p.saveAs) {
      if (!ws) throw new ApiError('invalid_argument', 'saving a trained model needs a workspace');
      saved = await putModel(
        ws,
        bytes,
        summarize(loaded.model, loaded.sha256, bytes.length, { name: p.saveAs, source: 'trained', arch: m.manifest?.arch ?? null, archOptions: m.manifest?.archOptions ?? null, training: provenance }, over),
      );
    }
    return { fit, testAccuracy, out, saved, provenance, resumedFromStep };
  } finally {
    await trainer.dispose();
  }
}
