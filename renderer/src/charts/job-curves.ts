// The option of a job's live-curves chart (loss; held-out retain and forget accuracy in %), built by
// one pure function from the points the jobs store accumulated, plus its text alternative.
import type { JobCurvePoint } from '../stores/jobs';
import type { ChartColors } from './echarts';

export const JOB_CURVES_TITLE = 'Loss and accuracy during the job';

export interface CurveSeries {
  key: 'loss' | 'retainAccuracy' | 'forgetAccuracy';
  name: string;
  /** y axis: 0 loss, 1 accuracy (%) */
  axis: 0 | 1;
}

export const CURVE_SERIES: readonly CurveSeries[] = [
  { key: 'loss', name: 'Loss', axis: 0 },
  { key: 'retainAccuracy', name: 'Held-out retain accuracy (%)', axis: 1 },
  { key: 'forgetAccuracy', name: 'Forget accuracy (%)', axis: 1 },
];

/** The series that have at least one point. */
export function presentSeries(points: readonly JobCurvePoint[]): CurveSeries[] {
  return CURVE_SERIES.filter((s) => points.some((p) => p[s.key] !== undefined));
}

function fmt(v: number, digits: number): string {
  return v.toFixed(digits);
}

/** One or two sentences describing the curves (the chart's aria-label). */
export function jobCurvesSummary(points: readonly JobCurvePoint[]): string {
  const parts: string[] = [];
  for (const s of presentSeries(points)) {
    const vals = points.filter((p) => p[s.key] !== undefined);
    const first = vals[0][s.key]!;
    const last = vals[vals.length - 1][s.key]!;
    const d = s.axis === 0 ? 3 : 1;
    const unit = s.axis === 0 ? '' : '%';
    const name = s.axis === 0 ? 'loss' : s.key === 'retainAccuracy' ? 'held-out retain accuracy' : 'forget accuracy';
    parts.push(vals.length === 1 ? `${name} ${fmt(last, d)}${unit}` : `${name} from ${fmt(first, d)}${unit} to ${fmt(last, d)}${unit} over ${vals.length} points`);
  }
  if (!parts.length) return `${JOB_CURVES_TITLE}: no values reported yet.`;
  return `${JOB_CURVES_TITLE}: ${parts.join('; ')}.`;
}

export function jobCurvesOption(points: readonly JobCurvePoint[], colors: ChartColors): Record<string, unknown> {
  const series = presentSeries(points);
  const hasAcc = series.some((s) => s.axis === 1);
  const axisCommon = {
    nameTextStyle: { color: colors.muted, fontSize: 11 },
    axisLabel: { color: colors.muted, fontSize: 10 },
    axisLine: { lineStyle: { color: colors.border } },
    splitLine: { lineStyle: { color: colors.border, opacity: 0.6 } },
  };
  return {
    animation: false,
    aria: { enabled: true, label: { description: jobCurvesSummary(points) } },
    color: colors.series,
    textStyle: { color: colors.text },
    title: { text: JOB_CURVES_TITLE, left: 0, top: 0, textStyle: { color: colors.text, fontSize: 12, fontWeight: 600 } },
    legend: { top: 0, right: 0, textStyle: { color: colors.muted, fontSize: 11 }, itemWidth: 14, itemHeight: 8 },
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? v.toFixed(3) : String(v)) },
    grid: { left: 52, right: hasAcc ? 52 : 16, top: 34, bottom: 36 },
    xAxis: { ...axisCommon, type: 'value', name: 'Progress of the job (%)', nameLocation: 'middle', nameGap: 22, min: 0, max: 100, splitLine: { show: false } },
    yAxis: [
      { ...axisCommon, type: 'value', name: 'Loss (nats)', nameLocation: 'middle', nameGap: 38, scale: true },
      ...(hasAcc ? [{ ...axisCommon, type: 'value', name: 'Accuracy (%)', nameLocation: 'middle', nameGap: 34, min: 0, max: 100, splitLine: { show: false } }] : []),
    ],
    series: series.map((s) => {
      const data = points.filter((p) => p[s.key] !== undefined).map((p) => [p.x, p[s.key]]);
      return {
        name: s.name,
        type: 'line',
        yAxisIndex: s.axis,
        // markers only while they stay readable (accuracy is measured rarely; loss often)
        showSymbol: data.length <= 40,
        symbolSize: 5,
        sampling: 'lttb',
        lineStyle: { width: 1.5 },
        color: colors.series[CURVE_SERIES.indexOf(s)],
        data,
      };
    }),
  };
}
