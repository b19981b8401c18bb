// Loading ONNX models safely. The bytes are read once, hashed, and those same bytes are decoded (no
// time-of-check/time-of-use gap). Before the protobuf decoder runs, a cheap wire-format scan bounds the
// work (node count, subgraph depth) and tells truncated files from foreign ones; other formats (PyTorch
// pickles, TorchScript, safetensors, ...) are recognised and refused without being parsed. External
// data is only read from regular, single-link files inside the model's own folder and is inlined, so
// onnxruntime never opens a file itself. Finally validate.ts checks the graph.

import { closeSync, constants as fsc, fstatSync, lstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, extname, isAbsolute, relative, resolve, sep, win32 } from 'node:path';
import { OnnxFormatError, decodeModel, type ExternalDataRef } from './codec';
import { type Model, allocTensorData, bytesPerElement, numel } from './ir';
import { ModelValidationError, type ValidateOptions, type ValidationReport, VALIDATION_DEFAULTS, q, validateModel } from './validate';
import { listZip } from '../io/zip';
import { sha256Hex } from '../util/sha256';

export { ModelValidationError } from './validate';

export interface LoadOptions extends ValidateOptions {
  /** Folder that external-data locations are resolved in (the model file's folder). Without it, external data is refused. */
  baseDir?: string;
  /** Largest model file accepted, in bytes (default 2 GiB). Also caps the external data read. */
  maxBytes?: number;
}

export interface ExternalDataRecord {
  tensor: string;
  location: string;
  offset: number;
  length: number;
  /** SHA-256 of the bytes read for this tensor. */
  sha256: string;
}

export interface LoadedModel {
  model: Model;
  /** SHA-256 of exactly the bytes decoded. */
  sha256: string;
  /** The exact bytes that were hashed and decoded (store these, never re-read the file: no TOCTOU). */
  bytes: Uint8Array;
  byteLength: number;
  warnings: string[];
  report: ValidationReport;
  externalData: ExternalDataRecord[];
}

export const DEFAULT_MAX_MODEL_BYTES = 2 * 1024 ** 3;

// ---------------------------------------------------------------------------------------------------
// Foreign formats

const TORCH_EXPORT_HINT = "export it to ONNX with torch.onnx.export(model, example_input, 'model.onnx', opset_version=17)";

/** Recognise common non-ONNX model formats from their first bytes. Returns a ModelValidationError to throw, or null. */
export function detectForeignFormat(bytes: Uint8Array): ModelValidationError | null {
  const n = bytes.length;
  const ascii = (a: number, b: number) => String.fromCharCode(...bytes.subarray(a, Math.min(b, n)));
  if (n >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) {
    return new ModelValidationError(
      'not_onnx',
      `this is a Python pickle (a PyTorch .pt/.pth/.pkl checkpoint or similar), not an ONNX model; Lethe never unpickles files (they can run code): ${TORCH_EXPORT_HINT}.`,
      [],
      'pickle',
    );
  }
  if (n >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) {
    let names: string[] = [];
    try {
      names = listZip(bytes, { maxEntries: 1_000_000 }).map((e) => e.name);
    } catch {
      /* a corrupt zip is still a zip */
    }
    const has = (re: RegExp) => names.some((x) => re.test(x));
    if (has(/(^|\/)constants\.pkl$/) || has(/(^|\/)code\//)) {
      return new ModelValidationError('not_onnx', `this is a TorchScript archive (torch.jit.save), not an ONNX model: ${TORCH_EXPORT_HINT}.`, [], 'torchscript');
    }
    if (has(/(^|\/)data\.pkl$/)) {
      return new ModelValidationError(
        'not_onnx',
        `this is a PyTorch checkpoint (torch.save zip with a pickle inside), not an ONNX model; Lethe never unpickles files: ${TORCH_EXPORT_HINT}.`,
        [],
        'pytorch-zip',
      );
    }
    if (names.length && names.every((x) => x.endsWith('.npy'))) {
      return new ModelValidationError('not_onnx', 'this is a NumPy .npz archive, not an ONNX model.', [], 'npz');
    }
    return new ModelValidationError('not_onnx', 'this is a ZIP archive, not an ONNX model.', [], 'zip');
  }
  if (n >= 10 && bytes[8] === 0x7b /* { */) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, n);
    const hlen = dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32;
    if (hlen >= 2 && (bytes[9] === 0x22 /* " */ || bytes[9] === 0x7d || bytes[9] === 0x20 || bytes[9] === 0x0a)) {
      return new ModelValidationError(
        'not_onnx',
        `this is a safetensors file (weights only, header of ${hlen} bytes), not an ONNX model; it has no graph: ${TORCH_EXPORT_HINT}.`,
        [],
        'safetensors',
      );
    }
  }
  if (n >= 8 && bytes[0] === 0x89 && ascii(1, 4) === 'HDF') {
    return new ModelValidationError('not_onnx', 'this is an HDF5 file (Keras .h5?), not an ONNX model; convert it with tf2onnx.', [], 'hdf5');
  }
  if (n >= 8 && ascii(4, 8) === 'TFL3') {
    return new ModelValidationError('not_onnx', 'this is a TensorFlow Lite model, not an ONNX model; convert it with tf2onnx.', [], 'tflite');
  }
  if (n >= 4 && ascii(0, 4) === 'GGUF') {
    return new ModelValidationError('not_onnx', 'this is a GGUF (llama.cpp) model, not an ONNX model.', [], 'gguf');
  }
  if (n >= 6 && bytes[0] === 0x93 && ascii(1, 6) === 'NUMPY') {
    return new ModelValidationError('not_onnx', 'this is a NumPy .npy array, not an ONNX model.', [], 'npy');
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------
// Wire-format pre-scan

interface ScanLimits {
  maxNodes: number;
  maxDepth: number;
}

/**
 * Walk the protobuf structure of ModelProto -> GraphProto -> NodeProto -> AttributeProto -> GraphProto
 * without decoding anything else. Throws 'truncated' when a field runs past the end of the file,
 * 'not_onnx' for wire-format garbage, 'too_large' / 'malformed_graph' when the node count or subgraph
 * depth would make decoding itself a resource bomb.
 */
export function scanOnnxWire(bytes: Uint8Array, limits: ScanLimits): { nodes: number } {
  const total = bytes.length;
  let nodes = 0;
  const bad = (msg: string): never => {
    throw new ModelValidationError('not_onnx', `not an ONNX model: ${msg}.`);
  };
  // Every ONNX writer (protobuf serialises in field order) starts with ir_version (field 1, tag 0x08);
  // without that start, running past the end says "not ONNX" rather than "truncated".
  const looksOnnx = bytes[0] === 0x08;
  const truncated = (where: string): never => {
    if (!looksOnnx) bad(`${where} runs past the end of the file, and the file does not start like an ONNX model`);
    throw new ModelValidationError('truncated', `the file is truncated: ${where} runs past the end of the file (${total} bytes).`);
  };
  const varint = (p: number, end: number, what: string): [number, number] => {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (p >= end) return end === total ? truncated(what) : bad(`${what} runs past its enclosing message`);
      const b = bytes[p++];
      if (i < 8) v += (b & 0x7f) * mul;
      mul *= 128;
      if (!(b & 0x80)) return [v, p];
    }
    return bad(`${what} is a malformed varint`);
  };
  // functions (ModelProto 25, nodes in field 7) and training_info (ModelProto 20, graphs in fields 1-2)
  // are dropped by the decoder, but protobufjs still decodes them: their nodes count too
  type Kind = 'model' | 'graph' | 'node' | 'attr' | 'function' | 'training';
  const scan = (start: number, end: number, kind: Kind, depth: number): void => {
    let p = start;
    while (p < end) {
      const at = p;
      let tag: number;
      [tag, p] = varint(p, end, `a field tag at byte ${at}`);
      const field = Math.floor(tag / 8);
      const wt = tag & 7;
      if (field === 0) bad(`invalid field number 0 at byte ${at}`);
      switch (wt) {
        case 0:
          [, p] = varint(p, end, `a varint at byte ${p}`);
          break;
        case 1:
        case 5: {
          const w = wt === 1 ? 8 : 4;
          if (p + w > end) {
            if (end === total) truncated(`a ${w}-byte field at byte ${p}`);
            bad(`a fixed-size field at byte ${p} runs past its enclosing message`);
          }
          p += w;
          break;
        }
        case 2: {
          let len: number;
          [len, p] = varint(p, end, `a length at byte ${p}`);
          if (p + len > end) {
            if (end === total) truncated(`field ${field} at byte ${at} (declared length ${len})`);
            bad(`field ${field} at byte ${at} (declared length ${len}) runs past its enclosing message`);
          }
          const s = p;
          p += len;
          if (kind === 'model' && field === 7) scan(s, p, 'graph', depth);
          else if (kind === 'model' && field === 25) scan(s, p, 'function', depth);
          else if (kind === 'model' && field === 20) scan(s, p, 'training', depth);
          else if (kind === 'training' && (field === 1 || field === 2)) scan(s, p, 'graph', depth);
          else if ((kind === 'graph' && field === 1) || (kind === 'function' && field === 7)) {
            if (++nodes > limits.maxNodes) {
              throw new ModelValidationError('too_large', `the model has more than ${limits.maxNodes} nodes.`);
            }
            scan(s, p, 'node', depth);
          } else if (kind === 'node' && field === 5) scan(s, p, 'attr', depth);
          else if (kind === 'attr' && (field === 6 || field === 11)) {
            if (depth + 1 > limits.maxDepth) {
              throw new ModelValidationError('malformed_graph', `subgraphs are nested deeper than ${limits.maxDepth} levels.`);
            }
            scan(s, p, 'graph', depth + 1);
          }
          break;
        }
        default:
          bad(`invalid wire type ${wt} at byte ${at}`);
      }
    }
  };
  scan(0, total, 'model', 0);
  return { nodes };
}

// ---------------------------------------------------------------------------------------------------
// External data

/** Why an external-data location string is refused, or null if its form is acceptable. */
export function checkExternalLocation(location: string): string | null {
  if (!location) return 'the location is empty';
  if (location.includes('\0')) return 'the location contains a NUL character';
  if (location.length > 1024) return 'the location is longer than 1024 characters';
  if (/^[\\/]{2}/.test(location)) return 'UNC / network paths are not allowed';
  if (/^[a-zA-Z]:/.test(location)) return 'drive-letter paths are not allowed';
  if (isAbsolute(location) || win32.isAbsolute(location)) return 'absolute paths are not allowed';
  if (location.includes(':')) return "':' is not allowed (Windows alternate data streams / devices)";
  const segs = location.split(/[\\/]+/);
  if (segs.some((s) => s === '..')) return "'..' segments are not allowed";
  if (segs.some((s) => /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i.test(s))) return 'Windows device names are not allowed';
  return null;
}

function extErr(ref: ExternalDataRef, why: string): ModelValidationError {
  return new ModelValidationError('external_data', `external data for tensor ${q(ref.tensor)} at location ${q(ref.location)} is refused: ${why}.`);
}

function readExternal(refs: ExternalDataRef[], baseDir: string | undefined, maxBytes: number): ExternalDataRecord[] {
  if (!refs.length) return [];
  if (!baseDir) {
    throw new ModelValidationError(
      'external_data',
      `the model keeps tensor ${q(refs[0].tensor)} in external file ${q(refs[0].location)}, but it was loaded from bytes without a model folder; load it from its file instead.`,
    );
  }
  let realBase: string;
  try {
    realBase = realpathSync(baseDir);
  } catch (e) {
    throw new ModelValidationError('external_data', `the model folder ${q(baseDir)} cannot be resolved (${(e as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  const out: ExternalDataRecord[] = [];
  let totalRead = 0;
  for (const ref of refs) {
    const why = checkExternalLocation(ref.location);
    if (why) throw extErr(ref, why);
    const t = ref.target;
    const n = numel(t.dims);
    const need = n * bytesPerElement(t.dtype);
    if (!Number.isSafeInteger(ref.offset) || ref.offset < 0) throw extErr(ref, `offset ${ref.offset} is not a non-negative integer`);
    if (ref.length !== null && (!Number.isSafeInteger(ref.length) || ref.length < 0)) throw extErr(ref, `length ${ref.length} is not a non-negative integer`);
    const length = ref.length ?? need;
    if (length !== need) throw extErr(ref, `length ${length} does not match shape [${t.dims.join(', ')}] (${need} bytes)`);
    totalRead += length;
    if (totalRead > maxBytes) throw extErr(ref, `external data exceeds the limit of ${maxBytes} bytes`);
    const candidate = resolve(realBase, ref.location);
    const rel = relative(realBase, candidate);
    if (!rel || rel.startsWith('..') || isAbsolute(rel)) throw extErr(ref, 'it points outside the model folder');
    let st;
    try {
      st = lstatSync(candidate);
    } catch (e) {
      throw extErr(ref, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : `it cannot be accessed (${(e as NodeJS.ErrnoException).code})`);
    }
    if (st.isSymbolicLink()) throw extErr(ref, 'it is a symbolic link');
    if (!st.isFile()) throw extErr(ref, 'it is not a regular file');
    if (st.nlink > 1) throw extErr(ref, `it is a hard link (${st.nlink} links)`);
    // a symlinked parent folder would make the real path differ from the path inside the folder
    let real: string;
    try {
      real = realpathSync(candidate);
    } catch {
      throw extErr(ref, 'it cannot be resolved');
    }
    // case-insensitive file systems (Windows, macOS) may report a different letter case for the same file
    const fold = (x: string) => (process.platform === 'win32' || process.platform === 'darwin' ? x.toLowerCase() : x);
    if (fold(real) !== fold(candidate) || !fold(real).startsWith(fold(realBase + sep))) {
      throw extErr(ref, 'its path goes through a symbolic link or leaves the model folder');
    }
    if (ref.offset + length > st.size) throw extErr(ref, `offset ${ref.offset} + length ${length} is beyond the end of the file (${st.size} bytes)`);
    let fd: number;
    try {
      fd = openSync(candidate, fsc.O_RDONLY | (fsc.O_NOFOLLOW ?? 0));
    } catch (e) {
      throw extErr(ref, `it cannot be opened (${(e as NodeJS.ErrnoException).code})`);
    }
    try {
      const fst = fstatSync(fd);
      if (fst.ino !== st.ino || fst.dev !== st.dev || !fst.isFile() || fst.nlink > 1) throw extErr(ref, 'the file changed while it was being opened');
      if (ref.offset + length > fst.size) throw extErr(ref, 'the file shrank while it was being read');
      const data = allocTensorData(t.dtype, n);
      const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      let got = 0;
      while (got < length) {
        const r = readSync(fd, view, got, Math.min(length - got, 1 << 30), ref.offset + got);
        if (r <= 0) throw extErr(ref, 'the file ended early');
        got += r;
      }
      t.data = data;
      out.push({ tensor: ref.tensor, location: ref.location, offset: ref.offset, length, sha256: sha256Hex(view) });
    } finally {
      closeSync(fd);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Entry points

/**
 * Load and validate an ONNX model from bytes. External data is accepted only with `opts.baseDir`.
 * Throws ModelValidationError (never anything else) for any bad input.
 */
export function loadModelBytes(bytes: Uint8Array, opts: LoadOptions = {}): LoadedModel {
  try {
    return loadInner(bytes, opts);
  } catch (e) {
    if (e instanceof ModelValidationError) throw e;
    if (e instanceof OnnxFormatError) throw new ModelValidationError(e.kind, `${e.message}.`);
    if (e instanceof RangeError) {
      // protobufjs reports out-of-range reads and deep recursion as RangeError
      throw new ModelValidationError('not_onnx', `the file could not be decoded as ONNX (${e.message}).`);
    }
    throw new ModelValidationError('internal', `unexpected error while loading the model: ${(e as Error)?.message ?? String(e)}`);
  }
}

function loadInner(bytes: Uint8Array, opts: LoadOptions): LoadedModel {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_MODEL_BYTES;
  if (!(bytes instanceof Uint8Array)) throw new ModelValidationError('not_onnx', 'model bytes must be a Uint8Array.');
  if (bytes.length > maxBytes) {
    throw new ModelValidationError('too_large', `the model file has ${bytes.length} bytes, above the limit of ${maxBytes} bytes.`);
  }
  if (bytes.length === 0) throw new ModelValidationError('not_onnx', 'the file is empty.');
  const sha256 = sha256Hex(bytes);
  const foreign = detectForeignFormat(bytes);
  if (foreign) throw foreign;
  scanOnnxWire(bytes, {
    maxNodes: opts.maxNodes ?? VALIDATION_DEFAULTS.maxNodes,
    maxDepth: opts.maxDepth ?? VALIDATION_DEFAULTS.maxDepth,
  });
  const { model, externalData } = decodeModel(bytes);
  const external = readExternal(externalData, opts.baseDir, maxBytes);
  const report = validateModel(model, opts);
  const warnings = [...report.warnings];
  if (external.length) warnings.push(`${external.length} tensor(s) were read from external data files and inlined.`);
  return { model, sha256, bytes, byteLength: bytes.length, warnings, report, externalData: external };
}

/**
 * Load and validate an ONNX file: the file is read once into memory, those bytes are hashed and decoded.
 * External data is resolved inside the file's own folder.
 */
export async function loadModelFile(path: string, opts: Omit<LoadOptions, 'baseDir'> = {}): Promise<LoadedModel> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_MODEL_BYTES;
  let bytes: Uint8Array;
  try {
    const fh = await open(path, 'r');
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new ModelValidationError('io', `${q(path)} is not a regular file.`);
      if (st.size > maxBytes) throw new ModelValidationError('too_large', `the model file has ${st.size} bytes, above the limit of ${maxBytes} bytes.`);
      bytes = await fh.readFile();
      // the size check above is advisory (the file may grow); the bytes actually read are checked again
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (e instanceof ModelValidationError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelValidationError('io', `cannot read model file ${q(path)}: ${code === 'ENOENT' ? 'it does not exist' : (code ?? (e as Error).message)}.`);
  }
  try {
    return loadModelBytes(bytes, { ...opts, baseDir: dirname(resolve(path)) });
  } catch (e) {
    // unrecognised bytes in a file named like a PyTorch/other checkpoint: say what to do
    const ext = extname(path).toLowerCase();
    if (e instanceof ModelValidationError && !e.format && (e.code === 'not_onnx' || e.code === 'truncated') && FOREIGN_EXTENSIONS[ext]) {
      throw new ModelValidationError(e.code, `${e.message} The file name suggests ${FOREIGN_EXTENSIONS[ext]}: ${TORCH_EXPORT_HINT}.`, e.details, e.format);
    }
    throw e;
  }
}

const FOREIGN_EXTENSIONS: Record<string, string> = {
  '.pt': 'a PyTorch checkpoint',
  '.pth': 'a PyTorch checkpoint',
  '.pkl': 'a Python pickle',
  '.pickle': 'a Python pickle',
  '.ckpt': 'a training checkpoint',
  '.bin': 'a PyTorch/Hugging Face weights file',
  '.safetensors': 'a safetensors weights file',
  '.h5': 'a Keras model',
  '.keras': 'a Keras model',
  '.pb': 'a TensorFlow graph',
  '.tflite': 'a TensorFlow Lite model',
};

