// Helpers for autodiff tests: build one-op (or small) graphs with seeded random tensors.

import { GraphBuilder, type Attrs } from '../../../main/engine/onnx/builder';
import { type DType, type Graph, type Tensor, tensorI64 } from '../../../main/engine/onnx/ir';
import { prng } from '../../../main/engine/autodiff';

export interface Spec {
  name: string;
  dims: number[];
  /** param: float initializer checked; input: float graph input checked; const: initializer not checked; feed: graph input not checked */
  kind?: 'param' | 'input' | 'const' | 'feed';
  dtype?: DType;
  data?: ArrayLike<number>;
  /** value generator: default uniform(-1, 1) */
  gen?: (r: () => number, i: number) => number;
}

export interface CheckCase {
  graph: Graph;
  feeds: Record<string, Tensor>;
  wrt: string[];
}

export function makeTensor(s: Spec, r: () => number): Tensor {
  const n = s.dims.reduce((a, b) => a * b, 1);
  const dtype = s.dtype ?? 'float32';
  const vals = s.data ? Array.from(s.data) : Array.from({ length: n }, (_, i) => (s.gen ? s.gen(r, i) : r() * 2 - 1));
  if (dtype === 'int64') return tensorI64(s.dims, vals);
  if (dtype === 'bool') return { dtype, dims: s.dims, data: Uint8Array.from(vals) };
  if (dtype === 'float64') return { dtype, dims: s.dims, data: Float64Array.from(vals) };
  return { dtype: 'float32', dims: s.dims, data: Float32Array.from(vals) };
}

/** A graph applying `op` to the given inputs ('' in specs = omitted optional input). */
export function opCase(op: string, specs: (Spec | '')[], attrs: Attrs = {}, nOut = 1, seed = 7): CheckCase {
  const r = prng(seed);
  const b = new GraphBuilder();
  const feeds: Record<string, Tensor> = {};
  const wrt: string[] = [];
  const ins: string[] = [];
  for (const s of specs) {
    if (s === '') {
      ins.push('');
      continue;
    }
    const t = makeTensor(s, r);
    const kind = s.kind ?? 'param';
    if (kind === 'param' || kind === 'const') b.initializer(s.name, t);
    else {
      b.input(s.name, t.dtype, t.dims);
      feeds[s.name] = t;
    }
    if ((kind === 'param' || kind === 'input') && (t.dtype === 'float32' || t.dtype === 'float64')) wrt.push(s.name);
    ins.push(s.name);
  }
  const outs = Array.from({ length: nOut }, (_, i) => `y${i}`);
  b.addNode(op, ins, outs, attrs);
  for (const o of outs) b.output(o, 'float32', null);
  return { graph: b.toGraph(op), feeds, wrt };
}

/** Uniform values with distinct magnitudes (no ties, away from 0): for max-pool / relu / abs cases. */
export const distinct = (n: number, seed = 3) => {
  const r = prng(seed);
  const v = Array.from({ length: n }, (_, i) => (i + 1) / n + 0.1);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [v[i], v[j]] = [v[j], v[i]];
  }
  return v.map((x, i) => (i % 3 === 0 ? -x : x));
};
