// Presentation of the engine's chart options in the app: the theme's colours, no animation, and
// small live patches (the attack threshold) merged into series by id. The option itself (data,
// axes, titles) is the engine builder's, unchanged: the PDF draws the same one.
import type { ChartColors } from '../../charts/echarts';

type Obj = Record<string, unknown>;

/** Categorical colours after the theme accent (Okabe–Ito, readable on light and dark). */
const EXTRA_SERIES = ['#E69F00', '#56B4E9', '#009E73', '#D55E00', '#CC79A7', '#0072B2', '#999999', '#8C6D31', '#6B6ECF'];

function axisStyled(ax: unknown, c: ChartColors): unknown {
  if (Array.isArray(ax)) return ax.map((a) => axisStyled(a, c));
  if (!ax || typeof ax !== 'object') return ax;
  const a = ax as Obj;
  return {
    ...a,
    nameTextStyle: { color: c.muted, fontSize: 11, ...(a.nameTextStyle as Obj) },
    axisLabel: { color: c.muted, ...(a.axisLabel as Obj) },
    axisLine: { lineStyle: { color: c.border } },
    splitLine: { lineStyle: { color: c.border, opacity: 0.7 }, ...(a.splitLine as Obj) },
    splitArea: a.splitArea ? { show: (a.splitArea as Obj).show, areaStyle: { color: ['transparent', 'transparent'] } } : undefined,
  };
}

export function themedOption(option: Obj, c: ChartColors): Obj {
  const title = (option.title ?? {}) as Obj;
  const legend = option.legend as Obj | undefined;
  const visualMap = option.visualMap as Obj | undefined;
  return {
    animation: false,
    color: [c.series[0], ...EXTRA_SERIES],
    backgroundColor: 'transparent',
    ...option,
    textStyle: { color: c.text, ...(option.textStyle as Obj) },
    title: { ...title, textStyle: { ...(title.textStyle as Obj), color: c.text }, subtextStyle: { color: c.muted, fontSize: 11 } },
    // on screen the legend sits closer together than in the PDF's wide pages
    ...(legend ? { legend: { ...legend, itemGap: Math.min(Number(legend.itemGap ?? 10), 18), textStyle: { color: c.muted }, pageTextStyle: { color: c.muted }, pageIconColor: c.text, pageIconInactiveColor: c.border } } : {}),
    ...(visualMap ? { visualMap: { ...visualMap, textStyle: { color: c.muted } } } : {}),
    ...(option.xAxis ? { xAxis: axisStyled(option.xAxis, c) } : {}),
    ...(option.yAxis ? { yAxis: axisStyled(option.yAxis, c) } : {}),
  };
}

/** A change to one series (found by its id); `markLine` is merged into the series' own. */
export interface SeriesPatch {
  id: string;
  [key: string]: unknown;
}

export function patchSeries(option: Obj, patches: readonly SeriesPatch[]): Obj {
  if (!patches.length || !Array.isArray(option.series)) return option;
  return {
    ...option,
    series: (option.series as Obj[]).map((s) => {
      const p = patches.find((x) => x.id === s.id);
      if (!p) return s;
      const markLine = p.markLine ? { ...(s.markLine as Obj), ...(p.markLine as Obj) } : s.markLine;
      return { ...s, ...p, ...(markLine ? { markLine } : {}) };
    }),
  };
}
