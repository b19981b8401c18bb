// Server-side rendering of a chart option to SVG (ECharts SSR; no DOM, no canvas).

import * as echarts from 'echarts';

/**
 * On paper nothing scrolls: a scrolling legend (which shows one page of entries and arrows) becomes a
 * plain one that wraps, and the plot area gives up one legend row (about 30 px) per estimated extra line.
 */
export function staticLegend(option: Record<string, unknown>, width: number): Record<string, unknown> {
  const legend = option.legend as Record<string, unknown> | undefined;
  if (!legend || Array.isArray(legend) || legend.type !== 'scroll') return option;
  const names = ((option.series as { name?: string }[] | undefined) ?? []).map((s) => s.name ?? '');
  const gap = Math.min(typeof legend.itemGap === 'number' ? legend.itemGap : 10, 24);
  // entry width: icon (25) + text (~6.2 px per character at 12 px) + gap
  const total = names.reduce((a, n) => a + 25 + n.length * 6.2 + gap, 0);
  const lines = Math.max(1, Math.ceil(total / (width - 40)));
  const grid = option.grid as Record<string, unknown> | undefined;
  const bottom = typeof grid?.bottom === 'number' ? grid.bottom : 70;
  return { ...option, legend: { ...legend, type: 'plain', itemGap: gap }, ...(grid ? { grid: { ...grid, bottom: bottom + 12 + 30 * (lines - 1) } } : {}) };
}

export function renderChartSvg(option: Record<string, unknown>, width: number, height: number): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ animation: false, textStyle: { fontFamily: 'DejaVu Sans, sans-serif' }, ...staticLegend(option, width) });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}
