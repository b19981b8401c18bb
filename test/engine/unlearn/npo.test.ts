// NPO on a small MLP with class 0 forgotten: the forget loss rises well above the original's, the
// NPO term starts at (2/β)·log 2 (p_θ = p_ref) and saturates toward 0, retain accuracy holds.

import { describe, expect, it } from 'vitest';
import { runMethod } from '../../../main/engine/unlearn/run';
import { getMethod } from '../../../main/engine/unlearn/registry';
import { smallWorkbench } from './helpers';

describe('npo', () => {
  it('raises the forget loss while the NPO term saturates', async () => {
    const w = await smallWorkbench();
    const before = await w.evaluate(w.original, w.forget);
    const out = await runMethod({ ...w.input, methodId: 'npo', params: { epochs: 10, forgetBatchSize: 16, retainBatchSize: 32 } });
    const after = await w.evaluate(out.model, w.forget);
    expect(after.meanLoss).toBeGreaterThan(before.meanLoss + 2);
    expect(after.accuracy).toBeLessThan(0.2);
    const beta = 0.1;
    expect(out.stats.firstNpoLoss).toBeCloseTo((2 / beta) * Math.log(2), 3);
    expect(out.stats.lastNpoLoss).toBeLessThan(out.stats.firstNpoLoss / 4);
    // recompute the NPO term of the result from its log-probabilities: small, i.e. saturated
    let s = 0;
    for (let i = 0; i < w.forget.n; i++) s += (2 / beta) * Math.log1p(Math.exp(beta * (-after.losses[i] + before.losses[i])));
    expect(s / w.forget.n).toBeLessThan(((2 / beta) * Math.log(2)) / 4);
    const r0 = await w.accuracy(w.original, w.retainSlice);
    const r1 = await w.accuracy(out.model, w.retainSlice);
    expect(r1).toBeGreaterThan(r0 - 5);
  });

  it('without the retain term (plain NPO) it still forgets and stays finite', async () => {
    const w = await smallWorkbench();
    const out = await runMethod({ ...w.input, methodId: 'npo', params: { epochs: 10, retainWeight: 0, forgetBatchSize: 16 }, guardrail: { action: 'flag' } });
    const after = await w.evaluate(out.model, w.forget);
    expect(Number.isFinite(after.meanLoss)).toBe(true);
    expect(after.accuracy).toBeLessThan(0.2);
  });

  it('declares its defaults', () => {
    expect(getMethod('npo').params.parse({})).toMatchObject({ beta: 0.1, retainWeight: 1, epochs: 5, lr: 0.01, optimizer: 'sgd' });
  });
});
