// Fisher forgetting: every weight moves by seeded Gaussian noise whose variance is α / (its Fisher
// information on the retain set), clamped and averaged as in the public get_mean_var: the normalised
// displacements (θ_u − θ_o)/σ_expected are standard normal, weights with less Fisher move more, the
// same seed gives the same bits, and for class forgetting the forgotten class's classifier row is reset.

import { describe, expect, it } from 'vitest';
import { runMethod } from '../../../main/engine/unlearn/run';
import { getMethod } from '../../../main/engine/unlearn/registry';
import { batchedExpectedFisher } from '../../../main/engine/unlearn/methods/fisher';
import { expectedFisherDiagonal } from '../../../main/engine/train/per-example';
import { lastLayers } from '../../../main/engine/train/weight-edits';
import { bench, sameBits, values } from './helpers-weights';

const session = { provider: 'cpu' as const, threads: 1, signal: new AbortController().signal };

/** σ of every entry as get_mean_var defines it (PyTorch layout; no forgotten class). */
function expectedStd(F: Float32Array, dims: number[], alpha: number, classifier: boolean): Float64Array {
  const v = Float64Array.from(F, (f) => alpha * Math.min(Math.min(1 / (f + 1e-8), 1e3), classifier ? 1e2 : Infinity));
  if (dims.length > 1) {
    const [d0, d1] = dims;
    for (let a = 0; a < d0; a++) {
      let s = 0;
      for (let b = 0; b < d1; b++) s += v[a * d1 + b];
      for (let b = 0; b < d1; b++) v[a * d1 + b] = s / d1;
    }
  }
  if (classifier || dims.length === 1) for (let i = 0; i < v.length; i++) v[i] *= 10;
  return v.map(Math.sqrt);
}

describe('Fisher forgetting', () => {
  it('is registered with α 1e-6 and the batch-32 Fisher of the OPTML code, not gradient-based', () => {
    const m = getMethod('fisher');
    expect(m.gradientBased).toBe(false);
    expect(m.params.parse({})).toEqual({ alpha: 1e-6, fisherBatchSize: 32 });
  });

  it('its Fisher diagonal with batch size 1 is Golatkar’s per-example expectation (expectedFisherDiagonal)', async () => {
    const b = await bench();
    const names = b.input.trainable;
    const mine = await batchedExpectedFisher(b.original, b.retain, names, 1, session);
    const ref = await expectedFisherDiagonal(b.original, b.retain, { params: names });
    for (const n of names) {
      const a = mine.fisher[n];
      const r = ref.fisher[n];
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - r[i]) / (Math.abs(r[i]) + 1e-12));
      expect(worst, n).toBeLessThan(1e-5);
    }
  });

  it('moves each weight by seeded noise of variance α/F (clamped, row-averaged): standard normal once divided by that σ', async () => {
    const b = await bench();
    const alpha = 1e-6;
    const out = await runMethod({ ...b.input, methodId: 'fisher', params: { alpha }, guardrail: { action: 'off' } });
    const names = b.input.trainable;
    const F = await batchedExpectedFisher(b.original, b.retain, names, 32, session);
    const classifier = new Set(lastLayers(b.original, 1).params);
    const z: number[] = [];
    const lowF: number[] = [];
    const highF: number[] = [];
    for (const n of names) {
      const dims = b.original.graph.initializers.find((t) => t.name === n)!.dims;
      const sd = expectedStd(F.fisher[n], dims, alpha, classifier.has(n));
      const w0 = values(b.original, n);
      const w1 = values(out.model, n);
      for (let i = 0; i < w0.length; i++) z.push((w1[i] - w0[i]) / sd[i]);
      if (dims.length === 2 && !classifier.has(n)) {
        // rows of a hidden weight: the half with the larger expected σ (less Fisher) must move more
        const rowsSd = Array.from({ length: dims[0] }, (_, a) => [sd[a * dims[1]], a] as const).sort((p, q) => p[0] - q[0]);
        const moved = (a: number) => {
          let s = 0;
          for (let k = 0; k < dims[1]; k++) s += (w1[a * dims[1] + k] - w0[a * dims[1] + k]) ** 2;
          return s / dims[1];
        };
        const half = Math.floor(rowsSd.length / 2);
        rowsSd.slice(0, half).forEach(([, a]) => highF.push(moved(a)));
        rowsSd.slice(rowsSd.length - half).forEach(([, a]) => lowF.push(moved(a)));
      }
    }
    const mean = z.reduce((s, v) => s + v, 0) / z.length;
    const variance = z.reduce((s, v) => s + (v - mean) ** 2, 0) / z.length;
    expect(z.length).toBeGreaterThan(500);
    expect(Math.abs(mean)).toBeLessThan(0.15);
    expect(variance).toBeGreaterThan(0.8);
    expect(variance).toBeLessThan(1.2);
    const avg = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(avg(lowF)).toBeGreaterThan(2 * avg(highF));
    // the noise is a real change, and the result is reproducible from the seed
    expect(names.some((n) => !sameBits(values(out.model, n), values(b.original, n)))).toBe(true);
    const again = await runMethod({ ...b.input, methodId: 'fisher', params: { alpha }, guardrail: { action: 'off' } });
    const other = await runMethod({ ...b.input, seed: 1, methodId: 'fisher', params: { alpha }, guardrail: { action: 'off' } });
    for (const n of names) expect(sameBits(values(again.model, n), values(out.model, n)), n).toBe(true);
    expect(names.every((n) => sameBits(values(other.model, n), values(out.model, n)))).toBe(false);
  });

  it('class forgetting: the forgotten class’s classifier row is reset to small noise around 0, raising the forget loss', async () => {
    const b = await bench({ forget: { classes: [2] } });
    const out = await runMethod({ ...b.input, methodId: 'fisher', guardrail: { action: 'off' } });
    const [wName] = lastLayers(b.original, 1).params;
    const w0 = values(b.original, wName);
    const w1 = values(out.model, wName);
    const row = w0.length / 4;
    let maxAbs = 0;
    let before = 0;
    for (let i = 2 * row; i < 3 * row; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(w1[i]));
      before = Math.max(before, Math.abs(w0[i]));
    }
    expect(maxAbs).toBeLessThan(0.2); // σ = √1e-3 ≈ 0.032
    expect(before).toBeGreaterThan(0.3);
    // the class's logit loses its weights (other logits may still be lower, so accuracy need not fall)
    expect(await b.meanLoss(out.model, b.forget)).toBeGreaterThan(2 * (await b.meanLoss(b.original, b.forget)) + 0.1);
    expect(await b.accuracy(out.model, b.retain)).toBeGreaterThan((await b.accuracy(b.original, b.retain)) - 10);
  });
});
