// A small, strict ZIP reader for NPZ archives (stored and deflated entries, ZIP64). It trusts nothing:
// every offset is bounds-checked, the declared uncompressed size caps inflation (zip bombs stop there),
// and each entry's CRC-32 is verified. Writing uses fflate's zipSync.

import { crc32, inflateRawSync } from 'node:zlib';

export class ZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipError';
  }
}

export interface ZipEntry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

export interface ZipReadOptions {
  /** Total uncompressed bytes allowed across all entries (default 8 GiB). */
  maxTotalBytes?: number;
  /** Maximum number of entries (default 100,000). */
  maxEntries?: number;
  where?: string;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOC = 0x07064b50;
const SIG_CEN = 0x02014b50;
const SIG_LOC = 0x04034b50;

/** List the entries of a ZIP archive from its central directory. */
export function listZip(bytes: Uint8Array, opts: ZipReadOptions = {}): ZipEntry[] {
  const where = opts.where ?? 'zip';
  const maxEntries = opts.maxEntries ?? 100_000;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (o: number) => {
    if (o < 0 || o + 4 > bytes.length) throw new ZipError(`${where}: archive is truncated or corrupt (offset ${o} out of range)`);
    return dv.getUint32(o, true);
  };
  const u16 = (o: number) => {
    if (o < 0 || o + 2 > bytes.length) throw new ZipError(`${where}: archive is truncated or corrupt (offset ${o} out of range)`);
    return dv.getUint16(o, true);
  };
  const u64 = (o: number) => {
    const lo = u32(o);
    const hi = u32(o + 4);
    const v = hi * 2 ** 32 + lo;
    if (!Number.isSafeInteger(v)) throw new ZipError(`${where}: 64-bit field at offset ${o} is out of range`);
    return v;
  };
  if (bytes.length < 22) throw new ZipError(`${where}: not a ZIP archive (too short)`);
  // the end-of-central-directory record is in the last 22 + 65535 bytes
  let eocd = -1;
  for (let o = bytes.length - 22; o >= Math.max(0, bytes.length - 22 - 65535); o--) {
    if (dv.getUint32(o, true) === SIG_EOCD) {
      eocd = o;
      break;
    }
  }
  if (eocd < 0) throw new ZipError(`${where}: not a ZIP archive (no end-of-central-directory record; truncated?)`);
  let count = u16(eocd + 10);
  let cdSize = u32(eocd + 12);
  let cdOffset = u32(eocd + 16);
  if (eocd >= 20 && u32(eocd - 20) === SIG_EOCD64_LOC) {
    const z64 = u64(eocd - 20 + 8);
    if (u32(z64) !== SIG_EOCD64) throw new ZipError(`${where}: corrupt ZIP64 end-of-central-directory record`);
    count = u64(z64 + 32);
    cdSize = u64(z64 + 40);
    cdOffset = u64(z64 + 48);
  }
  if (count > maxEntries) throw new ZipError(`${where}: archive has ${count} entries (limit ${maxEntries})`);
  if (cdOffset + cdSize > bytes.length) throw new ZipError(`${where}: central directory lies outside the file (truncated?)`);
  const entries: ZipEntry[] = [];
  const dec = new TextDecoder('utf-8', { fatal: false });
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (u32(p) !== SIG_CEN) throw new ZipError(`${where}: corrupt central directory entry ${i}`);
    const flags = u16(p + 8);
    const method = u16(p + 10);
    const crc = u32(p + 16);
    let compressedSize = u32(p + 20);
    let size = u32(p + 24);
    const nameLen = u16(p + 28);
    const extraLen = u16(p + 30);
    const commentLen = u16(p + 32);
    let localOffset = u32(p + 42);
    if (p + 46 + nameLen + extraLen + commentLen > bytes.length) throw new ZipError(`${where}: central directory entry ${i} is truncated`);
    const name = dec.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    if (flags & 1) throw new ZipError(`${where}: entry '${name}' is encrypted`);
    // ZIP64 extended information: only the fields that are saturated in the fixed header are present
    let e = p + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const id = u16(e);
      const len = u16(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) {
          size = u64(q);
          q += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = u64(q);
          q += 8;
        }
        if (localOffset === 0xffffffff) localOffset = u64(q);
      }
      e += 4 + len;
    }
    entries.push({ name, method, crc, compressedSize, size, localOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Extract one entry's bytes, bounded by its declared size and checked against its CRC-32. */
export function extractZipEntry(bytes: Uint8Array, entry: ZipEntry, where = 'zip'): Uint8Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = entry.localOffset;
  if (lo + 30 > bytes.length || dv.getUint32(lo, true) !== SIG_LOC) {
    throw new ZipError(`${where}: entry '${entry.name}' has a corrupt local header`);
  }
  const start = lo + 30 + dv.getUint16(lo + 26, true) + dv.getUint16(lo + 28, true);
  const end = start + entry.compressedSize;
  if (end > bytes.length) throw new ZipError(`${where}: entry '${entry.name}' runs past the end of the archive (truncated?)`);
  const comp = bytes.subarray(start, end);
  let out: Uint8Array;
  if (entry.method === 0) {
    if (entry.compressedSize !== entry.size) throw new ZipError(`${where}: stored entry '${entry.name}' has inconsistent sizes`);
    out = comp;
  } else if (entry.method === 8) {
    try {
      // maxOutputLength stops a lying size (zip bomb) at the declared size + 1
      out = inflateRawSync(comp, { maxOutputLength: Math.max(1, entry.size + 1) });
    } catch (e) {
      throw new ZipError(`${where}: entry '${entry.name}' cannot be inflated (${(e as Error).message})`);
    }
    if (out.length !== entry.size) {
      throw new ZipError(`${where}: entry '${entry.name}' inflates to ${out.length === entry.size + 1 ? 'more than' : out.length} bytes, header says ${entry.size}`);
    }
  } else {
    throw new ZipError(`${where}: entry '${entry.name}' uses unsupported compression method ${entry.method} (only stored and deflate)`);
  }
  if ((crc32(out) >>> 0) !== entry.crc >>> 0) throw new ZipError(`${where}: entry '${entry.name}' fails its CRC-32 check (corrupt archive)`);
  return out;
}
