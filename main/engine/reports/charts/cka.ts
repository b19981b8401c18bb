import type { ComparisonManifest } from '../../runs/contract-types';
import { axis, baseOption, findEntry, round, type ChartSpec } from './types';

export type CkaSplit = 'all' | 'forget' | 'retain' | 'test' | 'train';

interface CkaPair {
  all: number | null;
  perSplit?: Record<string, number | null>;
}
interface CkaLayer {
  layer: string;
  vsReference: CkaPair | null;
  vsOriginal: CkaPair | null;
}

/**
 * Layer-wise linear CKA of one model against the original and against the retrain reference (the
 * 'layer-cka' metric's extra: activations of the same seeded sample rows, 1 = same representation).
 */
export function ckaChart(cmp: ComparisonManifest, key: string, split: CkaSplit = 'all'): ChartSpec {
  const e = findEntry(cmp, key);
  const layers = ((e.extras['layer-cka'] as { layers?: CkaLayer[] } | undefined)?.layers ?? []) as CkaLayer[];
  const pick = (p: CkaPair | null) => (p ? round(split === 'all' ? p.all : (p.perSplit?.[split] ?? null), 4) : null);
  const title = `Layer-wise CKA: ${e.label}${split === 'all' ? '' : ` (${split} rows of the sample)`}`;
  const names = layers.map((l, i) => `${i + 1}. ${l.layer}`);
  const rows = layers.map((l, i) => [names[i], pick(l.vsOriginal), pick(l.vsReference)]);
  const option = {
    ...baseOption(title, 'linear CKA of layer activations on the same sample rows; 1 = the same representation'),
    legend: { bottom: 0, itemGap: 30 },
    tooltip: { trigger: 'axis' },
    xAxis: axis('Layer (input to output)', { type: 'category', data: names, axisLabel: { interval: 0, rotate: names.length > 5 ? 25 : 0, fontSize: 9 } }),
    yAxis: axis('Linear CKA (ratio, 0–1)', { type: 'value', min: 0, max: 1, nameGap: 40 }),
    series: [
      { type: 'line', name: `vs original`, symbolSize: 7, data: rows.map((r) => r[1]) },
      { type: 'line', name: `vs retrain reference`, symbolSize: 7, data: rows.map((r) => r[2]) },
    ],
  };
  const empty = layers.length ? undefined : 'no layer activations were stored for this model (the layer-cka metric was not computed)';
  return { id: `cka-${e.key}-${split}`, title, option, table: { columns: ['layer', 'CKA vs original', 'CKA vs retrain reference'], rows }, ...(empty ? { empty } : {}) };
}
