// Dataset store: compact binary arrays in workspace blobs plus a JSON manifest (the record's data).
//
// Layout of a dataset record (kind 'datasets'):
//   blobs.x      samples, raw little-endian, row-major: uint8 [N, H, W, C] for images (HWC, like numpy/PIL)
//                or float32 [N, F] for tabular data
//   blobs.y      int32 [N] class labels in [0, numClasses)
//   blobs.split  uint8 [N] split codes (0 = train, 1 = test)
//   blobs.ids    UTF-8 text: the N example IDs joined by '\n', in storage order
//   blobs['meta:<i>']       metadata column i: float64 [N] (NaN = missing) or int32 [N] category codes (-1 = missing)
//   blobs['meta:<i>:dict']  UTF-8 JSON array of the category strings of column i
// Every blob is content-addressed, so its SHA-256 (manifest.arrays.*.sha256) is the hash of the stored
// array bytes. The manifest also records the SHA-256 of every source file.
//
// Reads: labels, splits, IDs and metadata are loaded whole (a few bytes per example); samples are read
// by index with positioned reads of the x blob through a small LRU of 256 KiB chunks, so a 70k-image
// gallery never holds the pixel array in the JS heap.
//
// Example IDs are stable across re-imports of the same source: they are derived from the position or
// path of the example in the source (`train-123`, `test-45`, `cat/img001.png`, `row-17`, ...); see each
// importer's `idScheme`, recorded in the manifest.

import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { BlobRef, RecordEnvelope, Workspace } from '../store/workspace-port';
import type { DatasetArrayInfo, DatasetManifestInfo, DatasetMetadataColumn } from './contract-types';
import { DatasetImportError } from './errors';
import { stratifiedSplit } from './prng';
import { canonicalJsonSha256 } from './canonical-json';
import { codePointComparator } from './hash';
import { formatBytes, freeBytes, noSpaceMessage } from '../util/disk';

export type DatasetFormat = DatasetManifestInfo['source']['format'];
export const SPLIT_NAMES = ['train', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];
export const SPLIT_CODE: Record<SplitName, number> = { train: 0, test: 1 };
const UNASSIGNED = 255;
/** derived metadata column added to every uint8 image dataset: mean pixel value (0..255, 2 decimals) */
export const INTENSITY_COLUMN = 'mean_intensity';

// The manifest types are the API contract's, defined once in ./contract-types.ts (which
// preload/api/datasets.ts re-exports), so what the engine stores is exactly what the UI and CLI are typed to read.
export type ArrayInfo = DatasetArrayInfo;
export type MetadataColumnInfo = DatasetMetadataColumn;
export type DatasetManifest = DatasetManifestInfo;
export type SplitInfo = DatasetManifestInfo['splits'];
export type SourceFileInfo = DatasetManifestInfo['source']['files'][number];

export type DatasetRecord = RecordEnvelope<DatasetManifest>;

/** SHA-256 of the canonical JSON of a dataset manifest (what forget sets pin). */
export function datasetManifestSha256(m: DatasetManifest): string {
  return canonicalJsonSha256(m);
}

export interface DatasetSpec {
  kind: 'image' | 'tabular';
  sampleShape: number[];
  xDtype: 'uint8' | 'float32';
  classNames: string[];
  featureNames?: string[];
  metadataColumns?: { name: string; type: 'number' | 'category' }[];
  idScheme: string;
  /** how many examples the importer will add, when it knows before the first one (free-space check up front) */
  expectedCount?: number;
}

export interface ImportLimits {
  /** maximum number of examples */
  maxExamples: number;
  /** maximum bytes of the sample array */
  maxSampleBytes: number;
  /**
   * the most the stored samples may take relative to the source's size on disk (a 2 MB archive of
   * zeros must not become a 2 GB dataset unasked); importDataset fills `sourceBytes`. Imports below
   * MIN_EXPANSION_CAP_BYTES are never refused by it. Override with a larger ratio (or Infinity).
   */
  expansion?: { sourceBytes: number; maxRatio: number };
}

/** Default of the import's expansion cap: the stored samples may take 100 times the source's bytes. */
export const DEFAULT_MAX_EXPANSION = 100;
/** Below this the expansion cap never refuses an import. */
export const MIN_EXPANSION_CAP_BYTES = 256 * 1024 ** 2;
/** Free space left over when an import has written everything (so the workspace does not fill to the last byte). */
export const FREE_SPACE_RESERVE_BYTES = 64 * 1024 ** 2;
/** How often (in sample bytes written) an import asks the disk how much is free. */
const FREE_SPACE_CHECK_EVERY = 64 * 1024 ** 2;

export const DEFAULT_LIMITS: ImportLimits = { maxExamples: 20_000_000, maxSampleBytes: 16 * 1024 ** 3 };

// ---------- growable typed buffers ----------

class Grow<T extends Int32Array | Uint8Array | Float64Array> {
  buf: T;
  length = 0;
  constructor(private ctor: new (n: number) => T, initial = 1024) {
    this.buf = new ctor(initial);
  }
  push(v: number) {
    if (this.length === this.buf.length) this.grow(this.length + 1);
    this.buf[this.length++] = v;
  }
  grow(min: number) {
    let n = this.buf.length * 2;
    while (n < min) n *= 2;
    const b = new this.ctor(n);
    b.set(this.buf.subarray(0, this.length) as never);
    this.buf = b;
  }
  view(): T {
    return this.buf.subarray(0, this.length) as T;
  }
}

const ID_RE = /^[^\u0000-\u001f\u007f]{1,256}$/;

export interface SplitPolicy {
  /** used only when the source has no split */
  testFraction: number;
  seed: number;
}

/** Why `sampleBytes` of samples break the expansion cap (ImportLimits.expansion), or null: the import and its preview say the same. */
export function expansionProblem(sampleBytes: number, e: ImportLimits['expansion']): string | null {
  if (!e || !Number.isFinite(e.maxRatio)) return null;
  const cap = Math.max(MIN_EXPANSION_CAP_BYTES, e.sourceBytes * e.maxRatio);
  if (sampleBytes <= cap) return null;
  return `The source (${formatBytes(e.sourceBytes)}) expands to more than ${formatBytes(cap)} of samples, over ${e.maxRatio} times its size, the import limit; a source this compressed may be a decompression bomb. If it is genuine, import it again with a larger --max-expansion (API: maxExpansion).`;
}

/**
 * Warnings about a split that leaves nothing to train on or to test on (a small CSV with a seeded split
 * of 0.2 can round every class's test share down to 0). The import preview and the import both say so.
 */
export function splitWarnings(totals: { train: number; test: number }, testFraction: number | null): string[] {
  const how = testFraction === null ? 'the source assigns no example to it' : `test fraction ${testFraction}: round(examples of a class × ${testFraction}) is 0 for every class`;
  const out: string[] = [];
  if (totals.test === 0 && totals.train > 0)
    out.push(`The test split will be empty (${how}); test accuracy cannot be measured. Add examples, raise the test fraction or give a split column.`);
  if (totals.train === 0 && totals.test > 0)
    out.push(`The training split will be empty (${testFraction === null ? 'the source assigns no example to it' : `test fraction ${testFraction}`}); nothing can be trained or forgotten.`);
  return out;
}

/**
 * Collects examples during an import: samples stream to a temporary file, everything else stays in
 * compact typed arrays. `finalize` writes the blobs and the record; `abort` removes the temp file.
 */
export class DatasetWriter {
  readonly rowElems: number;
  readonly rowBytes: number;
  private dir: string | null = null;
  private fd: number | null = null;
  private buf: Buffer;
  private bufUsed = 0;
  private labels = new Grow(Int32Array);
  private splits = new Grow(Uint8Array);
  private ids: string[] = [];
  private metaNum: Map<number, Grow<Float64Array>> = new Map();
  private metaCat: Map<number, { codes: Grow<Int32Array>; dict: Map<string, number> }> = new Map();
  /** derived column for uint8 images: mean pixel value of each example (0..255) */
  private intensity: Grow<Float64Array> | null = null;
  private hasSourceSplit = false;
  private hasUnassigned = false;
  readonly warnings: string[] = [];

  /**
   * @param tmpRoot where the temporary sample file goes; importDataset passes the workspace's tmp/
   *   folder (emptied when the workspace is opened, so a killed import leaves nothing behind)
   */
  constructor(
    readonly spec: DatasetSpec,
    private limits: ImportLimits = DEFAULT_LIMITS,
    private tmpRoot: string = tmpdir(),
    /** the workspace whose disk the import fills: its free space is checked before writing */
    private disk: { root: string } | null = null,
  ) {
    if (spec.classNames.length < 1) throw new DatasetImportError('bad_option', 'A dataset needs at least one class.');
    if (spec.sampleShape.some((d) => !Number.isInteger(d) || d < 1))
      throw new DatasetImportError('bad_header', `Invalid sample shape [${spec.sampleShape.join(', ')}].`);
    this.rowElems = spec.sampleShape.reduce((a, b) => a * b, 1);
    this.rowBytes = this.rowElems * (spec.xDtype === 'uint8' ? 1 : 4);
    this.buf = Buffer.allocUnsafe(Math.max(4 << 20, this.rowBytes));
    if (spec.kind === 'image' && spec.xDtype === 'uint8' && !(spec.metadataColumns ?? []).some((c) => c.name === INTENSITY_COLUMN))
      this.intensity = new Grow(Float64Array);
    (spec.metadataColumns ?? []).forEach((c, i) => {
      if (c.type === 'number') this.metaNum.set(i, new Grow(Float64Array));
      else this.metaCat.set(i, { codes: new Grow(Int32Array), dict: new Map() });
    });
  }

  get count(): number {
    return this.labels.length;
  }

  private async ensureFile() {
    if (this.fd === null) {
      this.dir = await mkdtemp(join(this.tmpRoot, 'lethe-import-')).catch(() => mkdtemp(join(tmpdir(), 'lethe-import-')));
      this.fd = openSync(join(this.dir, 'x.bin'), 'w');
    }
  }

  private flush() {
    if (this.bufUsed > 0 && this.fd !== null) {
      let off = 0;
      while (off < this.bufUsed) off += writeSync(this.fd, this.buf, off, this.bufUsed - off);
      this.bufUsed = 0;
    }
  }

  private checkLimits(extra: number) {
    if (this.count + extra > this.limits.maxExamples)
      throw new DatasetImportError('too_large', `The source holds more than ${this.limits.maxExamples} examples, the import limit.`);
    if ((this.count + extra) * this.rowBytes > this.limits.maxSampleBytes)
      throw new DatasetImportError('too_large', `The samples exceed ${this.limits.maxSampleBytes} bytes, the import limit.`);
    this.checkExpansion((this.count + extra) * this.rowBytes);
  }

  /** The expansion cap (ImportLimits.expansion): refuse before the samples outgrow the source by more than the ratio. */
  private checkExpansion(sampleBytes: number) {
    const problem = expansionProblem(sampleBytes, this.limits.expansion);
    if (problem) throw new DatasetImportError('too_large', problem);
  }

  /** sample bytes appended so far, and how far the free space was last checked */
  private spaceCheckedAt = -1;

  /**
   * Before writing: is there room on the workspace's disk? The samples go to a temporary file and are
   * then copied into the blob store, so the import needs about twice their size while it runs.
   */
  private async checkFreeSpace(sampleBytesAfter: number, expectedTotal: number | null) {
    if (!this.disk) return;
    if (this.spaceCheckedAt >= 0 && sampleBytesAfter - this.spaceCheckedAt < FREE_SPACE_CHECK_EVERY && expectedTotal === null) return;
    this.spaceCheckedAt = sampleBytesAfter;
    const free = await freeBytes(this.disk.root);
    if (free === null) return;
    const written = this.count * this.rowBytes;
    const total = Math.max(expectedTotal ?? 0, sampleBytesAfter);
    const needed = total - written + total + FREE_SPACE_RESERVE_BYTES;
    if (needed > free) throw new DatasetImportError('no_space', noSpaceMessage(this.disk.root, `this import${expectedTotal !== null ? '' : ' (so far)'}`, needed, free));
  }

  /** The disk-full error of this import: the workspace, and the space the import needs (as far as known). */
  async noSpaceError(): Promise<DatasetImportError> {
    const root = this.disk?.root ?? this.tmpRoot;
    const total = Math.max((this.spec.expectedCount ?? 0) * this.rowBytes, this.count * this.rowBytes);
    return new DatasetImportError('no_space', noSpaceMessage(root, 'this import', total > 0 ? 2 * total + FREE_SPACE_RESERVE_BYTES : null, await freeBytes(root)));
  }

  private pushMeta(meta: readonly (number | string | null | undefined)[] | undefined) {
    const cols = this.spec.metadataColumns ?? [];
    for (let i = 0; i < cols.length; i++) {
      const v = meta?.[i];
      const num = this.metaNum.get(i);
      if (num) {
        num.push(v === null || v === undefined || v === '' ? NaN : Number(v));
      } else {
        const cat = this.metaCat.get(i)!;
        if (v === null || v === undefined) cat.codes.push(-1);
        else {
          const s = String(v);
          let code = cat.dict.get(s);
          if (code === undefined) {
            code = cat.dict.size;
            cat.dict.set(s, code);
          }
          cat.codes.push(code);
        }
      }
    }
  }

  private pushLabelSplitId(label: number, split: SplitName | null, id: string) {
    if (!Number.isInteger(label) || label < 0 || label >= this.spec.classNames.length)
      throw new DatasetImportError('label_range', `Label ${label} of example ${id} is outside 0..${this.spec.classNames.length - 1}.`);
    if (!ID_RE.test(id)) throw new DatasetImportError('bad_value', `Invalid example ID ${JSON.stringify(id.slice(0, 80))}.`);
    this.labels.push(label);
    if (split === null) {
      this.splits.push(UNASSIGNED);
      this.hasUnassigned = true;
    } else {
      this.splits.push(SPLIT_CODE[split]);
      this.hasSourceSplit = true;
    }
    this.ids.push(id);
  }

  /** add one example; x must hold exactly one row */
  async add(ex: {
    x: Uint8Array | Float32Array;
    label: number;
    split: SplitName | null;
    id: string;
    meta?: readonly (number | string | null | undefined)[];
  }): Promise<void> {
    if (ex.x.length !== this.rowElems)
      throw new DatasetImportError('size_mismatch', `Example ${ex.id} has ${ex.x.length} values, expected ${this.rowElems}.`);
    this.checkLimits(1);
    await this.checkFreeSpace((this.count + 1) * this.rowBytes, this.spaceCheckedAt < 0 && this.spec.expectedCount ? this.spec.expectedCount * this.rowBytes : null);
    await this.ensureFile();
    this.pushLabelSplitId(ex.label, ex.split, ex.id);
    this.pushMeta(ex.meta);
    const bytes = new Uint8Array(ex.x.buffer, ex.x.byteOffset, ex.x.byteLength);
    this.pushIntensity(bytes, 1);
    this.appendBytes(bytes);
  }

  private pushIntensity(bytes: Uint8Array, n: number) {
    if (!this.intensity) return;
    const row = this.rowElems;
    for (let r = 0; r < n; r++) {
      let s = 0;
      const base = r * row;
      for (let k = 0; k < row; k++) s += bytes[base + k];
      this.intensity.push(Math.round((s / row) * 100) / 100);
    }
  }

  /** add a block of n examples at once (fast path for array formats) */
  async addBlock(block: {
    x: Uint8Array | Float32Array;
    labels: ArrayLike<number>;
    split: SplitName | null;
    id: (i: number) => string;
    meta?: (i: number) => readonly (number | string | null | undefined)[];
  }): Promise<void> {
    const n = block.labels.length;
    if (block.x.length !== n * this.rowElems)
      throw new DatasetImportError('size_mismatch', `Block has ${block.x.length} values, expected ${n * this.rowElems}.`);
    this.checkLimits(n);
    await this.checkFreeSpace((this.count + n) * this.rowBytes, this.spaceCheckedAt < 0 && this.spec.expectedCount ? this.spec.expectedCount * this.rowBytes : null);
    await this.ensureFile();
    for (let i = 0; i < n; i++) {
      this.pushLabelSplitId(block.labels[i], block.split, block.id(i));
      this.pushMeta(block.meta?.(i));
    }
    const bytes = new Uint8Array(block.x.buffer, block.x.byteOffset, block.x.byteLength);
    this.pushIntensity(bytes, n);
    this.appendBytes(bytes);
  }

  private appendBytes(bytes: Uint8Array) {
    let off = 0;
    while (off < bytes.length) {
      const n = Math.min(bytes.length - off, this.buf.length - this.bufUsed);
      this.buf.set(bytes.subarray(off, off + n), this.bufUsed);
      this.bufUsed += n;
      off += n;
      if (this.bufUsed === this.buf.length) this.flush();
    }
  }

  /** Write blobs and the dataset record. */
  async finalize(
    ws: Workspace,
    opts: {
      id: string;
      name: string;
      source: DatasetManifest['source'];
      splitPolicy: SplitPolicy;
      /** how the source's split was defined, when it has one */
      sourceSplitDescription?: string;
      startedAt: number;
    },
  ): Promise<DatasetRecord> {
    const n = this.count;
    if (n === 0) throw new DatasetImportError('empty', 'The source holds no examples.');
    if (this.hasSourceSplit && this.hasUnassigned)
      throw new DatasetImportError('bad_value', 'Some examples have a split and others do not; give every example a split or none.');
    const numClasses = this.spec.classNames.length;
    const labels = this.labels.view();
    let split: Uint8Array = this.splits.view();
    let splits: SplitInfo;
    if (this.hasUnassigned) {
      const { testFraction, seed } = opts.splitPolicy;
      split = stratifiedSplit(labels, numClasses, testFraction, seed);
      splits = {
        names: ['train', 'test'],
        origin: 'stratified',
        seed,
        testFraction,
        description: `stratified by class, seed ${seed}, test fraction ${testFraction} (per class: round(n_c * fraction) examples drawn with xoshiro128** Fisher-Yates)`,
      };
    } else {
      splits = {
        names: ['train', 'test'],
        origin: 'source',
        seed: null,
        testFraction: null,
        description: opts.sourceSplitDescription ?? 'as given by the source',
      };
    }
    // unique IDs
    const seen = new Set<string>();
    for (const id of this.ids) {
      if (seen.has(id)) throw new DatasetImportError('bad_value', `Duplicate example ID ${JSON.stringify(id)}.`);
      seen.add(id);
    }
    const counts = { train: new Array(numClasses).fill(0), test: new Array(numClasses).fill(0), totals: { train: 0, test: 0, all: n } };
    for (let i = 0; i < n; i++) {
      if (split[i] === 0) {
        counts.train[labels[i]]++;
        counts.totals.train++;
      } else {
        counts.test[labels[i]]++;
        counts.totals.test++;
      }
    }
    this.warnings.push(...splitWarnings(counts.totals, splits.origin === 'stratified' ? splits.testFraction : null));

    this.flush();
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
    const blobs: Record<string, BlobRef> = {};
    const info = (ref: BlobRef, dtype: ArrayInfo['dtype'], shape: number[]): ArrayInfo => ({
      sha256: ref.sha256,
      dtype,
      shape,
      byteLength: ref.size,
    });
    try {
      blobs.x = await ws.putBlobFromFile(join(this.dir!, 'x.bin'));
      blobs.y = await ws.putBlob(u8(labels));
      blobs.split = await ws.putBlob(split);
      blobs.ids = await ws.putBlob(new TextEncoder().encode(this.ids.join('\n')));
      const metadata: MetadataColumnInfo[] = [];
      const columns = [...(this.spec.metadataColumns ?? [])];
      if (this.intensity) {
        this.metaNum.set(columns.length, this.intensity);
        columns.push({ name: INTENSITY_COLUMN, type: 'number' });
      }
      for (const [i, col] of columns.entries()) {
        const num = this.metaNum.get(i);
        if (num) {
          const v = num.view();
          const ref = await ws.putBlob(u8(v));
          blobs[`meta:${i}`] = ref;
          let min = Infinity;
          let max = -Infinity;
          for (const x of v) {
            if (Number.isNaN(x)) continue;
            min = Math.min(min, x);
            max = Math.max(max, x);
          }
          metadata.push({
            name: col.name,
            type: 'number',
            array: info(ref, 'float64', [n]),
            min: Number.isFinite(min) ? min : null,
            max: Number.isFinite(max) ? max : null,
          });
        } else {
          const cat = this.metaCat.get(i)!;
          const ref = await ws.putBlob(u8(cat.codes.view()));
          const dictValues = [...cat.dict.keys()];
          const dref = await ws.putBlob(new TextEncoder().encode(JSON.stringify(dictValues)));
          blobs[`meta:${i}`] = ref;
          blobs[`meta:${i}:dict`] = dref;
          metadata.push({
            name: col.name,
            type: 'category',
            array: info(ref, 'int32', [n]),
            dictionary: info(dref, 'utf8', [dictValues.length]),
            distinct: dictValues.length,
            categories: dictValues.length <= 256 ? dictValues : undefined,
          });
        }
      }
      const source = { ...opts.source };
      if (source.files.length > 1000) {
        const text = source.files.map((f) => `${f.sha256}  ${f.path}`).join('\n') + '\n';
        const ref = await ws.putBlob(new TextEncoder().encode(text));
        blobs.sourceFiles = ref;
        source.fileList = { sha256: ref.sha256, count: source.files.length, totalBytes: source.files.reduce((a, f) => a + f.size, 0) };
        source.files = source.files.slice(0, 1000);
      }
      const manifest: DatasetManifest = {
        format: 'lethe.dataset/1',
        name: opts.name,
        kind: this.spec.kind,
        count: n,
        sampleShape: this.spec.sampleShape,
        xDtype: this.spec.xDtype,
        layout: this.spec.kind === 'image' ? 'HWC' : 'features',
        featureNames: this.spec.featureNames,
        classNames: this.spec.classNames,
        splits,
        counts,
        idScheme: this.spec.idScheme,
        source,
        arrays: {
          x: info(blobs.x, this.spec.xDtype, [n, ...this.spec.sampleShape]),
          y: info(blobs.y, 'int32', [n]),
          split: info(blobs.split, 'uint8', [n]),
          ids: info(blobs.ids, 'utf8', [n]),
        },
        metadata,
        warnings: this.warnings.slice(0, 1000),
        importedAt: new Date().toISOString(),
        importSeconds: Math.round((Date.now() - opts.startedAt) / 10) / 100,
      };
      if (manifest.featureNames === undefined) delete manifest.featureNames;
      return await ws.putRecord<DatasetManifest>('datasets', opts.id, manifest, blobs);
    } finally {
      await this.abort();
    }
  }

  /** remove the temporary file (safe to call twice) */
  async abort(): Promise<void> {
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        /* already closed */
      }
      this.fd = null;
    }
    if (this.dir) {
      await rm(this.dir, { recursive: true, force: true });
      this.dir = null;
    }
  }
}

function u8(a: Int32Array | Uint8Array | Float64Array | Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function newDatasetId(): string {
  return 'ds-' + Date.now().toString(36) + '-' + randomBytes(4).toString('hex');
}

// ---------- reading ----------

const CHUNK = 256 * 1024;

export interface MetadataColumn {
  name: string;
  type: 'number' | 'category';
  numbers?: Float64Array;
  codes?: Int32Array;
  categories?: string[];
}

/** Batch access to a stored dataset. Call close() when done (releases the file handle). */
export class DatasetReader {
  readonly rowBytes: number;
  readonly rowElems: number;
  private fh: FileHandle | null = null;
  private lru = new Map<number, Buffer>();
  private idIndexMap: Map<string, number> | null = null;
  private canonicalOrderCache: Uint32Array | null = null;

  private constructor(
    readonly workspace: Workspace,
    readonly record: DatasetRecord,
    private xPath: string,
    readonly labels: Int32Array,
    readonly splits: Uint8Array,
    readonly ids: string[],
    readonly metadata: MetadataColumn[],
    private maxChunks: number,
  ) {
    const m = record.data;
    this.rowElems = m.sampleShape.reduce((a, b) => a * b, 1);
    this.rowBytes = this.rowElems * (m.xDtype === 'uint8' ? 1 : 4);
  }

  get manifest(): DatasetManifest {
    return this.record.data;
  }
  get count(): number {
    return this.record.data.count;
  }

  static async open(ws: Workspace, record: DatasetRecord, opts: { cacheBytes?: number } = {}): Promise<DatasetReader> {
    const m = record.data;
    const blob = async (key: string) => {
      const ref = record.blobs[key];
      if (!ref) throw new Error(`dataset ${record.id} lacks blob ${key}`);
      return ws.getBlob(ref.sha256);
    };
    const yb = await blob('y');
    const labels = new Int32Array(yb.buffer.slice(yb.byteOffset, yb.byteOffset + yb.byteLength));
    const sb = await blob('split');
    const splits = new Uint8Array(sb);
    const idText = new TextDecoder().decode(await blob('ids'));
    const ids = m.count === 0 ? [] : idText.split('\n');
    if (labels.length !== m.count || splits.length !== m.count || ids.length !== m.count)
      throw new Error(`dataset ${record.id} is inconsistent: array lengths differ from count ${m.count}`);
    const metadata: MetadataColumn[] = [];
    for (const [i, col] of m.metadata.entries()) {
      const b = await blob(`meta:${i}`);
      const copy = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
      if (col.type === 'number') metadata.push({ name: col.name, type: 'number', numbers: new Float64Array(copy) });
      else {
        const dict = JSON.parse(new TextDecoder().decode(await blob(`meta:${i}:dict`))) as string[];
        metadata.push({ name: col.name, type: 'category', codes: new Int32Array(copy), categories: dict });
      }
    }
    const maxChunks = Math.max(4, Math.floor((opts.cacheBytes ?? 32 * 1024 * 1024) / CHUNK));
    return new DatasetReader(ws, record, await ws.blobPath(record.blobs.x.sha256), labels, splits, ids, metadata, maxChunks);
  }

  /**
   * Example indices in the canonical order of their IDs (code point; engine/data/hash.ts), sorted once
   * per reader. IDs are unique within a dataset, so any subset listed in this order is already the
   * canonical ID list of that subset: forget and retain lists need no sort of their own.
   */
  canonicalOrder(): Uint32Array {
    if (!this.canonicalOrderCache) {
      const ids = this.ids;
      const order = Array.from({ length: ids.length }, (_, i) => i);
      const cmp = codePointComparator(ids);
      order.sort((a, b) => cmp(ids[a], ids[b]));
      this.canonicalOrderCache = Uint32Array.from(order);
    }
    return this.canonicalOrderCache;
  }

  indexOfId(id: string): number | undefined {
    if (!this.idIndexMap) {
      this.idIndexMap = new Map();
      this.ids.forEach((x, i) => this.idIndexMap!.set(x, i));
    }
    return this.idIndexMap.get(id);
  }

  metaValue(col: MetadataColumn, i: number): number | string | null {
    if (col.type === 'number') {
      const v = col.numbers![i];
      return Number.isNaN(v) ? null : v;
    }
    const c = col.codes![i];
    return c < 0 ? null : col.categories![c];
  }

  private async chunk(k: number): Promise<Buffer> {
    const hit = this.lru.get(k);
    if (hit) {
      this.lru.delete(k);
      this.lru.set(k, hit);
      return hit;
    }
    if (!this.fh) this.fh = await open(this.xPath, 'r');
    const total = this.record.data.arrays.x.byteLength;
    const start = k * CHUNK;
    const len = Math.min(CHUNK, total - start);
    const buf = Buffer.allocUnsafe(len);
    let got = 0;
    while (got < len) {
      const { bytesRead } = await this.fh.read(buf, got, len - got, start + got);
      if (bytesRead === 0) throw new Error(`dataset ${this.record.id}: sample blob is truncated`);
      got += bytesRead;
    }
    this.lru.set(k, buf);
    if (this.lru.size > this.maxChunks) this.lru.delete(this.lru.keys().next().value!);
    return buf;
  }

  /** raw bytes of the given rows, concatenated in the order given */
  async readRowBytes(indices: readonly number[]): Promise<Uint8Array> {
    const out = new Uint8Array(indices.length * this.rowBytes);
    for (let r = 0; r < indices.length; r++) {
      const i = indices[r];
      if (!Number.isInteger(i) || i < 0 || i >= this.count) throw new RangeError(`example index ${i} out of range`);
      let pos = i * this.rowBytes;
      const end = pos + this.rowBytes;
      let o = r * this.rowBytes;
      while (pos < end) {
        const k = Math.floor(pos / CHUNK);
        const c = await this.chunk(k);
        const from = pos - k * CHUNK;
        const n = Math.min(end - pos, c.length - from);
        out.set(c.subarray(from, from + n), o);
        o += n;
        pos += n;
      }
    }
    return out;
  }

  /** samples of the given rows: Uint8Array for image datasets, Float32Array for tabular ones */
  async readRows(indices: readonly number[]): Promise<Uint8Array | Float32Array> {
    const bytes = await this.readRowBytes(indices);
    return this.record.data.xDtype === 'uint8' ? bytes : new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  }

  /**
   * Model-ready float32 batch: images become NCHW scaled to [0, 1] (then (v - mean[c]) / std[c] if
   * given); tabular rows are returned as [N, F].
   */
  async readBatchFloat32(indices: readonly number[], norm?: { mean: number[]; std: number[] }): Promise<{ data: Float32Array; dims: number[] }> {
    const m = this.record.data;
    if (m.xDtype === 'float32') {
      const rows = (await this.readRows(indices)) as Float32Array;
      return { data: new Float32Array(rows), dims: [indices.length, this.rowElems] };
    }
    const [H, W, C] = m.sampleShape;
    const bytes = await this.readRowBytes(indices);
    const out = new Float32Array(bytes.length);
    const hw = H * W;
    for (let n = 0; n < indices.length; n++) {
      const base = n * hw * C;
      for (let c = 0; c < C; c++) {
        const mean = norm?.mean[c] ?? 0;
        const inv = 1 / (norm?.std[c] ?? 1);
        const ob = base + c * hw;
        for (let p = 0; p < hw; p++) out[ob + p] = (bytes[base + p * C + c] / 255 - mean) * inv;
      }
    }
    return { data: out, dims: [indices.length, C, H, W] };
  }

  /**
   * Examples as an in-memory ArrayDataset for the training engine (main/engine/train/data.ts):
   * float32 in [0, 1], NCHW for images ([C, H, W] per example), [F] for tabular rows.
   */
  async toArrayDataset(indices: readonly number[], norm?: { mean: number[]; std: number[] }) {
    const { data, dims } = await this.readBatchFloat32(indices, norm);
    const y = new Int32Array(indices.length);
    indices.forEach((i, k) => (y[k] = this.labels[i]));
    return { x: data, exampleShape: dims.slice(1), y, n: indices.length };
  }

  /** tabular feature columns loaded by loadFeatureColumns (for filters on features) */
  readonly featureColumns = new Map<string, Float64Array>();

  /** Load whole feature columns of a tabular dataset (one pass over the rows, in chunks). */
  async loadFeatureColumns(names: readonly string[]): Promise<void> {
    const feats = this.record.data.featureNames ?? [];
    const want = names.filter((n) => feats.includes(n) && !this.featureColumns.has(n));
    if (want.length === 0) return;
    const cols = want.map((n) => ({ k: feats.indexOf(n), v: new Float64Array(this.count) }));
    const F = this.rowElems;
    const step = Math.max(1, Math.floor((4 << 20) / this.rowBytes));
    for (let s = 0; s < this.count; s += step) {
      const idx = Array.from({ length: Math.min(step, this.count - s) }, (_, i) => s + i);
      const rows = (await this.readRows(idx)) as Float32Array;
      for (let r = 0; r < idx.length; r++) for (const c of cols) c.v[s + r] = rows[r * F + c.k];
    }
    want.forEach((n, i) => this.featureColumns.set(n, cols[i].v));
  }

  /** indices of a split (0 = train, 1 = test) in storage order */
  splitIndices(split: SplitName): number[] {
    const code = SPLIT_CODE[split];
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) if (this.splits[i] === code) out.push(i);
    return out;
  }

  async close(): Promise<void> {
    this.lru.clear();
    if (this.fh) {
      await this.fh.close();
      this.fh = null;
    }
  }
}
