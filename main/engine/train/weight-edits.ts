// Weight-space edits for unlearning, as pure functions over Float32Array maps (nothing is mutated):
//
//   listLayers(model)               the model's layers in graph order with their parameter names:
//                                   Gemm/MatMul/Conv (weight + bias; a MatMul's bias is the Add that
//                                   follows it) and BatchNormalization/LayerNormalization (scale, bias;
//                                   BatchNorm statistics as buffers).
//   lastLayers(model, k)            "the last k layers" for CF-k / EU-k: the last k layers with trainable
//                                   weights (Gemm/MatMul/Conv) with their biases, plus every norm layer
//                                   from the first of them on.
//   reinitializeParams(model, names, seed)
//                                   fresh values drawn as the built-in architectures initialise them
//                                   (models/init.ts: PyTorch's default kaiming_uniform(a=√5) weights,
//                                   U(±1/√fan_in) biases, norm scale 1 / bias 0, running mean 0 / var 1;
//                                   the ViT's cls_token 0 and pos_embed trunc-normal(0.02)). Each name has
//                                   its own stream from (seed, name), so re-initialising a built-in model
//                                   with its own seed reproduces its initial weights exactly.
//   ssdDampen(...)                  Selective Synaptic Dampening (Foster et al. 2024, the public
//                                   `modify_weight`): where I_f > α·I_D, θ ← θ·min((λ·I_D/I_f)^e, 1).
//   fisherNoise(...)                Fisher forgetting (Golatkar et al. 2020, the public `get_mean_var`):
//                                   θ ← μ + √var·ε with var = α·min(1/(F + 1e-8), 1e3) (1e2 for the
//                                   classifier's parameters), averaged over dim 1 for tensors of rank
//                                   > 1, ×10 for the classifier's and for rank-1 parameters; for class
//                                   forgetting the forgotten class's row gets μ = 0 and var = 1e-4.

import type { Model, NamedTensor } from '../onnx/ir';
import { Rng, TorchInit, paramSeed, truncNormalTensor } from '../models/init';

export interface LayerInfo {
  /** position among listLayers' entries */
  index: number;
  /** index of the node in the graph */
  nodeIndex: number;
  op: string;
  node: string;
  kind: 'linear' | 'conv' | 'norm';
  weight: string | null;
  bias: string | null;
  /** trainable parameters of the layer (weight, bias / scale, bias) */
  params: string[];
  /** BatchNorm running statistics */
  buffers: string[];
  /** fan_in of the weight (linear/conv) */
  fanIn: number | null;
  /** the weight is stored [in, out] (MatMul, Gemm with transB = 0) */
  transposed: boolean;
}

interface Role {
  kind: 'weight' | 'bias' | 'one' | 'zero' | 'trunc02';
  fanIn?: number;
  transposed?: boolean;
}

function floatInits(model: Model): Map<string, NamedTensor> {
  return new Map(model.graph.initializers.filter((t) => t.dtype === 'float32').map((t) => [t.name, t]));
}

const prod = (d: number[]) => d.reduce((a, b) => a * b, 1);

export function listLayers(model: Model): LayerInfo[] {
  const g = model.graph;
  const inits = floatInits(model);
  const isInit = (v: string | undefined) => !!v && inits.has(v);
  const consumers = new Map<string, number[]>();
  g.nodes.forEach((n, i) => n.inputs.forEach((v) => v && consumers.set(v, [...(consumers.get(v) ?? []), i])));
  const out: LayerInfo[] = [];
  const push = (l: Omit<LayerInfo, 'index'>) => out.push({ ...l, index: out.length });
  g.nodes.forEach((n, i) => {
    const base = { nodeIndex: i, op: n.op, node: n.name ?? n.outputs[0] };
    if (n.op === 'Conv' && isInit(n.inputs[1])) {
      const w = n.inputs[1];
      const b = isInit(n.inputs[2]) ? n.inputs[2] : null;
      push({ ...base, kind: 'conv', weight: w, bias: b, params: b ? [w, b] : [w], buffers: [], fanIn: prod(inits.get(w)!.dims.slice(1)), transposed: false });
    } else if (n.op === 'Gemm' && (isInit(n.inputs[1]) || isInit(n.inputs[0]))) {
      const onB = isInit(n.inputs[1]);
      const w = onB ? n.inputs[1] : n.inputs[0];
      const d = inits.get(w)!.dims;
      const tA = n.attrs.transA?.type === 'int' && n.attrs.transA.value === 1;
      const tB = n.attrs.transB?.type === 'int' && n.attrs.transB.value === 1;
      // weight as B: y = x·B (transB 0: B is [in, out]); as A: y = A·x (transA 0: A is [out, in])
      const transposed = onB ? !tB : tA;
      const fanIn = transposed ? d[0] : d[1];
      const b = isInit(n.inputs[2]) ? n.inputs[2] : null;
      push({ ...base, kind: 'linear', weight: w, bias: b, params: b ? [w, b] : [w], buffers: [], fanIn, transposed });
    } else if (n.op === 'MatMul' && (isInit(n.inputs[1]) || isInit(n.inputs[0]))) {
      const onB = isInit(n.inputs[1]);
      const w = onB ? n.inputs[1] : n.inputs[0];
      const d = inits.get(w)!.dims;
      if (d.length !== 2) return;
      // a bias: the one Add consuming the MatMul's output with a float initializer of the output width
      let b: string | null = null;
      const outW = onB ? d[1] : d[0];
      const cons = consumers.get(n.outputs[0]) ?? [];
      if (cons.length === 1 && g.nodes[cons[0]].op === 'Add') {
        const other = g.nodes[cons[0]].inputs.find((v) => v !== n.outputs[0]);
        if (isInit(other) && prod(inits.get(other!)!.dims) === outW) b = other!;
      }
      push({ ...base, kind: 'linear', weight: w, bias: b, params: b ? [w, b] : [w], buffers: [], fanIn: onB ? d[0] : d[1], transposed: onB });
    } else if (n.op === 'BatchNormalization') {
      const params = [n.inputs[1], n.inputs[2]].filter(isInit);
      const buffers = [n.inputs[3], n.inputs[4]].filter(isInit);
      push({ ...base, kind: 'norm', weight: isInit(n.inputs[1]) ? n.inputs[1] : null, bias: isInit(n.inputs[2]) ? n.inputs[2] : null, params, buffers, fanIn: null, transposed: false });
    } else if (n.op === 'LayerNormalization') {
      const params = [n.inputs[1], n.inputs[2]].filter(isInit);
      push({ ...base, kind: 'norm', weight: isInit(n.inputs[1]) ? n.inputs[1] : null, bias: isInit(n.inputs[2]) ? n.inputs[2] : null, params, buffers: [], fanIn: null, transposed: false });
    }
  });
  return out;
}

/**
 * The last k layers with weights (Gemm/MatMul/Conv) and the norm layers from the first of them on:
 * their trainable parameters (`params`) and BatchNorm statistics (`buffers`), for CF-k / EU-k.
 */
export function lastLayers(model: Model, k: number): { layers: LayerInfo[]; params: string[]; buffers: string[] } {
  const all = listLayers(model);
  const weighted = all.filter((l) => l.kind !== 'norm');
  if (!Number.isInteger(k) || k < 1 || k > weighted.length) throw new Error(`k must be an integer from 1 to ${weighted.length} (the model's layers with weights), got ${k}`);
  const first = weighted[weighted.length - k].index;
  const layers = all.filter((l) => l.index >= first);
  return { layers, params: layers.flatMap((l) => l.params), buffers: layers.flatMap((l) => l.buffers) };
}

function roles(model: Model): Map<string, Role> {
  const r = new Map<string, Role>();
  for (const l of listLayers(model)) {
    if (l.kind === 'norm') {
      if (l.weight) r.set(l.weight, { kind: 'one' });
      if (l.bias) r.set(l.bias, { kind: 'zero' });
      if (l.buffers[0]) r.set(l.buffers[0], { kind: 'zero' });
      if (l.buffers[1]) r.set(l.buffers[1], { kind: 'one' });
    } else {
      r.set(l.weight!, { kind: 'weight', fanIn: l.fanIn!, transposed: l.transposed });
      if (l.bias) r.set(l.bias, { kind: 'bias', fanIn: l.fanIn! });
    }
  }
  if (model.metadata['lethe.arch'] === 'vit') {
    if (!r.has('cls_token')) r.set('cls_token', { kind: 'zero' });
    if (!r.has('pos_embed')) r.set('pos_embed', { kind: 'trunc02' });
  }
  return r;
}

/**
 * Fresh values for the named parameters (and BatchNorm statistics), drawn like the built-in
 * architectures' initialisation, seeded per (seed, name). Returns new arrays; the model is unchanged.
 */
export function reinitializeParams(model: Model, names: string[], seed: number): Record<string, Float32Array> {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);
  const inits = floatInits(model);
  const role = roles(model);
  const init = new TorchInit(seed);
  const out: Record<string, Float32Array> = {};
  for (const name of names) {
    const t = inits.get(name);
    if (!t) throw new Error(`'${name}' is not a float32 initializer of the model`);
    const r = role.get(name);
    if (!r) throw new Error(`cannot re-initialise '${name}': it is not the weight, bias or normalisation parameter of a Gemm/MatMul/Conv/BatchNormalization/LayerNormalization layer`);
    const d = [...t.dims];
    const n = prod(d);
    let v: Float32Array;
    if (r.kind === 'one') v = new Float32Array(n).fill(1);
    else if (r.kind === 'zero') v = new Float32Array(n);
    else if (r.kind === 'trunc02') v = truncNormalTensor(d, 0.02, new Rng(paramSeed(seed, name))).data as Float32Array;
    else if (r.kind === 'bias') v = init.bias(name, n, r.fanIn!).data as Float32Array;
    else if (!r.transposed) v = init.weight(name, d).data as Float32Array;
    else {
      // stored [in, out]: draw in PyTorch's [out, in] layout and transpose (as LayerBuilder.linearMatMul)
      const [inF, outF] = d;
      const wt = init.weight(name, [outF, inF]).data as Float32Array;
      v = new Float32Array(n);
      for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) v[i * outF + o] = wt[o * inF + i];
    }
    out[name] = v;
  }
  return out;
}

export type ParamMap = Record<string, Float32Array>;

export interface SsdOptions {
  weights: ParamMap;
  /** importance on the forget set, I_f (e.g. mean squared gradient), per parameter */
  forgetImportance: ParamMap;
  /** importance on the full training data, I_D */
  retainImportance: ParamMap;
  /** selection weighting α: entries with I_f > α·I_D are dampened (SSD's default 10) */
  alpha: number;
  /** dampening constant λ (SSD's default 1) */
  lambda: number;
  /** exponent of the dampening factor (default 1, as in SSD) */
  exponent?: number;
}

export interface EditResult {
  /** new arrays for every parameter of `weights` (unedited ones copied) */
  weights: ParamMap;
  /** entries selected (SSD: I_f > α·I_D) */
  selected: number;
  /** entries whose value changed */
  changed: number;
  perParam: Record<string, { size: number; selected: number; changed: number }>;
}

export function ssdDampen(o: SsdOptions): EditResult {
  const e = o.exponent ?? 1;
  if (!(Number.isFinite(o.alpha) && o.alpha >= 0)) throw new Error(`SSD alpha must be a non-negative number, got ${o.alpha}`);
  if (!(Number.isFinite(o.lambda) && o.lambda >= 0)) throw new Error(`SSD lambda must be a non-negative number, got ${o.lambda}`);
  if (!(Number.isFinite(e) && e > 0)) throw new Error(`SSD exponent must be a positive number, got ${e}`);
  const res: EditResult = { weights: {}, selected: 0, changed: 0, perParam: {} };
  for (const [name, w] of Object.entries(o.weights)) {
    const fi = o.forgetImportance[name];
    const di = o.retainImportance[name];
    const nw = new Float32Array(w);
    res.weights[name] = nw;
    const stat = { size: w.length, selected: 0, changed: 0 };
    res.perParam[name] = stat;
    if (!fi && !di) continue;
    if (!fi || !di) throw new Error(`'${name}' has ${fi ? 'a forget' : 'a retain'} importance but no ${fi ? 'retain' : 'forget'} importance`);
    if (fi.length !== w.length || di.length !== w.length) throw new Error(`importances of '${name}' must have ${w.length} values`);
    for (let i = 0; i < w.length; i++) {
      if (!(fi[i] > o.alpha * di[i])) continue;
      stat.selected++;
      const f = Math.min(Math.pow((o.lambda * di[i]) / fi[i], e), 1);
      nw[i] = w[i] * f;
      if (nw[i] !== w[i]) stat.changed++;
    }
    res.selected += stat.selected;
    res.changed += stat.changed;
  }
  return res;
}

export interface FisherNoiseOptions {
  weights: ParamMap;
  /** shape of each parameter (PyTorch layout: [out, in, ...]) */
  dims: Record<string, number[]>;
  /** diagonal Fisher per parameter (Golatkar: Σ_y p(y|x)·g_y² averaged over the retain set) */
  fisher: ParamMap;
  /** noise scale α (the public code uses 1e-6 .. 3e-6, 1e-9 in some re-implementations) */
  alpha: number;
  seed: number;
  /** number of classes: parameters whose first dimension equals it count as the classifier's (as in the public code) */
  numClasses: number;
  /** class forgetting: that row of the classifier's parameters gets μ = 0 and var = 1e-4 */
  forgetClass?: number;
  /** override which parameters are the classifier's (default: first dimension == numClasses) */
  classifierParams?: string[];
}

export interface FisherNoiseResult {
  weights: ParamMap;
  /** the standard deviation applied to each entry */
  std: ParamMap;
}

/** Fisher forgetting: θ ← μ + √var·ε, ε ~ N(0, 1) seeded per (seed, name). */
export function fisherNoise(o: FisherNoiseOptions): FisherNoiseResult {
  if (!(Number.isFinite(o.alpha) && o.alpha >= 0)) throw new Error(`Fisher noise alpha must be a non-negative number, got ${o.alpha}`);
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw new Error(`seed must be a non-negative integer, got ${o.seed}`);
  if (!Number.isInteger(o.numClasses) || o.numClasses < 1) throw new Error(`numClasses must be a positive integer, got ${o.numClasses}`);
  if (o.forgetClass !== undefined && !(Number.isInteger(o.forgetClass) && o.forgetClass >= 0 && o.forgetClass < o.numClasses)) {
    throw new Error(`forgetClass must be an integer in [0, ${o.numClasses}), got ${o.forgetClass}`);
  }
  const res: FisherNoiseResult = { weights: {}, std: {} };
  for (const [name, w] of Object.entries(o.weights)) {
    const F = o.fisher[name];
    if (!F || F.length !== w.length) throw new Error(`the Fisher diagonal of '${name}' must have ${w.length} values`);
    const dims = dimsOf(o, name, w.length);
    const classifier = o.classifierParams ? o.classifierParams.includes(name) : dims[0] === o.numClasses;
    const v = new Float64Array(w.length);
    for (let i = 0; i < v.length; i++) {
      let x = Math.min(1 / (F[i] + 1e-8), 1e3);
      if (classifier) x = Math.min(x, 1e2);
      v[i] = o.alpha * x;
    }
    if (dims.length > 1) {
      // var.mean(dim=1, keepdim=True).expand_as(p)
      const d0 = dims[0];
      const d1 = dims[1];
      const inner = prod(dims.slice(2));
      for (let a = 0; a < d0; a++) {
        for (let c = 0; c < inner; c++) {
          let s = 0;
          for (let b = 0; b < d1; b++) s += v[(a * d1 + b) * inner + c];
          const m = s / d1;
          for (let b = 0; b < d1; b++) v[(a * d1 + b) * inner + c] = m;
        }
      }
    }
    const mu = new Float32Array(w);
    if (classifier && o.forgetClass !== undefined) {
      const row = w.length / dims[0];
      for (let i = o.forgetClass * row; i < (o.forgetClass + 1) * row; i++) {
        mu[i] = 0;
        v[i] = 1e-4;
      }
    }
    if (classifier || dims.length === 1) for (let i = 0; i < v.length; i++) v[i] *= 10;
    const rng = new Rng(paramSeed(o.seed, name));
    const nw = new Float32Array(w.length);
    const std = new Float32Array(w.length);
    for (let i = 0; i < w.length; i++) {
      const s = Math.sqrt(v[i]);
      std[i] = s;
      nw[i] = mu[i] + s * rng.normal();
    }
    res.weights[name] = nw;
    res.std[name] = std;
  }
  return res;
}

function dimsOf(o: FisherNoiseOptions, name: string, n: number): number[] {
  const d = o.dims[name];
  if (!d) throw new Error(`no dims given for '${name}'`);
  if (prod(d) !== n) throw new Error(`dims of '${name}' [${d.join(', ')}] do not match its ${n} values`);
  return d;
}
