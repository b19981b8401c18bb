// IDX importer (MNIST / Fashion-MNIST format). The source is a folder holding the four standard files
// train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte,
// each raw or gzipped (optional '.gz'; the '.idx3-ubyte' dotted spelling is accepted too).
//
// Checks: magic (two zero bytes, element type 0x08 = unsigned byte, ndims), ndims (3 for images, 1 for
// labels), every dim >= 1, and the exact byte count: 4 + 4*ndims + prod(dims) must equal the
// (decompressed) file size. Gzip is inflated by a node:zlib stream that stops as soon as the output
// exceeds what the header announced, so a gzip bomb never allocates more than the declared size
// (itself capped by the import limits). Labels must be < numClasses; image and label counts must match.
// IDs: `train-<i>` and `test-<i>` (position in the source file), stable across re-imports.
// Preview mode: the same checks (the image files are streamed through for the size rule) and every
// label, but only the first maxSamples images are kept.

import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { DatasetImportError, asImportError, throwIfAborted } from '../errors';
import { sha256File } from '../hash';
import type { SourceFileInfo, SplitName } from '../store';
import { type ImportContext, type ImportOutcome, type Importer, addBlockPreviewAware, sampleRoom } from './types';

export interface IdxOptions {
  numClasses: number;
  classNames: string[];
}

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const ELEMENT_TYPES: Record<number, string> = { 0x08: 'ubyte', 0x09: 'sbyte', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64' };

function parseHeader(h: Uint8Array, expectedNdims: number, file: string, maxBytes: number): { dims: number[]; headerBytes: number; dataBytes: number } {
  if (h.length < 4) throw new DatasetImportError('size_mismatch', `${file}: the file is ${h.length} bytes, too short for an IDX header.`, file);
  if (h[0] !== 0 || h[1] !== 0)
    throw new DatasetImportError('bad_magic', `${file}: not an IDX file (the first two bytes must be zero, found 0x${hex(h[0])} 0x${hex(h[1])}).`, file);
  const type = h[2];
  if (type !== 0x08) {
    const name = ELEMENT_TYPES[type];
    if (name) throw new DatasetImportError('unsupported', `${file}: element type ${name} (0x${hex(type)}) is not supported; images and labels must be unsigned bytes (0x08).`, file);
    throw new DatasetImportError('bad_magic', `${file}: unknown IDX element type 0x${hex(type)}.`, file);
  }
  const ndims = h[3];
  if (ndims !== expectedNdims)
    throw new DatasetImportError('bad_header', `${file}: has ${ndims} dimensions, expected ${expectedNdims} (${expectedNdims === 3 ? 'images N x rows x cols' : 'labels N'}).`, file);
  const headerBytes = 4 + 4 * ndims;
  if (h.length < headerBytes)
    throw new DatasetImportError('size_mismatch', `${file}: the file ends inside its header (${h.length} of ${headerBytes} bytes).`, file);
  const dv = new DataView(h.buffer, h.byteOffset, h.byteLength);
  const dims: number[] = [];
  let prod = 1;
  for (let i = 0; i < ndims; i++) {
    const d = dv.getUint32(4 + 4 * i, false);
    if (d === 0) throw new DatasetImportError('bad_header', `${file}: dimension ${i} is 0.`, file);
    dims.push(d);
    prod *= d; // exact while <= 2^53; values beyond maxBytes are rejected right after
  }
  if (prod > maxBytes)
    throw new DatasetImportError('too_large', `${file}: the header declares ${prod} bytes of data (dims ${dims.join('x')}), above the limit of ${maxBytes} bytes.`, file);
  return { dims, headerBytes, dataBytes: prod };
}

function hex(b: number | undefined) {
  return (b ?? 0).toString(16).padStart(2, '0');
}

/**
 * Read and validate one IDX file (raw or gzip) with the exact-size rule. With `keepItems`, only the
 * first keepItems entries along the first dimension are kept in `data` (the preview's few images); the
 * whole file is still checked (raw: its size; gzip: streamed through and counted, nothing kept).
 */
export async function readIdxFile(path: string, expectedNdims: 1 | 3, maxBytes: number, signal?: AbortSignal, keepItems = Infinity): Promise<IdxArray> {
  const file = path.split(/[\\/]/).pop()!;
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw asImportError(e, file);
  }
  if (!st.isFile()) throw new DatasetImportError('io', `${file}: not a regular file.`, file);
  const fh = await open(path, 'r').catch((e) => {
    throw asImportError(e, file);
  });
  let head: Buffer;
  try {
    head = Buffer.alloc(Math.min(st.size, 4 + 4 * 255));
    await fh.read(head, 0, head.length, 0);
  } finally {
    await fh.close();
  }
  const gz = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  if (!gz) {
    const { dims, headerBytes, dataBytes } = parseHeader(head, expectedNdims, file, maxBytes);
    const expected = headerBytes + dataBytes;
    if (st.size !== expected)
      throw new DatasetImportError(
        'size_mismatch',
        `${file}: the header (dims ${dims.join('x')}) requires exactly ${expected} bytes but the file has ${st.size}${st.size > expected ? ' (extra bytes at the end)' : ' (truncated)'}.`,
        file,
      );
    const keep = keptBytes(dims, dataBytes, keepItems);
    const data = new Uint8Array(keep);
    const fh2 = await open(path, 'r');
    try {
      let got = 0;
      while (got < keep) {
        throwIfAborted(signal);
        const { bytesRead } = await fh2.read(data, got, Math.min(keep - got, 1 << 24), headerBytes + got);
        if (bytesRead === 0) throw new DatasetImportError('size_mismatch', `${file}: the file shrank while being read.`, file);
        got += bytesRead;
      }
    } finally {
      await fh2.close();
    }
    return { dims, data };
  }
  return readGzipIdx(path, file, expectedNdims, maxBytes, signal, keepItems);
}

/** bytes of the first keepItems entries along dim 0 */
function keptBytes(dims: number[], dataBytes: number, keepItems: number): number {
  if (!(keepItems < dims[0])) return dataBytes;
  return Math.max(0, Math.floor(keepItems)) * (dataBytes / dims[0]);
}

function readGzipIdx(path: string, file: string, expectedNdims: number, maxBytes: number, signal: AbortSignal | undefined, keepItems: number): Promise<IdxArray> {
  return new Promise<IdxArray>((resolve, reject) => {
    const input = createReadStream(path, { highWaterMark: 1 << 20 });
    const gunzip = createGunzip({ chunkSize: 1 << 20 });
    let settled = false;
    const headerNeed = 4 + 4 * expectedNdims;
    let head = Buffer.alloc(0);
    let parsed: { dims: number[]; headerBytes: number; dataBytes: number } | null = null;
    // chunks are kept as they arrive (no up-front allocation of the declared size), so a stream that
    // claims a huge tensor but inflates to little costs only what it really inflates to
    const chunks: Buffer[] = [];
    let got = 0;
    let kept = 0;
    let keep = 0;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      input.destroy();
      gunzip.destroy();
      signal?.removeEventListener('abort', onAbort);
      reject(err instanceof DatasetImportError ? err : gzipError(err, file));
    };
    const onAbort = () => fail(new DatasetImportError('cancelled', 'The import was cancelled.'));
    signal?.addEventListener('abort', onAbort);
    if (signal?.aborted) return onAbort();
    const consume = (chunk: Buffer) => {
      let c = chunk;
      if (!parsed) {
        head = Buffer.concat([head, c]);
        // header length depends only on ndims, validated by parseHeader (wrong ndims fails there)
        if (head.length < 4) return;
        if (head[3] !== expectedNdims || head[0] !== 0 || head[1] !== 0 || head[2] !== 0x08) {
          parseHeader(head.subarray(0, 4 + 4 * head[3]), expectedNdims, file, maxBytes); // throws the precise error
        }
        if (head.length < headerNeed) return;
        parsed = parseHeader(head.subarray(0, headerNeed), expectedNdims, file, maxBytes);
        keep = keptBytes(parsed.dims, parsed.dataBytes, keepItems);
        c = head.subarray(headerNeed);
      }
      if (got + c.length > parsed.dataBytes)
        throw new DatasetImportError(
          'size_mismatch',
          `${file}: the header (dims ${parsed.dims.join('x')}) requires exactly ${parsed.headerBytes + parsed.dataBytes} bytes but the decompressed file is longer (extra bytes at the end).`,
          file,
        );
      if (c.length > 0 && kept < keep) {
        // a partial chunk is copied so the rest of the inflated chunk can be freed
        const part = c.length <= keep - kept ? c : Buffer.from(c.subarray(0, keep - kept));
        chunks.push(part);
        kept += part.length;
      }
      got += c.length;
    };
    gunzip.on('data', (chunk: Buffer) => {
      if (settled) return;
      try {
        consume(chunk);
      } catch (e) {
        fail(e);
      }
    });
    gunzip.on('end', () => {
      if (settled) return;
      try {
        if (!parsed) {
          parseHeader(head, expectedNdims, file, maxBytes);
          throw new DatasetImportError('size_mismatch', `${file}: the decompressed file ends inside its header.`, file);
        }
        if (got !== parsed.dataBytes)
          throw new DatasetImportError(
            'size_mismatch',
            `${file}: the header (dims ${parsed.dims.join('x')}) requires exactly ${parsed.headerBytes + parsed.dataBytes} bytes but the decompressed file has ${parsed.headerBytes + got} (truncated).`,
            file,
          );
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        const data = new Uint8Array(kept);
        let o = 0;
        for (const ch of chunks) {
          data.set(ch, o);
          o += ch.length;
        }
        chunks.length = 0;
        resolve({ dims: parsed.dims, data });
      } catch (e) {
        fail(e);
      }
    });
    gunzip.on('error', fail);
    input.on('error', (e) => fail(asImportError(e, file)));
    input.pipe(gunzip);
  });
}

function gzipError(err: unknown, file: string): DatasetImportError {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && (e.code.startsWith('Z_') || e.code === 'ERR_BUFFER_TOO_LARGE'))
    return new DatasetImportError('bad_header', `${file}: corrupt gzip data (${e.message}).`, file);
  if (e && /unexpected end of file/i.test(String(e.message)))
    return new DatasetImportError('size_mismatch', `${file}: the gzip stream is truncated.`, file);
  return asImportError(err, file);
}

export const IDX_FILES = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
} as const;

/** find a standard IDX file name in a folder listing: exact, dotted ('train-images.idx3-ubyte'), optionally '.gz' */
function findFile(names: Set<string>, base: string): string | null {
  const dotted = base.replace(/-(idx\d-ubyte)$/, '.$1');
  for (const cand of [base, base + '.gz', dotted, dotted + '.gz']) if (names.has(cand)) return cand;
  return null;
}

export function parseIdxOptions(raw: Record<string, unknown>): IdxOptions {
  let numClasses = 10;
  if (raw.numClasses !== undefined) {
    const n = Number(raw.numClasses);
    if (!Number.isInteger(n) || n < 1 || n > 256) throw new DatasetImportError('bad_option', 'numClasses must be an integer from 1 to 256.');
    numClasses = n;
  }
  let classNames: string[] = Array.from({ length: numClasses }, (_, i) => String(i));
  if (raw.classNames !== undefined) {
    if (!Array.isArray(raw.classNames) || raw.classNames.some((s) => typeof s !== 'string' || s.length === 0 || s.length > 200))
      throw new DatasetImportError('bad_option', 'classNames must be a list of non-empty names.');
    classNames = raw.classNames as string[];
    if (raw.numClasses === undefined) numClasses = classNames.length;
    if (classNames.length !== numClasses) throw new DatasetImportError('bad_option', `classNames has ${classNames.length} names but numClasses is ${numClasses}.`);
  }
  return { numClasses, classNames };
}

export const idxImporter: Importer<IdxOptions> = {
  format: 'idx',
  parseOptions: parseIdxOptions,
  async run(source: string, opts: IdxOptions, ctx: ImportContext): Promise<ImportOutcome> {
    let listing: string[];
    try {
      const st = await stat(source);
      if (!st.isDirectory())
        throw new DatasetImportError('bad_option', `The IDX source must be the folder holding ${IDX_FILES.train.images} and the three other standard files.`);
      listing = await readdir(source);
    } catch (e) {
      throw asImportError(e, source);
    }
    const names = new Set(listing);
    const maxBytes = Math.min(ctx.limits.maxSampleBytes, 2 ** 32);
    const found: { split: SplitName; images: string; labels: string }[] = [];
    for (const split of ['train', 'test'] as const) {
      const images = findFile(names, IDX_FILES[split].images);
      const labels = findFile(names, IDX_FILES[split].labels);
      if (!images && !labels) continue;
      if (!images || !labels)
        throw new DatasetImportError('not_found', `The folder has ${images ?? labels} but not the matching ${images ? IDX_FILES[split].labels : IDX_FILES[split].images} file.`);
      found.push({ split, images, labels });
    }
    if (found.length === 0)
      throw new DatasetImportError(
        'not_found',
        `No IDX files in the folder: expected ${IDX_FILES.train.images}, ${IDX_FILES.train.labels}, ${IDX_FILES.test.images}, ${IDX_FILES.test.labels} (raw or .gz).`,
      );
    const files: SourceFileInfo[] = [];
    let sink: ReturnType<ImportContext['open']> | null = null;
    let shape: number[] | null = null;
    let done = 0;
    for (const f of found) {
      throwIfAborted(ctx.signal);
      ctx.progress?.({ done, total: null, message: `reading ${f.images}` });
      // preview: every label is read and checked, but only the images that will be shown
      const [img, lab] = await Promise.all([
        readIdxFile(join(source, f.images), 3, maxBytes, ctx.signal, sampleRoom(ctx, sink)),
        readIdxFile(join(source, f.labels), 1, maxBytes, ctx.signal),
      ]);
      const [n, rows, cols] = img.dims;
      if (lab.dims[0] !== n)
        throw new DatasetImportError('count_mismatch', `${f.images} holds ${n} images but ${f.labels} holds ${lab.dims[0]} labels.`, f.labels);
      for (let i = 0; i < lab.data.length; i++) {
        if (lab.data[i] >= opts.numClasses)
          throw new DatasetImportError('label_range', `${f.labels}: label ${lab.data[i]} at position ${i} is outside 0..${opts.numClasses - 1}.`, f.labels);
      }
      if (shape && (shape[0] !== rows || shape[1] !== cols))
        throw new DatasetImportError('bad_header', `${f.images} has ${rows}x${cols} images but the other split has ${shape[0]}x${shape[1]}.`, f.images);
      shape = [rows, cols, 1];
      if (!sink)
        sink = ctx.open({
          kind: 'image',
          sampleShape: shape,
          xDtype: 'uint8',
          classNames: opts.classNames,
          idScheme: '<split>-<position in the IDX file>, e.g. train-0, test-9999',
        });
      // a source with only one of the two splits gets a seeded stratified split instead
      const split = found.length === 2 ? f.split : null;
      const prefix = f.split;
      await addBlockPreviewAware(ctx, sink, rows * cols, { x: img.data, labels: lab.data, split, id: (i) => `${prefix}-${i}` });
      done += n;
      ctx.progress?.({ done, total: null, message: `read ${f.images}` });
      for (const name of [f.images, f.labels]) {
        const h = await sha256File(join(source, name));
        files.push({ path: name, size: h.size, sha256: h.sha256 });
      }
    }
    return {
      sink: sink!,
      files,
      sourceSplitDescription: found.length === 2 ? 'IDX train-* files = train, t10k-* files = test' : undefined,
      resolvedOptions: { numClasses: opts.numClasses, classNames: opts.classNames },
    };
  },
};
