// Fisher forgetting (Golatkar, Achille & Soatto 2020, "Eternal Sunshine of the Spotless Net"): no
// training. The diagonal of the Fisher information on the retain set says how much each weight
// matters for D_r; every weight is replaced by θ_o + Gaussian noise whose variance is α / Fisher
// (clamped), so weights the retain set does not pin down are scrambled and the forget set's traces in
// them with it. For class forgetting the forgotten class's classifier row is reset to ~N(0, 1e-3).
//
// The Fisher diagonal is the expected one: for each batch of D_r (eval mode) and each class y, the
// squared gradient of the batch-mean CE(x, y), weighted by the batch mean of p(y|x), averaged over
// the batches (OPTML-Group Unlearn-Sparse `hessian`, batch 32). With batch size 1 this is exactly
// Golatkar's per-example Σ_y p(y|x)·g_y² (expectedFisherDiagonal). The noise is weight-edits.ts
// fisherNoise (the public `get_mean_var`: var = α·min(1/(F + 1e-8), 1e3), 1e2 for the classifier,
// averaged over dim 1, ×10 for the classifier and rank-1 parameters), drawn per parameter from
// (seed, name).

import { z } from 'zod';
import type { MethodContext, MethodDescriptor } from '../types';
import { normalizeTrainingExport } from '../../models/import';
import { buildGradGraph } from '../../train/grad-graph';
import { openSession, ort } from '../../train/session';
import { exampleSize } from '../../train/data';
import type { ArrayDataset } from '../../train/data';
import type { Model } from '../../onnx/ir';
import { fisherNoise, lastLayers, listLayers } from '../../train/weight-edits';
import { Rng } from '../../train/rng';
import { field } from './common';
import { guardOneShot, initializerValues } from './ssd';

const params = z.object({
  alpha: field.positive(1e-6, 'noise scale α: the noise variance of a weight is α / its Fisher information (clamped)'),
  fisherBatchSize: field.batchSize(32, 'batch size of the Fisher pass over the retain set (1 = the exact per-example expectation of the paper, slower)'),
});

export const fisher: MethodDescriptor<typeof params> = {
  id: 'fisher',
  name: 'Fisher forgetting',
  exact: false,
  scope: 'any',
  gradientBased: false,
  description:
    'Needs no training. Estimates, from the retain set, how strongly each weight is pinned down by the data (the diagonal of the Fisher information), then adds Gaussian noise to every weight with variance alpha divided by that Fisher value: weights the retain set does not need are scrambled, and with them what they held of the forget set. For class forgetting the forgotten class’s classifier row is also reset. Sensitive to alpha: too large destroys the model, too small changes nothing.',
  source:
    'Golatkar, Achille & Soatto 2020, "Eternal Sunshine of the Spotless Net" (CVPR), Fisher forgetting; Fisher diagonal and noise as in the OPTML-Group Unlearn-Sparse code (unlearn/fisher.py: hessian with batch 32, get_mean_var); α = 1e-6 as in the public re-implementations (1e-9 .. 3e-6 seen)',
  params,
  async run(ctx, p) {
    if (ctx.retain.n === 0) throw new Error('Fisher forgetting needs a non-empty retain set');
    const names = ctx.trainable;
    const F = await batchedExpectedFisher(ctx.model, ctx.retain, names, p.fisherBatchSize, ctx, (done, total) =>
      ctx.progress({ fraction: (0.9 * done) / total, message: `Fisher forgetting: Fisher diagonal, batch ${done}/${total}` }),
    );
    const theta = initializerValues(ctx, names);
    const { weights, dims, fisherTorch, toStored } = torchLayout(ctx.model, theta, F.fisher);
    const classifier = lastLayers(ctx.model, 1).params.filter((n) => names.includes(n));
    const classes = ctx.forgottenClasses;
    const noisy = fisherNoise({
      weights,
      dims,
      fisher: fisherTorch,
      alpha: p.alpha,
      seed: ctx.seed,
      numClasses: ctx.numClasses,
      forgetClass: classes.length ? classes[0] : undefined,
      classifierParams: classifier,
    });
    if (classes.length > 1) {
      // fisherNoise resets one class's row; the other forgotten classes get the same treatment here
      // (μ = 0, var = 1e-4 ×10 for the classifier), from their own seeded stream
      for (const name of classifier) {
        const w = noisy.weights[name];
        const row = w.length / ctx.numClasses;
        for (const c of classes.slice(1)) {
          const rng = new Rng(ctx.seed, 9_100_000 + c);
          for (let i = c * row; i < (c + 1) * row; i++) {
            noisy.std[name][i] = Math.fround(Math.sqrt(1e-3));
            w[i] = noisy.std[name][i] * rng.nextNormal();
          }
        }
      }
    }
    const out = toStored(noisy.weights);
    let sumStd = 0;
    let count = 0;
    for (const s of Object.values(noisy.std)) for (let i = 0; i < s.length; i++, count++) sumStd += s[i];
    ctx.progress({ fraction: 0.95, message: 'Fisher forgetting: noise added' });
    const kept = await guardOneShot(ctx, out, 'Fisher forgetting');
    return {
      weights: kept.weights,
      steps: kept.steps,
      stats: { meanNoiseStd: count ? sumStd / count : 0, fisherBatches: F.batches, forgottenClassRowsReset: classes.length },
      notes: classes.length ? [`The classifier rows of the forgotten class${classes.length > 1 ? 'es' : ''} ${classes.join(', ')} were reset to N(0, 1e-3) noise.`] : undefined,
    };
  },
};

export interface BatchedFisher {
  /** per parameter, in the model's stored layout */
  fisher: Record<string, Float32Array>;
  batches: number;
}

/**
 * Expected Fisher diagonal over a dataset in batches (eval mode): (1/B) Σ_batches Σ_y mean_i p(y|x_i) ·
 * (∂ mean_i CE(x_i, y) / ∂θ)². One squared-gradient session; p(y|x_i) = exp(−CE(x_i, y)) from the
 * same run. With batchSize 1 it is Golatkar's per-example Σ_y p(y|x)·g_y² averaged over examples.
 */
export async function batchedExpectedFisher(
  model: Model,
  ds: ArrayDataset,
  names: string[],
  batchSize: number,
  ctx: Pick<MethodContext, 'provider' | 'threads' | 'signal'>,
  onBatch?: (done: number, total: number) => void,
): Promise<BatchedFisher> {
  const m = normalizeTrainingExport(model).model;
  const out0 = m.graph.outputs[0];
  const C = out0?.shape?.[1];
  if (typeof C !== 'number') throw new Error('Fisher forgetting needs a model whose logits have a fixed number of classes');
  const gg = buildGradGraph(m, { params: names, transform: 'square', mode: 'eval' });
  if (gg.dataInputs.length !== 1) throw new Error(`Fisher forgetting needs a model with exactly one data input, this one has ${gg.dataInputs.length}`);
  const sizes = new Map(m.graph.initializers.map((t) => [t.name, t.dims.reduce((a, b) => a * b, 1)]));
  const acc: Record<string, Float64Array> = Object.fromEntries(names.map((n) => [n, new Float64Array(sizes.get(n)!)]));
  const s = await openSession(gg.model, { provider: ctx.provider, threads: ctx.threads });
  const per = exampleSize(ds);
  const total = Math.ceil(ds.n / batchSize);
  const outNames = [gg.losses, ...names.map((n) => gg.grads[n])];
  let batches = 0;
  try {
    for (let start = 0; start < ds.n; start += batchSize) {
      const nb = Math.min(batchSize, ds.n - start);
      const x = new ort.Tensor('float32', ds.x.subarray(start * per, (start + nb) * per), [nb, ...ds.exampleShape]);
      const y = new BigInt64Array(nb);
      for (let c = 0; c < C; c++) {
        if (ctx.signal.aborted) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
        y.fill(BigInt(c));
        const r = await s.session.run({ [gg.dataInputs[0].name]: x, [gg.labels]: new ort.Tensor('int64', y, [nb]) }, outNames);
        const losses = r[gg.losses].data as Float32Array;
        let pm = 0;
        for (let i = 0; i < nb; i++) pm += Math.exp(-losses[i]);
        pm /= nb;
        for (const n of names) {
          const g2 = r[gg.grads[n]].data as Float32Array;
          const a = acc[n];
          for (let i = 0; i < g2.length; i++) a[i] += pm * g2[i];
        }
      }
      batches++;
      onBatch?.(batches, total);
    }
  } finally {
    await s.session.release();
  }
  return { fisher: Object.fromEntries(names.map((n) => [n, Float32Array.from(acc[n], (v) => v / batches)])), batches };
}

/**
 * fisherNoise works in PyTorch's [out, in, ...] layout. Weights stored [in, out] (MatMul, Gemm with
 * transB = 0) are transposed for it and back; returns the torch-layout maps and the inverse mapping.
 */
function torchLayout(model: Model, theta: Record<string, Float32Array>, fisherStored: Record<string, Float32Array>) {
  const inits = new Map(model.graph.initializers.map((t) => [t.name, t]));
  const transposed = new Set(listLayers(model).filter((l) => l.transposed && l.weight).map((l) => l.weight!));
  const weights: Record<string, Float32Array> = {};
  const fisherTorch: Record<string, Float32Array> = {};
  const dims: Record<string, number[]> = {};
  for (const [name, w] of Object.entries(theta)) {
    const d = [...inits.get(name)!.dims];
    if (transposed.has(name) && d.length === 2) {
      dims[name] = [d[1], d[0]];
      weights[name] = transpose2(w, d[0], d[1]);
      fisherTorch[name] = transpose2(fisherStored[name], d[0], d[1]);
    } else {
      dims[name] = d.length ? d : [1];
      weights[name] = w;
      fisherTorch[name] = fisherStored[name];
    }
  }
  const toStored = (w: Record<string, Float32Array>) => {
    const out: Record<string, Float32Array> = {};
    for (const [name, v] of Object.entries(w)) {
      const d = inits.get(name)!.dims;
      out[name] = transposed.has(name) && d.length === 2 ? transpose2(v, d[1], d[0]) : v;
    }
    return out;
  };
  return { weights, dims, fisherTorch, toStored };
}

/** [r, c] row-major -> [c, r] row-major */
function transpose2(a: Float32Array, r: number, c: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = a[i * c + j];
  return out;
}
