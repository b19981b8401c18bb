import type { ComparisonManifest } from '../../runs/contract-types';
import { axis, baseOption, findEntry, type ChartSpec } from './types';
import type { SplitName } from './per-class';

/** The confusion matrix of a model on a split as a heatmap (rows = true class, columns = predicted class; counts of examples). */
export function confusionChart(cmp: ComparisonManifest, key: string, split: SplitName = 'test'): ChartSpec {
  const e = findEntry(cmp, key);
  const M = (e.extras['confusion'] as { matrices?: Record<string, number[][]> } | undefined)?.matrices?.[split] ?? [];
  const classes = cmp.classNames;
  const title = `Confusion matrix (${split} split): ${e.label}`;
  const data: [number, number, number][] = [];
  M.forEach((row, t) => row.forEach((v, p) => data.push([p, t, v])));
  const max = Math.max(1, ...data.map((d) => d[2]));
  const option = {
    ...baseOption(title, 'cell = number of examples'),
    grid: { left: 90, right: 90, top: 70, bottom: 80 },
    xAxis: axis('Predicted class (examples)', { type: 'category', data: classes, splitArea: { show: true }, axisLabel: { interval: 0, rotate: classes.length > 6 ? 30 : 0, fontSize: 10 } }),
    yAxis: axis('True class (examples)', { type: 'category', data: classes, inverse: true, splitArea: { show: true }, nameGap: 70, axisLabel: { fontSize: 10 } }),
    visualMap: { min: 0, max, calculable: false, orient: 'vertical', right: 10, top: 'middle', itemHeight: 120, text: ['examples', ''], inRange: { color: ['#f7fbff', '#08306b'] } },
    series: [{ type: 'heatmap', name: e.label, data, label: { show: classes.length <= 12, fontSize: 9 } }],
  };
  const empty = M.length ? undefined : `no confusion matrix of the ${split} split was recorded for this model (the confusion metric was not computed)`;
  return { id: `confusion-${e.key}-${split}`, title, option, table: { columns: ['true \\ predicted', ...classes], rows: M.map((row, t) => [classes[t], ...row]) }, ...(empty ? { empty } : {}) };
}
