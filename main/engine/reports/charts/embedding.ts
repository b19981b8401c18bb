import type { EmbeddingData } from '../../eval/contract-types';
import { axis, baseOption, round, type ChartSpec } from './types';

/** Ten distinguishable class colours (Tableau 10), readable on light and dark backgrounds. */
export const CLASS_COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

/** Symbol of a forget-set example (every other example is a circle). */
export const FORGET_SYMBOL = 'diamond';

/**
 * The embedding view of one model: its penultimate features on the comparison's fixed sample,
 * projected on their first two principal components; one series per class (class colour), forget-set
 * examples drawn as diamonds with a dark outline. Every point is { name: example id, value: [x, y,
 * sample index] }, so a
 * point hovered in one model's chart names the same example in another's (the embedding link).
 */
export function embeddingChart(data: EmbeddingData, key: string): ChartSpec {
  const m = data.models.find((x) => x.key === key || x.label === key);
  if (!m) throw new Error(`the embedding of comparison '${data.comparisonId}' has no model '${key}' (have: ${data.models.map((x) => x.key).join(', ')})`);
  const title = `Penultimate features (PCA): ${m.label}`;
  const s = data.sample;
  const pct = (v: number | undefined) => (v === undefined ? '' : `${(100 * v).toFixed(1)}% of variance`);
  const ev = m.explainedVarianceRatio;
  const rows = m.points ? m.points.map((p, i) => [s.ids[i], s.split[i], data.classNames[s.labels[i]] ?? String(s.labels[i]), round(p[0]), round(p[1])]) : [];
  const present = [...new Set(s.labels)].sort((a, b) => a - b);
  const series = present.map((c) => ({
    type: 'scatter',
    name: data.classNames[c] ?? `class ${c}`,
    symbolSize: 5,
    itemStyle: { color: CLASS_COLORS[c % CLASS_COLORS.length], opacity: 0.75 },
    emphasis: { scale: 2.6, itemStyle: { opacity: 1, borderColor: '#111', borderWidth: 2 } },
    data: m.points
      ? s.labels.flatMap((y, i) => {
          if (y !== c) return [];
          const value = [round(m.points![i][0]), round(m.points![i][1]), i];
          // the name (example id) is what the tooltip shows
          return [s.split[i] === 'forget' ? { name: s.ids[i], value, symbol: FORGET_SYMBOL, symbolSize: 9, itemStyle: { borderColor: '#222', borderWidth: 1, opacity: 0.95 } } : { name: s.ids[i], value }];
        })
      : [],
  }));
  const forget = s.split.filter((x) => x === 'forget').length;
  const option = {
    ...baseOption(title, `${s.ids.length.toLocaleString('en-US')} examples (${forget.toLocaleString('en-US')} forget = ◆); ${m.dim ?? '?'} features`),
    color: CLASS_COLORS,
    legend: { bottom: 0, type: 'scroll', itemGap: 16 },
    grid: { left: 70, right: 30, top: 70, bottom: 80 },
    // richText: the tooltip is drawn in the chart itself (the HTML one writes inline styles, which the app's CSP blocks)
    tooltip: { trigger: 'item', renderMode: 'richText', formatter: '{b} ({a})' },
    xAxis: axis(`PC 1 (feature units; ${pct(ev?.[0])})`, { type: 'value', scale: true }),
    yAxis: axis(`PC 2 (feature units; ${pct(ev?.[1])})`, { type: 'value', scale: true, nameGap: 45 }),
    series,
  };
  return {
    id: `embedding-${m.key}`,
    title,
    option,
    table: { columns: ['example', 'split', 'class', 'PC 1', 'PC 2'], rows },
    ...(m.points ? {} : { empty: m.missing ?? 'the projection is being computed' }),
  };
}
