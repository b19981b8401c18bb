// IU (WoodFisher Newton step): the recursion computes H⁻¹v exactly for H = λI + (1/n)ΣggT (checked
// against a dense float64 solve), the method moves θ by exactly α·H⁻¹∇L(D_f) on its seeded sample,
// the step raises the forget loss while retain accuracy stays within a bound, and models too large
// for the gradient memory are refused in one sentence.

import { describe, expect, it } from 'vitest';
import { runMethod } from '../../../main/engine/unlearn/run';
import { getMethod } from '../../../main/engine/unlearn/registry';
import { woodFisherSolve, MAX_VALUES } from '../../../main/engine/unlearn/methods/iu';
import { buildMlp } from '../../../main/engine/models';
import { detectTrainable } from '../../../main/engine/models/import';
import { Rng } from '../../../main/engine/train/rng';
import { bench, values } from './helpers-weights';

/** Solve A x = b (dense, Gaussian elimination with partial pivoting, float64). */
function denseSolve(A: Float64Array, b: Float64Array, P: number): Float64Array {
  const M = Float64Array.from(A);
  const x = Float64Array.from(b);
  for (let c = 0; c < P; c++) {
    let piv = c;
    for (let r = c + 1; r < P; r++) if (Math.abs(M[r * P + c]) > Math.abs(M[piv * P + c])) piv = r;
    for (let k = 0; k < P; k++) [M[c * P + k], M[piv * P + k]] = [M[piv * P + k], M[c * P + k]];
    [x[c], x[piv]] = [x[piv], x[c]];
    for (let r = c + 1; r < P; r++) {
      const f = M[r * P + c] / M[c * P + c];
      for (let k = c; k < P; k++) M[r * P + k] -= f * M[c * P + k];
      x[r] -= f * x[c];
    }
  }
  for (let c = P - 1; c >= 0; c--) {
    let s = x[c];
    for (let k = c + 1; k < P; k++) s -= M[c * P + k] * x[k];
    x[c] = s / M[c * P + c];
  }
  return x;
}

describe('IU (influence unlearning, WoodFisher)', () => {
  it('has α 0.2 (OPTML arg parser), 1000 samples, λ 1; not gradient-based', () => {
    const m = getMethod('iu');
    expect(m.gradientBased).toBe(false);
    expect(m.params.parse({})).toEqual({ alpha: 0.2, samples: 1000, damping: 1, batchSize: 128 });
  });

  it('the WoodFisher recursion gives H⁻¹v of H = λI + (1/n)Σ g gᵀ (dense solve as the oracle)', () => {
    const rng = new Rng(5);
    for (const [n, P, lambda] of [
      [7, 5, 1],
      [12, 30, 0.05],
    ] as const) {
      const G = Float32Array.from({ length: n * P }, () => rng.nextNormal() * 3);
      const v = Float32Array.from({ length: P }, () => rng.nextNormal());
      const H = new Float64Array(P * P);
      for (let a = 0; a < P; a++) H[a * P + a] = lambda;
      for (let i = 0; i < n; i++) for (let a = 0; a < P; a++) for (let c = 0; c < P; c++) H[a * P + c] += (G[i * P + a] * G[i * P + c]) / n;
      const want = denseSolve(H, Float64Array.from(v), P);
      const got = woodFisherSolve(new Float32Array(G), n, P, v, lambda);
      const scale = Math.max(...Array.from(want, Math.abs));
      for (let a = 0; a < P; a++) expect(Math.abs(got[a] - want[a]) / scale).toBeLessThan(1e-4);
    }
  });

  it('moves θ by α·H⁻¹∇L(D_f): the forget loss rises, retain accuracy stays within 10 points; the step is linear in α', async () => {
    // overlapping clusters: the original's forget loss is small but not ~0, so its gradient carries signal
    const b = await bench({ forget: { fraction: 0.1 }, noise: 1.5 });
    const names = b.input.trainable;
    const guardrail = { action: 'off' as const };
    const out = await runMethod({ ...b.input, methodId: 'iu', params: { alpha: 2, samples: 150 }, guardrail });
    const half = await runMethod({ ...b.input, methodId: 'iu', params: { alpha: 1, samples: 150 }, guardrail });
    expect(out.stats.samples).toBe(150);
    for (const n of names) {
      const w0 = values(b.original, n);
      const w2 = values(out.model, n);
      const w1 = values(half.model, n);
      for (let i = 0; i < w0.length; i++) expect(Math.abs(w2[i] - w0[i] - 2 * (w1[i] - w0[i]))).toBeLessThan(1e-5 + 1e-4 * Math.abs(w2[i] - w0[i]));
    }
    const lf0 = await b.meanLoss(b.original, b.forget);
    const lf = await b.meanLoss(out.model, b.forget);
    expect(lf).toBeGreaterThan(2 * lf0);
    expect(await b.accuracy(out.model, b.retain)).toBeGreaterThan((await b.accuracy(b.original, b.retain)) - 10);
    // the Hessian matters: the step is not just the plain gradient (λ = 1 identity would give α·∇L exactly)
    expect(out.stats.stepNorm).not.toBeCloseTo(2 * out.stats.forgetGradNorm, 3);
  });

  it('refuses a model whose gradients for the minimum sample would not fit in memory, in one sentence', async () => {
    const big = buildMlp({ inputShape: [4096], hidden: [400], classes: 4, seed: 1 });
    const P = 4096 * 400 + 400 + 400 * 4 + 4;
    expect(Math.floor(MAX_VALUES / P)).toBeLessThan(100);
    const x = new Float32Array(200 * 4096);
    const y = Int32Array.from({ length: 200 }, (_, i) => i % 4);
    const ds = { x, y, n: 200, exampleShape: [4096] };
    const empty = { x: new Float32Array(0), y: new Int32Array(0), n: 0, exampleShape: [4096] };
    const input = { model: big, initModel: null, trainable: detectTrainable(big).trainable, recipe: { optimizer: { kind: 'sgd' as const }, lr: 0.1, schedule: null, epochs: 1, batchSize: 32, seed: 0 }, recipeKnown: false, forget: ds, retain: ds, retainSlice: empty, numClasses: 4, forgottenClasses: [], seed: 0 };
    await expect(runMethod({ ...input, methodId: 'iu' })).rejects.toThrow(/^IU \(WoodFisher\) keeps one gradient per retain sample in memory: this model has 1,640,404 parameters, so even 100 samples need 626 MiB, over the 512 MiB limit\. Use a smaller model/);
  });
});
