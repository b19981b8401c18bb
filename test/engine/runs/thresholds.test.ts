import { describe, expect, it } from 'vitest';
import { formatThreshold, judge, parseThreshold } from '../../../main/engine/runs/thresholds';
import type { ComparisonEntry } from '../../../main/engine/runs/contract-types';

const ids = ['forget-accuracy', 'retain-accuracy', 'mia-efficacy'];
const entry = (mean: number, gap: number | null): ComparisonEntry => ({
  key: 'x',
  label: 'X',
  role: 'unlearned',
  method: null,
  runs: [],
  metrics: { 'forget-accuracy': { values: [mean], mean, sd: null, lo: mean, hi: mean, n: 1, gapToRetrain: gap } },
  extras: {},
});

describe('pre-registered thresholds', () => {
  it('parse, validate and format', () => {
    expect(parseThreshold('forget-accuracy gap<= 2', ids)).toEqual({ metric: 'forget-accuracy', op: 'gap<=', value: 2 });
    expect(parseThreshold('retain-accuracy>=85.5', ids)).toEqual({ metric: 'retain-accuracy', op: '>=', value: 85.5 });
    expect(() => parseThreshold('speed <= 3', ids)).toThrow(/unknown metric 'speed'/);
    expect(() => parseThreshold('forget-accuracy < 3', ids)).toThrow(/<metric> <op> <number>/);
    expect(() => parseThreshold('forget-accuracy gap<= -1', ids)).toThrow(/>= 0/);
    expect(formatThreshold({ metric: 'forget-accuracy', op: 'gap<=', value: 2 })).toBe('|forget-accuracy − retrain| ≤ 2');
  });
  it('judge the mean or the gap to retrain; a missing number is neither pass nor fail', () => {
    const t = [
      { metric: 'forget-accuracy', op: 'gap<=' as const, value: 2 },
      { metric: 'forget-accuracy', op: '<=' as const, value: 10 },
      { metric: 'mia-efficacy', op: '>=' as const, value: 50 },
    ];
    expect(judge(entry(8, 1.5), t).map((v) => v.pass)).toEqual([true, true, null]);
    expect(judge(entry(12, 2.5), t).map((v) => v.pass)).toEqual([false, false, null]);
    expect(judge(entry(12, null), t)[0]).toEqual({ threshold: t[0], observed: null, pass: null });
  });
});
