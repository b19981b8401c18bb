// ONNX protobuf <-> Lethe IR. Decoding is defensive: it never trusts declared sizes (validation of
// dims, external data and ops happens in validate.ts before a model reaches onnxruntime).

import protobuf from 'protobufjs';
import { ONNX_PROTO_TEXT } from './onnx-proto-text';
import {
  type AttrValue,
  type DType,
  type Graph,
  type Model,
  type NamedTensor,
  type Node,
  type Tensor,
  type TypedArray,
  type ValueInfo,
  type Dim,
  CODE_DTYPE,
  DTYPE_CODE,
  allocTensorData,
  bytesPerElement,
} from './ir';

/** What kind of defect a decode error is (validate.ts maps it to ModelValidationError codes). */
export type OnnxFormatErrorKind = 'not_onnx' | 'bad_type' | 'bad_dims' | 'too_large' | 'external_data' | 'malformed_graph';

export class OnnxFormatError extends Error {
  constructor(
    message: string,
    readonly kind: OnnxFormatErrorKind = 'malformed_graph',
  ) {
    super(message);
    this.name = 'OnnxFormatError';
  }
}

let root: protobuf.Root | undefined;
function types() {
  if (!root) root = protobuf.parse(ONNX_PROTO_TEXT, { keepCase: true }).root;
  return {
    ModelProto: root.lookupType('onnx.ModelProto'),
  };
}

// AttributeProto.AttributeType
const AT = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

type Long = { low: number; high: number; unsigned?: boolean; toNumber?: () => number } | number | string;
function toNum(v: Long | undefined | null): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  if (typeof v.toNumber === 'function') return v.toNumber();
  return v.high * 4294967296 + (v.low >>> 0);
}
function toBig(v: Long): bigint {
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'string') return BigInt(v);
  return (BigInt(v.high) << 32n) | BigInt(v.low >>> 0);
}

/** External-data reference found in a tensor (resolved and checked in validate.ts). */
export interface ExternalDataRef {
  tensor: string;
  location: string;
  offset: number;
  length: number | null;
  /** The decoded tensor (data empty) that the external bytes belong to. */
  target: NamedTensor;
}

export interface DecodeResult {
  model: Model;
  externalData: ExternalDataRef[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

function decodeTensor(tp: Any, ext: ExternalDataRef[], where: string): NamedTensor {
  const name: string = tp.name ?? '';
  const dtype = CODE_DTYPE[tp.data_type ?? 0];
  if (!dtype) throw new OnnxFormatError(`${where}: tensor '${name}' has unsupported data type code ${tp.data_type}`, 'bad_type');
  const dims = (tp.dims ?? []).map(toNum);
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new OnnxFormatError(`${where}: tensor '${name}' has invalid dimension ${d}`, 'bad_dims');
  }
  const n = dims.reduce((a: number, b: number) => a * b, 1);
  if (!Number.isSafeInteger(n) || n > 2 ** 31) throw new OnnxFormatError(`${where}: tensor '${name}' declares ${n} elements (too large)`, 'too_large');
  if (tp.data_location === 1) {
    const kv: Record<string, string> = {};
    for (const e of tp.external_data ?? []) kv[e.key] = e.value;
    if (!kv.location) throw new OnnxFormatError(`${where}: tensor '${name}' has external data without a location`, 'external_data');
    const target: NamedTensor = { name, dtype, dims, data: allocTensorData(dtype, 0) };
    ext.push({ tensor: name, location: kv.location, offset: Number(kv.offset ?? 0), length: kv.length !== undefined ? Number(kv.length) : null, target });
    return target;
  }
  // sizes are checked against the bytes actually present BEFORE allocating (a tiny file may declare huge dims)
  const raw: Uint8Array | undefined = tp.raw_data && tp.raw_data.length ? tp.raw_data : undefined;
  if (raw) {
    const need = n * bytesPerElement(dtype);
    if (raw.length !== need) throw new OnnxFormatError(`${where}: tensor '${name}' raw_data has ${raw.length} bytes, dims need ${need}`, 'bad_dims');
    const data = allocTensorData(dtype, n);
    new Uint8Array(data.buffer).set(raw);
    return { name, dtype, dims, data };
  }
  let data: TypedArray = allocTensorData(dtype, 0);
  const fill = (src: ArrayLike<Any> | undefined, conv: (x: Any) => number | bigint) => {
    const len = src?.length ?? 0;
    if (len !== n) throw new OnnxFormatError(`${where}: tensor '${name}' has ${len} values, dims need ${n}`, 'bad_dims');
    data = allocTensorData(dtype, n);
    for (let i = 0; i < n; i++) (data as Any)[i] = conv(src![i]);
  };
  switch (dtype) {
    case 'float32':
      fill(tp.float_data, Number);
      break;
    case 'float64':
      fill(tp.double_data, Number);
      break;
    case 'int64':
      fill(tp.int64_data, toBig);
      break;
    case 'int32':
    case 'int8':
    case 'uint8':
    case 'bool':
    case 'float16':
      fill(tp.int32_data, Number);
      break;
  }
  return { name, dtype, dims, data };
}

function encodeTensor(t: Tensor & { name?: string }): Any {
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return {
    name: t.name ?? '',
    data_type: DTYPE_CODE[t.dtype],
    dims: t.dims,
    raw_data: bytes,
  };
}

function decodeValueInfo(vi: Any, where: string, requireType = false): ValueInfo {
  const tt = vi.type?.tensor_type;
  const name: string = vi.name ?? '';
  // ONNX requires a type on the main graph's inputs and outputs; guessing float32 would change the model
  if (requireType && !vi.type) throw new OnnxFormatError(`${where}: graph input/output '${name}' has no type`, 'bad_type');
  if (!tt) {
    const other = ['sequence_type', 'map_type', 'optional_type', 'sparse_tensor_type'].find((k) => vi.type?.[k]);
    // the IR only holds dense tensors; re-encoding a sequence/map value as a tensor would change the model
    if (other) throw new OnnxFormatError(`${where}: value '${name}' has a ${other.replace('_type', '')} type; Lethe supports dense tensors only`, 'bad_type');
    return { name, dtype: 'float32', shape: null };
  }
  const dtype = CODE_DTYPE[tt.elem_type ?? 0];
  if (!dtype) throw new OnnxFormatError(`${where}: value '${name}' has unsupported element type ${tt.elem_type}`, 'bad_type');
  let shape: Dim[] | null = null;
  if (tt.shape) {
    shape = (tt.shape.dim ?? []).map((d: Any): Dim => {
      if (d.dim_param) return String(d.dim_param);
      if (d.dim_value !== undefined && d.dim_value !== null) {
        const v = toNum(d.dim_value);
        if (!Number.isSafeInteger(v) || v < 0) throw new OnnxFormatError(`${where}: value '${name}' has invalid dimension ${v}`, 'bad_dims');
        return v;
      }
      return null;
    });
  }
  return { name, dtype, shape };
}

function encodeValueInfo(v: ValueInfo): Any {
  const tensor_type: Any = { elem_type: DTYPE_CODE[v.dtype] };
  if (v.shape) {
    tensor_type.shape = {
      dim: v.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : typeof d === 'string' ? { dim_param: d } : {})),
    };
  }
  return { name: v.name, type: { tensor_type } };
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
const utf8e = new TextEncoder();

function decodeAttr(a: Any, ext: ExternalDataRef[], where: string, depth: number): AttrValue {
  let type: number = a.type ?? 0;
  if (!type) {
    // IR < 3 style: infer from populated field
    if (a.f !== undefined && a.f !== null && a.f !== 0) type = AT.FLOAT;
    else if (a.ints?.length) type = AT.INTS;
    else if (a.floats?.length) type = AT.FLOATS;
    else if (a.t) type = AT.TENSOR;
    else if (a.s?.length) type = AT.STRING;
    else type = AT.INT;
  }
  switch (type) {
    case AT.FLOAT:
      return { type: 'float', value: a.f ?? 0 };
    case AT.INT:
      return { type: 'int', value: toNum(a.i) };
    case AT.STRING:
      return { type: 'string', value: utf8.decode(a.s ?? new Uint8Array()) };
    case AT.TENSOR:
      return { type: 'tensor', value: decodeTensor(a.t ?? {}, ext, where) };
    case AT.GRAPH:
      if (depth > 8) throw new OnnxFormatError(`${where}: subgraphs nested deeper than 8 levels`);
      return { type: 'graph', value: decodeGraph(a.g ?? {}, ext, `${where}/${a.name}`, depth + 1) };
    case AT.FLOATS:
      return { type: 'floats', value: [...(a.floats ?? [])] };
    case AT.INTS:
      return { type: 'ints', value: (a.ints ?? []).map(toNum) };
    case AT.STRINGS:
      return { type: 'strings', value: (a.strings ?? []).map((s: Uint8Array) => utf8.decode(s)) };
    default:
      throw new OnnxFormatError(`${where}: attribute '${a.name}' has unsupported type ${type}`, 'bad_type');
  }
}

function encodeAttr(name: string, v: AttrValue): Any {
  switch (v.type) {
    case 'float':
      return { name, type: AT.FLOAT, f: v.value };
    case 'int':
      return { name, type: AT.INT, i: v.value };
    case 'string':
      return { name, type: AT.STRING, s: utf8e.encode(v.value) };
    case 'tensor':
      return { name, type: AT.TENSOR, t: encodeTensor(v.value) };
    case 'graph':
      return { name, type: AT.GRAPH, g: encodeGraph(v.value) };
    case 'floats':
      return { name, type: AT.FLOATS, floats: v.value };
    case 'ints':
      return { name, type: AT.INTS, ints: v.value };
    case 'strings':
      return { name, type: AT.STRINGS, strings: v.value.map((s) => utf8e.encode(s)) };
  }
}

function decodeGraph(g: Any, ext: ExternalDataRef[], where: string, depth: number): Graph {
  const nodes: Node[] = (g.node ?? []).map((n: Any, i: number): Node => {
    const attrs: Record<string, AttrValue> = {};
    const nw = `${where}: node ${i} (${n.op_type ?? '?'}${n.name ? ` '${n.name}'` : ''})`;
    for (const a of n.attribute ?? []) attrs[a.name] = decodeAttr(a, ext, nw, depth);
    const node: Node = { op: n.op_type ?? '', inputs: [...(n.input ?? [])], outputs: [...(n.output ?? [])], attrs };
    if (n.name) node.name = n.name;
    if (n.domain) node.domain = n.domain;
    return node;
  });
  if ((g.sparse_initializer ?? []).length) throw new OnnxFormatError(`${where}: sparse initializers are not supported`);
  return {
    name: g.name ?? 'graph',
    nodes,
    inputs: (g.input ?? []).map((v: Any) => decodeValueInfo(v, where, depth === 0)),
    outputs: (g.output ?? []).map((v: Any) => decodeValueInfo(v, where, depth === 0)),
    initializers: (g.initializer ?? []).map((t: Any) => decodeTensor(t, ext, `${where}: initializer`)),
    valueInfo: (g.value_info ?? []).map((v: Any) => decodeValueInfo(v, where)),
  };
}

function encodeGraph(g: Graph): Any {
  return {
    name: g.name,
    node: g.nodes.map((n) => ({
      name: n.name ?? '',
      op_type: n.op,
      domain: n.domain ?? '',
      input: n.inputs,
      output: n.outputs,
      attribute: Object.entries(n.attrs).map(([k, v]) => encodeAttr(k, v)),
    })),
    input: g.inputs.map(encodeValueInfo),
    output: g.outputs.map(encodeValueInfo),
    initializer: g.initializers.map(encodeTensor),
    value_info: (g.valueInfo ?? []).map(encodeValueInfo),
  };
}

/** Decode ONNX bytes into the IR. Throws OnnxFormatError with a specific message on malformed input. */
export function decodeModel(bytes: Uint8Array): DecodeResult {
  const { ModelProto } = types();
  let m: Any;
  try {
    m = ModelProto.decode(bytes);
  } catch (e) {
    throw new OnnxFormatError(`not a valid ONNX protobuf: ${(e as Error).message}`, 'not_onnx');
  }
  if (!m.graph) throw new OnnxFormatError('not an ONNX model: the file has no graph', 'not_onnx');
  const ext: ExternalDataRef[] = [];
  const graph = decodeGraph(m.graph, ext, 'graph', 0);
  const metadata: Record<string, string> = {};
  for (const p of m.metadata_props ?? []) metadata[p.key ?? ''] = p.value ?? '';
  const model: Model = {
    irVersion: toNum(m.ir_version),
    opsets: (m.opset_import ?? []).map((o: Any) => ({ domain: o.domain ?? '', version: toNum(o.version) })),
    producerName: m.producer_name ?? '',
    producerVersion: m.producer_version ?? '',
    docString: m.doc_string ?? '',
    graph,
    metadata,
  };
  return { model, externalData: ext };
}

/** Encode the IR into ONNX bytes. */
export function encodeModel(model: Model): Uint8Array {
  const { ModelProto } = types();
  const msg = {
    ir_version: model.irVersion,
    opset_import: model.opsets.map((o) => ({ domain: o.domain, version: o.version })),
    producer_name: model.producerName,
    producer_version: model.producerVersion ?? '',
    doc_string: model.docString ?? '',
    graph: encodeGraph(model.graph),
    metadata_props: Object.entries(model.metadata).map(([key, value]) => ({ key, value })),
  };
  return ModelProto.encode(ModelProto.fromObject(msg)).finish();
}

/** Build a Model around a graph with Lethe's defaults (IR 8, opset 17). */
export function makeModel(graph: Graph, opset = 17, metadata: Record<string, string> = {}): Model {
  return {
    irVersion: 8,
    opsets: [{ domain: '', version: opset }],
    producerName: 'lethe',
    producerVersion: '0.1.0',
    graph,
    metadata,
  };
}

export type { TypedArray, DType };
