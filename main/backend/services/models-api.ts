// API handlers for models.* (spread into the backend's handler table) and their zod schemas (spread
// into validation.ts). Built on the model registry (./models.ts): this file adds the API's views of a
// model (summary, detail with per-initializer reasons), the architecture catalogue, dataset-backed
// training (a workspace dataset is written once as a deterministic NPZ under cache/training-data/ and
// handed to the 'model.train' job) and the in-use check before deletion.

import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { trainingIndices } from '../../engine/unlearn/data';
import { recipeFor, recipeInfo, trainerSpecs, trainingRecipeInput } from '../../engine/train/recipe';
import { ApiError } from '../../../preload/api/common';
import type { JobInfo, JobSubmit } from '../../../preload/api/jobs';
import type {
  ArchitectureInfo,
  ArchitectureName,
  InitializerInfo,
  ModelDetail,
  ModelMethods,
  ModelSummary,
  ModelTrainArgs,
  TrainingRecipe,
} from '../../../preload/api/models';
import { detectTrainable } from '../../engine/models';
import { numel } from '../../engine/onnx/ir';
import { datasetManifestSha256, SPLIT_CODE, type DatasetRecord } from '../../engine/data/store';
import type { RecordEnvelope, Workspace } from '../workspace/types';
import { findDataset, openReader, type MethodHandlers } from './datasets';
import { collectAfterDelete } from '../workspace/gc';
import { freeBytes, isNoSpace, noSpaceMessage } from '../../engine/util/disk';
import { listText } from '../../engine/util/list-text';
import { specialFileKind } from './output-target';
import { FREE_SPACE_RESERVE_BYTES } from '../../engine/data/store';
import { createModel, exportModel, getModelRecord, importModel, loadRegisteredModel, nameFromFile, type ModelManifest } from './models';

// ---------- schemas ----------

const modelId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must contain only letters, digits, ".", "_" and "-", starting with a letter or digit');
const filePath = z.string().min(1).max(4096);
const dim = z.number().int().min(1).max(65_536);
const initNames = z.array(z.string().min(1).max(1024)).max(100_000);
const arch = z.enum(['mlp', 'cnn', 'resnet18', 'vit']);

export const modelArgSchemas = {
  'models.list': z.object({}).strict(),
  'models.get': z.object({ id: modelId }).strict(),
  'models.architectures': z.object({}).strict(),
  'models.recipe': z.object({ arch: z.string().max(64).nullable() }).strict(),
  'models.create': z
    .object({
      arch,
      name: modelId,
      classes: z.number().int().min(2).max(100_000).optional(),
      inputShape: z.array(dim).min(1).max(4).optional(),
      seed: z.number().int().min(0).max(0xffffffff).optional(),
      options: z.record(z.unknown()).optional(),
    })
    .strict(),
  'models.import': z.object({ path: filePath, name: modelId.optional(), trainable: initNames.optional(), frozen: initNames.optional() }).strict(),
  'models.export': z.object({ id: modelId, path: filePath, overwrite: z.boolean().optional() }).strict(),
  'models.train': z
    .object({
      modelId,
      datasetId: z.string().min(1).max(200).optional(),
      maxTrainExamples: z.number().int().min(1).max(100_000_000).optional(),
      dataPath: filePath.optional(),
      testPath: filePath.optional(),
      saveAs: modelId.optional(),
    })
    // the recipe fields, optional, from the one recipe schema (main/engine/train/recipe.ts)
    .merge(trainingRecipeInput)
    .strict(),
  'models.delete': z.object({ id: modelId }).strict(),
} satisfies { [M in keyof ModelMethods]: z.ZodType<ModelMethods[M]['args'], z.ZodTypeDef, unknown> };

// ---------- architectures ----------

const ARCH_INFO: readonly ArchitectureInfo[] = [
  {
    name: 'mlp',
    title: 'MLP',
    description: 'Multi-layer perceptron: flatten, two hidden ReLU layers (256, 128), linear classifier. Fast; a baseline for 28x28 images or tabular features.',
    defaults: { inputShape: [1, 28, 28], hidden: [256, 128], classes: 10, dropout: 0, seed: 0 },
    recipe: recipeFor('mlp'),
  },
  {
    name: 'cnn',
    title: 'Small CNN',
    description: 'Two 3x3 conv + ReLU + 2x2 max-pool stages (32, 64 channels), a 128-unit hidden layer, linear classifier. The reference model for Fashion-MNIST (about 420k parameters).',
    defaults: { inputShape: [1, 28, 28], channels: [32, 64], hidden: 128, classes: 10, dropout: 0, seed: 0 },
    recipe: recipeFor('cnn'),
  },
  {
    name: 'resnet18',
    title: 'ResNet-18 (CIFAR)',
    description: 'ResNet-18 in the CIFAR variant used across the unlearning literature: 3x3 stride-1 stem, no stem max-pool, four stages of two BasicBlocks with BatchNorm (about 11M parameters).',
    defaults: { inputShape: [3, 32, 32], width: 64, blocks: [2, 2, 2, 2], classes: 10, seed: 0 },
    recipe: recipeFor('resnet18'),
  },
  {
    name: 'vit',
    title: 'Tiny ViT',
    description: 'Vision Transformer (ViT-Ti layout): 4x4 patch embedding, class token, 6 pre-norm blocks of 3-head attention and MLP, width 192.',
    defaults: { inputShape: [3, 32, 32], patch: 4, dim: 192, depth: 6, heads: 3, mlpRatio: 4, classes: 10, dropout: 0, seed: 0 },
    recipe: recipeFor('vit'),
  },
];

export function architectures(): ArchitectureInfo[] {
  return ARCH_INFO.map((a) => structuredClone(a));
}

/** The training defaults for a model of this architecture (imported models: null): the one recipe schema's. */
export function defaultRecipe(arch: string | null): TrainingRecipe {
  return recipeFor(ARCH_INFO.some((a) => a.name === arch) ? arch : null);
}

// ---------- views ----------

const KIND = 'models' as const;

function dataInput(m: ModelManifest) {
  return m.inputs.length === 1 ? m.inputs[0] : null;
}

export function summarizeModel(rec: RecordEnvelope<ModelManifest>): ModelSummary {
  const m = rec.data;
  const input = dataInput(m);
  const out = m.outputs[0];
  const classes = out?.shape && out.shape.length === 2 && typeof out.shape[1] === 'number' ? out.shape[1] : null;
  return {
    id: rec.id,
    name: m.name,
    source: m.source,
    arch: m.arch,
    inputShape: input?.shape ? input.shape.slice(1) : null,
    classes,
    parameterCount: m.parameterCount,
    sha256: m.sha256,
    sizeBytes: m.sizeBytes,
    createdAt: rec.createdAt,
    trained: m.source === 'trained' || m.source === 'unlearned' ? true : m.source === 'builtin' ? false : null,
    testAccuracy: m.training?.testAccuracy ?? null,
    dataset: m.training?.data.dataset ? { id: m.training.data.dataset.id, name: m.training.data.dataset.name } : null,
  };
}

export async function listModelSummaries(ws: Workspace): Promise<ModelSummary[]> {
  const recs = await ws.listRecords<ModelManifest>(KIND);
  const list = recs.map(summarizeModel);
  // an unlearned model (or retrain reference) learned from its original's dataset
  const datasetBySha = new Map(list.filter((s) => s.dataset).map((s) => [s.sha256, s.dataset]));
  recs.forEach((r, i) => {
    const original = r.data.unlearning?.original.sha256;
    if (!list[i].dataset && original) list[i].dataset = datasetBySha.get(original) ?? null;
  });
  return list.sort((a, b) => a.name.localeCompare(b.name));
}

// detail views decode the whole model; keep the last few by content hash
const detailCache = new Map<string, Pick<ModelDetail, 'trainable' | 'frozen'>>();

export async function modelDetail(ws: Workspace, id: string): Promise<ModelDetail> {
  const rec = await getModelRecord(ws, id);
  const m = rec.data;
  const key = `${m.sha256}\u0000${JSON.stringify(m.overrides)}`;
  let inits = detailCache.get(key);
  if (!inits) {
    const { model } = await loadRegisteredModel(ws, id);
    const report = detectTrainable(model, { trainable: m.overrides.trainable, frozen: m.overrides.frozen });
    const byName = new Map(model.graph.initializers.map((t) => [t.name, t]));
    const info = (name: string): InitializerInfo => {
      const t = byName.get(name);
      const dims = (t?.dims ?? []).map(Number);
      return { name, dtype: t?.dtype ?? 'unknown', dims, elements: numel(dims), reason: report.reasons[name] ?? '' };
    };
    inits = { trainable: report.trainable.map(info), frozen: report.buffers.map(info) };
    detailCache.set(key, inits);
    while (detailCache.size > 8) detailCache.delete(detailCache.keys().next().value!);
  }
  return {
    ...summarizeModel(rec),
    archOptions: m.archOptions,
    opset: m.opset,
    producer: m.producer,
    inputs: m.inputs.map((v) => ({ name: v.name, dtype: v.dtype, shape: v.shape })),
    outputs: m.outputs.map((v) => ({ name: v.name, dtype: v.dtype, shape: v.shape })),
    trainable: inits.trainable,
    frozen: inits.frozen,
    overrides: m.overrides,
    warnings: m.warnings,
    provenance: {
      kind: m.source === 'builtin' ? 'created' : m.source,
      importedFrom: m.importedFrom,
      trainedFrom: m.training ? m.training.baseModel : null,
    },
    training: m.training ? (JSON.parse(JSON.stringify(m.training)) as ModelDetail['training']) : null,
    unlearning: m.unlearning ? structuredClone(m.unlearning) : null,
  };
}

// ---------- training data from a workspace dataset ----------

/** The model's per-example input shape, checked against the dataset's sample shape. */
function checkDatasetFits(model: ModelSummary, ds: DatasetRecord): void {
  const d = ds.data;
  const want = model.inputShape;
  // images are stored HWC and fed CHW; tabular rows are [F]
  const fed = d.kind === 'image' ? [d.sampleShape[2], d.sampleShape[0], d.sampleShape[1]] : d.sampleShape;
  if (want) {
    const ok = want.length === fed.length && want.every((w, i) => typeof w !== 'number' || w === fed[i]);
    if (!ok) {
      const what = d.kind === 'image' ? `${d.sampleShape[0]}x${d.sampleShape[1]} images with ${d.sampleShape[2]} channel(s), fed as [${fed.join(', ')}]` : `rows of ${fed[0]} features`;
      throw new ApiError('invalid_argument', `Model '${model.name}' expects inputs of shape [${want.map((w) => w ?? '?').join(', ')}], but dataset '${d.name}' holds ${what}.`);
    }
  }
  if (model.classes !== null && model.classes !== d.classNames.length) {
    throw new ApiError('invalid_argument', `Model '${model.name}' predicts ${model.classes} classes, but dataset '${d.name}' has ${d.classNames.length}.`);
  }
  if (d.counts.totals.train === 0) throw new ApiError('invalid_argument', `Dataset '${d.name}' has no training examples.`);
}

/** Seeded class-stratified subset of the train split (largest-remainder quotas), ascending indices. */

async function writeSplitNpz(ws: Workspace, ds: DatasetRecord, indices: number[], file: string, signal?: AbortSignal): Promise<string> {
  const dir = join(ws.root, 'cache', 'training-data');
  const path = join(dir, file);
  if (await stat(path).then((s) => s.isFile(), () => false)) return path; // deterministic content: reuse
  const reader = await openReader(ws, ds);
  const elems = reader.rowElems;
  const d = ds.data;
  const xBytes = indices.length * elems * 4;
  if (xBytes > 0xffff0000) {
    throw new ApiError('invalid_argument', `The training data of '${d.name}' would take ${(xBytes / 1e9).toFixed(1)} GB as float32; limit it with maxTrainExamples.`);
  }
  // a training run writes this file first: refuse before writing what the workspace's disk cannot hold
  await checkTrainingSpace(ws.root, `the training data of '${d.name}'`, xBytes + indices.length * 8);
  const x = new Float32Array(indices.length * elems);
  const y = new BigInt64Array(indices.length);
  const CHUNK = 1024;
  for (let s = 0; s < indices.length; s += CHUNK) {
    if (signal?.aborted) throw Object.assign(new Error('preparing the training data was cancelled'), { name: 'AbortError' });
    const part = indices.slice(s, s + CHUNK);
    const { data } = await reader.readBatchFloat32(part);
    x.set(data, s * elems);
    for (let k = 0; k < part.length; k++) y[s + k] = BigInt(reader.labels[part[k]]);
    await yieldToLoop(); // keep the event loop responsive between chunks
  }
  const shape = d.kind === 'image' ? [indices.length, d.sampleShape[2], d.sampleShape[0], d.sampleShape[1]] : [indices.length, d.sampleShape[0]];
  await mkdir(dir, { recursive: true });
  try {
    await writeNpzStreaming(path, [
      { name: 'x.npy', header: npyHeader('<f4', shape), data: new Uint8Array(x.buffer, x.byteOffset, x.byteLength) },
      { name: 'y.npy', header: npyHeader('<i8', [indices.length]), data: new Uint8Array(y.buffer, y.byteOffset, y.byteLength) },
    ]);
  } catch (e) {
    if (!isNoSpace(e)) throw e;
    await rm(path, { force: true });
    throw new ApiError('unavailable', noSpaceMessage(ws.root, `the training data of '${d.name}'`, xBytes + indices.length * 8, await freeBytes(ws.root)));
  }
  return path;
}

/** Refuse ('unavailable', naming the workspace and the size) when `bytes` more would not fit on the workspace's disk. */
export async function checkTrainingSpace(root: string, what: string, bytes: number): Promise<void> {
  const free = await freeBytes(root);
  const needed = bytes + FREE_SPACE_RESERVE_BYTES;
  if (free !== null && needed > free) throw new ApiError('unavailable', noSpaceMessage(root, what, needed, free));
}

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

/** NPY format 1.0 header (magic, version, length, dict padded so the data starts 64-byte aligned). */
function npyHeader(descr: string, shape: number[]): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const text = dict.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length & 0xff, text.length >> 8]);
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
  return out;
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32 of the parts, computed in slices with the event loop served between them. */
async function crc32(parts: Uint8Array[]): Promise<number> {
  let c = -1;
  const SLICE = 1 << 20;
  for (const p of parts) {
    for (let s = 0; s < p.length; s += SLICE) {
      const end = Math.min(p.length, s + SLICE);
      for (let i = s; i < end; i++) c = CRC_TABLE[(c ^ p[i]) & 0xff] ^ (c >>> 8);
      await yieldToLoop();
    }
  }
  return (c ^ -1) >>> 0;
}

/**
 * Write an uncompressed .npz (a stored ZIP of .npy members, fixed 1980 timestamp) without building it
 * in memory or blocking the event loop: CRCs are computed in slices and the bytes written in slices,
 * to a temporary file that is fsync'd and renamed into place.
 */
async function writeNpzStreaming(path: string, members: { name: string; header: Uint8Array; data: Uint8Array }[]): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const fh = await open(tmp, 'w');
  try {
    let offset = 0;
    const write = async (b: Uint8Array) => {
      for (let s = 0; s < b.length; s += 8 << 20) {
        const part = b.subarray(s, Math.min(b.length, s + (8 << 20)));
        await fh.write(part, 0, part.length, offset);
        offset += part.length;
      }
    };
    const DOS_TIME = 0;
    const DOS_DATE = (0 << 9) | (1 << 5) | 2; // 1980-01-02
    const central: Uint8Array[] = [];
    for (const m of members) {
      const size = m.header.length + m.data.length;
      const crc = await crc32([m.header, m.data]);
      const name = new TextEncoder().encode(m.name);
      const local = new Uint8Array(30 + name.length);
      const lv = new DataView(local.buffer);
      lv.setUint32(0, 0x04034b50, true);
      lv.setUint16(4, 20, true);
      lv.setUint16(10, DOS_TIME, true);
      lv.setUint16(12, DOS_DATE, true);
      lv.setUint32(14, crc, true);
      lv.setUint32(18, size, true);
      lv.setUint32(22, size, true);
      lv.setUint16(26, name.length, true);
      local.set(name, 30);
      const at = offset;
      await write(local);
      await write(m.header);
      await write(m.data);
      const cd = new Uint8Array(46 + name.length);
      const cv = new DataView(cd.buffer);
      cv.setUint32(0, 0x02014b50, true);
      cv.setUint16(4, 20, true);
      cv.setUint16(6, 20, true);
      cv.setUint16(12, DOS_TIME, true);
      cv.setUint16(14, DOS_DATE, true);
      cv.setUint32(16, crc, true);
      cv.setUint32(20, size, true);
      cv.setUint32(24, size, true);
      cv.setUint16(28, name.length, true);
      cv.setUint32(42, at, true);
      cd.set(name, 46);
      central.push(cd);
    }
    const cdStart = offset;
    for (const cd of central) await write(cd);
    const end = new Uint8Array(22);
    const ev = new DataView(end.buffer);
    ev.setUint32(0, 0x06054b50, true);
    ev.setUint16(8, members.length, true);
    ev.setUint16(10, members.length, true);
    ev.setUint32(12, offset - cdStart, true);
    ev.setUint32(16, cdStart, true);
    await write(end);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await rename(tmp, path);
}

/**
 * Write a dataset's train split (or a seeded subset) and its test split as NPZ files the trainer
 * reads: images scaled to [0, 1] in CHW order, labels int64. File names carry the dataset name and
 * manifest hash, so the same request reuses the same bytes.
 */
export async function datasetTrainingFiles(
  ws: Workspace,
  ds: DatasetRecord,
  opts: { maxTrain?: number; seed: number; signal?: AbortSignal },
): Promise<{ train: string; test: string | null; trainCount: number }> {
  const reader = await openReader(ws, ds);
  const classes = ds.data.classNames.length;
  const train = trainingIndices(reader.labels, reader.splits, classes, opts.maxTrain, opts.seed);
  const test: number[] = [];
  for (let i = 0; i < reader.count; i++) if (reader.splits[i] === SPLIT_CODE.test) test.push(i);
  const stem = `${ds.data.name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 60) || 'dataset'}-${datasetManifestSha256(ds.data).slice(0, 12)}`;
  const subset = opts.maxTrain !== undefined && train.length < ds.data.counts.totals.train ? `-n${train.length}-s${opts.seed}` : '';
  const trainPath = await writeSplitNpz(ws, ds, train, `${stem}-train${subset}.npz`, opts.signal);
  const testPath = test.length ? await writeSplitNpz(ws, ds, test, `${stem}-test.npz`, opts.signal) : null;
  return { train: trainPath, test: testPath, trainCount: train.length };
}

// ---------- train ----------

async function uniqueModelName(ws: Workspace, base: string): Promise<string> {
  const stem = base.slice(0, 120);
  if (!(await ws.getRecord(KIND, stem))) return stem;
  for (let i = 2; i < 10_000; i++) {
    const n = `${stem}-${i}`;
    if (!(await ws.getRecord(KIND, n))) return n;
  }
  throw new ApiError('conflict', `Could not find a free model name starting with '${stem}'.`);
}

export async function submitTraining(ws: Workspace, submitJob: (job: JobSubmit) => Promise<JobInfo>, a: ModelTrainArgs): Promise<JobInfo> {
  const rec = await getModelRecord(ws, a.modelId);
  const model = summarizeModel(rec);
  if (!a.datasetId === !a.dataPath) throw new ApiError('invalid_argument', 'models.train needs exactly one of datasetId (a workspace dataset) or dataPath (an NPZ file).');
  if (a.testPath && !a.dataPath) throw new ApiError('invalid_argument', 'testPath goes with dataPath; with a dataset its test split is used.');
  if (a.maxTrainExamples !== undefined && !a.datasetId) throw new ApiError('invalid_argument', 'maxTrainExamples applies to a dataset (datasetId).');
  for (const p of [a.dataPath, a.testPath]) if (p !== undefined && !isAbsolute(p)) throw new ApiError('invalid_argument', `The data file path '${p}' must be absolute.`);
  const r = recipeFor(ARCH_INFO.some((x) => x.name === rec.data.arch) ? rec.data.arch : null, definedOnly(a));
  if (rec.data.parameterCount === 0) throw new ApiError('invalid_argument', `Model '${model.name}' has no trainable initializers.`);

  if (a.saveAs && (await ws.getRecord(KIND, a.saveAs))) throw new ApiError('conflict', `A model named '${a.saveAs}' already exists.`);

  // the dataset's NPZ files are written by the job itself (in its worker), not in this call
  let source: { data: string; test?: string } | { dataset: { id: string; maxTrainExamples?: number } };
  let what: string;
  if (a.datasetId) {
    const ds = await findDataset(ws, a.datasetId);
    checkDatasetFits(model, ds);
    const trainTotal = ds.data.counts.totals.train;
    const n = a.maxTrainExamples !== undefined ? Math.min(a.maxTrainExamples, trainTotal) : trainTotal;
    if (n === 0) throw new ApiError('invalid_argument', `Dataset '${ds.data.name}' has no training examples.`);
    source = { dataset: { id: ds.id, ...(a.maxTrainExamples !== undefined ? { maxTrainExamples: a.maxTrainExamples } : {}) } };
    what = `'${ds.data.name}' (${n.toLocaleString('en-US')} examples)`;
  } else {
    source = { data: a.dataPath!, ...(a.testPath ? { test: a.testPath } : {}) };
    what = a.dataPath!.split(/[\\/]/).pop()!;
  }
  const { optimizer, schedule } = trainerSpecs(r);
  const saveAs = a.saveAs ?? (await uniqueModelName(ws, `${model.name}-trained`));
  const params = {
    model: model.name,
    ...source,
    epochs: r.epochs,
    batchSize: r.batchSize,
    lr: r.lr,
    optimizer,
    schedule,
    seed: r.seed,
    ...(r.labelSmoothing ? { labelSmoothing: r.labelSmoothing } : {}),
    saveAs,
  };
  return submitJob({ kind: 'model.train', title: `Train '${model.name}' on ${what} as '${saveAs}'`, params });
}

function definedOnly(a: ModelTrainArgs): Partial<TrainingRecipe> {
  const keys: (keyof TrainingRecipe)[] = ['epochs', 'batchSize', 'lr', 'optimizer', 'momentum', 'nesterov', 'weightDecay', 'schedule', 'stepSize', 'gamma', 'seed', 'labelSmoothing'];
  const out: Record<string, unknown> = {};
  for (const k of keys) if (a[k] !== undefined) out[k] = a[k];
  return out as Partial<TrainingRecipe>;
}

// ---------- delete ----------

/** Where a model is referenced: runs (any field naming a model) and worst-case forget sets. */
async function usersOf(ws: Workspace, name: string): Promise<string[]> {
  const users: string[] = [];
  const refersTo = (v: unknown, depth = 0): boolean => {
    if (depth > 6 || v === null || typeof v !== 'object') return false;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (/model/i.test(k) && (x === name || (x && typeof x === 'object' && ((x as Record<string, unknown>).id === name || (x as Record<string, unknown>).name === name || (x as Record<string, unknown>).modelId === name)))) return true;
      if (typeof x === 'object' && refersTo(x, depth + 1)) return true;
    }
    return false;
  };
  for (const r of await ws.listRecords<Record<string, unknown>>('runs')) if (refersTo(r.data)) users.push(`run '${(r.data.name as string) ?? r.id}'`);
  for (const f of await ws.listRecords<{ name: string; params?: { model?: { modelId?: string } } }>('forgetSets')) {
    if (f.data.params?.model?.modelId === name) users.push(`forget set '${f.data.name}'`);
  }
  return users;
}

export async function deleteModel(ws: Workspace, id: string): Promise<{ deleted: true }> {
  const rec = await getModelRecord(ws, id);
  const users = await usersOf(ws, rec.id);
  if (users.length) throw new ApiError('conflict', `Model '${rec.id}' is used by ${listText(users, 5)}; delete ${users.length > 1 ? 'them' : 'it'} first.`);
  await ws.deleteRecord(KIND, rec.id);
  await collectAfterDelete(ws);
  return { deleted: true };
}

// ---------- handlers ----------

async function checkImportPath(p: string): Promise<void> {
  if (!isAbsolute(p)) throw new ApiError('invalid_argument', `The model file path must be absolute (it is '${p}').`);
  const st = await stat(p).catch((e: NodeJS.ErrnoException) => {
    throw new ApiError('invalid_argument', e.code === 'ENOENT' ? `There is no file at ${p}.` : `Cannot read ${p} (${e.code ?? e.message}).`);
  });
  // /dev/zero is a device, a FIFO is a pipe: say what it really is
  const kind = specialFileKind(st);
  if (kind) throw new ApiError('invalid_argument', `${p} is ${kind}, not an ONNX file.`);
}

async function assertNameFree(ws: Workspace, name: string): Promise<void> {
  if (await ws.getRecord(KIND, name).catch(() => null)) throw new ApiError('conflict', `A model named '${name}' already exists; choose another name.`);
}

export interface ModelServiceDeps {
  workspace: Workspace;
  submitJob(job: JobSubmit): Promise<JobInfo>;
}

export function modelHandlers(deps: ModelServiceDeps): MethodHandlers<ModelMethods> {
  const ws = deps.workspace;
  return {
    'models.list': async () => listModelSummaries(ws),
    'models.get': async ({ id }) => modelDetail(ws, id),
    'models.architectures': async () => architectures(),
    'models.recipe': async ({ arch }) => recipeInfo(ARCH_INFO.some((a) => a.name === arch) ? arch : null),
    'models.create': async (a) => {
      await assertNameFree(ws, a.name);
      const m = await createModel(ws, { name: a.name, arch: a.arch as ArchitectureName, classes: a.classes, inputShape: a.inputShape, seed: a.seed, options: a.options });
      return modelDetail(ws, m.name);
    },
    'models.import': async (a) => {
      await checkImportPath(a.path);
      await assertNameFree(ws, a.name ?? nameFromFile(a.path));
      const m = await importModel(ws, { file: a.path, name: a.name, trainable: a.trainable, frozen: a.frozen });
      return modelDetail(ws, m.name);
    },
    'models.export': async ({ id, path, overwrite }) => {
      const r = await exportModel(ws, id, path, { overwrite: overwrite === true, overwriteHint: 'confirm replacing it (overwrite: true)' });
      return { id: r.name, path: r.path, sha256: r.sha256, sizeBytes: r.sizeBytes };
    },
    'models.train': async (a) => submitTraining(ws, deps.submitJob, a),
    'models.delete': async ({ id }) => deleteModel(ws, id),
  };
}
