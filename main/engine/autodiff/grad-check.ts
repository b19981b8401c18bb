// The generic numerical gradient checker. For a graph (one op or a small subgraph) it builds
//   loss = sum_k sum(output_k * R_k)        (R_k fixed random tensors, loss accumulated in float64)
// differentiates it with buildBackward, runs the analytic gradient in onnxruntime, and compares it
// with central finite differences run in onnxruntime too (one session, fed perturbed inputs).
// The graph is converted to float64 first; when ORT CPU lacks a double kernel for an op (Conv, MaxPool's
// MaxUnpool path, AveragePool, Erf, Softplus) the check falls back to float32 and says so in the result
// (`precision`, `fallbackReason`). In float32 the step is larger (3e-3, near the optimum cbrt(2^-24) for
// central differences) and every difference is divided by the displacement actually applied after the
// perturbed input was rounded to float32; the tolerance is 1e-3 relative, so a 1% error in a rule fails
// there too (observed float32 errors are <= ~1e-4; float64 errors <= ~1e-8 against a 1e-5 tolerance).

import * as ort from 'onnxruntime-node';
import { encodeModel, makeModel } from '../onnx/codec';
import { DTYPE_CODE, type Graph, type Tensor, type TypedArray, cloneGraph } from '../onnx/ir';
import { buildBackward } from './backward';

export interface GradCheckOptions {
  /** graph under test; its float outputs (or `outputs`) form the loss */
  graph: Graph;
  /** values for every graph input (wrt inputs included); initializers keep their values */
  feeds: Record<string, Tensor>;
  /** initializers or inputs to check the gradient of */
  wrt: string[];
  outputs?: string[];
  opset?: number;
  /** 'auto' (default): float64, falling back to float32 if ORT cannot run the graph in double */
  precision?: 'auto' | 'float64' | 'float32';
  /** finite-difference step (default 1e-6 in float64, 3e-3 in float32), scaled by max(1, |x|) */
  eps?: number;
  /** tolerance on max|analytic - numeric| / max(|numeric|, |analytic|, 1e-3) per tensor (default 1e-5 in float64, 1e-3 in float32) */
  tolerance?: number;
  /** coordinates checked per tensor (random subset when larger; default 40) */
  maxCoords?: number;
  seed?: number;
}

export interface GradCheckTensor {
  name: string;
  coordsChecked: number;
  maxAbsError: number;
  scale: number;
  relError: number;
  /** relative error of a random directional derivative over all coordinates */
  directionalRelError: number;
}

/** Default tolerances (relative error) per precision. */
export const GRAD_CHECK_TOLERANCE = { float64: 1e-5, float32: 1e-3 } as const;

export interface GradCheckResult {
  ok: boolean;
  precision: 'float64' | 'float32';
  /** why float32 was used, if it was */
  fallbackReason?: string;
  tolerance: number;
  maxRelError: number;
  tensors: GradCheckTensor[];
  /** the analytic gradients (float64 copies) */
  analytic: Record<string, Float64Array>;
  loss: number;
}

const FLOATS = new Set(['float32', 'float64']);

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function gradCheck(opts: GradCheckOptions): Promise<GradCheckResult> {
  const precision = opts.precision ?? 'auto';
  if (precision !== 'float32') {
    try {
      return await runCheck(opts, 'float64');
    } catch (e) {
      const msg = (e as Error).message;
      if (precision === 'float64' || !/NOT_IMPLEMENTED|Could not find an implementation|not supported|type.*double|tensor\(double\)/i.test(msg)) throw e;
      const res = await runCheck(opts, 'float32');
      res.fallbackReason = `ORT CPU cannot run this graph in float64: ${msg.split('\n')[0].slice(0, 300)}`;
      return res;
    }
  }
  return runCheck(opts, 'float32');
}

function toF64(t: Tensor): Tensor {
  return t.dtype === 'float32' ? { dtype: 'float64', dims: [...t.dims], data: Float64Array.from(t.data as Float32Array) } : t;
}

function toOrt(t: Tensor): ort.Tensor {
  const type = t.dtype === 'bool' ? 'bool' : t.dtype;
  return new ort.Tensor(type as 'float32', t.data as Float32Array, t.dims);
}

/** Rewrite every float32 value of a graph to float64 (initializers, inputs, Constant/Cast/ConstantOfShape). */
export function graphToFloat64(graph: Graph): Graph {
  const g = cloneGraph(graph);
  g.initializers = g.initializers.map((t) => ({ ...toF64(t), name: t.name }));
  g.inputs = g.inputs.map((v) => (v.dtype === 'float32' ? { ...v, dtype: 'float64' } : v));
  g.outputs = g.outputs.map((v) => (v.dtype === 'float32' ? { ...v, dtype: 'float64' } : v));
  for (const n of g.nodes) {
    if (n.op === 'Cast' && n.attrs.to?.type === 'int' && n.attrs.to.value === DTYPE_CODE.float32) n.attrs.to = { type: 'int', value: DTYPE_CODE.float64 };
    for (const [k, a] of Object.entries(n.attrs)) {
      if (a.type === 'tensor' && a.value.dtype === 'float32') n.attrs[k] = { type: 'tensor', value: toF64(a.value) };
    }
  }
  g.valueInfo = undefined;
  return g;
}

async function session(graph: Graph, opset: number): Promise<ort.InferenceSession> {
  const bytes = encodeModel(makeModel(graph, opset));
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'basic' });
}

async function runCheck(opts: GradCheckOptions, precision: 'float64' | 'float32'): Promise<GradCheckResult> {
  const opset = Math.max(opts.opset ?? 17, 16);
  const rand = prng(opts.seed ?? 1234);
  const eps0 = opts.eps ?? (precision === 'float64' ? 1e-6 : 3e-3);
  const tol = opts.tolerance ?? GRAD_CHECK_TOLERANCE[precision];
  let g = precision === 'float64' ? graphToFloat64(opts.graph) : cloneGraph(opts.graph);
  const feeds: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(opts.feeds)) feeds[k] = precision === 'float64' ? toF64(v) : v;

  // wrt initializers become inputs so they can be perturbed
  for (const w of opts.wrt) {
    const i = g.initializers.findIndex((t) => t.name === w);
    if (i >= 0) {
      const t = g.initializers[i];
      g.initializers.splice(i, 1);
      g.inputs.push({ name: w, dtype: t.dtype, shape: [...t.dims] });
      feeds[w] = { dtype: t.dtype, dims: t.dims, data: t.data };
    } else if (!feeds[w]) throw new Error(`gradCheck: no value for wrt '${w}' (neither an initializer nor a feed)`);
  }
  for (const i of g.inputs) if (!feeds[i.name]) throw new Error(`gradCheck: missing feed for graph input '${i.name}'`);
  for (const i of g.inputs) if (feeds[i.name].dtype !== i.dtype) g.inputs = g.inputs.map((v) => (v.name === i.name ? { ...v, dtype: feeds[i.name].dtype } : v));
  const ortFeeds = (f: Record<string, Tensor>) => Object.fromEntries(Object.entries(f).map(([k, v]) => [k, toOrt(v)]));

  // forward once to learn output shapes, then attach the loss
  const outNames = opts.outputs ?? g.outputs.filter((o) => FLOATS.has(o.dtype)).map((o) => o.name);
  const fwd = await session(g, opset);
  const fres = await fwd.run(ortFeeds(feeds), outNames);
  const terms: string[] = [];
  const nodes = [...g.nodes];
  const inits = [...g.initializers];
  outNames.forEach((o, k) => {
    const t = fres[o];
    const r = new Float64Array(t.size);
    for (let i = 0; i < r.length; i++) r[i] = rand() * 2 - 1;
    const rName = `gc_R${k}`;
    inits.push({ name: rName, dtype: 'float64', dims: [...t.dims], data: r });
    let v = o;
    if (t.type !== 'float64') {
      v = `gc_cast${k}`;
      nodes.push({ op: 'Cast', inputs: [o], outputs: [v], attrs: { to: { type: 'int', value: DTYPE_CODE.float64 } }, name: `gc_cast_n${k}` });
    }
    nodes.push({ op: 'Mul', inputs: [v, rName], outputs: [`gc_m${k}`], attrs: {}, name: `gc_mul_n${k}` });
    nodes.push({ op: 'ReduceSum', inputs: [`gc_m${k}`], outputs: [`gc_t${k}`], attrs: { keepdims: { type: 'int', value: 0 } }, name: `gc_rs_n${k}` });
    terms.push(`gc_t${k}`);
  });
  nodes.push({ op: 'Sum', inputs: terms, outputs: ['gc_loss'], attrs: {}, name: 'gc_sum_n' });
  g = { ...g, nodes, initializers: inits, outputs: [{ name: 'gc_loss', dtype: 'float64', shape: [] }] };

  const shapeOverrides = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.dims]));
  const bw = buildBackward(g, { loss: 'gc_loss', wrt: opts.wrt, opset, shapeOverrides });
  const bsess = await session(bw.graph, opset);
  const bres = await bsess.run(ortFeeds(feeds));
  const analytic: Record<string, Float64Array> = {};
  for (const w of opts.wrt) analytic[w] = Float64Array.from(bres[bw.grads[w]].data as Float64Array);
  const loss = Number((bres.gc_loss.data as Float64Array)[0]);

  const lsess = await session(g, opset);
  const evalLoss = async (f: Record<string, Tensor>) => Number(((await lsess.run(ortFeeds(f), ['gc_loss'])).gc_loss.data as Float64Array)[0]);
  const maxCoords = opts.maxCoords ?? 40;
  const tensors: GradCheckTensor[] = [];
  const dirErr = new Map<string, [number, number]>();
  const perturbed = (name: string, data: TypedArray) => ({ ...feeds, [name]: { ...feeds[name], data } });

  for (const w of opts.wrt) {
    const base = feeds[w].data as Float32Array | Float64Array;
    const n = base.length;
    const coords = n <= maxCoords ? Array.from({ length: n }, (_, i) => i) : pickCoords(n, maxCoords, rand);
    let maxAbs = 0;
    let scale = 1e-3;
    for (const i of coords) {
      const e = eps0 * Math.max(1, Math.abs(base[i]));
      const plus = base.slice() as Float64Array;
      plus[i] = base[i] + e;
      const minus = base.slice() as Float64Array;
      minus[i] = base[i] - e;
      const num = ((await evalLoss(perturbed(w, plus))) - (await evalLoss(perturbed(w, minus)))) / (plus[i] - minus[i]);
      const a = analytic[w][i];
      maxAbs = Math.max(maxAbs, Math.abs(a - num));
      scale = Math.max(scale, Math.abs(num), Math.abs(a));
    }
    // directional derivative over all coordinates: catches errors in unchecked coordinates
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = rand() * 2 - 1;
    const e = eps0 * Math.max(1, ...Array.from(base, Math.abs));
    const plus = base.slice();
    const minus = base.slice();
    for (let i = 0; i < n; i++) {
      plus[i] = base[i] + e * v[i];
      minus[i] = base[i] - e * v[i];
    }
    const dirNum = ((await evalLoss(perturbed(w, plus))) - (await evalLoss(perturbed(w, minus)))) / (2 * e);
    // compare with the displacement actually applied (plus/minus are rounded to the tensor's dtype)
    let dirA = 0;
    let gnorm = 0;
    for (let i = 0; i < n; i++) {
      const d = (plus[i] - minus[i]) / (2 * e);
      dirA += analytic[w][i] * d;
      gnorm += Math.abs(analytic[w][i] * d);
    }
    const dirScale = Math.max(gnorm, Math.abs(dirNum), 1e-3);
    const dirAbs = Math.abs(dirA - dirNum);
    dirErr.set(w, [dirAbs, dirScale]);
    tensors.push({ name: w, coordsChecked: coords.length, maxAbsError: maxAbs, scale, relError: maxAbs / scale, directionalRelError: dirAbs / dirScale });
  }
  await Promise.all([fwd.release(), bsess.release(), lsess.release()]);
  // float32: finite differences carry absolute noise relative to the overall gradient size, so a tensor
  // whose true gradient is ~0 (e.g. a conv bias before BatchNorm) is judged against 1% of the largest scale
  if (precision === 'float32') {
    const floor = 1e-2 * Math.max(...tensors.map((t) => t.scale));
    const dirFloor = 1e-2 * Math.max(...[...dirErr.values()].map((d) => d[1]));
    for (const t of tensors) {
      const [da, ds] = dirErr.get(t.name)!;
      t.directionalRelError = da / Math.max(ds, dirFloor);
      if (t.scale < floor) {
        t.relError = t.maxAbsError / floor;
        t.scale = floor;
      }
    }
  }
  const maxRelError = Math.max(0, ...tensors.map((t) => Math.max(t.relError, t.directionalRelError)));
  return { ok: maxRelError <= tol, precision, tolerance: tol, maxRelError, tensors, analytic, loss };
}

function pickCoords(n: number, k: number, rand: () => number): number[] {
  const s = new Set<number>([0, n - 1]);
  while (s.size < k) s.add(Math.floor(rand() * n));
  return [...s].sort((a, b) => a - b);
}
