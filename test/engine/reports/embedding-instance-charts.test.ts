// The embedding and instance chart builders (pure functions the dashboards and the PDF share): title,
// axis names with units, one series per class with forget examples as diamonds, every point's value
// naming its sample row, the data table holding every drawn number, the 'empty' reason while a
// projection is missing, and the server-side SVG the PDF renders.

import { describe, expect, it } from 'vitest';
import type { EmbeddingData, ExampleData } from '../../../main/engine/eval/contract-types';
import { CLASS_COLORS, embeddingChart, instanceChart, renderChartSvg } from '../../../main/engine/reports/charts';

const data: EmbeddingData = {
  comparisonId: 'cmp-1',
  projection: 'pca',
  classNames: ['cat', 'dog', 'fox'],
  sample: { ids: ['f-1', 'r-1', 'r-2', 't-1', 'f-2'], split: ['forget', 'retain', 'retain', 'test', 'forget'], labels: [0, 1, 2, 2, 0], idsSha256: 'a'.repeat(64), seed: 0, sizes: { forget: 500, retain: 1000, test: 500 } },
  models: [
    { key: 'retrain', label: 'Retrain (reference)', role: 'reference', model: { id: 'm-r', sha256: 'b' }, points: [[0.123456, 1], [2, 3], [4, 5], [6, 7], [8, 9]], explainedVarianceRatio: [0.61234, 0.2], dim: 64, computed: true },
    { key: 'ga', label: 'GA', role: 'unlearned', model: { id: 'm-g', sha256: 'c' }, points: null, explainedVarianceRatio: null, dim: null, computed: false },
    { key: 'ft', label: 'FT', role: 'unlearned', model: { id: 'm-f', sha256: 'd' }, points: null, explainedVarianceRatio: null, dim: null, computed: false, missing: "model 'm-f' is no longer in the workspace" },
  ],
};

type Item = { name: string; value: number[]; symbol?: string };

describe('embeddingChart', () => {
  it('draws one series per class, forget examples as diamonds, [x, y, sample row] values named by example id, and a full data table', () => {
    const c = embeddingChart(data, 'retrain');
    expect(c.id).toBe('embedding-retrain');
    expect(c.title).toBe('Penultimate features (PCA): Retrain (reference)');
    expect(c.empty).toBeUndefined();
    const o = c.option as { xAxis: { name: string }; yAxis: { name: string }; series: { name: string; data: Item[]; itemStyle: { color: string } }[]; title: { subtext: string }; tooltip: { renderMode: string } };
    expect(o.xAxis.name).toBe('PC 1 (feature units; 61.2% of variance)');
    expect(o.yAxis.name).toBe('PC 2 (feature units; 20.0% of variance)');
    expect(o.title.subtext).toBe('5 examples (2 forget = ◆); 64 features');
    expect(o.tooltip.renderMode).toBe('richText');
    expect(o.series.map((s) => s.name)).toEqual(['cat', 'dog', 'fox']);
    expect(o.series.map((s) => s.itemStyle.color)).toEqual(CLASS_COLORS.slice(0, 3));
    expect(o.series[0].data).toEqual([
      expect.objectContaining({ name: 'f-1', value: [0.1235, 1, 0], symbol: 'diamond' }),
      expect.objectContaining({ name: 'f-2', value: [8, 9, 4], symbol: 'diamond' }),
    ]);
    expect(o.series[2].data).toEqual([
      { name: 'r-2', value: [4, 5, 2] },
      { name: 't-1', value: [6, 7, 3] },
    ]);
    expect(c.table.columns).toEqual(['example', 'split', 'class', 'PC 1', 'PC 2']);
    expect(c.table.rows).toEqual([
      ['f-1', 'forget', 'cat', 0.1235, 1],
      ['r-1', 'retain', 'dog', 2, 3],
      ['r-2', 'retain', 'fox', 4, 5],
      ['t-1', 'test', 'fox', 6, 7],
      ['f-2', 'forget', 'cat', 8, 9],
    ]);
    const svg = renderChartSvg(c.option, 600, 420);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Penultimate features (PCA): Retrain (reference)');
    expect(svg).toContain('PC 1 (feature units; 61.2% of variance)');
  });

  it('says why there is nothing to draw, and refuses an unknown model', () => {
    expect(embeddingChart(data, 'ga').empty).toBe('the projection is being computed');
    expect(embeddingChart(data, 'FT').empty).toBe("model 'm-f' is no longer in the workspace");
    expect(embeddingChart(data, 'ga').table.rows).toEqual([]);
    expect(() => embeddingChart(data, 'nope')).toThrow(/has no model 'nope' \(have: retrain, ga, ft\)/);
  });
});

describe('instanceChart', () => {
  it('draws the probabilities of every model per class, with predictions, loss and attack scores in its table', () => {
    const ex: ExampleData = {
      comparisonId: 'cmp-1',
      exampleId: 'f-1',
      datasetId: 'd',
      split: 'forget',
      label: 0,
      className: 'cat',
      classNames: ['cat', 'dog'],
      models: [
        { key: 'original', label: 'Original', role: 'original', probabilities: [0.9, 0.1], predicted: 0, loss: 0.10536, scores: { confidence: 0.9, entropy: 0.325, mEntropy: 0.4, logitConfidence: 2.1972 } },
        { key: 'ga', label: 'GA', role: 'unlearned', probabilities: [0.3, 0.7], predicted: 1, loss: 1.20397, scores: { confidence: 0.3, entropy: 0.611, mEntropy: 0.7, logitConfidence: -0.8473 } },
      ],
      definitions: { loss: 'l', confidence: 'c', entropy: 'e', mEntropy: 'm', logitConfidence: 'φ' },
    };
    const c = instanceChart(ex);
    expect(c.title).toBe('Predicted probabilities of f-1 (true class: cat)');
    const o = c.option as { xAxis: { name: string; data: string[] }; yAxis: { name: string; max: number }; series: { name: string; data: number[] }[] };
    expect([o.xAxis.name, o.yAxis.name, o.yAxis.max]).toEqual(['Class', 'Probability (0–1)', 1]);
    expect(o.xAxis.data).toEqual(['cat', 'dog']);
    expect(o.series).toEqual([expect.objectContaining({ type: 'bar', name: 'Original', data: [0.9, 0.1] }), expect.objectContaining({ type: 'bar', name: 'GA', data: [0.3, 0.7] })]);
    expect(c.table.columns).toEqual(['model', 'predicted', 'p(cat)', 'p(dog)', 'loss (nats)', 'confidence p_y', 'entropy (nats)', 'm-entropy (nats)', 'φ (nats)']);
    expect(c.table.rows[1]).toEqual(['GA', 'dog', 0.3, 0.7, 1.204, 0.3, 0.611, 0.7, -0.8473]);
    expect(renderChartSvg(c.option, 600, 300)).toContain('Predicted probabilities of f-1');
  });
});
