// NumPy .npz archives: a ZIP of `<key>.npy` entries, stored (np.savez) or deflated (np.savez_compressed).

import { readFile } from 'node:fs/promises';
import { zipSync, type Zippable } from 'fflate';
import { type NdArray, NpyError, readNpy, writeNpy, checkNdArray } from './npy';
import { ZipError, extractZipEntry, listZip } from './zip';
import { writeFileAtomic } from '../util/atomic-write';

export type Npz = Record<string, NdArray>;

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

/** Parse .npz bytes into a record keyed like numpy.load's NpzFile. */
export function readNpz(bytes: Uint8Array, opts: NpzReadOptions = {}): Npz {
  const where = opts.name ?? 'npz';
  const maxBytes = opts.maxBytes ?? 8 * 1024 ** 3;
  if (bytes.length >= 6 && bytes[0] === 0x93 && bytes[1] === 0x4e && bytes[2] === 0x55) {
    throw new NpyError('bad_archive', `${where}: this is a single .npy array, not an .npz archive`);
  }
  if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) {
    throw new NpyError('bad_archive', `${where}: not an .npz archive (no ZIP signature)`);
  }
  let entries;
  try {
    entries = listZip(bytes, { where });
  } catch (e) {
    if (e instanceof ZipError) throw new NpyError('bad_archive', e.message);
    throw e;
  }
  const want = opts.keys ? new Set(opts.keys) : null;
  const out: Npz = Object.create(null);
  let total = 0;
  for (const entry of entries) {
    if (entry.name.endsWith('/')) continue; // directory entry
    if (!entry.name.endsWith('.npy')) {
      throw new NpyError('bad_archive', `${where}: entry '${entry.name}' is not a .npy array (an .npz holds only <key>.npy entries)`);
    }
    const key = entry.name.slice(0, -4);
    if (want && !want.has(key)) continue;
    if (key in out) throw new NpyError('bad_archive', `${where}: key '${key}' appears twice`);
    total += entry.size;
    if (total > maxBytes) throw new NpyError('too_large', `${where}: arrays total more than the limit of ${maxBytes} bytes`);
    let data: Uint8Array;
    try {
      data = extractZipEntry(bytes, entry, where);
    } catch (e) {
      if (e instanceof ZipError) throw new NpyError('bad_archive', e.message);
      throw e;
    }
    out[key] = readNpy(data, { name: `${where}[${key}]`, maxBytes });
  }
  if (want) {
    const missing = [...want].filter((k) => !(k in out));
    if (missing.length) throw new NpyError('bad_archive', `${where}: missing key(s) ${missing.map((k) => `'${k}'`).join(', ')}`);
  }
  return out;
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

export async function readNpzFile(path: string, opts: Omit<NpzReadOptions, 'name'> = {}): Promise<Npz> {
  return readNpz(await readFile(path), { ...opts, name: path });
}

/** Write an .npz file atomically. */
export async function writeNpzFile(path: string, arrays: Npz, opts: NpzWriteOptions = {}): Promise<void> {
  await writeFileAtomic(path, writeNpz(arrays, opts));
}
