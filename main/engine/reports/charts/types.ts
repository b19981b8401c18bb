// A chart = an ECharts option (built by a pure function from comparison/run data) plus its text
// alternative: the same data as a table. The UI dashboards and the PDF report use the same builders.

import type { ComparisonEntry, ComparisonManifest } from '../../runs/contract-types';

// The shapes are defined once in ../contract-types.ts (the API contract re-exports them).
export type { ChartCell as Cell, ChartTable, ChartSpec } from '../contract-types';

export function baseOption(title: string, subtitle?: string): Record<string, unknown> {
  return {
    title: { text: title, ...(subtitle ? { subtext: subtitle } : {}), left: 'center', textStyle: { fontSize: 14 } },
    tooltip: {},
    grid: { left: 70, right: 30, top: subtitle ? 70 : 55, bottom: 70, containLabel: false },
  };
}

export function axis(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, nameLocation: 'middle', nameGap: 35, ...extra };
}

export function round(v: number | null | undefined, digits = 4): number | null {
  if (v === null || v === undefined || !Number.isFinite(v)) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function findEntry(cmp: ComparisonManifest, key: string): ComparisonEntry {
  const e = cmp.entries.find((x) => x.key === key || x.label === key);
  if (!e) throw new Error(`comparison '${cmp.name}' has no model '${key}' (have: ${cmp.entries.map((x) => x.key).join(', ')})`);
  return e;
}

export function unitLabel(unit: string): string {
  if (unit === '%') return '%';
  if (unit === 's') return 's';
  return unit || 'value';
}
