// SCRUB on a small MLP with class 0 forgotten: the max-steps on the forget set remove the class
// (forget accuracy falls) while the min-steps keep retain accuracy near the original's; without the
// max-steps (msteps 0) the same run keeps the forget class, so the forgetting is the max-steps' doing.
// The forget set has only 100 rows, so the test takes smaller forget batches and a larger learning
// rate than the defaults (which are for thousands of rows: 3 epochs x 2 batches of 64 would be 6
// max-steps, starting where KL(T||S) = 0 and its gradient vanishes).

import { describe, expect, it } from 'vitest';
import { runMethod } from '../../../main/engine/unlearn/run';
import { getMethod } from '../../../main/engine/unlearn/registry';
import { smallWorkbench, subset } from './helpers';

describe('scrub', () => {
  it('lowers forget accuracy while keeping retain accuracy near the original', async () => {
    const w = await smallWorkbench();
    const testRetain = subset(w.test, Array.from({ length: w.test.n }, (_, i) => i).filter((i) => Number(w.test.y[i]) !== 0));
    const f0 = await w.accuracy(w.original, w.forget);
    const r0 = await w.accuracy(w.original, testRetain);
    const params = { forgetBatchSize: 8, lr: 2e-3 };
    const out = await runMethod({ ...w.input, methodId: 'scrub', params });
    const f1 = await w.accuracy(out.model, w.forget);
    const r1 = await w.accuracy(out.model, testRetain);
    const noMax = await runMethod({ ...w.input, methodId: 'scrub', params: { ...params, msteps: 0 } });
    const f2 = await w.accuracy(noMax.model, w.forget);
    expect(f0).toBeGreaterThan(95);
    expect(f1).toBeLessThan(30);
    expect(r1).toBeGreaterThan(r0 - 5);
    // min-steps alone forget a little (like fine-tuning); the max-steps do the bulk
    expect(f2).toBeGreaterThan(70);
    expect(f2 - f1).toBeGreaterThan(50);
    expect(out.guardrail?.stopped).toBe(false);
    // the max-steps really moved the student away from the teacher on the forget set
    expect(out.stats.lastMaxStepKl).toBeGreaterThan(0.5);
    expect(noMax.stats.maxSteps).toBe(0);
  });

  it('declares its literature defaults', () => {
    const m = getMethod('scrub');
    const d = m.params.parse({});
    expect(d).toMatchObject({ alpha: 0.5, gamma: 1, msteps: 3, epochs: 10, temperature: 2, lr: 5e-4, optimizer: 'adam' });
    expect(m.gradientBased).toBe(true);
    expect(m.scope).toBe('any');
  });
});
