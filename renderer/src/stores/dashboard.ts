import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { AttackData, AttackFeature, ChartSpec, ComparisonChartRequest } from '../../../preload/api';
import { getApi } from '../api/client';

/**
 * The evaluation dashboards' data: charts of a comparison (each built in the backend by the engine's
 * chart builder, the PDF report's too) and the attack simulation. Comparisons never change once
 * written, so answers are kept per (comparison, request) for the session; a failed call is not kept.
 */
export const useDashboardStore = defineStore('dashboard', () => {
  const chartCache = new Map<string, Promise<ChartSpec>>();
  const attackCache = new Map<string, Promise<AttackData>>();
  /** milliseconds of the last answer of each kind (shown by the benchmark) */
  const lastMs = ref<Record<string, number>>({});

  /** One chart; concurrent asks for the same chart share one call. */
  function chart(id: string, request: ComparisonChartRequest): Promise<ChartSpec> {
    const key = `${id}\u0000${JSON.stringify(request)}`;
    let hit = chartCache.get(key);
    if (!hit) {
      const t0 = performance.now();
      hit = getApi()
        .call('comparisons.charts', { id, charts: [request] })
        .then((r) => {
          lastMs.value = { ...lastMs.value, [request.kind]: Math.round(performance.now() - t0) };
          return r[0];
        });
      chartCache.set(key, hit);
      hit.catch(() => chartCache.delete(key));
    }
    return hit;
  }

  function attack(id: string, feature: AttackFeature): Promise<AttackData> {
    const key = `${id}\u0000${feature}`;
    let hit = attackCache.get(key);
    if (!hit) {
      hit = getApi().call('comparisons.attack', { id, feature });
      attackCache.set(key, hit);
      hit.catch(() => attackCache.delete(key));
    }
    return hit;
  }

  function clear(): void {
    chartCache.clear();
    attackCache.clear();
  }

  return { chart, attack, clear, lastMs };
});
