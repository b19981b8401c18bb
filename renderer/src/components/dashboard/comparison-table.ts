// The comparison table's rules, pure: which metrics are columns (every metric that has a number,
// headline metrics first), how a gap to retrain is judged for its colour, and how rows sort.
import type { ComparisonDetail, ComparisonEntry, MetricInfo } from '../../../../preload/api';
import { formatNumber, HEADLINE_METRICS } from '../../utils/unlearning';

/** Every metric of the comparison that some model has a value for; the headline ones first, in their order. */
export function tableMetrics(cmp: Pick<ComparisonDetail, 'metrics' | 'entries'>): MetricInfo[] {
  const has = (m: MetricInfo) => cmp.entries.some((e) => e.metrics[m.id]?.mean !== null && e.metrics[m.id]?.mean !== undefined);
  const headline = HEADLINE_METRICS.map((id) => cmp.metrics.find((m) => m.id === id)).filter((m): m is MetricInfo => !!m);
  const rest = cmp.metrics.filter((m) => !(HEADLINE_METRICS as readonly string[]).includes(m.id) && m.better !== 'none' && has(m));
  return [...headline, ...rest];
}

/** Gap bands per unit: within the first = close to retrain, within the second = some way off, beyond = far. */
export const GAP_BANDS: Record<string, [number, number]> = { '%': [1, 5], ratio: [0.02, 0.1], nats: [0.05, 0.25] };

export type GapLevel = 'close' | 'off' | 'far' | null;

/**
 * How far a model is from the retrain reference on one metric, for colour: only where being away
 * from retrain is worse (closer-to-retrain metrics; 'higher' metrics when below retrain; 'lower' ones
 * when above). Run time and unitless metrics are not coloured.
 */
export function gapLevel(m: MetricInfo, e: ComparisonEntry, ref: ComparisonEntry | undefined): GapLevel {
  const bands = GAP_BANDS[m.unit];
  const s = e.metrics[m.id];
  if (!bands || !ref || e === ref || !s || s.gapToRetrain === null || s.mean === null) return null;
  const r = ref.metrics[m.id]?.mean;
  if (r === null || r === undefined) return null;
  if (m.better === 'higher' && s.mean >= r) return 'close';
  if (m.better === 'lower' && s.mean <= r) return 'close';
  if (m.better === 'none') return null;
  return s.gapToRetrain <= bands[0] ? 'close' : s.gapToRetrain <= bands[1] ? 'off' : 'far';
}

export const GAP_WORDS: Record<Exclude<GapLevel, null>, string> = { close: 'close to retrain', off: 'some way from retrain', far: 'far from retrain' };

export type SortKey = { by: 'model' } | { by: 'metric'; id: string; what: 'value' | 'gap' };
export type SortDir = 'ascending' | 'descending';

/** Rows sorted by model label or by a metric's mean (or its gap); models without a value go last either way. */
export function sortEntries(entries: readonly ComparisonEntry[], key: SortKey | null, dir: SortDir): ComparisonEntry[] {
  const out = [...entries];
  if (!key) return out;
  const sign = dir === 'ascending' ? 1 : -1;
  if (key.by === 'model') return out.sort((a, b) => sign * a.label.localeCompare(b.label));
  const v = (e: ComparisonEntry) => {
    const s = e.metrics[key.id];
    const x = key.what === 'gap' ? s?.gapToRetrain : s?.mean;
    return x === null || x === undefined || !Number.isFinite(x) ? null : x;
  };
  return out.sort((a, b) => {
    const x = v(a);
    const y = v(b);
    if (x === null && y === null) return 0;
    if (x === null) return 1;
    if (y === null) return -1;
    return sign * (x - y);
  });
}

/** A cell's tooltip: per-seed values, the 95% CI, or why there is no value. */
export function cellDetail(m: MetricInfo, e: ComparisonEntry): string {
  const s = e.metrics[m.id];
  if (!s || s.mean === null) return s?.missing ?? 'not computed';
  const f = (x: number) => formatNumber(x, m.unit);
  const seeds = s.values.map((x, i) => `seed ${i}: ${x === null ? '—' : f(x)}`).join(', ');
  const ci = s.n >= 2 && s.lo !== null && s.hi !== null ? `95% CI [${f(s.lo)}, ${f(s.hi)}] over ${s.n} seeds (Student's t); ` : '';
  const gap = s.gapToRetrain !== null ? `; |gap| to retrain ${f(s.gapToRetrain)}` : '';
  return `${ci}${seeds}${gap}`;
}
