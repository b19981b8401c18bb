// Dataset service: the API handlers for datasets.* and the functions the CLI and the
// 'dataset.import' job call. Engine code lives in main/engine/data; this file adds lookup by id or
// name, name rules, error translation (DatasetImportError -> ApiError) and image encoding.

import { listText } from '../../engine/util/list-text';
import sharp from 'sharp';
import { ApiError } from '../../../preload/api/common';
import { engineToApiError } from '../errors';
import type {
  BuiltinDatasetInfo,
  DatasetDetail,
  DatasetManifestInfo,
  DatasetMethods,
  DatasetSummary,
  ExampleImage,
  ExamplesPage,
  ExamplesQuery,
  ImagesQuery,
  ImportPreviewResult,
  ImportSourceArgs,
} from '../../../preload/api/datasets';
import type { JobInfo, JobSubmit } from '../../../preload/api/jobs';
import { collectAfterDelete } from '../workspace/gc';
import { DatasetImportError } from '../../engine/data/errors';
import { type ForgetSetManifest, type Predicate, forgetSetIds, predicateFn, resolveClass } from '../../engine/data/forget-sets';
import { importDataset, previewImport, type ImportRequest } from '../../engine/data/import';
import { listBuiltins } from '../../engine/data/importers/builtin';
import type { ImportProgress } from '../../engine/data/importers/types';
import { DatasetReader, type DatasetManifest, type DatasetRecord, SPLIT_NAMES, datasetManifestSha256 } from '../../engine/data/store';
import type { Workspace } from '../workspace/types';
import { findForgetSet } from './forget-sets';

export type MethodHandlers<M> = { [K in keyof M]: (args: M[K] extends { args: infer A } ? A : never) => Promise<M[K] extends { result: infer R } ? R : never> };

// compile-time check that the engine manifest matches the API's view of it
const _manifestCompat = (m: DatasetManifest): DatasetManifestInfo => m;
void _manifestCompat;

/** DatasetImportError -> ApiError('invalid_argument') with the importer's code in details; EngineError -> the ApiError of its code */
export function toApiError(e: unknown): unknown {
  if (e instanceof DatasetImportError) {
    if (e.code === 'cancelled') return new ApiError('cancelled', e.message);
    return new ApiError('invalid_argument', e.message, { code: e.code, file: e.file });
  }
  return engineToApiError(e);
}

export function validateName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.trim().length === 0) throw new ApiError('invalid_argument', `The ${what} name is empty.`);
  const n = name.trim();
  if (n.length > 100) throw new ApiError('invalid_argument', `The ${what} name is longer than 100 characters.`);
  if (/[\u0000-\u001f\u007f]/.test(n)) throw new ApiError('invalid_argument', `The ${what} name contains control characters.`);
  return n;
}

export async function findDataset(ws: Workspace, idOrName: string): Promise<DatasetRecord> {
  const byId = /^[A-Za-z0-9._-]{1,128}$/.test(idOrName) ? await ws.getRecord<DatasetManifest>('datasets', idOrName).catch(() => null) : null;
  if (byId) return byId;
  const all = await ws.listRecords<DatasetManifest>('datasets');
  const hit = all.find((r) => r.data.name === idOrName);
  if (!hit) throw new ApiError('not_found', `There is no dataset '${idOrName}'.`);
  return hit;
}

export async function assertDatasetNameFree(ws: Workspace, name: string): Promise<void> {
  const all = await ws.listRecords<DatasetManifest>('datasets');
  if (all.some((r) => r.data.name === name)) throw new ApiError('conflict', `A dataset named '${name}' already exists.`);
}

export function summarizeDataset(r: DatasetRecord): DatasetSummary {
  const m = r.data;
  return {
    id: r.id,
    name: m.name,
    kind: m.kind,
    count: m.count,
    classNames: m.classNames,
    sampleShape: m.sampleShape,
    counts: m.counts,
    splitOrigin: m.splits.origin,
    format: m.source.format,
    importedAt: m.importedAt,
  };
}

export async function listDatasets(ws: Workspace): Promise<DatasetSummary[]> {
  const all = await ws.listRecords<DatasetManifest>('datasets');
  return all.map(summarizeDataset).sort((a, b) => a.name.localeCompare(b.name));
}

export async function getDataset(ws: Workspace, idOrName: string): Promise<DatasetDetail> {
  const r = await findDataset(ws, idOrName);
  const fs = (await ws.listRecords<ForgetSetManifest>('forgetSets')).filter((f) => f.data.dataset.id === r.id);
  return {
    ...summarizeDataset(r),
    manifest: r.data,
    manifestSha256: datasetManifestSha256(r.data),
    forgetSets: fs.map((f) => ({ id: f.id, name: f.data.name, kind: f.data.kind, count: f.data.count })),
  };
}

function toRequest(args: ImportSourceArgs): ImportRequest {
  return { format: args.format, source: args.source, options: args.options, testFraction: args.testFraction, splitSeed: args.splitSeed, maxExpansion: args.maxExpansion };
}

/** Import in this process (CLI and the job worker). */
export async function runDatasetImport(
  ws: Workspace,
  args: ImportSourceArgs & { name: string },
  run: { signal?: AbortSignal; progress?: (p: ImportProgress) => void } = {},
): Promise<DatasetRecord> {
  const name = validateName(args.name, 'dataset');
  await assertDatasetNameFree(ws, name);
  try {
    return await importDataset(ws, { ...toRequest(args), name }, run);
  } catch (e) {
    throw toApiError(e);
  }
}

// ---------- images ----------

export async function encodePng(px: Uint8Array, width: number, height: number, channels: number, scale = 1): Promise<Buffer> {
  let img = sharp(Buffer.from(px.buffer, px.byteOffset, px.byteLength), { raw: { width, height, channels: channels as 1 | 3 | 4 } });
  if (scale > 1) img = img.resize(width * scale, height * scale, { kernel: 'nearest' });
  return img.png({ compressionLevel: 3 }).toBuffer();
}

export function pngDataUrl(png: Buffer): string {
  return 'data:image/png;base64,' + png.toString('base64');
}

export async function previewDatasetImport(args: ImportSourceArgs & { maxSamples?: number }, workspaceRoot?: string): Promise<ImportPreviewResult> {
  const p = await previewImport(toRequest(args), { maxSamples: Math.min(args.maxSamples ?? 32, 256), workspaceRoot });
  const spec = p.spec;
  const samples = await Promise.all(
    p.samples.map(async (s) => {
      if (spec && spec.kind === 'image') {
        const [h, w, c] = spec.sampleShape;
        const scale = Math.max(1, Math.min(4, Math.floor(64 / Math.max(h, w))));
        return { id: s.id, label: s.label, split: s.split, png: pngDataUrl(await encodePng(s.x as Uint8Array, w, h, c, scale)) };
      }
      return { id: s.id, label: s.label, split: s.split, png: null, features: Array.from(s.x.slice(0, 16)) };
    }),
  );
  return {
    ok: p.ok,
    error: p.error,
    kind: spec?.kind ?? null,
    sampleShape: spec?.sampleShape ?? null,
    classNames: spec?.classNames ?? [],
    featureNames: spec?.featureNames,
    metadataColumns: spec?.metadataColumns,
    count: p.count,
    classCounts: p.classCounts,
    split: p.split,
    splitTotals: p.splitTotals,
    samples,
    warnings: p.warnings.slice(0, 200),
    files: p.files,
  };
}

// A few open readers, keyed by record id and revision, so gallery paging does not reload labels and IDs.
const readerCache = new Map<string, { key: string; reader: Promise<DatasetReader>; ws: Workspace }>();
const READER_CACHE_SIZE = 3;

export async function openReader(ws: Workspace, rec: DatasetRecord): Promise<DatasetReader> {
  const key = `${ws.root}\u0000${rec.id}\u0000${rec.revision}`;
  const hit = readerCache.get(key);
  if (hit && hit.ws === ws) {
    readerCache.delete(key);
    readerCache.set(key, hit);
    return hit.reader;
  }
  const reader = DatasetReader.open(ws, rec);
  readerCache.set(key, { key, reader, ws });
  reader.catch(() => readerCache.delete(key));
  while (readerCache.size > READER_CACHE_SIZE) {
    const [k, old] = readerCache.entries().next().value!;
    readerCache.delete(k);
    old.reader.then((r) => r.close()).catch(() => {});
  }
  return reader;
}

/** drop cached readers of a workspace (call before closing it) */
export async function closeReaders(ws?: Workspace): Promise<void> {
  for (const [k, v] of [...readerCache.entries()]) {
    if (!ws || v.ws === ws) {
      readerCache.delete(k);
      await v.reader.then((r) => r.close()).catch(() => {});
    }
  }
}

export async function listExamples(ws: Workspace, q: ExamplesQuery): Promise<ExamplesPage> {
  const rec = await findDataset(ws, q.id);
  const reader = await openReader(ws, rec);
  const offset = q.offset ?? 0;
  const limit = q.limit ?? 100;
  if (!Number.isInteger(offset) || offset < 0) throw new ApiError('invalid_argument', 'offset must be a non-negative integer.');
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ApiError('invalid_argument', 'limit must be an integer from 1 to 1000.');
  const tests: ((i: number) => boolean)[] = [];
  if (q.split) {
    const code = SPLIT_NAMES.indexOf(q.split);
    tests.push((i) => reader.splits[i] === code);
  }
  if (q.classes && q.classes.length > 0) {
    const cs = new Set(q.classes.map((c) => resolveClass(rec.data, c)));
    tests.push((i) => cs.has(reader.labels[i]));
  }
  await reader.loadFeatureColumns((q.filters ?? []).map((f) => f.column));
  for (const f of q.filters ?? []) tests.push(predicateFn(reader, f as Predicate));
  if (q.forgetSet) {
    const fsRec = await findForgetSet(ws, q.forgetSet.id);
    if (fsRec.data.dataset.id !== rec.id) throw new ApiError('invalid_argument', `Forget set '${fsRec.data.name}' belongs to another dataset.`);
    const inForget = new Set<number>();
    for (const id of await forgetSetIds(fsRec, ws)) {
      const i = reader.indexOfId(id);
      if (i !== undefined) inForget.add(i);
    }
    if (q.forgetSet.part === 'forget') tests.push((i) => inForget.has(i));
    else tests.push((i) => reader.splits[i] === 0 && !inForget.has(i));
  }
  const items: ExamplesPage['items'] = [];
  let total = 0;
  for (let i = 0; i < reader.count; i++) {
    if (!tests.every((t) => t(i))) continue;
    if (total >= offset && items.length < limit) {
      const metadata: Record<string, string | number | null> = {};
      for (const col of reader.metadata) metadata[col.name] = reader.metaValue(col, i);
      items.push({
        index: i,
        id: reader.ids[i],
        label: reader.labels[i],
        className: rec.data.classNames[reader.labels[i]],
        split: SPLIT_NAMES[reader.splits[i]],
        metadata,
      });
    }
    total++;
  }
  return { total, offset, items };
}

export async function exampleImages(ws: Workspace, q: ImagesQuery): Promise<ExampleImage[]> {
  const rec = await findDataset(ws, q.id);
  if (rec.data.kind !== 'image') throw new ApiError('invalid_argument', `Dataset '${rec.data.name}' holds tabular rows, not images.`);
  if (q.ids.length > 512) throw new ApiError('invalid_argument', 'Ask for at most 512 images at once.');
  const scale = q.scale ?? 1;
  if (!Number.isInteger(scale) || scale < 1 || scale > 8) throw new ApiError('invalid_argument', 'scale must be an integer from 1 to 8.');
  const reader = await openReader(ws, rec);
  const idx = q.ids.map((id) => {
    const i = reader.indexOfId(id);
    if (i === undefined) throw new ApiError('not_found', `Dataset '${rec.data.name}' has no example '${id}'.`);
    return i;
  });
  const [h, w, c] = rec.data.sampleShape;
  const bytes = await reader.readRowBytes(idx);
  const rb = reader.rowBytes;
  return Promise.all(
    idx.map(async (index, k) => {
      const px = bytes.subarray(k * rb, (k + 1) * rb);
      const base = { id: q.ids[k], index, width: w, height: h, channels: c };
      if (q.encoding === 'raw') return { ...base, rawBase64: Buffer.from(px.buffer, px.byteOffset, px.byteLength).toString('base64') };
      return { ...base, png: pngDataUrl(await encodePng(px, w, h, c, scale)) };
    }),
  );
}

export async function deleteDataset(ws: Workspace, idOrName: string): Promise<{ deleted: true }> {
  const rec = await findDataset(ws, idOrName);
  const users = (await ws.listRecords<ForgetSetManifest>('forgetSets')).filter((f) => f.data.dataset.id === rec.id);
  if (users.length > 0)
    throw new ApiError('conflict', `Dataset '${rec.data.name}' is used by forget set(s) ${listText(users.map((u) => `'${u.data.name}'`), 5)}; delete them first.`);
  await closeReaders(ws);
  await ws.deleteRecord('datasets', rec.id);
  // its samples, labels and metadata blobs (and its training-data cache) are freed unless something else uses them
  await collectAfterDelete(ws);
  return { deleted: true };
}

export function builtinDatasets(): BuiltinDatasetInfo[] {
  return listBuiltins().map(({ splitPolicy: _s, ...b }) => b);
}

export interface DatasetServiceDeps {
  workspace: Workspace;
  submitJob(job: JobSubmit): Promise<JobInfo>;
}

type DatasetOnly = Pick<
  DatasetMethods,
  | 'datasets.list'
  | 'datasets.get'
  | 'datasets.builtins'
  | 'datasets.previewImport'
  | 'datasets.import'
  | 'datasets.examples'
  | 'datasets.images'
  | 'datasets.thumbnail'
  | 'datasets.delete'
>;

/** A handler whose errors reach the caller as ApiErrors (import errors, file-system errors, ...). */
export function wrap<A, R>(fn: (a: A) => Promise<R>): (a: A) => Promise<R> {
  return async (a: A): Promise<R> => {
    try {
      return await fn(a);
    } catch (e) {
      throw toApiError(e);
    }
  };
}

/** API handlers for datasets.* (spread them into the backend's handler table). */
export function datasetHandlers(deps: DatasetServiceDeps): MethodHandlers<DatasetOnly> {
  const ws = deps.workspace;
  return {
    'datasets.list': wrap(async () => listDatasets(ws)),
    'datasets.get': wrap(async ({ id }) => getDataset(ws, id)),
    'datasets.builtins': wrap(async () => builtinDatasets()),
    'datasets.previewImport': wrap(async (args) => previewDatasetImport(args, ws.root)),
    'datasets.import': wrap(async (args) => {
      const name = validateName(args.name, 'dataset');
      await assertDatasetNameFree(ws, name);
      return deps.submitJob({ kind: 'dataset.import', title: `Import dataset '${name}'`, params: { ...args, name } });
    }),
    'datasets.examples': wrap(async (q) => listExamples(ws, q)),
    'datasets.images': wrap(async (q) => exampleImages(ws, q)),
    'datasets.thumbnail': wrap(async ({ id, exampleId, scale }) => (await exampleImages(ws, { id, ids: [exampleId], scale: scale ?? 2 }))[0]),
    'datasets.delete': wrap(async ({ id }) => deleteDataset(ws, id)),
  };
}
