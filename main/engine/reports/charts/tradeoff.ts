import type { ComparisonManifest } from '../../runs/contract-types';
import { axis, baseOption, round, type ChartSpec } from './types';

const ROLE_SYMBOL: Record<string, string> = { original: 'diamond', reference: 'rect', unlearned: 'circle' };

/**
 * The forget-vs-retain trade-off: forget accuracy (x) against retain accuracy (y), one point per model
 * (mean over seeds); the retrain reference marks the target. `y` may be 'test-accuracy' instead.
 */
export function tradeoffChart(cmp: ComparisonManifest, opts: { y?: 'retain-accuracy' | 'test-accuracy' } = {}): ChartSpec {
  const yId = opts.y ?? 'retain-accuracy';
  const yName = yId === 'retain-accuracy' ? 'Retain accuracy' : 'Test accuracy';
  const title = `Forget vs ${yName.toLowerCase().replace(' accuracy', '')} trade-off`;
  const rows = cmp.entries.map((e) => {
    const x = e.metrics['forget-accuracy'];
    const y = e.metrics[yId];
    return [e.label, e.role, round(x?.mean), round(x?.lo), round(x?.hi), round(y?.mean), round(y?.lo), round(y?.hi)];
  });
  const option = {
    ...baseOption(title, 'one point per model (mean over seeds); closer to the retrain reference is better'),
    legend: { bottom: 0, type: 'scroll', itemGap: 40 },
    xAxis: axis('Forget accuracy (%)', { type: 'value', min: 0, max: 100 }),
    yAxis: axis(`${yName} (%)`, { type: 'value', min: 0, max: 100, nameGap: 40 }),
    series: cmp.entries.map((e, i) => ({
      type: 'scatter',
      name: e.label,
      symbol: ROLE_SYMBOL[e.role] ?? 'circle',
      symbolSize: 12,
      data: rows[i][2] !== null && rows[i][5] !== null ? [[rows[i][2], rows[i][5]]] : [],
    })),
  };
  return {
    id: 'tradeoff',
    title,
    option,
    table: { columns: ['model', 'role', 'forget acc. (%)', 'forget CI lo', 'forget CI hi', `${yName.toLowerCase()} (%)`, 'CI lo', 'CI hi'], rows },
  };
}
