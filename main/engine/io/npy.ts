// NumPy .npy reader and writer (format versions 1.0, 2.0 and 3.0; C order; little-endian).
// Files written here are read by numpy.load unchanged; files numpy writes are read here, except
// layouts Lethe cannot represent (Fortran order, big-endian, object and structured dtypes), which are
// refused with an NpyError that names the problem.

import { open } from 'node:fs/promises';
import type { DType, TypedArray } from '../onnx/ir';
import { writeFileAtomic } from '../util/atomic-write';
import { fileRangeChunks } from './zip';

/** Element types Lethe reads and writes in .npy files (a subset of the ONNX IR's DType). */
export type NpyDType = Extract<DType, 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool'>;

/** An n-dimensional array in C order. `bool` data is a Uint8Array of 0/1, `float16` raw bits in a Uint16Array. */
export interface NdArray {
  dtype: NpyDType;
  shape: number[];
  data: TypedArray;
}

export type NpyErrorCode =
  | 'bad_magic'
  | 'bad_version'
  | 'bad_header'
  | 'unsupported_dtype'
  | 'big_endian'
  | 'fortran_order'
  | 'bad_shape'
  | 'truncated'
  | 'trailing_data'
  | 'too_large'
  | 'bad_archive'
  | 'bad_array';

export class NpyError extends Error {
  constructor(
    readonly code: NpyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'NpyError';
  }
}

export interface NpyReadOptions {
  /** Refuse arrays whose data is larger than this many bytes (default 4 GiB). */
  maxBytes?: number;
  /** Name used in error messages (file name or NPZ key). */
  name?: string;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const DEFAULT_MAX_BYTES = 4 * 1024 ** 3;

// descr (without byte-order character) <-> dtype
const DESCR_KIND: Record<string, NpyDType> = {
  f4: 'float32',
  f8: 'float64',
  f2: 'float16',
  i8: 'int64',
  i4: 'int32',
  i1: 'int8',
  u1: 'uint8',
  b1: 'bool',
};
const DTYPE_DESCR: Record<NpyDType, string> = {
  float32: '<f4',
  float64: '<f8',
  float16: '<f2',
  int64: '<i8',
  int32: '<i4',
  int8: '|i1',
  uint8: '|u1',
  bool: '|b1',
};
const ITEMSIZE: Record<NpyDType, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  int64: 8,
  int32: 4,
  int8: 1,
  uint8: 1,
  bool: 1,
};

// ---------- header dictionary parser (the Python-literal subset numpy writes) ----------

type PyValue = string | number | boolean | null | PyValue[] | { [k: string]: PyValue };

class PyLiteralParser {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly where: string,
  ) {}

  fail(msg: string): never {
    throw new NpyError('bad_header', `${this.where}: header is not a valid numpy header dictionary (${msg} at character ${this.i})`);
  }

  private ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }

  parseTop(): Record<string, PyValue> {
    this.ws();
    const v = this.value(0);
    this.ws();
    if (this.i !== this.s.length) this.fail('unexpected text after the dictionary');
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail('the header is not a dictionary');
    return v as Record<string, PyValue>;
  }

  private value(depth: number): PyValue {
    if (depth > 16) this.fail('nesting too deep');
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.dict(depth);
    if (c === '(' || c === '[') return this.seq(depth, c === '(' ? ')' : ']');
    if (c === "'" || c === '"') return this.str();
    if (this.s.startsWith('True', this.i)) return (this.i += 4), true;
    if (this.s.startsWith('False', this.i)) return (this.i += 5), false;
    if (this.s.startsWith('None', this.i)) return (this.i += 4), null;
    const m = /^-?\d+L?/.exec(this.s.slice(this.i, this.i + 40));
    if (m) {
      this.i += m[0].length;
      const n = Number(m[0].replace('L', ''));
      if (!Number.isSafeInteger(n)) this.fail(`integer ${m[0]} out of range`);
      return n;
    }
    return this.fail(c === undefined ? 'unexpected end' : `unexpected character '${c}'`);
  }

  private str(): string {
    const q = this.s[this.i++];
    let out = '';
    while (this.i < this.s.length && this.s[this.i] !== q) {
      if (this.s[this.i] === '\\') this.fail('escape sequences are not supported in header strings');
      out += this.s[this.i++];
    }
    if (this.i >= this.s.length) this.fail('unterminated string');
    this.i++;
    return out;
  }

  private seq(depth: number, close: string): PyValue[] {
    this.i++;
    const out: PyValue[] = [];
    for (;;) {
      this.ws();
      if (this.s[this.i] === close) return this.i++, out;
      out.push(this.value(depth + 1));
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== close) this.fail(`expected ',' or '${close}'`);
    }
  }

  private dict(depth: number): Record<string, PyValue> {
    this.i++;
    const out: Record<string, PyValue> = Object.create(null);
    for (;;) {
      this.ws();
      if (this.s[this.i] === '}') return this.i++, out;
      const c = this.s[this.i];
      if (c !== "'" && c !== '"') this.fail('dictionary keys must be strings');
      const k = this.str();
      this.ws();
      if (this.s[this.i] !== ':') this.fail("expected ':'");
      this.i++;
      out[k] = this.value(depth + 1);
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') this.fail("expected ',' or '}'");
    }
  }
}

function parseDescr(descr: PyValue, where: string): NpyDType {
  if (typeof descr !== 'string') {
    throw new NpyError('unsupported_dtype', `${where}: structured (record) dtypes are not supported; save plain numeric arrays`);
  }
  if (descr.length < 2) throw new NpyError('unsupported_dtype', `${where}: unknown dtype '${descr}'`);
  const order = descr[0];
  const kind = descr.slice(1);
  if (kind === 'O' || kind.startsWith('O')) {
    throw new NpyError('unsupported_dtype', `${where}: object arrays (dtype '${descr}') are refused: they need pickle, which Lethe never loads`);
  }
  const dtype = DESCR_KIND[kind];
  if (!dtype) {
    throw new NpyError(
      'unsupported_dtype',
      `${where}: dtype '${descr}' is not supported (supported: float32, float64, float16, int64, int32, int8, uint8, bool)`,
    );
  }
  if (order === '>' && ITEMSIZE[dtype] > 1) {
    throw new NpyError('big_endian', `${where}: big-endian data (dtype '${descr}') is not supported; convert with arr.astype(arr.dtype.newbyteorder('<'))`);
  }
  if (order !== '<' && order !== '|' && order !== '=' && order !== '>') {
    throw new NpyError('unsupported_dtype', `${where}: dtype '${descr}' has an unknown byte-order mark '${order}'`);
  }
  return dtype;
}

function checkedShape(shape: readonly number[], where: string): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new NpyError('bad_shape', `${where}: invalid dimension ${d} in shape (${shape.join(', ')})`);
    n *= d;
    if (!Number.isSafeInteger(n)) throw new NpyError('too_large', `${where}: shape (${shape.join(', ')}) has too many elements`);
  }
  return n;
}

/**
 * The bytes of `dtype` values as a typed array: a view of `bytes` when `copy` is false and the view is
 * aligned, else a copy into a fresh, aligned buffer.
 */
export function npyTypedArray(dtype: NpyDType, bytes: Uint8Array, copy = true): TypedArray {
  const size = ITEMSIZE[dtype];
  if (bytes.length % size !== 0) throw new NpyError('bad_array', `${bytes.length} bytes are not a whole number of ${dtype} values`);
  // Uint8Array.prototype.slice copies (Buffer#slice would not)
  const src = copy || bytes.byteOffset % size !== 0 ? (Uint8Array.prototype.slice.call(bytes) as Uint8Array) : bytes;
  const buf = src.buffer;
  const off = src.byteOffset;
  const n = src.length / size;
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf, off, n);
    case 'float64':
      return new Float64Array(buf, off, n);
    case 'float16':
      return new Uint16Array(buf, off, n);
    case 'int64':
      return new BigInt64Array(buf, off, n);
    case 'int32':
      return new Int32Array(buf, off, n);
    case 'int8':
      return new Int8Array(buf, off, n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buf, off, n);
  }
}

/** What a .npy header says: the element type, the shape, where the data starts and how long it is. */
export interface NpyHeader {
  dtype: NpyDType;
  shape: number[];
  /** offset of the first data byte from the start of the .npy bytes */
  dataOffset: number;
  /** data length in bytes (elements x item size) */
  nbytes: number;
}

export interface NpyHeaderOptions extends NpyReadOptions {
  /**
   * Total length of the .npy bytes when `prefix` is only their beginning (a streamed file or ZIP
   * entry). Defaults to prefix.length (the prefix is everything).
   */
  totalBytes?: number;
}

/**
 * Parse a .npy header from the first bytes of the array. Returns null when `prefix` is too short to
 * hold the whole header (read more and call again); throws NpyError on anything malformed or
 * unsupported, including a data length that does not match the shape (truncated, trailing_data).
 */
export function parseNpyHeader(prefix: Uint8Array, opts: NpyHeaderOptions = {}): NpyHeader | null {
  const where = opts.name ?? 'npy';
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const total = opts.totalBytes ?? prefix.length;
  if (total < prefix.length) throw new RangeError(`totalBytes (${total}) is less than the prefix length (${prefix.length})`);
  if (total < 10 || MAGIC.some((b, i) => i < prefix.length && prefix[i] !== b)) {
    throw new NpyError('bad_magic', `${where}: not a .npy file (missing the \\x93NUMPY signature)`);
  }
  if (prefix.length < Math.min(total, 12)) return null;
  const major = prefix[6];
  const minor = prefix[7];
  const dv = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (total < 12) throw new NpyError('truncated', `${where}: file ends inside the header`);
    headerLen = dv.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new NpyError('bad_version', `${where}: unsupported .npy format version ${major}.${minor} (supported: 1.0, 2.0, 3.0)`);
  }
  if (headerStart + headerLen > total) {
    throw new NpyError('truncated', `${where}: header claims ${headerLen} bytes but the file has ${total - headerStart} after the preamble`);
  }
  if (headerLen > 1024 * 1024) throw new NpyError('bad_header', `${where}: header of ${headerLen} bytes is implausibly large`);
  if (prefix.length < headerStart + headerLen) return null;
  const hb = prefix.subarray(headerStart, headerStart + headerLen);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: major === 3 }).decode(hb);
  const dict = new PyLiteralParser(header.replace(/[\s\0]+$/, ''), where).parseTop();
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!(key in dict)) throw new NpyError('bad_header', `${where}: header has no '${key}' entry`);
  }
  const dtype = parseDescr(dict.descr, where);
  if (typeof dict.fortran_order !== 'boolean') throw new NpyError('bad_header', `${where}: 'fortran_order' must be True or False`);
  if (!Array.isArray(dict.shape) || dict.shape.some((d) => typeof d !== 'number')) {
    throw new NpyError('bad_shape', `${where}: 'shape' must be a tuple of integers`);
  }
  const shape = dict.shape as number[];
  const n = checkedShape(shape, where);
  // Fortran order only matters for arrays with more than one non-trivial dimension.
  if (dict.fortran_order && shape.filter((d) => d > 1).length > 1) {
    throw new NpyError('fortran_order', `${where}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray(arr)`);
  }
  const nbytes = n * ITEMSIZE[dtype];
  if (nbytes > maxBytes) throw new NpyError('too_large', `${where}: array of ${nbytes} bytes exceeds the limit of ${maxBytes} bytes`);
  const dataOffset = headerStart + headerLen;
  const have = total - dataOffset;
  if (have < nbytes) throw new NpyError('truncated', `${where}: data is truncated (shape (${shape.join(', ')}) needs ${nbytes} bytes, found ${have})`);
  if (have > nbytes) throw new NpyError('trailing_data', `${where}: ${have - nbytes} unexpected bytes after the array data`);
  return { dtype, shape: [...shape], dataOffset, nbytes };
}

/** Parse .npy bytes. Throws NpyError with a specific code and message on anything unsupported or malformed. */
export function readNpy(bytes: Uint8Array, opts: NpyReadOptions = {}): NdArray {
  const h = parseNpyHeader(bytes, opts)!; // never null: the prefix is the whole array
  return { dtype: h.dtype, shape: h.shape, data: npyTypedArray(h.dtype, bytes.subarray(h.dataOffset)) };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Read the header from the start of a byte stream `totalBytes` long (only as much as the header needs). */
export async function readNpyHeaderFrom(chunks: AsyncIterable<Uint8Array>, totalBytes: number, opts: NpyReadOptions = {}): Promise<NpyHeader> {
  let prefix: Uint8Array = new Uint8Array(0);
  for await (const chunk of chunks) {
    prefix = concat(prefix, chunk);
    const h = parseNpyHeader(prefix, { ...opts, totalBytes });
    if (h) return h; // leaving the loop stops the stream
  }
  throw new NpyError('truncated', `${opts.name ?? 'npy'}: the data ended after ${prefix.length} of ${totalBytes} bytes, inside the header`);
}

/** A run of whole rows (along the first axis) of a streamed array. */
export interface NpyRowChunk {
  /** index of the first row */
  start: number;
  /** number of rows */
  count: number;
  /** count x (elements per row) values, in a fresh buffer the consumer may keep */
  data: TypedArray;
}

/**
 * Stream an array's rows from its .npy bytes (`chunks`, `totalBytes` long) in runs of `rowsPerChunk`
 * rows. The header gets the same checks as in readNpy. The whole stream is consumed, so errors the
 * source reports at its end (a ZIP entry's size or CRC-32) surface after the last rows; memory is one
 * run of rows plus one source chunk.
 */
export async function* npyRows(
  chunks: AsyncIterable<Uint8Array>,
  totalBytes: number,
  rowsPerChunk: number,
  opts: NpyReadOptions = {},
): AsyncGenerator<NpyRowChunk, void> {
  const where = opts.name ?? 'npy';
  if (!(Number.isInteger(rowsPerChunk) && rowsPerChunk > 0)) throw new RangeError(`rowsPerChunk must be a positive integer, got ${rowsPerChunk}`);
  let header: NpyHeader | null = null;
  let prefix: Uint8Array = new Uint8Array(0);
  let rows = 0;
  let rowBytes = 0;
  let next = 0; // next row to emit
  let buf = new Uint8Array(0);
  let fill = 0;
  let seen = 0; // data bytes received
  const startRun = () => {
    buf = new Uint8Array(Math.min(rowsPerChunk, rows - next) * rowBytes);
    fill = 0;
  };
  const emit = (count: number, data: TypedArray): NpyRowChunk => {
    const out = { start: next, count, data };
    next += count;
    return out;
  };
  for await (const chunk of chunks) {
    let data = chunk;
    if (!header) {
      prefix = concat(prefix, chunk);
      header = parseNpyHeader(prefix, { ...opts, totalBytes });
      if (!header) continue;
      if (header.shape.length === 0) throw new NpyError('bad_shape', `${where}: a 0-dimensional array has no rows`);
      rows = header.shape[0];
      rowBytes = rows === 0 ? 0 : header.nbytes / rows;
      data = prefix.subarray(header.dataOffset);
      prefix = new Uint8Array(0);
      if (rowBytes === 0) {
        const empty = npyTypedArray(header.dtype, new Uint8Array(0), false);
        while (next < rows) yield emit(Math.min(rowsPerChunk, rows - next), empty);
      } else if (rows > 0) startRun();
    }
    let at = 0;
    while (at < data.length) {
      if (next >= rows) throw new NpyError('trailing_data', `${where}: unexpected bytes after the array data`);
      const take = Math.min(buf.length - fill, data.length - at);
      buf.set(data.subarray(at, at + take), fill);
      fill += take;
      at += take;
      seen += take;
      if (fill === buf.length) {
        yield emit(buf.length / rowBytes, npyTypedArray(header.dtype, buf, false));
        if (next < rows) startRun();
      }
    }
  }
  if (!header) throw new NpyError('truncated', `${where}: the data ended after ${prefix.length} of ${totalBytes} bytes, inside the header`);
  if (next < rows) throw new NpyError('truncated', `${where}: data is truncated (shape (${header.shape.join(', ')}) needs ${header.nbytes} bytes, found ${seen})`);
}

const ARRAY_TYPE: Record<NpyDType, { ctor: abstract new (...args: never[]) => unknown; name: string }> = {
  float32: { ctor: Float32Array, name: 'Float32Array' },
  float64: { ctor: Float64Array, name: 'Float64Array' },
  float16: { ctor: Uint16Array, name: 'Uint16Array' },
  int64: { ctor: BigInt64Array, name: 'BigInt64Array' },
  int32: { ctor: Int32Array, name: 'Int32Array' },
  int8: { ctor: Int8Array, name: 'Int8Array' },
  uint8: { ctor: Uint8Array, name: 'Uint8Array' },
  bool: { ctor: Uint8Array, name: 'Uint8Array' },
};

/** Check that an NdArray is consistent (dtype known, data type matches, length matches shape). */
export function checkNdArray(arr: NdArray, where = 'array'): void {
  if (!arr || typeof arr !== 'object') throw new NpyError('bad_array', `${where}: not an array object`);
  if (!(arr.dtype in DTYPE_DESCR)) throw new NpyError('unsupported_dtype', `${where}: dtype '${String(arr.dtype)}' cannot be written to .npy`);
  if (!Array.isArray(arr.shape)) throw new NpyError('bad_shape', `${where}: shape must be an array of integers`);
  const n = checkedShape(arr.shape, where);
  const want = ARRAY_TYPE[arr.dtype];
  if (!(arr.data instanceof want.ctor)) {
    throw new NpyError('bad_array', `${where}: ${arr.dtype} data must be a ${want.name}, got ${arr.data?.constructor?.name ?? typeof arr.data}`);
  }
  if (arr.data.length !== n) {
    throw new NpyError('bad_array', `${where}: shape (${arr.shape.join(', ')}) needs ${n} elements, data has ${arr.data.length}`);
  }
}

function formatShape(shape: readonly number[]): string {
  if (shape.length === 0) return '()';
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/** Serialise an array as .npy bytes (version 1.0, or 2.0 if the header would not fit), exactly as numpy.save does. */
export function writeNpy(arr: NdArray): Uint8Array {
  checkNdArray(arr);
  const dict = `{'descr': '${DTYPE_DESCR[arr.dtype]}', 'fortran_order': False, 'shape': ${formatShape(arr.shape)}, }`;
  // numpy pads the header with spaces and a final newline so that the data starts on a 64-byte boundary
  let preamble = 10;
  let total = preamble + dict.length + 1;
  let padded = Math.ceil(total / 64) * 64;
  if (padded - preamble > 0xffff) {
    preamble = 12;
    total = preamble + dict.length + 1;
    padded = Math.ceil(total / 64) * 64;
  }
  const headerLen = padded - preamble;
  const header = dict + ' '.repeat(headerLen - dict.length - 1) + '\n';
  const data = new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
  const out = new Uint8Array(padded + data.length);
  out.set(MAGIC, 0);
  out[6] = preamble === 10 ? 1 : 2;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (preamble === 10) dv.setUint16(8, headerLen, true);
  else dv.setUint32(8, headerLen, true);
  for (let i = 0; i < header.length; i++) out[preamble + i] = header.charCodeAt(i);
  out.set(data, padded);
  return out;
}

/** A .npy file opened for reading: its header is parsed and checked, its data not yet read. */
export interface NpyFile {
  readonly path: string;
  /** file size in bytes */
  readonly size: number;
  readonly header: NpyHeader;
  /** the whole array (memory: its size) */
  read(): Promise<NdArray>;
  /** the array in runs of whole rows (memory: one run) */
  rows(rowsPerChunk: number): AsyncIterable<NpyRowChunk>;
  close(): Promise<void>;
}

const FILE_CHUNK = 1 << 20;

/** Open a .npy file: reads and checks only its header (the data length must match the shape). */
export async function openNpyFile(path: string, opts: Omit<NpyReadOptions, 'name'> = {}): Promise<NpyFile> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const name = path;
    const short = () => new NpyError('truncated', `${name}: the file shrank while it was being read`);
    const chunks = (from: number) => fileRangeChunks(fh, from, size, FILE_CHUNK, short);
    const header = await readNpyHeaderFrom(fileRangeChunks(fh, 0, size, 64 * 1024, short), size, { ...opts, name });
    return {
      path,
      size,
      header,
      async read() {
        const data = new Uint8Array(header.nbytes);
        let at = 0;
        for await (const c of chunks(header.dataOffset)) {
          data.set(c, at);
          at += c.length;
        }
        return { dtype: header.dtype, shape: [...header.shape], data: npyTypedArray(header.dtype, data, false) };
      },
      rows: (rowsPerChunk) => npyRows(chunks(0), size, rowsPerChunk, { ...opts, name }),
      close: () => fh.close(),
    };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** Read a .npy file from disk (positioned reads: no 2 GiB limit, the data is read once into the array). */
export async function readNpyFile(path: string, opts: Omit<NpyReadOptions, 'name'> = {}): Promise<NdArray> {
  const f = await openNpyFile(path, opts);
  try {
    return await f.read();
  } finally {
    await f.close();
  }
}

/** Write a .npy file atomically (temp file, fsync, rename, fsync folder). */
export async function writeNpyFile(path: string, arr: NdArray): Promise<void> {
  await writeFileAtomic(path, writeNpy(arr));
}
