// NumPy .npy reader and writer (format versions 1.0, 2.0 and 3.0; C order; little-endian).
// Files written here are read by numpy.load unchanged; files numpy writes are read here, except
// layouts Lethe cannot represent (Fortran order, big-endian, object and structured dtypes), which are
// refused with an NpyError that names the problem.

import { readFile } from 'node:fs/promises';
import type { DType, TypedArray } from '../onnx/ir';
import { writeFileAtomic } from '../util/atomic-write';

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

function allocFor(dtype: NpyDType, bytes: Uint8Array): TypedArray {
  // copy into a fresh, aligned buffer (the source slice may be at any offset)
  // Uint8Array.prototype.slice copies (Buffer#slice would not)
  const buf = Uint8Array.prototype.slice.call(bytes).buffer;
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf);
    case 'float64':
      return new Float64Array(buf);
    case 'float16':
      return new Uint16Array(buf);
    case 'int64':
      return new BigInt64Array(buf);
    case 'int32':
      return new Int32Array(buf);
    case 'int8':
      return new Int8Array(buf);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buf);
  }
}

/** Parse .npy bytes. Throws NpyError with a specific code and message on anything unsupported or malformed. */
export function readNpy(bytes: Uint8Array, opts: NpyReadOptions = {}): NdArray {
  const where = opts.name ?? 'npy';
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new NpyError('bad_magic', `${where}: not a .npy file (missing the \\x93NUMPY signature)`);
  }
  const major = bytes[6];
  const minor = bytes[7];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new NpyError('truncated', `${where}: file ends inside the header`);
    headerLen = dv.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new NpyError('bad_version', `${where}: unsupported .npy format version ${major}.${minor} (supported: 1.0, 2.0, 3.0)`);
  }
  if (headerStart + headerLen > bytes.length) {
    throw new NpyError('truncated', `${where}: header claims ${headerLen} bytes but the file has ${bytes.length - headerStart} after the preamble`);
  }
  if (headerLen > 1024 * 1024) throw new NpyError('bad_header', `${where}: header of ${headerLen} bytes is implausibly large`);
  const hb = bytes.subarray(headerStart, headerStart + headerLen);
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
  const dataStart = headerStart + headerLen;
  const have = bytes.length - dataStart;
  if (have < nbytes) throw new NpyError('truncated', `${where}: data is truncated (shape (${shape.join(', ')}) needs ${nbytes} bytes, found ${have})`);
  if (have > nbytes) throw new NpyError('trailing_data', `${where}: ${have - nbytes} unexpected bytes after the array data`);
  return { dtype, shape: [...shape], data: allocFor(dtype, bytes.subarray(dataStart)) };
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

/** Read a .npy file from disk. */
export async function readNpyFile(path: string, opts: Omit<NpyReadOptions, 'name'> = {}): Promise<NdArray> {
  return readNpy(await readFile(path), { ...opts, name: path });
}

/** Write a .npy file atomically (temp file, fsync, rename, fsync folder). */
export async function writeNpyFile(path: string, arr: NdArray): Promise<void> {
  await writeFileAtomic(path, writeNpy(arr));
}
