import type { ComparisonManifest, RunManifest } from '../../runs/contract-types';
import { axis, baseOption, round, type ChartSpec } from './types';

const PHASES = ['load', 'method', 'evaluate', 'save'] as const;

/**
 * Run times: wall-clock seconds per model, mean over seeds, split into phases (reading data, the
 * method itself, evaluating, saving) when the run records carry them (`runs`: run id -> manifest).
 */
export function runTimesChart(cmp: ComparisonManifest, runs: Record<string, RunManifest> = {}): ChartSpec {
  const models = cmp.entries.filter((e) => e.role !== 'original');
  const title = 'Run time per model';
  const rows = models.map((e) => {
    const per = PHASES.map((p) => {
      const v = e.runs.map((r) => (p === 'method' ? (runs[r.run.id]?.timings?.method ?? r.seconds) : runs[r.run.id]?.timings?.[p])).filter((x): x is number => typeof x === 'number');
      return v.length ? round(v.reduce((a, b) => a + b, 0) / v.length, 3) : null;
    });
    return [e.label, e.runs.length, ...per];
  });
  const base = baseOption(title, 'mean over seeds; the method phase is the RTE metric');
  // long method names wrap within their column instead of running into each other
  const labelWidth = Math.max(40, Math.floor(600 / Math.max(1, models.length)) - 8);
  const option = {
    ...base,
    grid: { ...(base.grid as Record<string, unknown>), bottom: 100 },
    legend: { bottom: 0, itemGap: 40 },
    xAxis: axis('Model', { type: 'category', data: models.map((e) => e.label), nameGap: 62, axisLabel: { interval: 0, fontSize: 10, width: labelWidth, overflow: 'break', lineHeight: 12 } }),
    yAxis: axis('Wall-clock time (s)', { type: 'value', min: 0, nameGap: 45 }),
    series: PHASES.map((p, i) => ({ type: 'bar', stack: 'time', name: p === 'method' ? 'method (RTE)' : p, data: rows.map((r) => r[2 + i]) })),
  };
  return { id: 'run-times', title, option, table: { columns: ['model', 'seeds', 'load (s)', 'method (s)', 'evaluate (s)', 'save (s)'], rows } };
}
