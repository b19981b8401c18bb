import type { ComparisonManifest, RunManifest } from '../../runs/contract-types';
import { axis, baseOption, round, type ChartSpec } from './types';

/** The training curve of the original model: mean training loss per epoch (from its training record). */
export function trainingCurveChart(model: string, training: { epochLosses: number[]; testAccuracy?: number | null } | null): ChartSpec {
  const losses = training?.epochLosses ?? [];
  const title = `Training curve of the original (${model})`;
  const rows = losses.map((l, i) => [i + 1, round(l, 5)]);
  const acc = training?.testAccuracy;
  const option = {
    ...baseOption(title, acc !== null && acc !== undefined ? `test accuracy after training ${(acc <= 1 ? 100 * acc : acc).toFixed(2)}%` : undefined),
    tooltip: { trigger: 'axis' },
    xAxis: axis('Epoch (count)', { type: 'value', min: 1, max: Math.max(1, losses.length), minInterval: 1 }),
    yAxis: axis('Mean training loss (nats)', { type: 'value', scale: true, nameGap: 45 }),
    series: [{ type: 'line', name: 'training loss', symbolSize: 6, data: rows }],
  };
  const empty = losses.length ? undefined : 'the original model has no recorded training (it was imported or created, not trained in Lethe)';
  return { id: 'training-curve', title, option, table: { columns: ['epoch', 'mean training loss (nats)'], rows }, ...(empty ? { empty } : {}) };
}

/**
 * Unlearning curves: what the guardrail measured while each method ran (seed 0 run), against the
 * method's step: accuracy on a held-out slice of the retain set (solid; the original's accuracy on the
 * same slice is the baseline) and, where the run recorded it, on a seeded sample of the forget set (dashed).
 */
export function unlearningCurvesChart(cmp: ComparisonManifest, runs: Record<string, RunManifest> = {}): ChartSpec {
  const curves = cmp.entries
    .filter((e) => e.role !== 'original' && e.runs.length)
    .map((e) => ({ e, g: runs[e.runs[0].run.id]?.guardrail ?? null }))
    .filter((x) => x.g && x.g.checks.length);
  const withForget = curves.some(({ g }) => g!.checks.some((c) => typeof c.forgetAccuracy === 'number'));
  const title = withForget ? 'Unlearning curves: retain (solid) and forget (dashed) accuracy during each method' : 'Unlearning curves: held-out retain accuracy during each method';
  const baseline = curves.find((x) => x.g)?.g?.baseline ?? null;
  const rows = curves.flatMap(({ e, g }) => g!.checks.map((c) => [e.label, c.step, round(c.accuracy, 3), round(c.forgetAccuracy, 3)]));
  const option = {
    ...baseOption(title, 'measured by the guardrail (retain: examples the methods never train on; seed 0 runs)'),
    legend: { bottom: 0, type: 'scroll', itemGap: 30 },
    tooltip: { trigger: 'axis' },
    xAxis: axis('Method step (count)', { type: 'value', min: 0, minInterval: 1 }),
    yAxis: axis('Accuracy (%)', { type: 'value', scale: !withForget, min: withForget ? 0 : undefined, max: 100, nameGap: 45 }),
    series: curves.flatMap(({ e, g }, i) => [
      {
        type: 'line',
        name: e.label,
        symbolSize: 5,
        data: g!.checks.map((c) => [c.step, round(c.accuracy, 3)]),
        ...(i === 0 && baseline !== null ? { markLine: { silent: true, symbol: 'none', lineStyle: { type: 'dotted' }, label: { formatter: 'original', position: 'insideEndTop' }, data: [{ yAxis: round(baseline, 3) }] } } : {}),
      },
      ...(g!.checks.some((c) => typeof c.forgetAccuracy === 'number')
        ? [{ type: 'line', name: `${e.label}: forget`, symbolSize: 4, lineStyle: { type: 'dashed' }, data: g!.checks.filter((c) => typeof c.forgetAccuracy === 'number').map((c) => [c.step, round(c.forgetAccuracy, 3)]) }]
        : []),
    ]),
  };
  const empty = curves.length ? undefined : 'no method recorded guardrail checks (exact methods and runs with the guardrail off have none)';
  return { id: 'unlearning-curves', title, option, table: { columns: ['model', 'step', 'held-out retain accuracy (%)', 'forget accuracy (%)'], rows }, ...(empty ? { empty } : {}) };
}
