// ECharts for the renderer: only the parts the app uses, drawn with the SVG renderer (works under the
// app's strict Content Security Policy: no inline scripts or styles, no canvas data URLs needed).
import { use } from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { BarChart, HeatmapChart, LineChart, ScatterChart } from 'echarts/charts';
import { AriaComponent, GridComponent, LegendComponent, MarkLineComponent, TitleComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';

// bar, scatter, heatmap, mark lines and visual maps: the evaluation dashboards (components/dashboard)
use([SVGRenderer, LineChart, BarChart, ScatterChart, HeatmapChart, GridComponent, LegendComponent, TitleComponent, TooltipComponent, AriaComponent, MarkLineComponent, VisualMapComponent]);

export { default as VChart } from 'vue-echarts';
export const CHART_INIT_OPTIONS = { renderer: 'svg' } as const;

/**
 * The option with every tooltip drawn inside the chart (renderMode 'richText'): ECharts' default HTML
 * tooltip writes markup with inline style attributes, which the app's Content Security Policy refuses
 * (a violation on every hover). Every chart of the app passes its option through this once.
 */
export function cspSafeOption<T extends Record<string, unknown>>(option: T): T {
  const t = option.tooltip;
  if (!t) return option;
  const safe = (x: unknown) => (x && typeof x === 'object' ? { ...(x as Record<string, unknown>), renderMode: 'richText' } : x);
  return { ...option, tooltip: Array.isArray(t) ? t.map(safe) : safe(t) };
}

/** Colours of a chart, read from the app's theme (CSS custom properties on <html>). */
export interface ChartColors {
  text: string;
  muted: string;
  border: string;
  series: string[];
}

export function themeChartColors(root: HTMLElement = document.documentElement): ChartColors {
  const css = getComputedStyle(root);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return {
    text: v('--text', '#1d1d22'),
    muted: v('--text-muted', '#60606b'),
    border: v('--border', '#dedee3'),
    series: [v('--accent', '#4a5bd8'), v('--ok', '#1f8a4c'), v('--danger', '#c53030'), v('--warn', '#a96500')],
  };
}
