// A small, strict ZIP reader for NPZ archives (stored and deflated entries, ZIP64). It trusts nothing:
// every offset is bounds-checked, the declared uncompressed size caps inflation (zip bombs stop there),
// and each entry's CRC-32 is verified. Writing uses fflate's zipSync.
//
// Two ways in, one central-directory parser (`directoryParser`, a generator that asks for the byte
// ranges it needs): `listZip`/`extractZipEntry` over an archive held in memory, and `openZipFile`,
// which reads only the file's tail, the central directory and the entries asked for (positioned reads
// and streaming inflate), so archives larger than memory, or than fs.readFile's 2 GiB limit, work.

import { open, type FileHandle } from 'node:fs/promises';
import { crc32, createInflateRaw, inflateRawSync } from 'node:zlib';

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
/** the EOCD record (22 bytes + a comment of up to 65535) and the ZIP64 locator (20 bytes) before it */
const TAIL_BYTES = 22 + 65535 + 20;
/** a central directory larger than this is refused by the file reader instead of being read into memory */
const MAX_DIRECTORY_BYTES = 512 * 1024 ** 2;
const DEFAULT_CHUNK = 1 << 20;

/** A byte range the directory parser needs: `offset`, `length` bytes (absolute file offsets). */
interface RangeRequest {
  offset: number;
  length: number;
}

/** Bytes of the archive from absolute offset `base`, with bounds-checked little-endian readers. */
class Window {
  private readonly dv: DataView;
  constructor(
    readonly base: number,
    readonly bytes: Uint8Array,
    private readonly where: string,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private check(o: number, n: number): number {
    const r = o - this.base;
    if (r < 0 || r + n > this.bytes.length) throw new ZipError(`${this.where}: archive is truncated or corrupt (offset ${o} out of range)`);
    return r;
  }
  has(o: number, n: number): boolean {
    return o >= this.base && o + n <= this.base + this.bytes.length;
  }
  u16(o: number): number {
    return this.dv.getUint16(this.check(o, 2), true);
  }
  u32(o: number): number {
    return this.dv.getUint32(this.check(o, 4), true);
  }
  u64(o: number): number {
    const lo = this.u32(o);
    const hi = this.u32(o + 4);
    const v = hi * 2 ** 32 + lo;
    if (!Number.isSafeInteger(v)) throw new ZipError(`${this.where}: 64-bit field at offset ${o} is out of range`);
    return v;
  }
  slice(o: number, n: number): Uint8Array {
    const r = this.check(o, n);
    return this.bytes.subarray(r, r + n);
  }
}

/**
 * The central-directory parser: yields the byte ranges it needs (the tail, the ZIP64 record, the
 * directory) and receives their bytes; returns the entries. Driven from memory by listZip and from a
 * file by openZipFile.
 */
function* directoryParser(size: number, opts: ZipReadOptions): Generator<RangeRequest, ZipEntry[], Uint8Array> {
  const where = opts.where ?? 'zip';
  const maxEntries = opts.maxEntries ?? 100_000;
  if (size < 22) throw new ZipError(`${where}: not a ZIP archive (too short)`);
  const tailStart = Math.max(0, size - TAIL_BYTES);
  const tail = new Window(tailStart, yield { offset: tailStart, length: size - tailStart }, where);
  // the end-of-central-directory record is in the last 22 + 65535 bytes
  let eocd = -1;
  for (let o = size - 22; o >= Math.max(0, size - 22 - 65535); o--) {
    if (tail.u32(o) === SIG_EOCD) {
      eocd = o;
      break;
    }
  }
  if (eocd < 0) throw new ZipError(`${where}: not a ZIP archive (no end-of-central-directory record; truncated?)`);
  let count = tail.u16(eocd + 10);
  let cdSize = tail.u32(eocd + 12);
  let cdOffset = tail.u32(eocd + 16);
  if (eocd >= 20 && tail.u32(eocd - 20) === SIG_EOCD64_LOC) {
    const z64 = tail.u64(eocd - 20 + 8);
    let rec = tail;
    if (!tail.has(z64, 56)) {
      if (z64 < 0 || z64 + 4 > size) throw new ZipError(`${where}: archive is truncated or corrupt (offset ${z64} out of range)`);
      rec = new Window(z64, yield { offset: z64, length: Math.min(56, size - z64) }, where);
    }
    if (rec.u32(z64) !== SIG_EOCD64) throw new ZipError(`${where}: corrupt ZIP64 end-of-central-directory record`);
    count = rec.u64(z64 + 32);
    cdSize = rec.u64(z64 + 40);
    cdOffset = rec.u64(z64 + 48);
  }
  if (count > maxEntries) throw new ZipError(`${where}: archive has ${count} entries (limit ${maxEntries})`);
  if (cdOffset + cdSize > size) throw new ZipError(`${where}: central directory lies outside the file (truncated?)`);
  const cd = tail.has(cdOffset, cdSize) ? tail : new Window(cdOffset, yield { offset: cdOffset, length: cdSize }, where);
  const entries: ZipEntry[] = [];
  const dec = new TextDecoder('utf-8', { fatal: false });
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (cd.u32(p) !== SIG_CEN) throw new ZipError(`${where}: corrupt central directory entry ${i}`);
    const flags = cd.u16(p + 8);
    const method = cd.u16(p + 10);
    const crc = cd.u32(p + 16);
    let compressedSize = cd.u32(p + 20);
    let size = cd.u32(p + 24);
    const nameLen = cd.u16(p + 28);
    const extraLen = cd.u16(p + 30);
    const commentLen = cd.u16(p + 32);
    let localOffset = cd.u32(p + 42);
    if (!cd.has(p, 46 + nameLen + extraLen + commentLen)) throw new ZipError(`${where}: central directory entry ${i} is truncated`);
    const name = dec.decode(cd.slice(p + 46, nameLen));
    if (flags & 1) throw new ZipError(`${where}: entry '${name}' is encrypted`);
    // ZIP64 extended information: only the fields that are saturated in the fixed header are present
    let e = p + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const id = cd.u16(e);
      const len = cd.u16(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) {
          size = cd.u64(q);
          q += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = cd.u64(q);
          q += 8;
        }
        if (localOffset === 0xffffffff) localOffset = cd.u64(q);
      }
      e += 4 + len;
    }
    entries.push({ name, method, crc, compressedSize, size, localOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** List the entries of a ZIP archive from its central directory. */
export function listZip(bytes: Uint8Array, opts: ZipReadOptions = {}): ZipEntry[] {
  const parser = directoryParser(bytes.length, opts);
  let step = parser.next();
  while (!step.done) step = parser.next(bytes.subarray(step.value.offset, step.value.offset + step.value.length));
  return step.value;
}

/** Where an entry's data lies, from its 30-byte local header (`local` holds what the file has there). */
function entryDataRange(local: Uint8Array, entry: ZipEntry, archiveSize: number, where: string): { start: number; end: number } {
  const dv = new DataView(local.buffer, local.byteOffset, local.byteLength);
  if (local.length < 30 || dv.getUint32(0, true) !== SIG_LOC) {
    throw new ZipError(`${where}: entry '${entry.name}' has a corrupt local header`);
  }
  const start = entry.localOffset + 30 + dv.getUint16(26, true) + dv.getUint16(28, true);
  const end = start + entry.compressedSize;
  if (end > archiveSize) throw new ZipError(`${where}: entry '${entry.name}' runs past the end of the archive (truncated?)`);
  if (entry.method === 0) {
    if (entry.compressedSize !== entry.size) throw new ZipError(`${where}: stored entry '${entry.name}' has inconsistent sizes`);
  } else if (entry.method !== 8) {
    throw new ZipError(`${where}: entry '${entry.name}' uses unsupported compression method ${entry.method} (only stored and deflate)`);
  }
  return { start, end };
}

const inflateError = (entry: ZipEntry, where: string, e: unknown) =>
  new ZipError(`${where}: entry '${entry.name}' cannot be inflated (${(e as Error).message})`);
const sizeError = (entry: ZipEntry, where: string, produced: number) =>
  new ZipError(`${where}: entry '${entry.name}' inflates to ${produced > entry.size ? `more than ${entry.size}` : produced} bytes, header says ${entry.size}`);
const crcError = (entry: ZipEntry, where: string) => new ZipError(`${where}: entry '${entry.name}' fails its CRC-32 check (corrupt archive)`);

/** Extract one entry's bytes, bounded by its declared size and checked against its CRC-32. */
export function extractZipEntry(bytes: Uint8Array, entry: ZipEntry, where = 'zip'): Uint8Array {
  const lo = entry.localOffset;
  const { start, end } = entryDataRange(bytes.subarray(lo, lo + 30), entry, bytes.length, where);
  const comp = bytes.subarray(start, end);
  let out: Uint8Array;
  if (entry.method === 0) {
    out = comp;
  } else {
    try {
      // maxOutputLength stops a lying size (zip bomb) at the declared size + 1
      out = inflateRawSync(comp, { maxOutputLength: Math.max(1, entry.size + 1) });
    } catch (e) {
      throw inflateError(entry, where, e);
    }
    if (out.length !== entry.size) throw sizeError(entry, where, out.length);
  }
  if ((crc32(out) >>> 0) !== entry.crc >>> 0) throw crcError(entry, where);
  return out;
}

/**
 * Positioned reads of [start, end) of an open file, in fresh chunks of at most `chunkBytes`. Throws
 * `short()` if the file ends before `end` (it shrank after it was opened).
 */
export async function* fileRangeChunks(fh: FileHandle, start: number, end: number, chunkBytes: number, short: () => Error): AsyncGenerator<Uint8Array, void> {
  let pos = start;
  while (pos < end) {
    const want = Math.min(chunkBytes, end - pos);
    const buf = new Uint8Array(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await fh.read(buf, got, want - got, pos + got);
      if (bytesRead === 0) throw short();
      got += bytesRead;
    }
    pos += want;
    yield buf;
  }
}

export interface ZipFile {
  readonly path: string;
  readonly size: number;
  readonly entries: ZipEntry[];
  /** The whole entry (use for small entries; memory is its declared size). */
  readEntry(entry: ZipEntry): Promise<Uint8Array>;
  /**
   * The entry's bytes in order, in chunks of about `chunkBytes` (default 1 MiB), never more in total
   * than its declared size; the total size and CRC-32 are checked after the last chunk (the error is
   * thrown then, so a consumer must not trust the data before the iteration ends). Breaking out of the
   * loop early stops reading.
   */
  entryChunks(entry: ZipEntry, chunkBytes?: number): AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

/** Open a ZIP file on disk, reading only its tail and central directory. */
export async function openZipFile(path: string, opts: ZipReadOptions = {}): Promise<ZipFile> {
  const where = opts.where ?? path;
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const readRange = async (offset: number, length: number): Promise<Uint8Array> => {
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return buf.subarray(0, got);
    };
    const parser = directoryParser(size, { ...opts, where });
    let step = parser.next();
    while (!step.done) {
      const { offset, length } = step.value;
      if (length > MAX_DIRECTORY_BYTES) throw new ZipError(`${where}: central directory of ${length} bytes is implausibly large`);
      step = parser.next(await readRange(offset, length));
    }
    const entries = step.value;
    const short = (entry: ZipEntry) => () => new ZipError(`${where}: entry '${entry.name}' runs past the end of the archive (truncated?)`);

    async function* entryChunks(entry: ZipEntry, chunkBytes = DEFAULT_CHUNK): AsyncGenerator<Uint8Array, void> {
      if (!(Number.isInteger(chunkBytes) && chunkBytes > 0)) throw new RangeError(`chunkBytes must be a positive integer, got ${chunkBytes}`);
      const { start, end } = entryDataRange(await readRange(entry.localOffset, 30), entry, size, where);
      let crc = 0;
      let produced = 0;
      if (entry.method === 0) {
        for await (const chunk of fileRangeChunks(fh, start, end, chunkBytes, short(entry))) {
          crc = crc32(chunk, crc);
          produced += chunk.length;
          yield chunk;
        }
      } else {
        const inflate = createInflateRaw({ chunkSize: Math.max(64, Math.min(chunkBytes, 1 << 20)) });
        const input = fileRangeChunks(fh, start, end, chunkBytes, short(entry));
        // feed the compressed range by hand, pausing while the inflater's buffer is full
        let feedError: unknown = null;
        const feed = (async () => {
          try {
            for await (const comp of input) {
              if (inflate.destroyed) return;
              if (!inflate.write(comp)) {
                await new Promise<void>((resolve) => {
                  const done = () => {
                    inflate.off('drain', done);
                    inflate.off('close', done);
                    resolve();
                  };
                  inflate.on('drain', done);
                  inflate.on('close', done);
                });
              }
            }
            if (!inflate.destroyed) inflate.end();
          } catch (e) {
            feedError = e;
            inflate.destroy(e as Error);
          }
        })();
        try {
          for await (const chunk of inflate as AsyncIterable<Buffer>) {
            produced += chunk.length;
            if (produced > entry.size) throw sizeError(entry, where, produced);
            const out = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
            crc = crc32(out, crc);
            yield out;
          }
        } catch (e) {
          if (feedError) throw feedError;
          if (e instanceof ZipError) throw e;
          throw inflateError(entry, where, e);
        } finally {
          inflate.destroy();
          await input.return(undefined);
          await feed;
        }
        if (feedError) throw feedError;
      }
      if (produced !== entry.size) throw sizeError(entry, where, produced);
      if ((crc >>> 0) !== entry.crc >>> 0) throw crcError(entry, where);
    }

    return {
      path,
      size,
      entries,
      entryChunks,
      async readEntry(entry) {
        const out = new Uint8Array(entry.size);
        let at = 0;
        for await (const chunk of entryChunks(entry)) {
          out.set(chunk, at);
          at += chunk.length;
        }
        return out;
      },
      close: () => fh.close(),
    };
  } catch (e) {
    await fh.close();
    throw e;
  }
}
