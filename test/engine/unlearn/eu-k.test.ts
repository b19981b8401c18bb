// EU-k: the last k layers are re-initialised (as the built-in architectures initialise them; seed 0
// gives the original's own initial values) and trained on the retain set with the original's recipe;
// the earlier layers come back bit-identical. A forgotten class is then never predicted.

import { describe, expect, it } from 'vitest';
import { runMethod } from '../../../main/engine/unlearn/run';
import { getMethod } from '../../../main/engine/unlearn/registry';
import { bench, sameBits, values } from './helpers-weights';

describe('EU-k', () => {
  it('has k = 1 and takes epochs, learning rate and batch size from the original recipe by default', () => {
    const m = getMethod('eu-k');
    expect(m.gradientBased).toBe(true);
    expect(m.params.parse({})).toEqual({ k: 1, epochs: 0, lr: 0, batchSize: 0 });
  });

  it('starts the last layer from fresh initial values (not θ_o), trains only it, and keeps the other layers bit-identical', async () => {
    const b = await bench({ forget: { classes: [1] } });
    const head = ['fc3.weight', 'fc3.bias'];
    const body = ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias'];
    // a vanishing learning rate shows the starting point: the original's initial head, far from θ_o's
    const still = await runMethod({ ...b.input, methodId: 'eu-k', params: { epochs: 1, lr: 1e-9 }, guardrail: { action: 'off' } });
    for (const n of head) {
      const got = values(still.model, n);
      const init = values(b.init, n);
      const orig = values(b.original, n);
      let fromInit = 0;
      let fromOrig = 0;
      for (let i = 0; i < got.length; i++) {
        fromInit = Math.max(fromInit, Math.abs(got[i] - init[i]));
        fromOrig = Math.max(fromOrig, Math.abs(got[i] - orig[i]));
      }
      expect(fromInit, n).toBeLessThan(1e-6);
      expect(fromOrig, n).toBeGreaterThan(0.1);
    }
    // with the recipe (Adam, lr 0.01, 25 epochs, batch 32): the head relearns the retained classes only
    const out = await runMethod({ ...b.input, methodId: 'eu-k' });
    expect(out.steps).toBe(25 * Math.ceil(b.retain.n / 32));
    for (const n of body) expect(sameBits(values(out.model, n), values(b.original, n)), n).toBe(true);
    for (const n of head) expect(sameBits(values(out.model, n), values(b.original, n)), n).toBe(false);
    expect(await b.accuracy(out.model, b.forget)).toBe(0);
    expect(await b.accuracy(out.model, b.retain)).toBeGreaterThan((await b.accuracy(b.original, b.retain)) - 5);
    expect(out.guardrail?.tripped).toBe(false);
  });

  it('a different run seed starts from different values', async () => {
    const b = await bench({ forget: { classes: [1] } });
    const s0 = await runMethod({ ...b.input, methodId: 'eu-k', params: { epochs: 1, lr: 1e-9 }, guardrail: { action: 'off' } });
    const s1 = await runMethod({ ...b.input, seed: 1, methodId: 'eu-k', params: { epochs: 1, lr: 1e-9 }, guardrail: { action: 'off' } });
    expect(sameBits(values(s0.model, 'fc3.weight'), values(s1.model, 'fc3.weight'))).toBe(false);
  });
});
