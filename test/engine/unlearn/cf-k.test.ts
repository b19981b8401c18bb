// CF-k: only the last k layers with weights are fine-tuned on the retain set; every other parameter
// comes back bit-identical to θ_o. Forgetting a class this way raises that class's loss.

import { describe, expect, it } from 'vitest';
import { runMethod } from '../../../main/engine/unlearn/run';
import { getMethod } from '../../../main/engine/unlearn/registry';
import { bench, sameBits, values } from './helpers-weights';

describe('CF-k', () => {
  it('has k = 1 and FT’s training defaults', () => {
    const m = getMethod('cf-k');
    expect(m.gradientBased).toBe(true);
    expect(m.params.parse({})).toEqual({ k: 1, epochs: 10, lr: 0.01, batchSize: 256 });
  });

  it('k = 1 changes only the last layer, k = 2 the last two; everything else is bit-identical to θ_o', async () => {
    const b = await bench({ forget: { classes: [1] } });
    const names = b.input.trainable;
    expect(names).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias']);
    const changed = (m: typeof b.original) => names.filter((n) => !sameBits(values(m, n), values(b.original, n)));
    const one = await runMethod({ ...b.input, methodId: 'cf-k', params: { batchSize: 32 } });
    expect(changed(one.model)).toEqual(['fc3.weight', 'fc3.bias']);
    const two = await runMethod({ ...b.input, methodId: 'cf-k', params: { k: 2, batchSize: 32 } });
    expect(changed(two.model)).toEqual(['fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias']);
    // the head learns that the forgotten class no longer occurs; the retain set stays well classified
    expect(await b.meanLoss(one.model, b.forget)).toBeGreaterThan(await b.meanLoss(b.original, b.forget));
    expect(await b.accuracy(one.model, b.retain)).toBeGreaterThan((await b.accuracy(b.original, b.retain)) - 5);
  });

  it('refuses a k larger than the model’s number of layers with weights', async () => {
    const b = await bench({ forget: { classes: [1] } });
    await expect(runMethod({ ...b.input, methodId: 'cf-k', params: { k: 4 } })).rejects.toThrow(/CF-k: k must be an integer from 1 to 3/);
  });
});
