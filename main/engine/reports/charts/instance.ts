import type { ExampleData } from '../../eval/contract-types';
import { axis, baseOption, round, type ChartSpec } from './types';

/**
 * The instance drill-down: one example's predicted probabilities per class under every model of the
 * comparison (grouped bars, one series per model), with its loss and attack scores in the table.
 */
export function instanceChart(data: ExampleData): ChartSpec {
  const title = `Predicted probabilities of ${data.exampleId} (true class: ${data.className})`;
  const classes = data.classNames;
  const rows = data.models.map((m) => [
    m.label,
    classes[m.predicted] ?? String(m.predicted),
    ...classes.map((_, k) => round(m.probabilities[k], 4)),
    round(m.loss, 4),
    round(m.scores.confidence, 4),
    round(m.scores.entropy, 4),
    round(m.scores.mEntropy, 4),
    round(m.scores.logitConfidence, 4),
  ]);
  const option = {
    ...baseOption(title, `${data.split} example; one bar per model and class`),
    legend: { bottom: 0, type: 'scroll', itemGap: 24 },
    // richText: the tooltip is drawn in the chart itself (the HTML one writes inline styles, which the app's CSP blocks)
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, renderMode: 'richText' },
    xAxis: axis('Class', { type: 'category', data: classes, axisLabel: { interval: 0, rotate: classes.length > 6 ? 30 : 0, fontSize: 10 } }),
    yAxis: axis('Probability (0–1)', { type: 'value', min: 0, max: 1, nameGap: 40 }),
    series: data.models.map((m) => ({ type: 'bar', name: m.label, data: classes.map((_, k) => round(m.probabilities[k], 4)) })),
  };
  return {
    id: `instance-${data.exampleId}`,
    title,
    option,
    table: { columns: ['model', 'predicted', ...classes.map((c) => `p(${c})`), 'loss (nats)', 'confidence p_y', 'entropy (nats)', 'm-entropy (nats)', 'φ (nats)'], rows },
  };
}
