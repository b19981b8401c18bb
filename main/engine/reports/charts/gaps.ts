import type { ComparisonManifest } from '../../runs/contract-types';
import { axis, baseOption, round, type ChartSpec } from './types';

/** The accuracy-type metrics (all in %) whose gaps share one axis. */
export const GAP_METRICS = ['forget-accuracy', 'retain-accuracy', 'test-accuracy', 'mia-efficacy'];

/** Gaps to retrain per metric: |mean − retrain mean| for every unlearned model (and the original), grouped by metric. */
export function gapsChart(cmp: ComparisonManifest, metricIds: string[] = GAP_METRICS): ChartSpec {
  const metrics = metricIds.map((id) => cmp.metrics.find((m) => m.id === id)).filter((m): m is NonNullable<typeof m> => !!m);
  const units = [...new Set(metrics.map((m) => m.unit))];
  const unit = units.length === 1 ? (units[0] === '%' ? 'percentage points' : units[0] || 'metric units') : 'each metric’s unit';
  const models = cmp.entries.filter((e) => e.role !== 'reference');
  const title = 'Gap to the retrain reference per metric';
  const rows = models.flatMap((e) => metrics.map((m) => [e.label, m.name, round(e.metrics[m.id]?.gapToRetrain), round(e.metrics[m.id]?.mean), m.unit]));
  const option = {
    ...baseOption(title, 'lower is closer to retraining'),
    legend: { bottom: 0, type: 'scroll', itemGap: 40 },
    xAxis: axis('Metric', { type: 'category', data: metrics.map((m) => m.name), axisLabel: { interval: 0, fontSize: 10, width: 90, overflow: 'break' } }),
    yAxis: axis(`|gap| to retrain (${unit})`, { type: 'value', min: 0, nameGap: 45 }),
    series: models.map((e) => ({ type: 'bar', name: e.label, data: metrics.map((m) => round(e.metrics[m.id]?.gapToRetrain)) })),
  };
  return { id: 'gaps', title, option, table: { columns: ['model', 'metric', 'gap to retrain', 'mean', 'unit'], rows } };
}
