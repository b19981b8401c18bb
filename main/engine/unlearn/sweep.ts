// Hyperparameter sweeps of one method: a grid (every combination of value lists) or a seeded random
// search (uniform or log-uniform ranges, integers rounded), each trial validated by the method's
// parameter schema before anything runs. Trials are judged against the retrain reference by ToW
// (higher is better) or Avg. Gap (lower is better); a trial whose guardrail tripped never wins.

import { Rng } from '../train/rng';
import { EngineError } from '../errors';
import { getMethod } from './registry';
import { describeParams, parseMethodParams } from './params';

export type SweepDimension = { values: (number | boolean | string)[] } | { min: number; max: number; log?: boolean };

export interface SweepSpec {
  method: string;
  /** fixed parameters of every trial */
  base?: Record<string, number | boolean | string>;
  space: Record<string, SweepDimension>;
  mode: 'grid' | 'random';
  /** random search: number of trials */
  trials?: number;
  seed?: number;
  objective: 'tow' | 'avg-gap';
}

export const MAX_TRIALS = 500;

export function expandSweep(spec: SweepSpec): Record<string, unknown>[] {
  const m = getMethod(spec.method);
  const specs = describeParams(m.params);
  const names = Object.keys(spec.space);
  if (!names.length) throw new EngineError('invalid_argument', 'A sweep needs at least one parameter to vary.');
  for (const n of names) {
    const ps = specs.find((s) => s.name === n);
    if (!ps) throw new EngineError('invalid_argument', `${m.id} has no parameter '${n}'; it has ${specs.map((s) => s.name).join(', ') || 'none'}.`);
    const d = spec.space[n];
    if ('values' in d) {
      if (!d.values.length) throw new EngineError('invalid_argument', `sweep parameter '${n}' has an empty value list.`);
    } else {
      if (!(Number.isFinite(d.min) && Number.isFinite(d.max) && d.min <= d.max)) throw new EngineError('invalid_argument', `sweep range of '${n}' must have finite min <= max.`);
      if (d.log && d.min <= 0) throw new EngineError('invalid_argument', `a log-scale range of '${n}' needs min > 0.`);
      if (ps.type !== 'number' && ps.type !== 'integer') throw new EngineError('invalid_argument', `'${n}' is not numeric; give it a list of values.`);
    }
  }
  let trials: Record<string, unknown>[];
  if (spec.mode === 'grid') {
    trials = [{}];
    for (const n of names) {
      const d = spec.space[n];
      if (!('values' in d)) throw new EngineError('invalid_argument', `a grid sweep needs a list of values for '${n}', not a range.`);
      trials = trials.flatMap((t) => d.values.map((v) => ({ ...t, [n]: v })));
      if (trials.length > MAX_TRIALS) throw new EngineError('invalid_argument', `the grid has more than ${MAX_TRIALS} combinations; use a random search.`);
    }
  } else {
    const count = spec.trials ?? 10;
    if (!Number.isInteger(count) || count < 1 || count > MAX_TRIALS) throw new EngineError('invalid_argument', `trials must be an integer from 1 to ${MAX_TRIALS}.`);
    const rng = new Rng(spec.seed ?? 0, 11_000_000);
    trials = Array.from({ length: count }, () => {
      const t: Record<string, unknown> = {};
      for (const n of names) {
        const d = spec.space[n];
        const isInt = specs.find((s) => s.name === n)!.type === 'integer';
        if ('values' in d) t[n] = d.values[rng.nextInt(d.values.length)];
        else {
          const u = rng.nextFloat();
          let v = d.log ? Math.exp(Math.log(d.min) + u * (Math.log(d.max) - Math.log(d.min))) : d.min + u * (d.max - d.min);
          if (isInt) v = Math.round(v);
          else v = Number(v.toPrecision(4));
          t[n] = v;
        }
      }
      return t;
    });
  }
  return trials.map((t) => parseMethodParams(m.id, m.params, { ...(spec.base ?? {}), ...t }) as Record<string, unknown>);
}

export interface TrialScore {
  objective: number | null;
  guardrailTripped: boolean;
}

/** Index of the best trial (null when no trial has a score and a clean guardrail). */
export function bestTrial(objective: SweepSpec['objective'], scores: TrialScore[]): number | null {
  let best: number | null = null;
  scores.forEach((s, i) => {
    if (s.objective === null || !Number.isFinite(s.objective) || s.guardrailTripped) return;
    if (best === null) best = i;
    else if (objective === 'tow' ? s.objective > scores[best].objective! : s.objective < scores[best].objective!) best = i;
  });
  return best;
}

/** Parse CLI sweep dimensions: `lr=1e-4,5e-4` (values) or `lr=1e-5:1e-2[:log]` (range). */
export function parseDimension(text: string): [string, SweepDimension] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new EngineError('invalid_argument', `a sweep dimension is name=v1,v2,... or name=min:max[:log], got '${text.slice(0, 80)}'`);
  const name = text.slice(0, eq).trim();
  const rest = text.slice(eq + 1).trim();
  const num = (s: string) => {
    const v = Number(s);
    if (s === '' || !Number.isFinite(v)) throw new EngineError('invalid_argument', `'${name}': '${s}' is not a number`);
    return v;
  };
  if (rest.includes(':')) {
    const [a, b, flag] = rest.split(':');
    if (flag !== undefined && flag !== 'log') throw new EngineError('invalid_argument', `'${name}': a range is min:max or min:max:log`);
    return [name, { min: num(a), max: num(b), log: flag === 'log' }];
  }
  const values = rest.split(',').map((s) => s.trim()).filter(Boolean).map((s) => (/^(true|false)$/i.test(s) ? s.toLowerCase() === 'true' : /^[-+.\d]/.test(s) ? num(s) : s));
  return [name, { values }];
}
