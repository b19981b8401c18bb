import type { ComparisonManifest } from '../../runs/contract-types';
import { axis, baseOption, findEntry, round, type ChartSpec } from './types';

export type SplitName = 'forget' | 'retain' | 'test';

/** The per-class accuracy of a model on a split (from the 'per-class-accuracy' extra of seed 0), or null. */
export function perClassOf(cmp: ComparisonManifest, key: string, split: SplitName): { accuracy: (number | null)[]; rows: number[] } | null {
  const ex = findEntry(cmp, key).extras['per-class-accuracy'] as { perClass?: Record<string, { accuracy: (number | null)[]; rows: number[] }> } | undefined;
  return ex?.perClass?.[split] ?? null;
}

/** Per-class accuracy of two models side by side on one split (default: test). */
export function perClassChart(cmp: ComparisonManifest, keyA: string, keyB: string, split: SplitName = 'test'): ChartSpec {
  const a = findEntry(cmp, keyA);
  const b = findEntry(cmp, keyB);
  const pa = perClassOf(cmp, a.key, split);
  const pb = perClassOf(cmp, b.key, split);
  const classes = cmp.classNames;
  const title = `Per-class accuracy (${split} split): ${a.label} vs ${b.label}`;
  const rows = classes.map((c, k) => [c, round(pa?.accuracy[k], 2), round(pb?.accuracy[k], 2), pa?.rows[k] ?? pb?.rows[k] ?? null]);
  const option = {
    ...baseOption(title),
    legend: { bottom: 0, itemGap: 40 },
    xAxis: axis('Class', { type: 'category', data: classes, axisLabel: { interval: 0, rotate: classes.length > 6 ? 30 : 0, fontSize: 10 } }),
    yAxis: axis('Accuracy (%)', { type: 'value', min: 0, max: 100, nameGap: 40 }),
    series: [
      { type: 'bar', name: a.label, data: rows.map((r) => r[1]) },
      { type: 'bar', name: b.label, data: rows.map((r) => r[2]) },
    ],
  };
  const empty = pa || pb ? undefined : `no per-class accuracy of the ${split} split was recorded for these models`;
  return { id: `per-class-${split}`, title, option, table: { columns: ['class', `${a.label} (%)`, `${b.label} (%)`, 'rows'], rows }, ...(empty ? { empty } : {}) };
}
