// Chart option builders: every chart has a title, axis names with units, and a data table whose rows
// match the drawn data; the SSR renderer gives an SVG.

import { describe, expect, it } from 'vitest';
import type { ComparisonEntry, ComparisonManifest, MetricSummary } from '../../../main/engine/runs/contract-types';
import { confusionChart, gapsChart, perClassChart, relearnChart, renderChartSvg, runTimesChart, tradeoffChart } from '../../../main/engine/reports/charts';

const s = (mean: number, gap: number | null = null): MetricSummary => ({ values: [mean], mean, sd: null, lo: mean, hi: mean, n: 1, gapToRetrain: gap });
const entry = (key: string, role: ComparisonEntry['role'], fa: number, ra: number, gapF: number | null, seconds: number | null): ComparisonEntry => ({
  key,
  label: key,
  role,
  method: role === 'original' ? null : { id: key, name: key, exact: role === 'reference', params: {} },
  runs: [{ seed: 0, run: { kind: 'runs', id: `run-${key}`, sha256: 'x' }, model: { kind: 'models', id: key, sha256: 'y' }, seconds, guardrail: null, notes: [] }],
  metrics: { 'forget-accuracy': s(fa, gapF), 'retain-accuracy': s(ra, gapF === null ? null : 1), 'test-accuracy': s(80, 2), 'mia-efficacy': s(50, 3) },
  extras: {
    'per-class-accuracy': { perClass: { test: { accuracy: [fa, ra], rows: [10, 12] }, forget: { accuracy: [fa, null], rows: [5, 0] }, retain: { accuracy: [ra, ra], rows: [5, 12] } } },
    confusion: { matrices: { test: [[3, 1], [2, 4]] } },
    'relearn-forget-accuracy': { steps: [0, 5, 10], forgetAccuracy: [fa, fa + 1, fa + 2] },
  },
});
const cmp: ComparisonManifest = {
  format: 'lethe.comparison/1',
  name: 't',
  refs: { forgetSet: { kind: 'forgetSets', id: 'f', sha256: 'a' }, dataset: { kind: 'datasets', id: 'd', sha256: 'b' }, original: { kind: 'models', id: 'o', sha256: 'c' } },
  forgetSetName: 'f',
  datasetName: 'd',
  classNames: ['cat', 'dog'],
  counts: { train: 10, forget: 5, retain: 5, heldOut: 1, test: 4, notTrained: 0 },
  seeds: 1,
  metrics: ['forget-accuracy', 'retain-accuracy', 'test-accuracy', 'mia-efficacy'].map((id) => ({ id, name: id, unit: '%', formula: 'f', source: 's', better: 'closer-to-retrain' as const })),
  entries: [entry('orig', 'original', 95, 96, 95, null), entry('retrain', 'reference', 0, 97, null, 10), entry('ga', 'unlearned', 7, 90, 7, 1.5)],
  createdAt: '2026-01-01T00:00:00.000Z',
};

const axisNames = (o: Record<string, unknown>) => [(o.xAxis as { name: string }).name, (o.yAxis as { name: string }).name];

describe('chart option builders', () => {
  it('every chart has a title, axis names with units and a table', () => {
    const charts = [tradeoffChart(cmp), gapsChart(cmp), perClassChart(cmp, 'ga', 'retrain'), confusionChart(cmp, 'ga'), relearnChart(cmp), runTimesChart(cmp)];
    for (const c of charts) {
      expect((c.option.title as { text: string }).text).toBe(c.title);
      expect(c.title.length).toBeGreaterThan(5);
      for (const n of axisNames(c.option)) expect(n, c.id).toMatch(/\((%|s|count|examples|percentage points)\)|^Metric$|^Model$|^Class$/);
      expect(c.table.rows.length, c.id).toBeGreaterThan(0);
      expect(c.table.rows.every((r) => r.length === c.table.columns.length), c.id).toBe(true);
    }
  });

  it('table rows match the data drawn', () => {
    const t = tradeoffChart(cmp);
    const series = t.option.series as { name: string; data: number[][] }[];
    expect(series.map((x) => x.data[0])).toEqual(t.table.rows.map((r) => [r[2], r[5]]));
    expect(t.table.rows[2].slice(0, 3)).toEqual(['ga', 'unlearned', 7]);
    const g = gapsChart(cmp);
    expect((g.option.series as { name: string }[]).map((x) => x.name)).toEqual(['orig', 'ga']);
    expect((g.option.series as { data: number[] }[])[1].data).toEqual([7, 1, 2, 3]);
    expect(g.table.rows.filter((r) => r[0] === 'ga').map((r) => r[2])).toEqual([7, 1, 2, 3]);
    const p = perClassChart(cmp, 'ga', 'retrain');
    expect(p.table.rows).toEqual([['cat', 7, 0, 10], ['dog', 90, 97, 12]]);
    const c = confusionChart(cmp, 'ga');
    expect(c.table.rows).toEqual([['cat', 3, 1], ['dog', 2, 4]]);
    expect((c.option.series as { data: number[][] }[])[0].data).toContainEqual([0, 1, 2]);
    const r = relearnChart(cmp);
    expect(r.table.rows.filter((x) => x[0] === 'ga')).toEqual([['ga', 0, 7], ['ga', 5, 8], ['ga', 10, 9]]);
    const rt = runTimesChart(cmp, {});
    expect(rt.table.rows.map((x) => [x[0], x[3]])).toEqual([['retrain', 10], ['ga', 1.5]]);
  });

  it('renders to SVG server-side', () => {
    const svg = renderChartSvg(gapsChart(cmp).option, 600, 300);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Gap to the retrain reference');
  });
});

describe('charts on paper', () => {
  it('a scrolling legend is drawn plain (every entry, no arrows) with room made below the plot', async () => {
    const { staticLegend, renderChartSvg } = await import('../../../main/engine/reports/charts/render');
    const names = Array.from({ length: 9 }, (_, i) => `A rather long model name number ${i + 1}`);
    const option = { grid: { bottom: 70 }, legend: { bottom: 0, type: 'scroll', itemGap: 40 }, xAxis: { type: 'value' }, yAxis: { type: 'value' }, series: names.map((name, i) => ({ type: 'line', name, data: [[0, i]] })) };
    const s = staticLegend(option, 760);
    expect((s.legend as { type: string }).type).toBe('plain');
    expect((s.grid as { bottom: number }).bottom).toBeGreaterThan(70);
    const svg = renderChartSvg(option, 760, 400);
    for (const n of names) expect(svg).toContain(n);
    expect(staticLegend({ legend: { type: 'plain' } }, 760)).toEqual({ legend: { type: 'plain' } });
  });
});
