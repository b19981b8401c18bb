// IU (influence unlearning, WoodFisher): one Newton step that undoes the forget set's influence,
// θ ← θ_o + α·H⁻¹·∇L(D_f), where ∇L(D_f) is the mean cross-entropy gradient over the forget set and
// H⁻¹ the inverse of the empirical Fisher H = λI + (1/n)·Σ g_i g_iᵀ over n retain examples' per-example
// gradients g_i, applied by the WoodFisher recursion (Singh & Alistarh 2020; repeated Sherman–Morrison,
// so exact for this H):
//   u_k = H_{k-1}⁻¹ g_k = g_k/λ − Σ_{j<k} u_j (u_j·g_k)/d_j,   d_k = n + g_k·u_k,
//   H⁻¹v = v/λ − Σ_j u_j (u_j·v)/d_j.
// The OPTML-Group code (unlearn/Wfisher.py) runs the same recursion with H₀ = I (λ = 1) over batch-32
// gradients of the whole retain set but keeps only a single running vector for H_{k-1}⁻¹g_k (a rank-one
// shortcut); here the recursion is exact on a seeded sample of per-example gradients (default 1000).
// Memory is n × P floats and time O(n²·P): the sample is capped so that n·P fits MAX_VALUES, and models
// too large for a meaningful sample are refused. Gradients in eval mode (BatchNorm running statistics).

import { z } from 'zod';
import type { MethodDescriptor } from '../types';
import { computeGradients } from '../../train/gradients';
import { perExampleGradients } from '../../train/per-example';
import { Rng } from '../../train/rng';
import { EngineError } from '../../errors';
import { field } from './common';
import { guardOneShot, initializerValues } from './ssd';

/** Largest n·P (float32 values) held for the per-example gradients: 2^27 = 512 MiB. */
export const MAX_VALUES = 2 ** 27;
/** Fewest retain samples worth a WoodFisher estimate; models needing fewer (too many parameters) are refused. */
export const MIN_SAMPLES = 100;

const params = z.object({
  alpha: field.positive(0.2, 'step size α of θ ← θ + α·H⁻¹∇L(D_f)'),
  samples: z.number().int().min(1).max(100000).default(1000).describe('retain examples whose per-example gradients form the Fisher (a seeded random sample; capped by memory)'),
  damping: field.positive(1, 'damping λ of H = λI + (1/n)Σ g gᵀ (the OPTML code starts its recursion from the identity, λ = 1)'),
  batchSize: field.batchSize(128, 'batch size of the forget-gradient pass'),
});

/**
 * H⁻¹v for H = λI + (1/n)·Σ_i g_i g_iᵀ by the WoodFisher recursion. `G` holds the n rows g_i (P values
 * each) and is overwritten with u_i = H_{i-1}⁻¹ g_i. Dot products accumulate in float64.
 */
export function woodFisherSolve(G: Float32Array, n: number, P: number, v: Float32Array, damping: number, onRow?: (k: number) => void): Float64Array {
  if (G.length !== n * P || v.length !== P) throw new Error(`woodFisherSolve: ${n} x ${P} gradients and a vector of ${P} values expected`);
  const inv = 1 / damping;
  const den = new Float64Array(n);
  const dots = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const g = G.subarray(k * P, (k + 1) * P);
    let gg = 0;
    for (let i = 0; i < P; i++) gg += g[i] * g[i];
    // d_j-weighted projections of g_k on the earlier u_j (computed while g_k is intact)
    let corr = 0;
    for (let j = 0; j < k; j++) {
      const u = G.subarray(j * P, (j + 1) * P);
      let d = 0;
      for (let i = 0; i < P; i++) d += u[i] * g[i];
      dots[j] = d / den[j];
      corr += (d * d) / den[j];
    }
    // u_k = g_k/λ − Σ_j u_j·(u_j·g_k)/d_j, written over g_k
    const acc = Float64Array.from(g, (x) => x * inv);
    for (let j = 0; j < k; j++) {
      const c = dots[j];
      if (c === 0) continue;
      const u = G.subarray(j * P, (j + 1) * P);
      for (let i = 0; i < P; i++) acc[i] -= c * u[i];
    }
    for (let i = 0; i < P; i++) g[i] = acc[i];
    // g_k·u_k = |g_k|²/λ − Σ_j (u_j·g_k)²/d_j
    den[k] = n + gg * inv - corr;
    onRow?.(k);
  }
  const out = Float64Array.from(v, (x) => x * inv);
  for (let j = 0; j < n; j++) {
    const u = G.subarray(j * P, (j + 1) * P);
    let d = 0;
    for (let i = 0; i < P; i++) d += u[i] * v[i];
    const c = d / den[j];
    for (let i = 0; i < P; i++) out[i] -= c * u[i];
  }
  return out;
}

export const iu: MethodDescriptor<typeof params> = {
  id: 'iu',
  name: 'IU (influence unlearning, WoodFisher)',
  exact: false,
  scope: 'any',
  gradientBased: false,
  description:
    'Needs no training. Estimates how the model would change without the forget set with one Newton step: the mean loss gradient of the forget set, multiplied by the inverse of the retain-set Fisher (built from per-example gradients of a sample of retain examples with the WoodFisher recursion), scaled by alpha and added to the weights. Memory grows with samples times parameters, so large models are refused. It tends to under-forget.',
  source:
    'Koh & Liang 2017 (influence functions); Izzo et al. 2021; WoodFisher recursion from Singh & Alistarh 2020; as the IU baseline of Jia et al. 2023 and Fan et al. 2024 (OPTML-Group unlearn/Wfisher.py: θ + α·H⁻¹∇L(D_f), H₀ = I, α default 0.2 in its arg parser; its scripts use 10–16 for CIFAR-10); ~1000 retain samples as in UNLEARNING-REFERENCE.md',
  params,
  async run(ctx, p) {
    const names = ctx.trainable;
    const theta = initializerValues(ctx, names);
    let P = 0;
    for (const n of names) P += theta[n].length;
    const fit = Math.floor(MAX_VALUES / P);
    const wanted = Math.min(p.samples, ctx.retain.n);
    const need = Math.min(MIN_SAMPLES, wanted);
    if (fit < need) {
      throw new EngineError(
        'invalid_argument',
        `IU (WoodFisher) keeps one gradient per retain sample in memory: this model has ${P.toLocaleString('en-US')} parameters, so even ${need} samples need ${((need * P * 4) / 2 ** 20).toFixed(0)} MiB, over the ${MAX_VALUES * 4 / 2 ** 20} MiB limit. Use a smaller model or a method without second-order terms (e.g. SSD or Fisher forgetting).`,
      );
    }
    const n = Math.min(wanted, fit);
    if (n < wanted) ctx.log('warn', `IU: the Fisher uses ${n} retain samples instead of ${wanted}: ${wanted} x ${P.toLocaleString('en-US')} gradient values would exceed the ${MAX_VALUES * 4 / 2 ** 20} MiB limit.`);
    const session = { provider: ctx.provider, threads: ctx.threads, signal: ctx.signal };

    ctx.progress({ fraction: 0, message: 'IU: gradient of the forget loss' });
    const fg = await computeGradients(ctx.model, ctx.forget, { ...session, params: names, batchSize: p.batchSize, combine: 'sum', loss: { reduction: 'sum' } });
    const v = new Float32Array(P);
    let off = 0;
    for (const name of names) {
      const g = fg.grads[name];
      for (let i = 0; i < g.length; i++) v[off + i] = g[i] / ctx.forget.n;
      off += g.length;
    }

    const indices = Array.from(new Rng(ctx.seed, 9_300_000).permutation(ctx.retain.n).subarray(0, n)).sort((a, b) => a - b);
    const pe = await perExampleGradients(ctx.model, ctx.retain, {
      ...session,
      params: names,
      indices,
      maxValues: MAX_VALUES,
      onProgress: (d, t) => {
        if (d % 50 === 0 || d === t) ctx.progress({ fraction: 0.05 + (0.25 * d) / t, message: `IU: per-example gradients ${d}/${t}` });
      },
    });
    ctx.progress({ fraction: 0.3, message: `IU: WoodFisher recursion over ${n} samples` });
    const step = woodFisherSolve(pe.grads, n, P, v, p.damping, (k) => {
      if (ctx.signal.aborted) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
      if (k % 25 === 0) ctx.progress({ fraction: 0.3 + (0.65 * (k + 1) ** 2) / n ** 2, message: `IU: WoodFisher recursion ${k + 1}/${n}` });
    });

    const out: Record<string, Float32Array> = {};
    let norm = 0;
    for (const l of pe.layout) {
      const w = theta[l.name];
      const nw = new Float32Array(w.length);
      for (let i = 0; i < w.length; i++) {
        const d = p.alpha * step[l.offset + i];
        nw[i] = w[i] + d;
        norm += d * d;
      }
      out[l.name] = nw;
    }
    ctx.progress({ fraction: 0.97, message: 'IU: Newton step applied' });
    const kept = await guardOneShot(ctx, out, 'IU');
    return { weights: kept.weights, steps: kept.steps, stats: { samples: n, parameters: P, stepNorm: Math.sqrt(norm), forgetGradNorm: Math.sqrt(v.reduce((a, x) => a + x * x, 0)) } };
  },
};
