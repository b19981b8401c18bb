import type { ComparisonManifest } from '../../runs/contract-types';
import { axis, baseOption, round, type ChartSpec } from './types';

interface RelearnExtra {
  steps: number[];
  forgetAccuracy: number[];
}

/** Relearning curves: forget accuracy after k fine-tuning steps on a small part of the forget set, one line per model. */
export function relearnChart(cmp: ComparisonManifest): ChartSpec {
  const curves = cmp.entries.map((e) => ({ e, c: e.extras['relearn-forget-accuracy'] as unknown as RelearnExtra | undefined })).filter((x) => x.c && x.c.steps?.length);
  const title = 'Relearning probe: forget accuracy while fine-tuning on part of the forget set';
  const rows = curves.flatMap(({ e, c }) => c!.steps.map((s, i) => [e.label, s, round(c!.forgetAccuracy[i], 2)]));
  const option = {
    ...baseOption(title, 'a model that truly forgot recovers no faster than the retrain reference'),
    legend: { bottom: 0, type: 'scroll', itemGap: 40 },
    xAxis: axis('Fine-tuning steps (count)', { type: 'value', min: 0 }),
    yAxis: axis('Forget accuracy (%)', { type: 'value', min: 0, max: 100, nameGap: 40 }),
    series: curves.map(({ e, c }) => ({ type: 'line', name: e.label, symbolSize: 6, data: c!.steps.map((s, i) => [s, round(c!.forgetAccuracy[i], 2)]) })),
  };
  return { id: 'relearn', title, option, table: { columns: ['model', 'steps', 'forget accuracy (%)'], rows } };
}
