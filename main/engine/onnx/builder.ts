// GraphBuilder: the one way the engine emits ONNX nodes (models, derivative rules, loss and optimizer
// graphs). It hands out unique value names, tags float attributes, and keeps constants de-duplicated.

import {
  type AttrValue,
  type DType,
  type Graph,
  type NamedTensor,
  type Node,
  type Tensor,
  type ValueInfo,
  type Dim,
  tensorF32,
  tensorI64,
  allocTensorData,
} from './ir';

export type AttrInput = number | number[] | string | AttrValue | { float: number } | { floats: number[] };

/** Attributes given to `op`. Plain numbers become INT; wrap floats with `f(x)` / `fs([...])`. */
export type Attrs = Record<string, AttrInput | undefined>;

export const f = (v: number): AttrValue => ({ type: 'float', value: v });
export const fs = (v: number[]): AttrValue => ({ type: 'floats', value: v });

function toAttr(v: AttrInput): AttrValue {
  if (typeof v === 'number') return { type: 'int', value: v };
  if (typeof v === 'string') return { type: 'string', value: v };
  if (Array.isArray(v)) return { type: 'ints', value: v };
  if ('float' in v) return { type: 'float', value: v.float };
  if ('floats' in v) return { type: 'floats', value: v.floats };
  return v;
}

export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: NamedTensor[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  private used = new Set<string>();
  private counter = 0;
  private constCache = new Map<string, string>();

  constructor(
    readonly prefix = '',
    existingNames?: Iterable<string>,
  ) {
    if (existingNames) for (const n of existingNames) this.used.add(n);
  }

  /** Reserve names already present in a graph so new values never collide with them. */
  reserve(names: Iterable<string>): void {
    for (const n of names) this.used.add(n);
  }

  /** A fresh, unique value name based on `hint`. */
  fresh(hint = 'v'): string {
    const base = `${this.prefix}${hint}`;
    if (!this.used.has(base)) {
      this.used.add(base);
      return base;
    }
    let name: string;
    do name = `${base}_${++this.counter}`;
    while (this.used.has(name));
    this.used.add(name);
    return name;
  }

  /** Emit a node with one output; returns the output name. */
  op(op: string, inputs: string[], attrs: Attrs = {}, outHint?: string): string {
    return this.opN(op, inputs, 1, attrs, outHint)[0];
  }

  /** Emit a node with `nOut` outputs; returns the output names. */
  opN(op: string, inputs: string[], nOut: number, attrs: Attrs = {}, outHint?: string): string[] {
    const outputs = Array.from({ length: nOut }, (_, i) => this.fresh(`${outHint ?? op.toLowerCase()}${nOut > 1 ? `_o${i}` : ''}`));
    this.addNode(op, inputs, outputs, attrs);
    return outputs;
  }

  /** Emit a node with explicit output names (they are reserved). */
  addNode(op: string, inputs: string[], outputs: string[], attrs: Attrs = {}, domain?: string): Node {
    for (const o of outputs) if (o) this.used.add(o);
    const a: Record<string, AttrValue> = {};
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) a[k] = toAttr(v);
    const node: Node = { op, inputs, outputs, attrs: a, name: this.fresh(`n_${op}`) };
    if (domain) node.domain = domain;
    this.nodes.push(node);
    return node;
  }

  input(name: string, dtype: DType, shape: Dim[] | null): string {
    this.used.add(name);
    this.inputs.push({ name, dtype, shape });
    return name;
  }

  output(name: string, dtype: DType, shape: Dim[] | null): string {
    this.outputs.push({ name, dtype, shape });
    return name;
  }

  /** Add an initializer under an exact name. */
  initializer(name: string, t: Tensor): string {
    this.used.add(name);
    this.initializers.push({ name, ...t });
    return name;
  }

  /** A float32 constant (scalar if dims = []), stored as an initializer, de-duplicated. */
  constF(values: number | number[], dims?: number[]): string {
    const arr = typeof values === 'number' ? [values] : values;
    const d = dims ?? (typeof values === 'number' ? [] : [arr.length]);
    const key = `f:${d.join('x')}:${arr.join(',')}`;
    return this.cached(key, () => tensorF32(d, arr), 'cf');
  }

  /** An int64 constant (1-D by default). */
  constI64(values: number | bigint | (number | bigint)[], dims?: number[]): string {
    const arr = Array.isArray(values) ? values : [values];
    const d = dims ?? (Array.isArray(values) ? [arr.length] : []);
    const key = `i:${d.join('x')}:${arr.join(',')}`;
    return this.cached(key, () => tensorI64(d, arr), 'ci');
  }

  /** A constant of any dtype filled with one value. */
  constFill(dtype: DType, dims: number[], value: number): string {
    const key = `fill:${dtype}:${dims.join('x')}:${value}`;
    return this.cached(
      key,
      () => {
        const n = dims.reduce((a, b) => a * b, 1);
        const data = allocTensorData(dtype, n);
        if (data instanceof BigInt64Array) data.fill(BigInt(value));
        else (data as Float32Array).fill(value);
        return { dtype, dims, data };
      },
      'cfill',
    );
  }

  private cached(key: string, make: () => Tensor, hint: string): string {
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const name = this.fresh(hint);
    this.initializers.push({ name, ...make() });
    this.constCache.set(key, name);
    return name;
  }

  toGraph(name = 'graph'): Graph {
    return {
      name,
      nodes: this.nodes,
      inputs: this.inputs,
      outputs: this.outputs,
      initializers: this.initializers,
    };
  }
}
