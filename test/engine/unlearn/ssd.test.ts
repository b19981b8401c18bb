// SSD: only the weights whose forget importance exceeds α times their importance on D change, each by
// exactly the factor min(λ·I_D/I_f, 1); everything else is bit-identical to θ_o. The importances are
// recomputed here independently (mean over batches of the squared batch gradient on D_f, and on
// D_r's batches followed by D_f's).

import { describe, expect, it } from 'vitest';
import { runMethod } from '../../../main/engine/unlearn/run';
import { getMethod } from '../../../main/engine/unlearn/registry';
import { computeGradients } from '../../../main/engine/train/gradients';
import { bench, sameBits, values } from './helpers-weights';

describe('SSD (selective synaptic dampening)', () => {
  it('is registered with the SSD code defaults (α 10, λ 1, batch 64) and is not gradient-based', () => {
    const m = getMethod('ssd');
    expect(m.gradientBased).toBe(false);
    expect(m.params.parse({})).toEqual({ alpha: 10, lambda: 1, batchSize: 64 });
  });

  it('dampens exactly the weights with I_f > α·I_D, by min(λ·I_D/I_f, 1); all others stay bit-identical', async () => {
    const b = await bench({ forget: { classes: [1] } });
    // the forget class is a quarter of D, so I_D >= I_f·B_f/B ≈ I_f/4 and α = 10 could never select anything here
    const alpha = 2;
    const lambda = 1;
    const batchSize = 16;
    const out = await runMethod({ ...b.input, methodId: 'ssd', params: { alpha, lambda, batchSize }, guardrail: { action: 'off' } });
    const opts = { params: b.input.trainable, transform: 'square' as const, batchSize, combine: 'sum' as const };
    const f = await computeGradients(b.original, b.forget, opts);
    const r = await computeGradients(b.original, b.retain, opts);
    let selected = 0;
    let unchanged = 0;
    let total = 0;
    for (const name of b.input.trainable) {
      const w0 = values(b.original, name);
      const w1 = values(out.model, name);
      const keep = new Float32Array(w0.length);
      const want = new Float32Array(w0);
      for (let i = 0; i < w0.length; i++) {
        const fi = Math.fround(f.grads[name][i] / f.batches);
        const di = Math.fround((r.grads[name][i] + f.grads[name][i]) / (f.batches + r.batches));
        if (fi > alpha * di) {
          selected++;
          want[i] = w0[i] * Math.min((lambda * di) / fi, 1);
        } else keep[i] = 1;
      }
      for (let i = 0; i < w0.length; i++) if (keep[i]) unchanged += Object.is(w1[i], w0[i]) ? 1 : 0;
      total += w0.length;
      expect(sameBits(w1, want), name).toBe(true);
    }
    expect(out.stats.selectedWeights).toBe(selected);
    expect(out.stats.totalWeights).toBe(total);
    // a real edit, but a selective one
    expect(selected).toBeGreaterThan(0);
    expect(selected).toBeLessThan(total / 2);
    expect(unchanged).toBe(total - selected);
    // forgetting a whole class this way lowers that class's accuracy more than the others'
    const fBefore = await b.accuracy(b.original, b.forget);
    const fAfter = await b.accuracy(out.model, b.forget);
    expect(fAfter).toBeLessThan(fBefore);
  });

  it('a huge α selects nothing: the model comes back bit-identical', async () => {
    const b = await bench({ forget: { classes: [1] } });
    const out = await runMethod({ ...b.input, methodId: 'ssd', params: { alpha: 1e30 }, guardrail: { action: 'off' } });
    expect(out.stats.selectedWeights).toBe(0);
    for (const name of b.input.trainable) expect(sameBits(values(out.model, name), values(b.original, name)), name).toBe(true);
  });

  it("with the guardrail on 'stop', an edit that drops held-out retain accuracy is not applied", async () => {
    const b = await bench({ forget: { classes: [1] } });
    // α tiny and λ tiny: nearly every weight is selected and shrunk towards 0, which collapses the model
    const out = await runMethod({ ...b.input, methodId: 'ssd', params: { alpha: 1e-9, lambda: 1e-6 }, guardrail: { action: 'stop', maxDropPoints: 5 } });
    expect(out.guardrail?.stopped).toBe(true);
    expect(out.steps).toBe(0);
    for (const name of b.input.trainable) expect(sameBits(values(out.model, name), values(b.original, name)), name).toBe(true);
    expect(out.notes.join(' ')).toMatch(/not applied/);
  });
});
