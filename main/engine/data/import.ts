// Import orchestration: run an importer into the store (importDataset) or, in preview mode, into a
// PreviewSink (previewImport: format, header and label validation, the class histogram and the first
// few samples; nothing is written, and only those few samples are read or decoded).

import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { formatBytes, freeBytes, isNoSpace } from '../util/disk';
import { specialFileKind } from '../util/file-kind';
import type { Workspace } from '../store/workspace-port';
import { DatasetImportError, asImportError } from './errors';
import { getImporter, DATASET_FORMATS } from './importers';
import { builtinInfo } from './importers/builtin';
import { type ExampleSink, type ImportProgress, yieldToEventLoop } from './importers/types';
import {
  DEFAULT_LIMITS,
  DEFAULT_MAX_EXPANSION,
  DatasetWriter,
  type DatasetFormat,
  type DatasetRecord,
  type DatasetSpec,
  type ImportLimits,
  type SplitName,
  newDatasetId,
  splitWarnings,
  expansionProblem,
  FREE_SPACE_RESERVE_BYTES,
} from './store';
import { stratifiedTestCount } from './prng';

export interface ImportRequest {
  format: DatasetFormat;
  /** file or folder path, or the built-in name for format 'builtin' */
  source: string;
  /** importer-specific options (see each importer) */
  options?: Record<string, unknown>;
  /** used when the source has no split of its own */
  testFraction?: number;
  splitSeed?: number;
  limits?: Partial<ImportLimits>;
  /**
   * the most the stored samples may take relative to the source's bytes on disk (default
   * DEFAULT_MAX_EXPANSION = 100; Infinity: no cap). Built-in samples are not capped.
   */
  maxExpansion?: number;
}

/** Bytes of a source file, or of every file under a source folder (stops counting at `enough`). */
export async function sourceBytes(source: string, enough = Number.MAX_SAFE_INTEGER): Promise<number | null> {
  const st = await stat(source).catch(() => null);
  if (!st) return null;
  if (st.isFile()) return st.size;
  if (!st.isDirectory()) return null;
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const d of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (total >= enough) return;
      const p = join(dir, d.name);
      if (d.isDirectory()) await walk(p);
      else if (d.isFile()) total += (await stat(p).catch(() => null))?.size ?? 0;
    }
  };
  await walk(source);
  return total;
}

function checkRequest(req: ImportRequest) {
  if (!DATASET_FORMATS.includes(req.format))
    throw new DatasetImportError('bad_option', `Unknown format '${req.format}'; choose one of ${DATASET_FORMATS.join(', ')}.`);
  if (typeof req.source !== 'string' || req.source.length === 0) throw new DatasetImportError('bad_option', 'The source is empty.');
  if (req.testFraction !== undefined && !(req.testFraction > 0 && req.testFraction < 1))
    throw new DatasetImportError('bad_option', 'The test fraction must be between 0 and 1 (exclusive).');
  if (req.splitSeed !== undefined && !(Number.isInteger(req.splitSeed) && req.splitSeed >= 0 && req.splitSeed <= 0xffffffff))
    throw new DatasetImportError('bad_option', 'The split seed must be an integer from 0 to 4294967295.');
  if (req.maxExpansion !== undefined && !(typeof req.maxExpansion === 'number' && req.maxExpansion >= 1))
    throw new DatasetImportError('bad_option', 'The maximum expansion must be a number of at least 1 (times the source size).');
}

/**
 * A source that exists but is neither a file nor a folder (a device such as /dev/zero, a FIFO, a
 * socket) is refused by what it is, before any importer reads from it (a read of /dev/zero never ends).
 */
async function checkSourceKind(req: ImportRequest): Promise<void> {
  if (req.format === 'builtin') return;
  const st = await stat(req.source).catch(() => null);
  if (!st || st.isFile() || st.isDirectory()) return;
  throw new DatasetImportError('bad_option', `${req.source} is ${specialFileKind(st)}, not a file or folder to import.`);
}

/** The expansion cap of an import: its source's bytes on disk and the allowed ratio (built-in samples: none). */
async function expansionLimit(req: ImportRequest): Promise<ImportLimits['expansion']> {
  if (req.format === 'builtin') return undefined;
  const bytes = await sourceBytes(req.source);
  return bytes === null ? undefined : { sourceBytes: bytes, maxRatio: req.maxExpansion ?? DEFAULT_MAX_EXPANSION };
}

function splitPolicy(req: ImportRequest) {
  if (req.format === 'builtin') {
    const b = builtinInfo(req.source);
    if (b.splitPolicy) return b.splitPolicy;
  }
  return { testFraction: req.testFraction ?? 0.2, seed: req.splitSeed ?? 0 };
}

export async function importDataset(
  ws: Workspace,
  req: ImportRequest & { name: string; id?: string },
  run: { signal?: AbortSignal; progress?: (p: ImportProgress) => void } = {},
): Promise<DatasetRecord> {
  const startedAt = Date.now();
  checkRequest(req);
  await checkSourceKind(req);
  const importer = getImporter(req.format);
  const opts = importer.parseOptions(req.options ?? {});
  const limits: ImportLimits = { ...DEFAULT_LIMITS, ...req.limits };
  limits.expansion ??= await expansionLimit(req);
  let writer: DatasetWriter | null = null;
  try {
    const out = await importer.run(req.source, opts, {
      signal: run.signal,
      progress: run.progress,
      limits,
      open: (spec: DatasetSpec) => (writer = new DatasetWriter(spec, limits, join(ws.root, 'tmp'), { root: ws.root })),
    });
    if (!writer) throw new DatasetImportError('empty', 'The source holds no examples.');
    const w = writer as DatasetWriter;
    run.progress?.({ done: w.count, total: w.count, message: 'writing the store' });
    return await w.finalize(ws, {
      id: req.id ?? newDatasetId(),
      name: req.name,
      source: {
        format: req.format,
        location: req.source,
        builtin: req.format === 'builtin' ? req.source : undefined,
        options: out.resolvedOptions,
        files: out.files,
      },
      splitPolicy: splitPolicy(req),
      sourceSplitDescription: out.sourceSplitDescription,
      startedAt,
    });
  } catch (e) {
    const w = writer as DatasetWriter | null;
    await w?.abort();
    // disk full while writing (the temporary samples or the blob store): the workspace's disk, with the size needed
    if (isNoSpace(e) || (e instanceof DatasetImportError && e.code === 'no_space' && !e.message.includes(ws.root))) {
      throw w ? await w.noSpaceError() : new DatasetImportError('no_space', `The disk of the workspace (${ws.root}) is full.`);
    }
    throw asImportError(e);
  }
}

export interface PreviewSample {
  id: string;
  label: number;
  split: SplitName | null;
  /** raw row: uint8 HWC pixels or float32 features */
  x: Uint8Array | Float32Array;
}

/**
 * Keeps counts and the first `maxSamples` examples; stores nothing. Its loops hand the event loop back
 * every few thousand examples, so tallying 70,000 labels never blocks the API process for long.
 */
export class PreviewSink implements ExampleSink {
  readonly warnings: string[] = [];
  count = 0;
  readonly classCounts: { train: number[]; test: number[]; unsplit: number[] };
  readonly samples: PreviewSample[] = [];
  private rowElems: number;
  constructor(
    readonly spec: DatasetSpec,
    private maxSamples: number,
  ) {
    const k = spec.classNames.length;
    this.classCounts = { train: new Array(k).fill(0), test: new Array(k).fill(0), unsplit: new Array(k).fill(0) };
    this.rowElems = spec.sampleShape.reduce((a, b) => a * b, 1);
  }
  private seen = new Set<string>();
  private tally(label: number, split: SplitName | null, id: string) {
    if (this.seen.has(id)) throw new DatasetImportError('bad_value', `Duplicate example ID ${JSON.stringify(id)}.`);
    this.seen.add(id);
    if (!Number.isInteger(label) || label < 0 || label >= this.spec.classNames.length)
      throw new DatasetImportError('label_range', `Label ${label} is outside 0..${this.spec.classNames.length - 1}.`);
    (split === null ? this.classCounts.unsplit : this.classCounts[split])[label]++;
    this.count++;
  }
  async add(ex: Parameters<ExampleSink['add']>[0]) {
    if (ex.x.length !== this.rowElems)
      throw new DatasetImportError('size_mismatch', `Example ${ex.id} has ${ex.x.length} values, expected ${this.rowElems}.`);
    this.tally(ex.label, ex.split, ex.id);
    if (this.samples.length < this.maxSamples) this.samples.push({ id: ex.id, label: ex.label, split: ex.split, x: ex.x.slice() });
  }
  async addBlock(b: Parameters<ExampleSink['addBlock']>[0]) {
    const n = b.labels.length;
    if (b.x.length !== n * this.rowElems)
      throw new DatasetImportError('size_mismatch', `Block has ${b.x.length} values, expected ${n * this.rowElems}.`);
    for (let i = 0; i < n; i++) {
      if (i > 0 && i % TALLY_SLICE === 0) await yieldToEventLoop();
      const id = b.id(i);
      this.tally(b.labels[i], b.split, id);
      if (this.samples.length < this.maxSamples)
        this.samples.push({ id, label: b.labels[i], split: b.split, x: b.x.slice(i * this.rowElems, (i + 1) * this.rowElems) });
    }
  }
  async addLabels(b: Parameters<NonNullable<ExampleSink['addLabels']>>[0]) {
    const n = b.labels.length;
    for (let i = 0; i < n; i++) {
      if (i > 0 && i % TALLY_SLICE === 0) await yieldToEventLoop();
      this.tally(b.labels[i], b.split, b.id(i));
    }
  }
}

/** examples tallied between two yields to the event loop (about 1 ms of work) */
const TALLY_SLICE = 4096;

export interface ImportPreview {
  ok: boolean;
  error: { code: string; message: string; file?: string } | null;
  spec: DatasetSpec | null;
  count: number;
  classCounts: { train: number[]; test: number[]; unsplit: number[] } | null;
  /** how the train/test split will be made */
  split: string | null;
  /** examples per split after the import (a seeded split is predicted with the import's own rule) */
  splitTotals: { train: number; test: number } | null;
  samples: PreviewSample[];
  warnings: string[];
  files: { path: string; size: number; sha256: string }[];
}

/** Train/test totals: the source's own split as counted, plus the seeded split of unsplit examples. */
export function predictSplitTotals(counts: { train: number[]; test: number[]; unsplit: number[] }, testFraction: number): { train: number; test: number } {
  let train = 0;
  let test = 0;
  counts.unsplit.forEach((n, c) => {
    const t = stratifiedTestCount(n, testFraction);
    test += t + counts.test[c];
    train += n - t + counts.train[c];
  });
  return { train, test };
}

export async function previewImport(req: ImportRequest, opts: { maxSamples?: number; signal?: AbortSignal; workspaceRoot?: string } = {}): Promise<ImportPreview> {
  let sink: PreviewSink | null = null;
  try {
    checkRequest(req);
    await checkSourceKind(req);
    const importer = getImporter(req.format);
    const parsed = importer.parseOptions(req.options ?? {});
    const limits = { ...DEFAULT_LIMITS, ...req.limits };
    const maxSamples = opts.maxSamples ?? 32;
    const out = await importer.run(req.source, parsed, {
      signal: opts.signal,
      limits,
      open: (spec) => (sink = new PreviewSink(spec, maxSamples)),
      preview: { maxSamples },
    });
    const s = sink as PreviewSink | null;
    if (!s || s.count === 0) throw new DatasetImportError('empty', 'The source holds no examples.');
    // what the import would store: refused by the expansion cap as the import would be; warned if the disk is short
    const sampleBytes = s.count * s.spec.sampleShape.reduce((a, b) => a * b, 1) * (s.spec.xDtype === 'uint8' ? 1 : 4);
    const tooBig = expansionProblem(sampleBytes, limits.expansion ?? (await expansionLimit(req)));
    if (tooBig) throw new DatasetImportError('too_large', tooBig);
    const diskWarnings: string[] = [];
    if (opts.workspaceRoot) {
      const free = await freeBytes(opts.workspaceRoot);
      const needed = 2 * sampleBytes + FREE_SPACE_RESERVE_BYTES;
      if (free !== null && needed > free)
        diskWarnings.push(`The workspace's disk has ${formatBytes(free)} free, but this import needs about ${formatBytes(needed)} while it runs (${formatBytes(sampleBytes)} of samples, written twice); it will be refused unless space is freed.`);
    }
    const policy = splitPolicy(req);
    const totals = predictSplitTotals(s.classCounts, policy.testFraction);
    const drawn = s.classCounts.unsplit.some((c) => c > 0);
    return {
      ok: true,
      error: null,
      spec: s.spec,
      count: s.count,
      classCounts: s.classCounts,
      split: out.sourceSplitDescription ?? `stratified by class, seed ${policy.seed}, test fraction ${Math.round(policy.testFraction * 1e4) / 1e4}`,
      splitTotals: totals,
      samples: s.samples,
      warnings: [...s.warnings, ...splitWarnings(totals, drawn ? policy.testFraction : null), ...diskWarnings],
      files: out.files,
    };
  } catch (e) {
    const err = asImportError(e);
    const s = sink as PreviewSink | null;
    return {
      ok: false,
      error: err.toJSON(),
      spec: s?.spec ?? null,
      count: s?.count ?? 0,
      classCounts: s?.classCounts ?? null,
      split: null,
      splitTotals: null,
      samples: s?.samples ?? [],
      warnings: s?.warnings ?? [],
      files: [],
    };
  }
}
