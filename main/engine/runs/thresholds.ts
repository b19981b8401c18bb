// Pre-registered pass/fail thresholds: parsed and validated once, judged on comparison entries.

import { EngineError } from '../errors';
import type { ComparisonEntry, Threshold, ThresholdVerdict } from './contract-types';

const OPS = ['<=', '>=', 'gap<='] as const;

/** `metric op value`, e.g. "forget-accuracy gap<= 2" or "retain-accuracy >= 85". */
export function parseThreshold(text: string, metricIds: readonly string[]): Threshold {
  const m = /^\s*([a-z0-9-]+)\s*(gap<=|<=|>=)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$/.exec(text);
  if (!m) throw new EngineError('invalid_argument', `a threshold is "<metric> <op> <number>" with op <=, >= or gap<= (e.g. "forget-accuracy gap<= 2"), got '${text.slice(0, 80)}'`);
  return validateThreshold({ metric: m[1], op: m[2] as Threshold['op'], value: Number(m[3]) }, metricIds);
}

export function validateThreshold(t: Threshold, metricIds: readonly string[]): Threshold {
  if (!metricIds.includes(t.metric)) throw new EngineError('invalid_argument', `threshold on unknown metric '${t.metric}'; known: ${metricIds.join(', ')}`);
  if (!OPS.includes(t.op)) throw new EngineError('invalid_argument', `threshold operator must be one of ${OPS.join(', ')}`);
  if (!Number.isFinite(t.value)) throw new EngineError('invalid_argument', `threshold value of '${t.metric}' must be a finite number`);
  if (t.op === 'gap<=' && t.value < 0) throw new EngineError('invalid_argument', `a gap threshold of '${t.metric}' must be >= 0`);
  return { metric: t.metric, op: t.op, value: t.value };
}

export function judge(entry: ComparisonEntry, thresholds: readonly Threshold[]): ThresholdVerdict[] {
  return thresholds.map((t) => {
    const s = entry.metrics[t.metric];
    const observed = t.op === 'gap<=' ? (s?.gapToRetrain ?? null) : (s?.mean ?? null);
    if (observed === null || !Number.isFinite(observed)) return { threshold: t, observed: null, pass: null };
    const pass = t.op === '>=' ? observed >= t.value : observed <= t.value;
    return { threshold: t, observed, pass };
  });
}

export function formatThreshold(t: Threshold): string {
  return t.op === 'gap<=' ? `|${t.metric} − retrain| ≤ ${t.value}` : `${t.metric} ${t.op === '<=' ? '≤' : '≥'} ${t.value}`;
}
