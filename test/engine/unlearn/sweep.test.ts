import { describe, expect, it } from 'vitest';
import { bestTrial, expandSweep, parseDimension } from '../../../main/engine/unlearn/sweep';

describe('sweep expansion', () => {
  it('a grid is every combination, validated and filled with defaults', () => {
    const t = expandSweep({ method: 'ga', space: { lr: { values: [1e-4, 5e-4] }, epochs: { values: [2, 5, 7] } }, mode: 'grid', objective: 'tow' });
    expect(t).toHaveLength(6);
    expect(t[0]).toEqual({ lr: 1e-4, epochs: 2, batchSize: 256, gu: false });
    expect(t[5]).toEqual({ lr: 5e-4, epochs: 7, batchSize: 256, gu: false });
  });

  it('a random search is seeded, respects log ranges and integer parameters', () => {
    const spec = { method: 'salun', space: { lr: { min: 1e-4, max: 1e-1, log: true }, epochs: { min: 1, max: 5 } }, mode: 'random' as const, trials: 20, seed: 3, objective: 'avg-gap' as const };
    const a = expandSweep(spec);
    expect(expandSweep(spec)).toEqual(a);
    expect(expandSweep({ ...spec, seed: 4 })).not.toEqual(a);
    for (const t of a) {
      expect(t.lr as number).toBeGreaterThanOrEqual(1e-4);
      expect(t.lr as number).toBeLessThanOrEqual(1e-1);
      expect(Number.isInteger(t.epochs)).toBe(true);
    }
    // log-uniform: about half the draws below the geometric midpoint 3.16e-3
    const below = a.filter((t) => (t.lr as number) < 3.16e-3).length;
    expect(below).toBeGreaterThan(4);
    expect(below).toBeLessThan(16);
  });

  it('refuses unknown parameters, out-of-range values and ranges in a grid, in one sentence', () => {
    expect(() => expandSweep({ method: 'ga', space: { speed: { values: [1] } }, mode: 'grid', objective: 'tow' })).toThrow(/ga has no parameter 'speed'/);
    expect(() => expandSweep({ method: 'ga', space: { lr: { values: [-1] } }, mode: 'grid', objective: 'tow' })).toThrow(/'lr'/);
    expect(() => expandSweep({ method: 'ga', space: { lr: { min: 0, max: 1 } }, mode: 'grid', objective: 'tow' })).toThrow(/grid sweep needs a list/);
    expect(() => expandSweep({ method: 'ga', space: { lr: { min: 0, max: 1, log: true } }, mode: 'random', objective: 'tow' })).toThrow(/min > 0/);
    expect(() => expandSweep({ method: 'ga', space: {}, mode: 'grid', objective: 'tow' })).toThrow(/at least one parameter/);
  });

  it('the best trial maximises ToW or minimises Avg. Gap, and a tripped guardrail never wins', () => {
    const s = [
      { objective: 0.9, guardrailTripped: false },
      { objective: 0.95, guardrailTripped: true },
      { objective: 0.8, guardrailTripped: false },
      { objective: null, guardrailTripped: false },
    ];
    expect(bestTrial('tow', s)).toBe(0);
    expect(bestTrial('avg-gap', s)).toBe(2);
    expect(bestTrial('tow', [{ objective: 1, guardrailTripped: true }])).toBeNull();
  });

  it('parses CLI dimensions', () => {
    expect(parseDimension('lr=1e-4,5e-4')).toEqual(['lr', { values: [1e-4, 5e-4] }]);
    expect(parseDimension('lr=1e-5:1e-2:log')).toEqual(['lr', { min: 1e-5, max: 1e-2, log: true }]);
    expect(() => parseDimension('lr')).toThrow(/name=v1,v2/);
    expect(() => parseDimension('lr=a:b')).toThrow(/not a number/);
  });
});
