// Mean and 95% confidence interval over seeds (Student's t with n − 1 degrees of freedom, exact
// quantiles from the regularised incomplete beta function), and the per-metric aggregate of several
// seeds' results.

import type { MetricValue } from './types';

function lgamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9), accurate to ~1e-15 for x > 0.
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction for the incomplete beta function (modified Lentz). */
function betacf(a: number, b: number, x: number): number {
  const TINY = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b). */
function betainc(a: number, b: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const bt = Math.exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (bt * betacf(a, b, x)) / a : 1 - (bt * betacf(b, a, 1 - x)) / b;
}

/** CDF of Student's t with ν degrees of freedom. */
export function studentTCdf(t: number, nu: number): number {
  const x = nu / (nu + t * t);
  const tail = 0.5 * betainc(nu / 2, 0.5, x);
  return t >= 0 ? 1 - tail : tail;
}

/** Quantile of Student's t with ν degrees of freedom (bisection on the CDF to machine precision). */
export function studentTQuantile(p: number, nu: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`studentTQuantile: p must be in (0, 1) (got ${p})`);
  if (!(nu > 0)) throw new Error(`studentTQuantile: degrees of freedom must be > 0 (got ${nu})`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, nu);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, nu) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-15 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, nu) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface MeanCI {
  mean: number;
  /** sample standard deviation (n − 1 in the denominator); 0 for one value */
  sd: number;
  /** 95% interval: mean ± t_{0.975, n−1} · sd / √n */
  lo: number;
  hi: number;
  n: number;
  note?: string;
}

/** Mean and two-sided 95% confidence interval by Student's t with n − 1 degrees of freedom (exact quantile). */
export function meanCI(values: number[]): MeanCI {
  const n = values.length;
  if (n === 0) throw new Error('meanCI: no values');
  for (const v of values) if (!Number.isFinite(v)) throw new Error(`meanCI: non-finite value ${v}`);
  const m = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean: m, sd: 0, lo: m, hi: m, n, note: 'one value: no interval (needs at least 2 seeds)' };
  let ss = 0;
  for (const v of values) ss += (v - m) * (v - m);
  const sd = Math.sqrt(ss / (n - 1));
  const half = (studentTQuantile(0.975, n - 1) * sd) / Math.sqrt(n);
  return { mean: m, sd, lo: m - half, hi: m + half, n };
}

export interface SeedAggregate {
  /** null when no seed produced a value */
  mean: number | null;
  sd: number | null;
  lo: number | null;
  hi: number | null;
  /** seeds with a value */
  n: number;
  /** seeds whose value was null */
  nullCount: number;
  missing?: string;
  note?: string;
}

/** Per metric id: mean and 95% interval over the seeds that produced a value (nulls counted apart). */
export function aggregateOverSeeds(results: Record<string, MetricValue>[]): Record<string, SeedAggregate> {
  const ids: string[] = [];
  for (const r of results) for (const id of Object.keys(r)) if (!ids.includes(id)) ids.push(id);
  const out: Record<string, SeedAggregate> = {};
  for (const id of ids) {
    const vals: number[] = [];
    let nulls = 0;
    let missing: string | undefined;
    for (const r of results) {
      const v = r[id];
      if (v && v.value !== null && Number.isFinite(v.value)) vals.push(v.value);
      else {
        nulls++;
        missing ??= v?.missing ?? 'absent from this seed';
      }
    }
    if (vals.length === 0) {
      out[id] = { mean: null, sd: null, lo: null, hi: null, n: 0, nullCount: nulls, missing };
      continue;
    }
    const ci = meanCI(vals);
    out[id] = { mean: ci.mean, sd: ci.sd, lo: ci.lo, hi: ci.hi, n: ci.n, nullCount: nulls, ...(ci.note ? { note: ci.note } : {}), ...(nulls ? { missing } : {}) };
  }
  return out;
}
