// Pure helpers of the unlearning UI: a method's form values from its ParamSpec list (the backend's
// description of the method's zod schema) and the formatting of comparison metrics. The backend
// validates every value; these only prefill the form and describe ranges in words.

import type { MetricInfo, MetricSummary, ParamSpec } from '../../../preload/api';

export type ParamValue = number | boolean | string;

/** The form's starting values: every parameter at its literature default. */
export function defaultParams(specs: readonly ParamSpec[]): Record<string, ParamValue> {
  return Object.fromEntries(specs.map((s) => [s.name, s.default]));
}

/** The allowed range in words, e.g. "above 0, at most 1" or "whole number from 1 to 1000"; '' for booleans. */
export function rangeText(s: ParamSpec): string {
  if (s.type === 'boolean') return '';
  if (s.type === 'enum') return `one of ${(s.options ?? []).join(', ')}`;
  const parts: string[] = [];
  if (s.min !== undefined) parts.push(`${s.minExclusive ? 'above' : 'at least'} ${s.min}`);
  if (s.max !== undefined) parts.push(`${s.maxExclusive ? 'below' : 'at most'} ${s.max}`);
  const whole = s.type === 'integer' ? 'whole number' : 'number';
  return parts.length ? `${whole}, ${parts.join(', ')}` : whole;
}

/** Why a value does not fit its spec (one sentence), or null. The backend says the same in its own words. */
export function paramProblem(s: ParamSpec, v: ParamValue | undefined): string | null {
  if (s.type === 'boolean') return typeof v === 'boolean' ? null : `${s.name} must be on or off.`;
  if (s.type === 'enum') return typeof v === 'string' && (s.options ?? []).includes(v) ? null : `${s.name} must be one of ${(s.options ?? []).join(', ')}.`;
  if (typeof v !== 'number' || !Number.isFinite(v)) return `${s.name} must be a number.`;
  if (s.type === 'integer' && !Number.isInteger(v)) return `${s.name} must be a whole number.`;
  if (s.min !== undefined && (s.minExclusive ? v <= s.min : v < s.min)) return `${s.name} must be ${s.minExclusive ? 'above' : 'at least'} ${s.min}.`;
  if (s.max !== undefined && (s.maxExclusive ? v >= s.max : v > s.max)) return `${s.name} must be ${s.maxExclusive ? 'below' : 'at most'} ${s.max}.`;
  return null;
}

/** The `step` of a number input: 1 for integers; otherwise 'any' (learning rates need free decimals). */
export function inputStep(s: ParamSpec): string {
  return s.type === 'integer' ? '1' : 'any';
}

/** The headline metrics of the comparison table, in order. */
export const HEADLINE_METRICS = ['forget-accuracy', 'retain-accuracy', 'test-accuracy', 'mia-efficacy', 'avg-gap', 'tow', 'run-time'] as const;

function digits(unit: string, v: number): number {
  if (unit === '%' || unit === 's') return Math.abs(v) >= 100 ? 1 : 2;
  return 3;
}

export function formatNumber(v: number, unit: string): string {
  return v.toFixed(digits(unit, v));
}

/**
 * "mean ± half-width of the 95% CI" when n >= 2, else the single value; '—' when missing. The unit
 * follows ('%' and 's' only; ratios are bare).
 */
export function formatMetric(m: MetricSummary | undefined, info: Pick<MetricInfo, 'unit'>): string {
  if (!m || m.mean === null) return '—';
  const unit = info.unit === '%' ? '%' : info.unit === 's' ? ' s' : '';
  const mean = formatNumber(m.mean, info.unit);
  if (m.n >= 2 && m.hi !== null) return `${mean} ± ${formatNumber(m.hi - m.mean, info.unit)}${unit}`;
  return `${mean}${unit}`;
}

/** The gap to the retrain reference, e.g. "Δ 1.24"; '' when there is none (the reference itself). */
export function formatGap(m: MetricSummary | undefined, info: Pick<MetricInfo, 'unit'>): string {
  if (!m || m.gapToRetrain === null) return '';
  return `Δ ${formatNumber(m.gapToRetrain, info.unit)}`;
}
