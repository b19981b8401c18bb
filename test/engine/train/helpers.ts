// Test helpers: a tiny 2-layer MLP built with GraphBuilder, and a float64 JS reference of its loss,
// gradients and of torch.optim's SGD / Adam / AdamW updates.

import { GraphBuilder } from '../../../main/engine/onnx/builder';
import { makeModel } from '../../../main/engine/onnx/codec';
import { type Model, numel, tensorF32 } from '../../../main/engine/onnx/ir';
import { Rng } from '../../../main/engine/train/rng';
import { Trainer } from '../../../main/engine/train/trainer';
import { lowerForTraining, setFormulation, type Formulation } from '../../../main/engine/autodiff';

export interface TinyDims {
  d: number;
  h: number;
  c: number;
}

export function randArray(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.nextFloat() * 2 - 1) * scale);
}

/** input [N, d] -> Gemm(W1 [h,d], b1) -> Relu -> Gemm(W2 [c,h], b2) -> logits */
export function tinyMlp(dims: TinyDims = { d: 5, h: 4, c: 3 }, seed = 1): Model {
  const rng = new Rng(seed);
  const b = new GraphBuilder();
  b.input('input', 'float32', ['N', dims.d]);
  b.initializer('W1', tensorF32([dims.h, dims.d], randArray(rng, dims.h * dims.d, 0.8)));
  b.initializer('b1', tensorF32([dims.h], randArray(rng, dims.h, 0.3)));
  b.initializer('W2', tensorF32([dims.c, dims.h], randArray(rng, dims.c * dims.h, 0.8)));
  b.initializer('b2', tensorF32([dims.c], randArray(rng, dims.c, 0.3)));
  const h = b.op('Gemm', ['input', 'W1', 'b1'], { transB: 1 }, 'fc1');
  const r = b.op('Relu', [h], {}, 'hidden');
  b.addNode('Gemm', [r, 'W2', 'b2'], ['logits'], { transB: 1 });
  b.output('logits', 'float32', ['N', dims.c]);
  return makeModel(b.toGraph('tiny_mlp'));
}

export type W = Record<string, Float64Array>;

export function initWeights(m: Model): W {
  const w: W = {};
  for (const t of m.graph.initializers) w[t.name] = Float64Array.from(t.data as Float32Array);
  return w;
}

/** float64 loss and gradients of the tiny MLP (cross-entropy, label smoothing, example weights) */
export function refLossGrad(
  w: W,
  dims: TinyDims,
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  n: number,
  o: { eps?: number; weights?: ArrayLike<number> } = {},
): { loss: number; losses: number[]; grads: W } {
  const { d, h: H, c: C } = dims;
  const eps = o.eps ?? 0;
  const g: W = { W1: new Float64Array(H * d), b1: new Float64Array(H), W2: new Float64Array(C * H), b2: new Float64Array(C) };
  const losses: number[] = [];
  const wsum = o.weights ? Array.from(o.weights).reduce((a, b) => a + b, 0) : n;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const pre = new Float64Array(H);
    const hid = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      let s = w.b1[j];
      for (let k = 0; k < d; k++) s += x[i * d + k] * w.W1[j * d + k];
      pre[j] = s;
      hid[j] = Math.max(0, s);
    }
    const z = new Float64Array(C);
    for (let k = 0; k < C; k++) {
      let s = w.b2[k];
      for (let j = 0; j < H; j++) s += hid[j] * w.W2[k * H + j];
      z[k] = s;
    }
    const mx = Math.max(...z);
    const lse = mx + Math.log(z.reduce((a, v) => a + Math.exp(v - mx), 0));
    const q = Array.from({ length: C }, (_, k) => (k === y[i] ? 1 - eps : 0) + eps / C);
    let li = 0;
    for (let k = 0; k < C; k++) li -= q[k] * (z[k] - lse);
    losses.push(li);
    const coef = (o.weights ? o.weights[i] : 1) / wsum;
    loss += coef * li;
    const dz = Array.from({ length: C }, (_, k) => (Math.exp(z[k] - lse) - q[k]) * coef);
    const dh = new Float64Array(H);
    for (let k = 0; k < C; k++) {
      g.b2[k] += dz[k];
      for (let j = 0; j < H; j++) {
        g.W2[k * H + j] += dz[k] * hid[j];
        dh[j] += dz[k] * w.W2[k * H + j];
      }
    }
    for (let j = 0; j < H; j++) {
      const dp = pre[j] > 0 ? dh[j] : 0;
      g.b1[j] += dp;
      for (let k = 0; k < d; k++) g.W1[j * d + k] += dp * x[i * d + k];
    }
  }
  return { loss, losses, grads: g };
}

export type RefOpt =
  | { kind: 'sgd'; momentum?: number; nesterov?: boolean; weightDecay?: number }
  | { kind: 'adam' | 'adamw'; beta1?: number; beta2?: number; eps?: number; weightDecay?: number };

/** torch.optim semantics in float64; state is updated in place; mask (0/1) freezes entries */
export function refUpdate(o: RefOpt, p: Float64Array, grad: Float64Array, state: Record<string, Float64Array>, lr: number, t: number, mask?: ArrayLike<number>): void {
  const n = p.length;
  if (o.kind === 'sgd') {
    const wd = o.weightDecay ?? 0;
    const mom = o.momentum ?? 0;
    state.buf ??= new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const mk = mask ? mask[i] : 1;
      let gi = (grad[i] + wd * p[i]) * mk;
      if (mom > 0) {
        state.buf[i] = mom * state.buf[i] + gi;
        gi = o.nesterov ? gi + mom * state.buf[i] : state.buf[i];
      }
      p[i] -= lr * gi * mk;
    }
    return;
  }
  const b1 = o.beta1 ?? 0.9;
  const b2 = o.beta2 ?? 0.999;
  const eps = o.eps ?? 1e-8;
  const wd = o.weightDecay ?? (o.kind === 'adamw' ? 0.01 : 0);
  state.m ??= new Float64Array(n);
  state.v ??= new Float64Array(n);
  const bc1 = 1 - b1 ** t;
  const bc2 = 1 - b2 ** t;
  for (let i = 0; i < n; i++) {
    const mk = mask ? mask[i] : 1;
    let gi = grad[i];
    if (o.kind === 'adam') gi += wd * p[i];
    gi *= mk;
    state.m[i] = b1 * state.m[i] + (1 - b1) * gi;
    state.v[i] = b2 * state.v[i] + (1 - b2) * gi * gi;
    let delta = (lr / bc1) * (state.m[i] / (Math.sqrt(state.v[i]) / Math.sqrt(bc2) + eps));
    if (o.kind === 'adamw') delta += lr * wd * p[i];
    p[i] -= delta * mk;
  }
}

export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-3): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]) / Math.max(floor, Math.abs(b[i])));
  return e;
}

/**
 * Weights after `steps` SGD-momentum steps (lr 0.05, 2 threads) on seeded random batches with the given
 * autodiff formulation switched on for the trainer's build (restored afterwards): for comparing
 * formulations and graph passes that must compute the same step.
 */
export async function weightsAfterSteps(m: Model, f: Partial<Formulation>, o: { steps: number; batch: number; dataSeed: number }): Promise<Record<string, Float32Array>> {
  const prev = setFormulation(f);
  try {
    const tr = await Trainer.create({ model: m, optimizer: { kind: 'sgd', momentum: 0.9 }, lr: 0.05, batchSize: o.batch, seed: 0, threads: 2, lower: lowerForTraining });
    const shape = m.graph.inputs[0].shape!.slice(1) as number[];
    const rng = new Rng(o.dataSeed);
    for (let s = 0; s < o.steps; s++) {
      const x = Float32Array.from({ length: o.batch * numel(shape) }, () => rng.nextFloat());
      const y = BigInt64Array.from({ length: o.batch }, () => BigInt(rng.nextInt(10)));
      await tr.trainStep(x, y, o.batch, shape, undefined, 0.05);
    }
    const w = tr.weights();
    await tr.dispose();
    return w;
  } finally {
    setFormulation(prev);
  }
}
