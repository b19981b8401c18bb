// A comparison as a fixed-width text table (CLI, `lethe demo`, logs). Numbers are means over seeds
// with the 95% interval half-width when there are several seeds; the gap to retrain follows in
// brackets for the headline metrics.

import type { ComparisonManifest } from './contract-types';
import { formatThreshold } from './thresholds';

export const TABLE_METRICS = ['forget-accuracy', 'retain-accuracy', 'test-accuracy', 'mia-efficacy', 'avg-gap', 'tow', 'run-time'] as const;

const SHORT: Record<string, string> = {
  'forget-accuracy': 'Forget acc %',
  'retain-accuracy': 'Retain acc %',
  'test-accuracy': 'Test acc %',
  'mia-efficacy': 'MIA-Eff. %',
  'avg-gap': 'Avg. Gap',
  tow: 'ToW',
  'run-time': 'Time s',
  klom: 'KLoM',
  'forgetting-quality': 'F',
};

function fmt(v: number | null | undefined, digits: number): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

export function comparisonTable(c: ComparisonManifest, metrics: readonly string[] = TABLE_METRICS): string {
  const extra = c.seeds >= 2 ? ['klom', 'forgetting-quality'] : [];
  const cols = [...metrics, ...extra.filter((m) => !metrics.includes(m))];
  const th = c.thresholds?.items ?? [];
  const head = ['Model', ...cols.map((m) => SHORT[m] ?? m), ...(th.length ? ['Thresholds'] : [])];
  const rows: string[][] = [head];
  for (const e of c.entries) {
    const row = [e.label + (e.runs.some((r) => r.guardrail?.tripped) ? ' (!)' : '')];
    for (const id of cols) {
      const s = e.metrics[id];
      if (!s) {
        row.push('-');
        continue;
      }
      const d = id === 'tow' || id === 'forgetting-quality' ? 3 : id === 'klom' ? 2 : 1;
      const half = s.n >= 2 && s.hi !== null && s.mean !== null ? ` ±${(s.hi - s.mean).toFixed(d)}` : '';
      row.push(`${fmt(s.mean, d)}${half}`);
    }
    if (th.length) {
      const v = e.verdicts ?? [];
      row.push(e.role !== 'unlearned' ? '' : v.every((x) => x.pass === true) ? 'pass' : `fail ${v.filter((x) => x.pass !== true).length}/${v.length}`);
    }
    rows.push(row);
  }
  const widths = head.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  const out = [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  const foot = [
    `Forget set '${c.forgetSetName}' of '${c.datasetName}': ${c.counts.forget} forget, ${c.counts.retain} retain, ${c.counts.test} test examples; ${c.seeds} seed${c.seeds === 1 ? '' : 's'} per model${c.seeds >= 2 ? ' (± = 95% confidence interval half-width)' : ''}.`,
    `(!) = the guardrail tripped (held-out retain accuracy fell too far).`,
    ...(th.length
      ? [
          `Thresholds fixed ${c.thresholds!.fixedAt}${c.thresholds!.runsStartedBefore.length ? ` (after ${c.thresholds!.runsStartedBefore.length} of the runs had started: not pre-registered for those)` : ', before every run'}: ${th.map(formatThreshold).join('; ')}.`,
        ]
      : []),
    ...cols.map((id) => {
      const m = c.metrics.find((x) => x.id === id);
      return m ? `${(SHORT[id] ?? id).padEnd(13)} ${m.formula}` : '';
    }),
  ].filter(Boolean);
  return [...out, '', ...foot].join('\n');
}
