// The dashboards' chart builders (attack histogram and ROC, ε distribution, layer-wise CKA, training
// and unlearning curves): titles, axis names with units, tables that match what is drawn, and an
// `empty` reason instead of a silent blank chart.
import { describe, expect, it } from 'vitest';
import type { AttackData } from '../../../main/engine/reports/contract-types';
import type { ComparisonEntry, ComparisonManifest, RunManifest } from '../../../main/engine/runs/contract-types';
import { attackHistogramChart, attackRocChart, THRESHOLD_SERIES_ID } from '../../../main/engine/reports/charts/attack';
import { ckaChart } from '../../../main/engine/reports/charts/cka';
import { trainingCurveChart, unlearningCurvesChart } from '../../../main/engine/reports/charts/curves';
import { epsilonChart } from '../../../main/engine/reports/charts/epsilon';
import { confusionChart } from '../../../main/engine/reports/charts/confusion';
import { perClassChart } from '../../../main/engine/reports/charts/per-class';
import { renderChartSvg } from '../../../main/engine/reports/charts/render';

const roc = { fpr: [0, 0, 0.5, 1], tpr: [0, 0.5, 1, 1], auc: 0.875, tprAt1pct: 0.5, tprAt01pct: 0.5 };
const attack: AttackData = {
  comparisonId: 'c',
  feature: 'confidence',
  featureName: 'Confidence p_y',
  definition: 'p_y',
  unit: 'probability',
  memberWhen: 'higher',
  edges: [0, 0.5, 1],
  clipped: false,
  computeMs: 1,
  models: [
    { key: 'ga', label: 'GA', role: 'unlearned', totals: { forget: 2, retain: 4, test: 2 }, counts: { forget: [1, 1], retain: [1, 3], test: [2, 0] }, memberRate: { forget: [1, 0.5, 0], retain: [1, 0.75, 0], test: [1, 0, 0] }, roc: { 'retain-vs-test': roc, 'forget-vs-test': roc } },
  ],
};

const entry = (key: string, role: ComparisonEntry['role'], extras: ComparisonEntry['extras']): ComparisonEntry => ({
  key,
  label: key.toUpperCase(),
  role,
  method: null,
  runs: [{ seed: 0, run: { kind: 'runs', id: `run-${key}`, sha256: 'x' }, model: { kind: 'models', id: key, sha256: 'y' }, seconds: 1, guardrail: null, notes: [] }],
  metrics: {},
  extras,
});
const cmp = (entries: ComparisonEntry[], seeds = 3): ComparisonManifest => ({
  format: 'lethe.comparison/1',
  name: 't',
  refs: { forgetSet: { kind: 'forgetSets', id: 'f', sha256: 'a' }, dataset: { kind: 'datasets', id: 'd', sha256: 'b' }, original: { kind: 'models', id: 'o', sha256: 'c' } },
  forgetSetName: 'f',
  datasetName: 'd',
  classNames: ['a', 'b'],
  counts: { train: 10, forget: 2, retain: 8, heldOut: 0, test: 4, notTrained: 0 },
  seeds,
  metrics: [],
  entries,
  createdAt: '2026-01-01T00:00:00.000Z',
});
const names = (o: Record<string, unknown>) => [(o.xAxis as { name: string }).name, (o.yAxis as { name: string }).name];

describe('dashboard chart builders', () => {
  it('attack histogram: three splits as shares (%), the threshold marked at the chosen edge, rates in the subtitle', () => {
    const c = attackHistogramChart(attack, 'ga', 1);
    expect((c.option.title as { text: string; subtext: string }).text).toBe(c.title);
    expect((c.option.title as { subtext: string }).subtext).toContain('TPR 75.0%, FPR 0.0%, forget called member 50.0%');
    expect(names(c.option)).toEqual(['Confidence p_y (probability)', 'Share of the split’s examples (%)']);
    const series = c.option.series as { id: string; data: number[][]; markLine?: { data: { xAxis: number }[] } }[];
    expect(series.map((s) => s.id)).toEqual(['retain', 'test', 'forget']);
    expect(series.find((s) => s.id === THRESHOLD_SERIES_ID)!.markLine!.data[0].xAxis).toBe(0.5);
    expect(series[0].data).toEqual([[0, 25], [0.5, 75], [1, 75]]);
    expect(c.table.rows).toEqual([[0, 0.5, 1, 25, 2, 100, 1, 50], [0.5, 1, 3, 75, 0, 0, 1, 50]]);
    expect(() => attackHistogramChart(attack, 'nope')).toThrow(/no model 'nope'/);
    expect(JSON.parse(JSON.stringify(c.option))).toEqual(c.option); // plain JSON: crosses the API unchanged
  });

  it('attack ROC: log axes in %, zero rates left out of the drawing, AUC and low-FPR TPR in the table', () => {
    const c = attackRocChart(attack, 'forget-vs-test');
    expect((c.option.xAxis as { type: string }).type).toBe('log');
    expect(names(c.option)[0]).toBe('False-positive rate (%, log scale)');
    const drawn = (c.option.series as { name: string; data: number[][] }[])[0].data;
    expect(drawn).toEqual([[50, 100], [100, 100]]);
    expect(c.table.rows[0]).toEqual(['GA', 'unlearned', 0.875, 50, 50, 4]);
    expect(renderChartSvg(c.option, 500, 300)).toContain('ROC of the Confidence p_y attack');
  });

  it('ε distribution: 0.5-nat bins as F scores them, the last bin and undefined examples apart; empty with one seed', () => {
    const fq = { N: 3, maxEpsilon: 1, epsilons: [0, 0.2, 0.7, 3, 50, null] };
    const c = epsilonChart(cmp([entry('ga', 'unlearned', { 'forgetting-quality': fq }), entry('retrain', 'reference', {})]));
    expect(c.empty).toBeUndefined();
    const xs = (c.option.xAxis as { data: string[] }).data;
    expect(xs).toEqual(['[0, 0.5)', '[0.5, 1)', '≥ 1', 'undefined']);
    expect(c.table.rows.map((r) => r[2])).toEqual([2, 1, 2, 1]);
    expect(c.table.rows.map((r) => r[4])).toEqual([1, 0.5, 0, 0]);
    expect(names(c.option)).toEqual(['ε of the example (nats)', 'Share of forget examples (%)']);
    expect(epsilonChart(cmp([entry('ga', 'unlearned', {})], 1)).empty).toMatch(/N ≥ 3 seeds.*1 seed\)/);
  });

  it('CKA: one line vs the original and one vs the retrain reference per layer, per split on request', () => {
    const layers = [
      { layer: 'relu1', vsOriginal: { all: 0.9, perSplit: { forget: 0.8 } }, vsReference: { all: 0.7, perSplit: { forget: 0.6 } } },
      { layer: 'logits', vsOriginal: { all: 0.5 }, vsReference: null },
    ];
    const c = ckaChart(cmp([entry('ga', 'unlearned', { 'layer-cka': { layers } })]), 'ga');
    expect(c.table.rows).toEqual([['1. relu1', 0.9, 0.7], ['2. logits', 0.5, null]]);
    expect(names(c.option)[1]).toBe('Linear CKA (ratio, 0–1)');
    expect(ckaChart(cmp([entry('ga', 'unlearned', { 'layer-cka': { layers } })]), 'ga', 'forget').table.rows[0]).toEqual(['1. relu1', 0.8, 0.6]);
    expect(ckaChart(cmp([entry('ga', 'unlearned', {})]), 'ga').empty).toMatch(/no layer activations/);
  });

  it('training and unlearning curves: loss per epoch; guardrail checks per step with the baseline', () => {
    const t = trainingCurveChart('o', { epochLosses: [1.2, 0.8], testAccuracy: 0.85 });
    expect(t.table.rows).toEqual([[1, 1.2], [2, 0.8]]);
    expect((t.option.title as { subtext: string }).subtext).toContain('85.00%');
    expect(names(t.option)).toEqual(['Epoch (count)', 'Mean training loss (nats)']);
    expect(trainingCurveChart('o', null).empty).toMatch(/no recorded training/);
    const g = { settings: { maxDropPoints: 5, action: 'stop' as const, sliceSize: 10 }, sliceSize: 10, baseline: 90, lowest: 80, tripped: false, trippedAtStep: null, stopped: false, checks: [{ step: 1, accuracy: 88 }, { step: 2, accuracy: 86 }] };
    const runs = { 'run-ga': { guardrail: g } as unknown as RunManifest };
    const u = unlearningCurvesChart(cmp([entry('o', 'original', {}), entry('ga', 'unlearned', {})]), runs);
    expect(u.table.rows).toEqual([['GA', 1, 88, null], ['GA', 2, 86, null]]);
    expect(u.title).toBe('Unlearning curves: held-out retain accuracy during each method');
    const g2 = { ...g, checks: [{ step: 1, accuracy: 88, forgetAccuracy: 40 }, { step: 2, accuracy: 86, forgetAccuracy: 12.5 }] };
    const u2 = unlearningCurvesChart(cmp([entry('ga', 'unlearned', {})]), { 'run-ga': { guardrail: g2 } as unknown as RunManifest });
    expect((u2.option.series as { name: string; data: number[][] }[]).map((x) => [x.name, x.data])).toEqual([['GA', [[1, 88], [2, 86]]], ['GA: forget', [[1, 40], [2, 12.5]]]]);
    expect(u2.table.rows[1]).toEqual(['GA', 2, 86, 12.5]);
    expect(names(u2.option)[1]).toBe('Accuracy (%)');
    expect(((u.option.series as { markLine: { data: { yAxis: number }[] } }[])[0]).markLine.data[0].yAxis).toBe(90);
    expect(unlearningCurvesChart(cmp([entry('ga', 'unlearned', {})]), {}).empty).toMatch(/guardrail/);
  });

  it('per-class and confusion charts say why when the comparison recorded nothing for them', () => {
    const c = cmp([entry('ga', 'unlearned', {}), entry('retrain', 'reference', {})]);
    expect(confusionChart(c, 'ga', 'forget').empty).toMatch(/no confusion matrix of the forget split/);
    expect(perClassChart(c, 'ga', 'retrain').empty).toMatch(/no per-class accuracy of the test split/);
    const withData = cmp([entry('ga', 'unlearned', { confusion: { matrices: { forget: [[1, 0], [0, 1]] } }, 'per-class-accuracy': { perClass: { test: { accuracy: [50, 60], rows: [2, 2] } } } }), entry('retrain', 'reference', {})]);
    expect(confusionChart(withData, 'ga', 'forget').empty).toBeUndefined();
    expect(perClassChart(withData, 'ga', 'retrain').empty).toBeUndefined();
  });
});
