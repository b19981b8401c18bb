// NumPy .npz archives: a ZIP of `<key>.npy` entries, stored (np.savez) or deflated (np.savez_compressed).

import { open } from 'node:fs/promises';
import { zipSync, type Zippable } from 'fflate';
import { type NdArray, type NpyHeader, type NpyRowChunk, NpyError, checkNdArray, npyRows, readNpy, readNpyHeaderFrom, writeNpy } from './npy';
import { type ZipEntry, type ZipFile, ZipError, extractZipEntry, listZip, openZipFile } from './zip';
import { writeFileAtomic } from '../util/atomic-write';

export type Npz = Record<string, NdArray>;

const DEFAULT_MAX_TOTAL = 8 * 1024 ** 3;

export interface NpzReadOptions {
  /** Total uncompressed bytes allowed (default 8 GiB). */
  maxBytes?: number;
  /** Read only these keys (others are skipped without inflating). */
  keys?: string[];
  /** Name used in error messages. */
  name?: string;
}

export interface NpzWriteOptions {
  /** Deflate entries like np.savez_compressed (default false = stored, like np.savez). */
  compress?: boolean;
}

/** The .npy entries of an archive by key, checked as numpy.load would need them (names, duplicates, total size). */
function npzEntries(entries: ZipEntry[], where: string, maxBytes: number, want: Set<string> | null): { key: string; entry: ZipEntry }[] {
  const out: { key: string; entry: ZipEntry }[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (const entry of entries) {
    if (entry.name.endsWith('/')) continue; // directory entry
    if (!entry.name.endsWith('.npy')) {
      throw new NpyError('bad_archive', `${where}: entry '${entry.name}' is not a .npy array (an .npz holds only <key>.npy entries)`);
    }
    const key = entry.name.slice(0, -4);
    if (want && !want.has(key)) continue;
    if (seen.has(key)) throw new NpyError('bad_archive', `${where}: key '${key}' appears twice`);
    seen.add(key);
    total += entry.size;
    if (total > maxBytes) throw new NpyError('too_large', `${where}: arrays total more than the limit of ${maxBytes} bytes`);
    out.push({ key, entry });
  }
  if (want) {
    const missing = [...want].filter((k) => !seen.has(k));
    if (missing.length) throw new NpyError('bad_archive', `${where}: missing key(s) ${missing.map((k) => `'${k}'`).join(', ')}`);
  }
  return out;
}

function checkSignature(head: Uint8Array, where: string): void {
  if (head.length >= 6 && head[0] === 0x93 && head[1] === 0x4e && head[2] === 0x55) {
    throw new NpyError('bad_archive', `${where}: this is a single .npy array, not an .npz archive`);
  }
  if (head.length < 4 || head[0] !== 0x50 || head[1] !== 0x4b) {
    throw new NpyError('bad_archive', `${where}: not an .npz archive (no ZIP signature)`);
  }
}

/** ZipError -> NpyError('bad_archive'), other errors unchanged */
function asNpyError(e: unknown): unknown {
  return e instanceof ZipError ? new NpyError('bad_archive', e.message) : e;
}

async function* zipErrorsAsNpy<T>(it: AsyncIterable<T>): AsyncGenerator<T, void> {
  try {
    yield* it;
  } catch (e) {
    throw asNpyError(e);
  }
}

/** Parse .npz bytes into a record keyed like numpy.load's NpzFile. */
export function readNpz(bytes: Uint8Array, opts: NpzReadOptions = {}): Npz {
  const where = opts.name ?? 'npz';
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_TOTAL;
  checkSignature(bytes.subarray(0, 6), where);
  let entries;
  try {
    entries = listZip(bytes, { where });
  } catch (e) {
    throw asNpyError(e);
  }
  const out: Npz = Object.create(null);
  for (const { key, entry } of npzEntries(entries, where, maxBytes, opts.keys ? new Set(opts.keys) : null)) {
    let data: Uint8Array;
    try {
      data = extractZipEntry(bytes, entry, where);
    } catch (e) {
      throw asNpyError(e);
    }
    out[key] = readNpy(data, { name: `${where}[${key}]`, maxBytes });
  }
  return out;
}

/** An .npz file opened for streaming: the directory is read, no array data yet. */
export interface NpzFile {
  readonly path: string;
  /** array keys in archive order */
  readonly keys: string[];
  has(key: string): boolean;
  /** the array's header (dtype, shape, data size), read from the first bytes of its entry */
  header(key: string): Promise<NpyHeader>;
  /** the whole array (for small arrays: labels, split) */
  readArray(key: string): Promise<NdArray>;
  /**
   * The array in runs of `rowsPerChunk` whole rows (memory: one run). The entry's size and CRC-32 are
   * checked after the last run, so the iteration must finish before its data is trusted.
   */
  rows(key: string, rowsPerChunk: number): AsyncIterable<NpyRowChunk>;
  close(): Promise<void>;
}

/**
 * Open an .npz file for streaming. Only the archive's tail and central directory are read here; the
 * entries are checked like readNpz does (only .npy entries, no duplicate keys, total size within
 * maxBytes). Errors are NpyErrors with the same codes and messages as readNpz.
 */
export async function openNpzFile(path: string, opts: Omit<NpzReadOptions, 'name' | 'keys'> = {}): Promise<NpzFile> {
  const where = path;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_TOTAL;
  const fh = await open(path, 'r');
  try {
    const head = new Uint8Array(6);
    const { bytesRead } = await fh.read(head, 0, 6, 0);
    checkSignature(head.subarray(0, bytesRead), where);
  } finally {
    await fh.close();
  }
  let zip: ZipFile;
  try {
    zip = await openZipFile(path, { where });
  } catch (e) {
    throw asNpyError(e);
  }
  try {
    const byKey = new Map(npzEntries(zip.entries, where, maxBytes, null).map(({ key, entry }) => [key, entry]));
    const headers = new Map<string, NpyHeader>();
    const entryFor = (key: string) => {
      const e = byKey.get(key);
      if (!e) throw new NpyError('bad_archive', `${where}: missing key(s) '${key}'`);
      return e;
    };
    const name = (key: string) => `${where}[${key}]`;
    const header = async (key: string) => {
      const entry = entryFor(key);
      let h = headers.get(key);
      if (!h) {
        h = await readNpyHeaderFrom(zipErrorsAsNpy(zip.entryChunks(entry, 64 * 1024)), entry.size, { name: name(key), maxBytes });
        headers.set(key, h);
      }
      return h;
    };
    return {
      path,
      keys: [...byKey.keys()],
      has: (key) => byKey.has(key),
      header,
      async readArray(key) {
        await header(key); // checks the size before anything is allocated
        let data: Uint8Array;
        try {
          data = await zip.readEntry(entryFor(key));
        } catch (e) {
          throw asNpyError(e);
        }
        return readNpy(data, { name: name(key), maxBytes });
      },
      rows(key, rowsPerChunk) {
        const entry = entryFor(key);
        return npyRows(zipErrorsAsNpy(zip.entryChunks(entry)), entry.size, rowsPerChunk, { name: name(key), maxBytes });
      },
      close: () => zip.close(),
    };
  } catch (e) {
    await zip.close();
    throw e;
  }
}

/** Serialise arrays as .npz bytes that numpy.load reads. */
export function writeNpz(arrays: Npz, opts: NpzWriteOptions = {}): Uint8Array {
  const files: Zippable = {};
  const level = opts.compress ? 6 : 0;
  for (const [key, arr] of Object.entries(arrays)) {
    if (!key) throw new NpyError('bad_array', 'npz: array keys must be non-empty');
    checkNdArray(arr, `npz[${key}]`);
    files[`${key}.npy`] = [writeNpy(arr), { level }];
  }
  // fixed timestamp: the same arrays always give the same bytes (reproducible hashes)
  return zipSync(files, { mtime: new Date(1980, 0, 2) });
}

/** Read an .npz file (entries are streamed from disk: no 2 GiB limit, memory is the arrays read). */
export async function readNpzFile(path: string, opts: Omit<NpzReadOptions, 'name'> = {}): Promise<Npz> {
  const f = await openNpzFile(path, { maxBytes: opts.maxBytes });
  try {
    const want = opts.keys ? new Set(opts.keys) : null;
    if (want) {
      const missing = [...want].filter((k) => !f.has(k));
      if (missing.length) throw new NpyError('bad_archive', `${path}: missing key(s) ${missing.map((k) => `'${k}'`).join(', ')}`);
    }
    const out: Npz = Object.create(null);
    for (const key of f.keys) if (!want || want.has(key)) out[key] = await f.readArray(key);
    return out;
  } finally {
    await f.close();
  }
}

/** Write an .npz file atomically. */
export async function writeNpzFile(path: string, arrays: Npz, opts: NpzWriteOptions = {}): Promise<void> {
  await writeFileAtomic(path, writeNpz(arrays, opts));
}
