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
 * Unlearning curves: the held-out retain accuracy the guardrail measured while each method ran (seed
 * 0 run), against the method's step, with the original's accuracy on the same slice as the baseline.
 */
export function unlearningCurvesChart(cmp: ComparisonManifest, runs: Record<string, RunManifest> = {}): ChartSpec {
  const curves = cmp.entries
    .filter((e) => e.role !== 'original' && e.runs.length)
    .map((e) => ({ e, g: runs[e.runs[0].run.id]?.guardrail ?? null }))
    .filter((x) => x.g && x.g.checks.length);
  const title = 'Unlearning curves: held-out retain accuracy during each method';
  const baseline = curves.find((x) => x.g)?.g?.baseline ?? null;
  const rows = curves.flatMap(({ e, g }) => g!.checks.map((c) => [e.label, c.step, round(c.accuracy, 3)]));
  const option = {
    ...baseOption(title, 'measured by the guardrail on retain examples the methods never train on (seed 0 runs)'),
    legend: { bottom: 0, type: 'scroll', itemGap: 30 },
    tooltip: { trigger: 'axis' },
    xAxis: axis('Method step (count)', { type: 'value', min: 0 }),
    yAxis: axis('Held-out retain accuracy (%)', { type: 'value', scale: true, max: 100, nameGap: 45 }),
    series: curves.map(({ e, g }, i) => ({
      type: 'line',
      name: e.label,
      symbolSize: 5,
      data: g!.checks.map((c) => [c.step, round(c.accuracy, 3)]),
      ...(i === 0 && baseline !== null ? { markLine: { silent: true, symbol: 'none', lineStyle: { type: 'dotted' }, label: { formatter: 'original' }, data: [{ yAxis: round(baseline, 3) }] } } : {}),
    })),
  };
  const empty = curves.length ? undefined : 'no method recorded guardrail checks (exact methods and runs with the guardrail off have none)';
  return { id: 'unlearning-curves', title, option, table: { columns: ['model', 'step', 'held-out retain accuracy (%)'], rows }, ...(empty ? { empty } : {}) };
}
