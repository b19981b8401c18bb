// UNSIR on a small MLP with class 0 forgotten: impair (noise for class 0 + retain sample) then repair
// (retain sample) removes the class; a forget set that is not a whole class is refused in one line.

import { describe, expect, it } from 'vitest';
import { runMethod } from '../../../main/engine/unlearn/run';
import { getMethod } from '../../../main/engine/unlearn/registry';
import { smallWorkbench, subset } from './helpers';

describe('unsir', () => {
  it('lowers forgotten-class accuracy and keeps the other classes', async () => {
    const w = await smallWorkbench();
    expect(w.forgottenClasses).toEqual([0]);
    const idx = (keep: (c: number) => boolean) => Array.from({ length: w.test.n }, (_, i) => i).filter((i) => keep(Number(w.test.y[i])));
    const testForget = subset(w.test, idx((c) => c === 0));
    const testRetain = subset(w.test, idx((c) => c !== 0));
    expect(await w.accuracy(w.original, testForget)).toBeGreaterThan(90);
    const out = await runMethod({ ...w.input, methodId: 'unsir', params: { batchSize: 32 } });
    expect(await w.accuracy(out.model, w.forget)).toBeLessThan(20);
    expect(await w.accuracy(out.model, testForget)).toBeLessThan(20);
    const r0 = await w.accuracy(w.original, testRetain);
    expect(await w.accuracy(out.model, testRetain)).toBeGreaterThan(r0 - 5);
    // the learned noise is error-maximising: the original's CE on it is far above chance level
    expect(out.stats.noiseCe_class0).toBeGreaterThan(Math.log(w.numClasses) * 2);
    expect(out.stats.noiseExamples).toBe(256 * 20);
  });

  it('refuses a forget set that is not a whole class, with a clear message', async () => {
    const w = await smallWorkbench({ forget: { kind: 'random', fraction: 0.1 } });
    expect(w.forgottenClasses).toEqual([]);
    await expect(runMethod({ ...w.input, methodId: 'unsir' })).rejects.toThrow(/whole classes only/);
    // the refusal comes from the descriptor's scope (runMethod checks it before running anything)
    const m = getMethod('unsir');
    expect(m.scope).toBe('class');
  });

  it('declares the notebook defaults', () => {
    expect(getMethod('unsir').params.parse({})).toMatchObject({ noiseBatch: 256, noiseSteps: 40, noiseLr: 0.1, noiseL2: 0.1, noiseCopies: 20, retainPerClass: 1000, impairLr: 0.02, repairLr: 0.01, batchSize: 256 });
  });
});
