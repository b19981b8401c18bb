// l1-sparse: FT plus a linearly decaying L1 penalty. With α = 0 it is FT step for step (same bits),
// so the penalty is the only difference; with the same seed and data order it ends with a smaller
// ‖θ‖₁ and more near-zero weights than FT, while retain accuracy stays near the original's.

import { describe, expect, it } from 'vitest';
import { runMethod } from '../../../main/engine/unlearn/run';
import { getMethod } from '../../../main/engine/unlearn/registry';
import { l1Coefficient } from '../../../main/engine/unlearn/methods/l1-sparse';
import { bench, l1Norm, sameBits, values } from './helpers-weights';

const nearZero = (m: Parameters<typeof values>[0], names: string[]) => {
  let k = 0;
  for (const n of names) for (const v of values(m, n)) if (Math.abs(v) < 1e-3) k++;
  return k;
};

describe('l1-sparse', () => {
  it('has the Unlearn-Sparse defaults and its linearly decaying coefficient', () => {
    const m = getMethod('l1-sparse');
    expect(m.gradientBased).toBe(true);
    expect(m.params.parse({})).toEqual({ alpha: 5e-4, epochs: 10, noL1Epochs: 0, lr: 0.01, batchSize: 256 });
    expect(Array.from({ length: 10 }, (_, e) => l1Coefficient(5e-4, e, 10, 0))).toEqual(Array.from({ length: 10 }, (_, e) => 5e-4 * (1 - e / 10)));
    expect([0, 1, 2, 3].map((e) => l1Coefficient(1, e, 4, 2))).toEqual([1, 0.5, 0, 0]);
  });

  it('with α = 0 it is FT bit for bit; with α > 0 it ends sparser than FT (same seed) and keeps retain accuracy', async () => {
    const b = await bench();
    const names = b.input.trainable;
    const common = { epochs: 10, lr: 0.01, batchSize: 32 };
    const guardrail = { action: 'off' as const };
    const ft = await runMethod({ ...b.input, methodId: 'ft', params: common, guardrail });
    const zero = await runMethod({ ...b.input, methodId: 'l1-sparse', params: { ...common, alpha: 0 }, guardrail });
    for (const n of names) expect(sameBits(values(zero.model, n), values(ft.model, n)), n).toBe(true);
    const l1 = await runMethod({ ...b.input, methodId: 'l1-sparse', params: { ...common, alpha: 0.02 }, guardrail });
    expect(l1.steps).toBe(ft.steps);
    expect(l1Norm(l1.model, names)).toBeLessThan(0.9 * l1Norm(ft.model, names));
    expect(l1.stats.l1Norm).toBeCloseTo(l1Norm(l1.model, names), 2);
    expect(nearZero(l1.model, names)).toBeGreaterThan(nearZero(ft.model, names));
    const ra0 = await b.accuracy(b.original, b.retain);
    expect(await b.accuracy(l1.model, b.retain)).toBeGreaterThan(ra0 - 5);
  });

  it('refuses noL1Epochs >= epochs', async () => {
    const b = await bench();
    await expect(runMethod({ ...b.input, methodId: 'l1-sparse', params: { epochs: 2, noL1Epochs: 2 } })).rejects.toThrow(/noL1Epochs \(2\) must be less than epochs \(2\)/);
  });
});
