// The option of a job's live-curves chart (loss; held-out retain, forget and test accuracy in %), built
// by one pure function from the points the jobs store accumulated, plus its text alternative. The same
// builder draws a trained model's per-epoch curves (model details): another x axis, same series.
import type { ModelTrainingInfo } from '../../../preload/api';
import type { JobCurvePoint } from '../stores/jobs';
import type { ChartColors } from './echarts';

export const JOB_CURVES_TITLE = 'Loss and accuracy during the job';

export interface CurveSeries {
  key: 'loss' | 'retainAccuracy' | 'forgetAccuracy' | 'testAccuracy';
  name: string;
  /** y axis: 0 loss, 1 accuracy (%) */
  axis: 0 | 1;
  /** in the text alternative */
  words: string;
}

export const CURVE_SERIES: readonly CurveSeries[] = [
  { key: 'loss', name: 'Loss', axis: 0, words: 'loss' },
  { key: 'retainAccuracy', name: 'Held-out retain accuracy (%)', axis: 1, words: 'held-out retain accuracy' },
  { key: 'forgetAccuracy', name: 'Forget accuracy (%)', axis: 1, words: 'forget accuracy' },
  { key: 'testAccuracy', name: 'Test accuracy (%)', axis: 1, words: 'test accuracy' },
];

/** The chart's title and x axis: a job's progress (default) or a trained model's epochs. */
export interface CurvesFrame {
  title: string;
  /** the x axis's name on the chart, and the data table's first column */
  xName: string;
  xColumn: string;
  min: number;
  max: number;
  /** digits of x in the data table */
  xDigits: number;
  /** a narrow chart: the legend goes under the title instead of beside it */
  narrow?: boolean;
}

export const JOB_FRAME: CurvesFrame = { title: JOB_CURVES_TITLE, xName: 'Progress of the job (%)', xColumn: 'Progress (%)', min: 0, max: 100, xDigits: 1 };

export function epochFrame(epochs: number): CurvesFrame {
  return { title: 'Training loss and test accuracy per epoch', xName: 'Epoch', xColumn: 'Epoch', min: epochs > 1 ? 1 : 0, max: Math.max(1, epochs), xDigits: 0 };
}

/** A trained model's recorded curves: one point per epoch (mean training loss; test accuracy in % when measured). */
export function trainingCurvePoints(t: Pick<ModelTrainingInfo, 'epochLosses' | 'epochTestAccuracies' | 'testAccuracy'>): JobCurvePoint[] {
  const acc = t.epochTestAccuracies ?? [];
  const points: JobCurvePoint[] = t.epochLosses.map((loss, i) => {
    const p: JobCurvePoint = { x: i + 1, step: i + 1 };
    if (Number.isFinite(loss)) p.loss = loss;
    const a = acc[i];
    if (typeof a === 'number') p.testAccuracy = a * 100;
    return p;
  });
  // records made before per-epoch accuracy: the final accuracy belongs to the last epoch
  const last = points[points.length - 1];
  if (last && last.testAccuracy === undefined && !acc.length && t.testAccuracy !== null) last.testAccuracy = t.testAccuracy * 100;
  return points;
}

/** The series that have at least one point. */
export function presentSeries(points: readonly JobCurvePoint[]): CurveSeries[] {
  return CURVE_SERIES.filter((s) => points.some((p) => p[s.key] !== undefined));
}

function fmt(v: number, digits: number): string {
  return v.toFixed(digits);
}

/** One or two sentences describing the curves (the chart's aria-label). */
export function jobCurvesSummary(points: readonly JobCurvePoint[], title = JOB_CURVES_TITLE): string {
  const parts: string[] = [];
  for (const s of presentSeries(points)) {
    const vals = points.filter((p) => p[s.key] !== undefined);
    const first = vals[0][s.key]!;
    const last = vals[vals.length - 1][s.key]!;
    const d = s.axis === 0 ? 3 : 1;
    const unit = s.axis === 0 ? '' : '%';
    const name = s.words;
    parts.push(vals.length === 1 ? `${name} ${fmt(last, d)}${unit}` : `${name} from ${fmt(first, d)}${unit} to ${fmt(last, d)}${unit} over ${vals.length} points`);
  }
  if (!parts.length) return `${title}: no values reported yet.`;
  return `${title}: ${parts.join('; ')}.`;
}

export function jobCurvesOption(points: readonly JobCurvePoint[], colors: ChartColors, frame: CurvesFrame = JOB_FRAME): Record<string, unknown> {
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
    aria: { enabled: true, label: { description: jobCurvesSummary(points, frame.title) } },
    color: colors.series,
    textStyle: { color: colors.text },
    title: { text: frame.title, left: 0, top: 0, textStyle: { color: colors.text, fontSize: 12, fontWeight: 600 } },
    legend: { top: frame.narrow ? 18 : 0, ...(frame.narrow ? { left: 0 } : { right: 0 }), textStyle: { color: colors.muted, fontSize: 11 }, itemWidth: 14, itemHeight: 8 },
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? v.toFixed(3) : String(v)) },
    grid: { left: 52, right: hasAcc ? 52 : 16, top: frame.narrow ? 52 : 34, bottom: 36 },
    xAxis: { ...axisCommon, type: 'value', name: frame.xName, nameLocation: 'middle', nameGap: 22, min: frame.min, max: frame.max, minInterval: frame.xDigits === 0 ? 1 : undefined, splitLine: { show: false } },
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
