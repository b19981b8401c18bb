// Shape and type inference over the Lethe IR.
//
// Dimensions are numbers, symbolic names ('N') or derived symbolic products ('N*64'), or null when
// unknown. Small int64 tensors computed from shapes (Shape -> Gather -> Unsqueeze -> Concat -> Reshape,
// as torch.onnx.export emits them) are folded symbolically, so Reshape targets resolve to e.g.
// ['N', 1568]. Opset-dependent forms are recognised by their shape (axes as attribute or as input).

import { type DType, type Dim, type Graph, type Node, type Tensor, CODE_DTYPE, attrInt, attrInts, getAttr } from './ir';

export interface ValueType {
  dtype: DType;
  shape: Dim[] | null;
}

/** A small tensor whose values are known at graph-build time (ints may be symbolic dims). */
export interface KnownValue {
  dtype: DType;
  dims: number[];
  values: Dim[];
}

export interface ShapeAnalysis {
  types: Map<string, ValueType>;
  /** values of small constant / shape-derived tensors (at most MAX_FOLD elements) */
  known: Map<string, KnownValue>;
}

const MAX_FOLD = 64;

export class ShapeInferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeInferenceError';
  }
}

// ---------------------------------------------------------------- symbolic dim algebra
// A symbolic dim string is a product "c*a*b" of atoms; atoms are names or parenthesised expressions.

function splitTop(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === sep && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function parseProd(d: number | string): { c: number; atoms: string[] } {
  if (typeof d === 'number') return { c: d, atoms: [] };
  let c = 1;
  const atoms: string[] = [];
  for (const p of splitTop(d, '*')) {
    const t = p.trim();
    if (/^-?\d+$/.test(t)) c *= Number(t);
    else atoms.push(t);
  }
  return { c, atoms };
}

function formatProd(c: number, atoms: string[]): Dim {
  if (atoms.length === 0) return c;
  const s = [...atoms].sort().join('*');
  return c === 1 ? s : `${c}*${s}`;
}

export function dimMul(a: Dim, b: Dim): Dim {
  if (a === null || b === null) return a === 0 || b === 0 ? 0 : null;
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  const pa = parseProd(a);
  const pb = parseProd(b);
  if (pa.c * pb.c === 0) return 0;
  return formatProd(pa.c * pb.c, [...pa.atoms, ...pb.atoms]);
}

/** Exact division of products; null when it does not divide. */
export function dimDiv(a: Dim, b: Dim): Dim {
  if (a === null || b === null) return null;
  if (typeof a === 'number' && typeof b === 'number') return b !== 0 && a % b === 0 ? a / b : null;
  const pa = parseProd(a);
  const pb = parseProd(b);
  if (pb.c === 0 || pa.c % pb.c !== 0) return null;
  const atoms = [...pa.atoms];
  for (const x of pb.atoms) {
    const i = atoms.indexOf(x);
    if (i < 0) return null;
    atoms.splice(i, 1);
  }
  return formatProd(pa.c / pb.c, atoms);
}

function dimAdd(a: Dim, b: Dim, sign = 1): Dim {
  if (a === null || b === null) return null;
  if (typeof a === 'number' && typeof b === 'number') return a + sign * b;
  if (b === 0) return a;
  return `(${a}${sign > 0 ? '+' : '-'}${b})`;
}

export function dimsEqual(a: Dim, b: Dim): boolean {
  return a !== null && b !== null && a === b;
}

export function numelDims(shape: Dim[]): Dim {
  return shape.reduce<Dim>((acc, d) => dimMul(acc, d), 1);
}

/** True when every dim is a known number. */
export function isStatic(shape: Dim[] | null | undefined): shape is number[] {
  return !!shape && shape.every((d) => typeof d === 'number');
}

/** Numpy broadcasting of two shapes (symbolic dims are assumed != 1). */
export function broadcastShapes(a: Dim[], b: Dim[], where = 'broadcast'): Dim[] {
  const r = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < r; i++) {
    const x = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
    const y = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
    if (x === 1) out.push(y);
    else if (y === 1) out.push(x);
    else if (x === null) out.push(y);
    else if (y === null) out.push(x);
    else if (x === y) out.push(x);
    else if (typeof x === 'number' && typeof y === 'number')
      throw new ShapeInferenceError(`${where}: shapes [${a.join(',')}] and [${b.join(',')}] cannot be broadcast`);
    else out.push(typeof x === 'number' ? x : y);
  }
  return out;
}

// ---------------------------------------------------------------- helpers

const FLOAT_SAME = new Set([
  'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Erf', 'Gelu', 'Neg', 'Abs', 'Sqrt', 'Exp', 'Log', 'Identity',
  'Softplus', 'Softsign', 'Reciprocal', 'Floor', 'Ceil', 'Round', 'Elu', 'Selu', 'Celu', 'HardSigmoid',
  'HardSwish', 'Mish', 'Sin', 'Cos', 'Sign', 'Clip', 'Softmax', 'LogSoftmax', 'Hardmax', 'LRN', 'Trilu',
  'CumSum', 'ThresholdedRelu', 'PRelu', 'InstanceNormalization', 'GroupNormalization', 'MeanVarianceNormalization',
  'ScatterElements', 'ScatterND', 'Scatter', 'Shrink', 'Erf', 'Tan', 'Atan', 'Asin', 'Acos',
]);
const BROADCAST_SAME = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Mod', 'BitShift']);
const BROADCAST_BOOL = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor']);
const REDUCE_OPS = new Set([
  'ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum',
  'ReduceLogSumExp', 'ReduceSumSquare',
]);

function normAxis(a: number, rank: number, where: string): number {
  const r = a < 0 ? a + rank : a;
  if (r < 0 || r >= rank) throw new ShapeInferenceError(`${where}: axis ${a} is out of range for rank ${rank}`);
  return r;
}

function tensorValues(t: Tensor): Dim[] | null {
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (n > MAX_FOLD) return null;
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const v = t.data[i];
    out.push(typeof v === 'bigint' ? Number(v) : (v as number));
  }
  if (t.dtype === 'float16') return null;
  return out;
}

function convOut(inp: Dim, k: number, s: number, d: number, pb: number, pe: number, ceil: boolean): Dim {
  const ek = d * (k - 1) + 1;
  if (typeof inp === 'number') {
    const v = (inp + pb + pe - ek) / s;
    let o = (ceil ? Math.ceil(v) : Math.floor(v)) + 1;
    // ceil_mode: the last window must start inside the input or the leading padding (PyTorch, ORT)
    if (ceil && (o - 1) * s >= inp + pb) o--;
    return o;
  }
  if (inp === null) return null;
  if (s === 1 && pb + pe - ek + 1 === 0) return inp;
  if (s === 1) return dimAdd(inp, pb + pe - ek + 1);
  return `(((${inp})+${pb + pe - ek})/${s}+1)`;
}

/** Explicit pads for Conv/Pool given auto_pad; spatial dims must be static for SAME_*. */
export function resolvePads(node: Node, inSpatial: Dim[], kernel: number[], strides: number[], dilations: number[]): number[] {
  const r = kernel.length;
  const autoPad = getAttr(node, 'auto_pad', 'string') ?? 'NOTSET';
  if (autoPad === 'NOTSET' || autoPad === '') return attrInts(node, 'pads', new Array(2 * r).fill(0));
  if (autoPad === 'VALID') return new Array(2 * r).fill(0);
  const pads = new Array(2 * r).fill(0);
  for (let i = 0; i < r; i++) {
    const n = inSpatial[i];
    if (typeof n !== 'number') throw new ShapeInferenceError(`${node.op} '${node.name ?? ''}': auto_pad=${autoPad} needs static spatial dims`);
    const out = Math.ceil(n / strides[i]);
    const total = Math.max(0, (out - 1) * strides[i] + dilations[i] * (kernel[i] - 1) + 1 - n);
    const small = Math.floor(total / 2);
    if (autoPad === 'SAME_UPPER') {
      pads[i] = small;
      pads[i + r] = total - small;
    } else {
      pads[i] = total - small;
      pads[i + r] = small;
    }
  }
  return pads;
}

// ---------------------------------------------------------------- inference

/**
 * Infer dtype and shape of every value in the graph. `overrides` replaces the declared shapes of graph
 * inputs (e.g. `{input: [64, 3, 32, 32]}`). Unknown ops yield the first input's dtype and an unknown shape.
 */
export function inferShapes(graph: Graph, overrides?: Record<string, Dim[]>): Map<string, ValueType> {
  return analyzeShapes(graph, overrides).types;
}

export function analyzeShapes(graph: Graph, overrides?: Record<string, Dim[]>): ShapeAnalysis {
  const types = new Map<string, ValueType>();
  const known = new Map<string, KnownValue>();
  for (const t of graph.initializers) {
    types.set(t.name, { dtype: t.dtype, shape: [...t.dims] });
    const v = tensorValues(t);
    if (v) known.set(t.name, { dtype: t.dtype, dims: [...t.dims], values: v });
  }
  for (const i of graph.inputs) {
    const ov = overrides?.[i.name];
    // an input that is also an initializer: the initializer provides the default (keep its shape if input unspecified)
    if (ov) types.set(i.name, { dtype: i.dtype, shape: [...ov] });
    else if (!types.has(i.name) || i.shape) types.set(i.name, { dtype: i.dtype, shape: i.shape ? [...i.shape] : null });
    known.delete(i.name); // graph inputs can be overridden at run time
  }
  for (const node of graph.nodes) {
    try {
      inferNode(node, types, known);
    } catch (e) {
      if (e instanceof ShapeInferenceError) throw e;
      throw new ShapeInferenceError(`${node.op} node '${node.name ?? ''}': ${(e as Error).message}`);
    }
  }
  return { types, known };
}

function inferNode(node: Node, types: Map<string, ValueType>, known: Map<string, KnownValue>): void {
  const where = `${node.op} node '${node.name ?? node.outputs[0]}'`;
  const T = (i: number): ValueType | undefined => (node.inputs[i] ? types.get(node.inputs[i]) : undefined);
  const S = (i: number): Dim[] | null => T(i)?.shape ?? null;
  const K = (i: number): KnownValue | undefined => (node.inputs[i] ? known.get(node.inputs[i]) : undefined);
  const set = (i: number, dtype: DType, shape: Dim[] | null) => {
    if (node.outputs[i]) types.set(node.outputs[i], { dtype, shape });
  };
  const setKnown = (i: number, kv: KnownValue) => {
    if (node.outputs[i] && kv.values.length <= MAX_FOLD) known.set(node.outputs[i], kv);
  };
  const inDtype: DType = T(0)?.dtype ?? 'float32';
  for (let i = 0; i < node.inputs.length; i++) {
    if (node.inputs[i] && !types.has(node.inputs[i])) throw new ShapeInferenceError(`${where}: input '${node.inputs[i]}' is not defined before use`);
  }
  const intArg = (i: number): number[] | null => {
    const k = K(i);
    if (!k || !k.values.every((v) => typeof v === 'number')) return null;
    return k.values as number[];
  };
  const axesArg = (attrPos: number): number[] | null => {
    const a = getAttr(node, 'axes', 'ints');
    if (a) return a;
    if (node.inputs[attrPos]) return intArg(attrPos);
    return [];
  };
  const op = node.op;

  if (FLOAT_SAME.has(op)) {
    set(0, inDtype, S(0));
    if (op === 'GroupNormalization' || op === 'InstanceNormalization') return;
    return;
  }
  if (BROADCAST_SAME.has(op) || BROADCAST_BOOL.has(op)) {
    let shape: Dim[] | null = S(0);
    for (let i = 1; i < node.inputs.length && shape; i++) {
      const s = S(i);
      shape = s ? broadcastShapes(shape, s, where) : null;
    }
    const dt = BROADCAST_BOOL.has(op) ? 'bool' : inDtype;
    set(0, dt, shape);
    // fold small int arithmetic on shapes
    if (['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min'].includes(op) && node.inputs.length === 2) {
      const a = K(0);
      const b = K(1);
      if (a && b && shape && isStatic(shape) && (a.values.length === 1 || b.values.length === 1 || a.values.length === b.values.length)) {
        const n = Math.max(a.values.length, b.values.length);
        const vals: Dim[] = [];
        for (let i = 0; i < n; i++) {
          const x = a.values[a.values.length === 1 ? 0 : i];
          const y = b.values[b.values.length === 1 ? 0 : i];
          let v: Dim = null;
          if (op === 'Mul') v = dimMul(x, y);
          else if (op === 'Add') v = dimAdd(x, y);
          else if (op === 'Sub') v = dimAdd(x, y, -1);
          else if (op === 'Div') v = typeof x === 'number' && typeof y === 'number' && inDtype !== 'float32' && inDtype !== 'float64' ? Math.trunc(x / y) : typeof x === 'number' && typeof y === 'number' ? x / y : dimDiv(x, y);
          else if (typeof x === 'number' && typeof y === 'number') v = op === 'Max' ? Math.max(x, y) : Math.min(x, y);
          vals.push(v);
        }
        setKnown(0, { dtype: inDtype, dims: shape as number[], values: vals });
      }
    }
    return;
  }
  if (op === 'Not' || op === 'IsNaN' || op === 'IsInf') {
    set(0, 'bool', S(0));
    return;
  }
  if (REDUCE_OPS.has(op)) {
    const s = S(0);
    const keep = attrInt(node, 'keepdims', 1);
    const noop = attrInt(node, 'noop_with_empty_axes', 0);
    const axes = axesArg(1);
    if (!s || axes === null) {
      set(0, inDtype, s && keep ? s.map(() => null) : null);
      return;
    }
    if (axes.length === 0 && noop) {
      set(0, inDtype, s);
      return;
    }
    const ax = new Set((axes.length ? axes : s.map((_, i) => i)).map((a) => normAxis(a, s.length, where)));
    const out: Dim[] = [];
    s.forEach((d, i) => {
      if (!ax.has(i)) out.push(d);
      else if (keep) out.push(1);
    });
    set(0, inDtype, out);
    return;
  }

  switch (op) {
    case 'Constant': {
      const t = getAttr(node, 'value', 'tensor');
      if (t) {
        set(0, t.dtype, [...t.dims]);
        const v = tensorValues(t);
        if (v) setKnown(0, { dtype: t.dtype, dims: [...t.dims], values: v });
        return;
      }
      const fv = getAttr(node, 'value_float', 'float');
      const fvs = getAttr(node, 'value_floats', 'floats');
      const iv = getAttr(node, 'value_int', 'int');
      const ivs = getAttr(node, 'value_ints', 'ints');
      if (fv !== undefined) {
        set(0, 'float32', []);
        setKnown(0, { dtype: 'float32', dims: [], values: [fv] });
      } else if (fvs) {
        set(0, 'float32', [fvs.length]);
        setKnown(0, { dtype: 'float32', dims: [fvs.length], values: fvs });
      } else if (iv !== undefined) {
        set(0, 'int64', []);
        setKnown(0, { dtype: 'int64', dims: [], values: [iv] });
      } else if (ivs) {
        set(0, 'int64', [ivs.length]);
        setKnown(0, { dtype: 'int64', dims: [ivs.length], values: ivs });
      } else throw new ShapeInferenceError(`${where}: unsupported Constant form`);
      return;
    }
    case 'Shape': {
      const s = S(0);
      if (!s) {
        set(0, 'int64', [null]);
        return;
      }
      let st = attrInt(node, 'start', 0);
      let en = getAttr(node, 'end', 'int') ?? s.length;
      const r = s.length;
      st = Math.min(Math.max(st < 0 ? st + r : st, 0), r);
      en = Math.min(Math.max(en < 0 ? en + r : en, 0), r);
      const vals = s.slice(st, Math.max(st, en));
      set(0, 'int64', [vals.length]);
      setKnown(0, { dtype: 'int64', dims: [vals.length], values: vals });
      return;
    }
    case 'Size': {
      set(0, 'int64', []);
      const s = S(0);
      if (s) setKnown(0, { dtype: 'int64', dims: [], values: [numelDims(s)] });
      return;
    }
    case 'Cast': {
      const to = CODE_DTYPE[attrInt(node, 'to', 1)];
      if (!to) throw new ShapeInferenceError(`${where}: unsupported 'to' type ${attrInt(node, 'to', 0)}`);
      set(0, to, S(0));
      const k = K(0);
      if (k) setKnown(0, { ...k, dtype: to });
      return;
    }
    case 'CastLike': {
      set(0, T(1)?.dtype ?? inDtype, S(0));
      return;
    }
    case 'Gather': {
      const s = S(0);
      const is = S(1);
      if (!s || !is) {
        set(0, inDtype, null);
        return;
      }
      const axis = normAxis(attrInt(node, 'axis', 0), s.length, where);
      const out = [...s.slice(0, axis), ...is, ...s.slice(axis + 1)];
      set(0, inDtype, out);
      const k = K(0);
      const idx = intArg(1);
      if (k && idx && s.length === 1 && isStatic(is)) {
        const n = s[0] as number;
        const vals = idx.map((i) => k.values[i < 0 ? i + n : i] ?? null);
        setKnown(0, { dtype: k.dtype, dims: is, values: vals });
      }
      return;
    }
    case 'GatherElements':
      set(0, inDtype, S(1));
      return;
    case 'Unsqueeze':
    case 'Squeeze': {
      const s = S(0);
      const axes = axesArg(1);
      if (!s || axes === null) {
        set(0, inDtype, null);
        return;
      }
      let out: Dim[];
      if (op === 'Unsqueeze') {
        const r = s.length + axes.length;
        const ax = new Set(axes.map((a) => normAxis(a, r, where)));
        out = [];
        let j = 0;
        for (let i = 0; i < r; i++) out.push(ax.has(i) ? 1 : s[j++]);
      } else if (axes.length === 0) {
        out = s.filter((d) => d !== 1);
        if (s.some((d) => typeof d !== 'number')) out = s.filter((d) => d !== 1); // symbolic dims assumed != 1
      } else {
        const ax = new Set(axes.map((a) => normAxis(a, s.length, where)));
        for (const a of ax) {
          if (typeof s[a] === 'number' && s[a] !== 1) throw new ShapeInferenceError(`${where}: cannot squeeze axis ${a} of size ${s[a]}`);
        }
        out = s.filter((_, i) => !ax.has(i));
      }
      set(0, inDtype, out);
      const k = K(0);
      if (k && isStatic(out)) setKnown(0, { ...k, dims: out });
      return;
    }
    case 'Concat': {
      const shapes = node.inputs.map((_, i) => S(i));
      if (shapes.some((s) => !s)) {
        const r = shapes.find((s) => s)?.length;
        set(0, inDtype, r === undefined ? null : new Array(r).fill(null));
        return;
      }
      const ss = shapes as Dim[][];
      const r = ss[0].length;
      const axis = normAxis(attrInt(node, 'axis', 0), r, where);
      const out = [...ss[0]];
      for (let i = 1; i < ss.length; i++) {
        if (ss[i].length !== r) throw new ShapeInferenceError(`${where}: inputs have different ranks`);
        out[axis] = dimAdd(out[axis], ss[i][axis]);
        for (let d = 0; d < r; d++) if (d !== axis && out[d] === null) out[d] = ss[i][d];
      }
      set(0, inDtype, out);
      const ks = node.inputs.map((_, i) => K(i));
      if (r === 1 && ks.every((k) => k)) {
        const vals = ks.flatMap((k) => k!.values);
        setKnown(0, { dtype: inDtype, dims: [vals.length], values: vals });
      }
      return;
    }
    case 'ConstantOfShape': {
      const t = getAttr(node, 'value', 'tensor');
      const dt = t?.dtype ?? 'float32';
      const k = K(0);
      const shp = S(0);
      const out = k ? k.values : shp && typeof shp[0] === 'number' ? new Array(shp[0]).fill(null) : null;
      set(0, dt, out);
      if (out && isStatic(out)) {
        const n = out.reduce((a, b) => a * b, 1);
        const v = t ? (tensorValues(t)?.[0] ?? 0) : 0;
        if (n <= MAX_FOLD) setKnown(0, { dtype: dt, dims: out, values: new Array(n).fill(v) });
      }
      return;
    }
    case 'Range': {
      const [a, b, c] = [intArg(0), intArg(1), intArg(2)];
      if (a && b && c) {
        const n = Math.max(Math.ceil((b[0] - a[0]) / c[0]), 0);
        set(0, inDtype, [n]);
        if (n <= MAX_FOLD) setKnown(0, { dtype: inDtype, dims: [n], values: Array.from({ length: n }, (_, i) => a[0] + i * c[0]) });
      } else set(0, inDtype, [null]);
      return;
    }
    case 'Expand': {
      const s = S(0);
      const k = K(1);
      if (!s || !k) {
        const n = S(1)?.[0];
        set(0, inDtype, typeof n === 'number' ? new Array(Math.max(n, s?.length ?? 0)).fill(null) : null);
        return;
      }
      set(0, inDtype, broadcastShapes(s, k.values, where));
      return;
    }
    case 'Tile': {
      const s = S(0);
      const rep = intArg(1);
      set(0, inDtype, s && rep ? s.map((d, i) => dimMul(d, rep[i])) : s ? s.map(() => null) : null);
      return;
    }
    case 'Reshape': {
      const s = S(0);
      const k = K(1);
      if (!k) {
        const n = S(1)?.[0];
        set(0, inDtype, typeof n === 'number' ? new Array(n).fill(null) : null);
        return;
      }
      const allowZero = attrInt(node, 'allowzero', 0);
      const out: Dim[] = k.values.map((v, i) => (v === 0 && !allowZero ? (s ? s[i] : null) : v));
      const neg = out.findIndex((v) => v === -1);
      if (neg >= 0) {
        if (out.filter((v) => v === -1).length > 1) throw new ShapeInferenceError(`${where}: more than one -1 in the target shape`);
        if (s) {
          const rest = out.filter((_, i) => i !== neg);
          const q = dimDiv(numelDims(s), numelDims(rest));
          if (q === null && isStatic(s) && isStatic(rest)) {
            throw new ShapeInferenceError(`${where}: cannot reshape [${s.join(',')}] to [${k.values.join(',')}]`);
          }
          out[neg] = q;
        } else out[neg] = null;
      } else if (s && isStatic(s) && isStatic(out) && numelDims(s) !== numelDims(out)) {
        throw new ShapeInferenceError(`${where}: cannot reshape [${s.join(',')}] (${numelDims(s)} elements) to [${out.join(',')}]`);
      }
      set(0, inDtype, out);
      const kv = K(0);
      if (kv && isStatic(out)) setKnown(0, { ...kv, dims: out });
      return;
    }
    case 'Flatten': {
      const s = S(0);
      if (!s) {
        set(0, inDtype, [null, null]);
        return;
      }
      let axis = attrInt(node, 'axis', 1);
      if (axis < 0) axis += s.length;
      set(0, inDtype, [numelDims(s.slice(0, axis)), numelDims(s.slice(axis))]);
      return;
    }
    case 'Transpose': {
      const s = S(0);
      if (!s) {
        set(0, inDtype, null);
        return;
      }
      const perm = attrInts(node, 'perm', s.map((_, i) => s.length - 1 - i));
      if (perm.length !== s.length) throw new ShapeInferenceError(`${where}: perm has ${perm.length} entries for rank ${s.length}`);
      set(0, inDtype, perm.map((p) => s[p]));
      return;
    }
    case 'Slice': {
      const s = S(0);
      if (!s) {
        set(0, inDtype, null);
        return;
      }
      // opset >= 10: starts/ends/axes/steps are inputs; opset < 10: attributes
      const starts = getAttr(node, 'starts', 'ints') ?? intArgBig(K(1));
      const ends = getAttr(node, 'ends', 'ints') ?? intArgBig(K(2));
      const axesIn = getAttr(node, 'axes', 'ints') ?? (node.inputs[3] ? intArgBig(K(3)) : undefined);
      const steps = node.inputs[4] ? intArgBig(K(4)) : undefined;
      if (!starts || !ends || axesIn === null || steps === null) {
        set(0, inDtype, s.map(() => null));
        return;
      }
      const axes = axesIn ?? starts.map((_, i) => i);
      const out = [...s];
      const vals = K(0);
      let sliced: Dim[] | null = vals && s.length === 1 ? [...vals.values] : null;
      axes.forEach((a0, i) => {
        const a = normAxis(a0, s.length, where);
        const d = s[a];
        const st = steps ? steps[i] : 1;
        if (st === 0) throw new ShapeInferenceError(`${where}: step 0`);
        if (typeof d !== 'number') {
          out[a] = null;
          sliced = null;
          return;
        }
        const [b, e] = sliceRange(starts[i], ends[i], st, d);
        const n = st > 0 ? Math.max(0, Math.ceil((e - b) / st)) : Math.max(0, Math.ceil((b - e) / -st));
        out[a] = n;
        if (sliced) sliced = Array.from({ length: n }, (_, j) => sliced![b + j * st]);
      });
      set(0, inDtype, out);
      if (sliced) setKnown(0, { dtype: inDtype, dims: [(sliced as Dim[]).length], values: sliced });
      return;
    }
    case 'Pad': {
      const s = S(0);
      const pads = getAttr(node, 'pads', 'ints') ?? intArg(1);
      if (!s || !pads) {
        set(0, inDtype, s ? s.map(() => null) : null);
        return;
      }
      const axes = node.inputs[3] ? intArg(3) : s.map((_, i) => i);
      if (!axes) {
        set(0, inDtype, s.map(() => null));
        return;
      }
      const out = [...s];
      axes.forEach((a0, i) => {
        const a = normAxis(a0, s.length, where);
        out[a] = dimAdd(dimAdd(s[a], pads[i]), pads[i + axes.length]);
      });
      set(0, inDtype, out);
      return;
    }
    case 'Split': {
      const s = S(0);
      const n = node.outputs.length;
      if (!s) {
        node.outputs.forEach((_, i) => set(i, inDtype, null));
        return;
      }
      const axis = normAxis(attrInt(node, 'axis', 0), s.length, where);
      let sizes = getAttr(node, 'split', 'ints') ?? (node.inputs[1] ? intArg(1) : undefined);
      const d = s[axis];
      if (sizes === undefined && typeof d === 'number') {
        const chunk = Math.ceil(d / n);
        sizes = Array.from({ length: n }, (_, i) => Math.max(0, Math.min(chunk, d - i * chunk)));
      }
      node.outputs.forEach((_, i) => {
        const o = [...s];
        o[axis] = sizes ? sizes[i] : null;
        set(i, inDtype, o);
      });
      return;
    }
    case 'Where': {
      let shape: Dim[] | null = S(0);
      for (const i of [1, 2]) {
        const x = S(i);
        shape = shape && x ? broadcastShapes(shape, x, where) : null;
      }
      set(0, T(1)?.dtype ?? 'float32', shape);
      return;
    }
    case 'MatMul': {
      const a = S(0);
      const b = S(1);
      if (!a || !b) {
        set(0, inDtype, null);
        return;
      }
      const a2 = a.length === 1 ? [1, a[0]] : a;
      const b2 = b.length === 1 ? [b[0], 1] : b;
      const ka = a2[a2.length - 1];
      const kb = b2[b2.length - 2];
      if (typeof ka === 'number' && typeof kb === 'number' && ka !== kb) {
        throw new ShapeInferenceError(`${where}: inner dimensions differ ([${a.join(',')}] x [${b.join(',')}])`);
      }
      const batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2), where);
      const out = [...batch];
      if (a.length > 1) out.push(a2[a2.length - 2]);
      if (b.length > 1) out.push(b2[b2.length - 1]);
      set(0, inDtype, out);
      return;
    }
    case 'Gemm': {
      const a = S(0);
      const b = S(1);
      if (!a || !b) {
        set(0, inDtype, [null, null]);
        return;
      }
      const m = attrInt(node, 'transA', 0) ? a[1] : a[0];
      const n = attrInt(node, 'transB', 0) ? b[0] : b[1];
      set(0, inDtype, [m, n]);
      return;
    }
    case 'Conv':
    case 'ConvInteger':
    case 'MaxPool':
    case 'AveragePool':
    case 'LpPool': {
      const s = S(0);
      const isConv = op === 'Conv' || op === 'ConvInteger';
      const w = isConv ? S(1) : null;
      if (!s) {
        node.outputs.forEach((_, i) => set(i, i === 1 ? 'int64' : inDtype, null));
        return;
      }
      const r = s.length - 2;
      let kernel = attrInts(node, 'kernel_shape', []);
      if (kernel.length === 0 && w && isStatic(w.slice(2))) kernel = w.slice(2) as number[];
      if (kernel.length !== r) {
        node.outputs.forEach((_, i) => set(i, i === 1 ? 'int64' : inDtype, [s[0], isConv ? (w?.[0] ?? null) : s[1], ...new Array(r).fill(null)]));
        return;
      }
      const strides = attrInts(node, 'strides', new Array(r).fill(1));
      const dil = attrInts(node, 'dilations', new Array(r).fill(1));
      const pads = resolvePads(node, s.slice(2), kernel, strides, dil);
      const ceil = !isConv && attrInt(node, 'ceil_mode', 0) === 1;
      const sp = kernel.map((k, i) => convOut(s[2 + i], k, strides[i], dil[i], pads[i], pads[i + r], ceil));
      const c = isConv ? (w ? w[0] : null) : s[1];
      set(0, isConv && op === 'ConvInteger' ? 'int32' : inDtype, [s[0], c, ...sp]);
      if (node.outputs[1]) set(1, 'int64', [s[0], c, ...sp]);
      return;
    }
    case 'ConvTranspose': {
      const s = S(0);
      const w = S(1);
      if (!s || !w) {
        set(0, inDtype, null);
        return;
      }
      const r = s.length - 2;
      const group = attrInt(node, 'group', 1);
      const kernel = attrInts(node, 'kernel_shape', w.slice(2) as number[]);
      const strides = attrInts(node, 'strides', new Array(r).fill(1));
      const dil = attrInts(node, 'dilations', new Array(r).fill(1));
      const outPad = attrInts(node, 'output_padding', new Array(r).fill(0));
      const outShape = getAttr(node, 'output_shape', 'ints');
      const pads = attrInts(node, 'pads', new Array(2 * r).fill(0));
      const c = dimMul(w[1], group);
      if (outShape) {
        set(0, inDtype, [s[0], c, ...outShape.slice(-r)]);
        return;
      }
      const sp = kernel.map((k, i) => {
        const d = s[2 + i];
        return typeof d === 'number' ? strides[i] * (d - 1) + outPad[i] + (k - 1) * dil[i] + 1 - pads[i] - pads[i + r] : null;
      });
      set(0, inDtype, [s[0], c, ...sp]);
      return;
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
    case 'GlobalLpPool': {
      const s = S(0);
      set(0, inDtype, s ? [s[0], s[1], ...s.slice(2).map(() => 1)] : null);
      return;
    }
    case 'BatchNormalization': {
      const s = S(0);
      set(0, inDtype, s);
      const c = s ? [s[1]] : [null];
      for (let i = 1; i < node.outputs.length; i++) set(i, T(3)?.dtype ?? inDtype, c);
      return;
    }
    case 'LayerNormalization': {
      const s = S(0);
      set(0, inDtype, s);
      if (!s) {
        for (let i = 1; i < node.outputs.length; i++) set(i, 'float32', null);
        return;
      }
      const axis = normAxis(attrInt(node, 'axis', -1), s.length, where);
      const st = s.map((d, i) => (i < axis ? d : 1));
      const statType = (getAttr(node, 'stash_type', 'int') ?? 1) === 1 ? 'float32' : inDtype;
      for (let i = 1; i < node.outputs.length; i++) set(i, statType, st);
      return;
    }
    case 'Dropout': {
      set(0, inDtype, S(0));
      if (node.outputs[1]) set(1, 'bool', S(0));
      return;
    }
    case 'ArgMax':
    case 'ArgMin': {
      const s = S(0);
      if (!s) {
        set(0, 'int64', null);
        return;
      }
      const axis = normAxis(attrInt(node, 'axis', 0), s.length, where);
      const keep = attrInt(node, 'keepdims', 1);
      set(0, 'int64', keep ? s.map((d, i) => (i === axis ? 1 : d)) : s.filter((_, i) => i !== axis));
      return;
    }
    case 'TopK': {
      const s = S(0);
      const k = intArg(1);
      if (!s) {
        set(0, inDtype, null);
        set(1, 'int64', null);
        return;
      }
      const axis = normAxis(attrInt(node, 'axis', -1), s.length, where);
      const kk = getAttr(node, 'k', 'int') ?? (k ? k[0] : null);
      const out = s.map((d, i) => (i === axis ? kk : d));
      set(0, inDtype, out);
      set(1, 'int64', out);
      return;
    }
    case 'OneHot': {
      const s = S(0);
      const depth = K(1)?.values[0] ?? null;
      const vt = T(2)?.dtype ?? 'float32';
      if (!s) {
        set(0, vt, null);
        return;
      }
      let axis = attrInt(node, 'axis', -1);
      if (axis < 0) axis += s.length + 1;
      const out = [...s];
      out.splice(axis, 0, typeof depth === 'number' ? depth : depth);
      set(0, vt, out);
      return;
    }
    case 'NonZero': {
      const s = S(0);
      set(0, 'int64', [s ? s.length : null, null]);
      return;
    }
    case 'SpaceToDepth':
    case 'DepthToSpace': {
      const s = S(0);
      const bs = attrInt(node, 'blocksize', 1);
      if (!s || s.length !== 4) {
        set(0, inDtype, null);
        return;
      }
      set(0, inDtype, op === 'SpaceToDepth'
        ? [s[0], dimMul(s[1], bs * bs), dimDiv(s[2], bs), dimDiv(s[3], bs)]
        : [s[0], dimDiv(s[1], bs * bs), dimMul(s[2], bs), dimMul(s[3], bs)]);
      return;
    }
    case 'Einsum':
    case 'Resize':
    default: {
      for (let i = 0; i < node.outputs.length; i++) set(i, inDtype, null);
    }
  }

  function intArgBig(k: KnownValue | undefined): number[] | null {
    if (!k || !k.values.every((v) => typeof v === 'number')) return null;
    return k.values as number[];
  }
}

/** Normalised [start, end) of a Slice along a dim of size d (ONNX clamping rules). */
export function sliceRange(start: number, end: number, step: number, d: number): [number, number] {
  let b = start < 0 ? start + d : start;
  let e = end < 0 ? end + d : end;
  if (step > 0) {
    b = Math.min(Math.max(b, 0), d);
    e = Math.min(Math.max(e, 0), d);
  } else {
    b = Math.min(Math.max(b, -1), d - 1);
    e = Math.min(Math.max(e, -1), d - 1);
  }
  return [b, e];
}
