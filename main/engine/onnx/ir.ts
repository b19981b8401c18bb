// Lethe's in-memory ONNX representation. Everything in the engine (validation, shape inference,
// autodiff, training-graph assembly, built-in architectures) works on these plain objects; the
// protobuf codec (codec.ts) converts them to and from ONNX bytes.

export type DType = 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

/** ONNX TensorProto.DataType codes for the types Lethe handles. */
export const DTYPE_CODE: Record<DType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
};
export const CODE_DTYPE: Record<number, DType> = Object.fromEntries(
  Object.entries(DTYPE_CODE).map(([k, v]) => [v, k as DType]),
) as Record<number, DType>;

export type TypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Int8Array | Uint8Array | Uint16Array;

/** A concrete tensor (initializer, constant or runtime value). `bool` is stored as Uint8Array, `float16` as Uint16Array. */
export interface Tensor {
  dtype: DType;
  dims: number[];
  data: TypedArray;
}

/** A named initializer / constant. */
export interface NamedTensor extends Tensor {
  name: string;
}

/** A dimension is a fixed size, a symbolic name (e.g. 'N' for batch), or unknown (null). */
export type Dim = number | string | null;

export interface ValueInfo {
  name: string;
  dtype: DType;
  /** null = rank unknown */
  shape: Dim[] | null;
}

export type AttrValue =
  | { type: 'int'; value: number }
  | { type: 'float'; value: number }
  | { type: 'string'; value: string }
  | { type: 'ints'; value: number[] }
  | { type: 'floats'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensor'; value: Tensor }
  | { type: 'graph'; value: Graph };

export interface Node {
  op: string;
  /** '' or 'ai.onnx' = default domain */
  domain?: string;
  name?: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

export interface Graph {
  name: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: NamedTensor[];
  /** intermediate value infos (optional, informative) */
  valueInfo?: ValueInfo[];
}

export interface OpsetImport {
  domain: string;
  version: number;
}

export interface Model {
  irVersion: number;
  opsets: OpsetImport[];
  producerName: string;
  producerVersion?: string;
  docString?: string;
  graph: Graph;
  metadata: Record<string, string>;
}

// ---------- attribute helpers (float attributes must be tagged: plain numbers would be INTs) ----------
export const attr = {
  int: (value: number): AttrValue => ({ type: 'int', value }),
  float: (value: number): AttrValue => ({ type: 'float', value }),
  string: (value: string): AttrValue => ({ type: 'string', value }),
  ints: (value: number[]): AttrValue => ({ type: 'ints', value }),
  floats: (value: number[]): AttrValue => ({ type: 'floats', value }),
  tensor: (value: Tensor): AttrValue => ({ type: 'tensor', value }),
};

type AttrValueOf<T extends AttrValue['type']> = Extract<AttrValue, { type: T }>['value'];

export function getAttr<T extends AttrValue['type']>(node: Node, name: string, type: T): AttrValueOf<T> | undefined {
  const a = node.attrs[name];
  if (!a) return undefined;
  if (a.type !== type) throw new Error(`node ${node.name ?? node.op}: attribute ${name} is ${a.type}, expected ${type}`);
  return a.value as never;
}

export function attrInt(node: Node, name: string, dflt: number): number {
  return getAttr(node, name, 'int') ?? dflt;
}
export function attrFloat(node: Node, name: string, dflt: number): number {
  return getAttr(node, name, 'float') ?? dflt;
}
export function attrInts(node: Node, name: string, dflt: number[]): number[] {
  return getAttr(node, name, 'ints') ?? dflt;
}

// ---------- tensor helpers ----------
/** The node that computes each value of a graph. */
export function producersOf(g: Graph): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) m.set(o, n);
  return m;
}

/** The nodes that read each value of a graph, with the input position (graph outputs not included). */
export function consumersOf(g: Graph): Map<string, { node: Node; index: number }[]> {
  const m = new Map<string, { node: Node; index: number }[]>();
  for (const n of g.nodes) {
    n.inputs.forEach((name, index) => {
      if (!name) return;
      let l = m.get(name);
      if (!l) m.set(name, (l = []));
      l.push({ node: n, index });
    });
  }
  return m;
}

export function numel(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function allocTensorData(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'int8':
      return new Int8Array(n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(n);
    case 'float16':
      return new Uint16Array(n);
  }
}

export function bytesPerElement(dtype: DType): number {
  switch (dtype) {
    case 'float64':
    case 'int64':
      return 8;
    case 'float32':
    case 'int32':
      return 4;
    case 'float16':
      return 2;
    default:
      return 1;
  }
}

export function tensorF32(dims: number[], data?: ArrayLike<number>): Tensor {
  const t = new Float32Array(numel(dims));
  if (data) t.set(data);
  return { dtype: 'float32', dims, data: t };
}
export function tensorI64(dims: number[], data: ArrayLike<number | bigint>): Tensor {
  const t = new BigInt64Array(numel(dims));
  for (let i = 0; i < t.length; i++) t[i] = BigInt(data[i]);
  return { dtype: 'int64', dims, data: t };
}

/** ONNX's INT64 max, used for open-ended Slice ends. */
export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;

export function cloneModel(m: Model): Model {
  return {
    ...m,
    opsets: m.opsets.map((o) => ({ ...o })),
    metadata: { ...m.metadata },
    graph: cloneGraph(m.graph),
  };
}

export function cloneGraph(g: Graph): Graph {
  return {
    name: g.name,
    nodes: g.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs: { ...n.attrs } })),
    inputs: g.inputs.map((v) => ({ ...v, shape: v.shape ? [...v.shape] : null })),
    outputs: g.outputs.map((v) => ({ ...v, shape: v.shape ? [...v.shape] : null })),
    // initializer data is shared (copy-on-write by convention: never mutate in place)
    initializers: g.initializers.map((t) => ({ ...t, dims: [...t.dims] })),
    valueInfo: g.valueInfo?.map((v) => ({ ...v, shape: v.shape ? [...v.shape] : null })),
  };
}

export function defaultOpset(m: Model): number {
  const o = m.opsets.find((x) => x.domain === '' || x.domain === 'ai.onnx');
  return o ? o.version : 0;
}
