import type { ComparisonManifest } from '../../runs/contract-types';
import { axis, baseOption, round, type ChartSpec } from './types';

interface FqExtra {
  N: number;
  maxEpsilon: number;
  epsilons: (number | null)[];
}

/**
 * The per-example ε distribution on the forget set, one bar group per unlearned model (ε_i as the
 * 'forgetting-quality' metric defines it, its extra `epsilons`; its descriptor's formula is the
 * definition the dashboard shows beside the chart): bins of 0.5
 * nats as F scores them (H(ε) = 2^(−⌊ε/0.5⌋) below ⌈ln(N−1)⌉, 0 from there on), plus examples where no rule applied.
 */
export function epsilonChart(cmp: ComparisonManifest): ChartSpec {
  const models = cmp.entries
    .map((e) => ({ e, fq: e.extras['forgetting-quality'] as unknown as FqExtra | undefined }))
    .filter((x) => x.e.role === 'unlearned' && x.fq && Array.isArray(x.fq.epsilons));
  const title = 'Per-example ε on the forget set (unlearned vs retrained ensembles)';
  const maxEps = Math.max(0.5, ...models.map((x) => x.fq!.maxEpsilon));
  const nb = Math.ceil(maxEps / 0.5);
  const labels = [...Array.from({ length: nb }, (_, k) => `[${k * 0.5}, ${(k + 1) * 0.5})`), `≥ ${nb * 0.5}`, 'undefined'];
  const points = [...Array.from({ length: nb }, (_, k) => 2 ** -k), 0, 0];
  const rows: (string | number | null)[][] = [];
  const series = models.map(({ e, fq }) => {
    const counts = new Array<number>(nb + 2).fill(0);
    for (const v of fq!.epsilons) {
      if (v === null || !Number.isFinite(v) || Number.isNaN(v)) counts[nb + 1]++;
      else counts[Math.min(nb, Math.floor(v / 0.5))]++;
    }
    const total = fq!.epsilons.length;
    counts.forEach((c, k) => rows.push([e.label, labels[k], c, total ? round((100 * c) / total, 2) : null, points[k]]));
    return { type: 'bar', name: `${e.label} (N = ${fq!.N})`, data: counts.map((c) => (total ? round((100 * c) / total, 2) : null)) };
  });
  const option = {
    ...baseOption(title, 'ε per forget example (NeurIPS 2023 forgetting-quality rule); lower = indistinguishable from retraining'),
    legend: { bottom: 0, type: 'scroll', itemGap: 30 },
    tooltip: { trigger: 'axis' },
    xAxis: axis('ε of the example (nats)', { type: 'category', data: labels, axisLabel: { interval: 0, fontSize: 10 } }),
    yAxis: axis('Share of forget examples (%)', { type: 'value', min: 0, max: 100, nameGap: 45 }),
    series,
  };
  const empty = models.length ? undefined : `needs N ≥ 3 seeds of each unlearned method and of the retrain reference (this comparison has ${cmp.seeds} ${cmp.seeds === 1 ? 'seed' : 'seeds'})`;
  return { id: 'epsilon', title, option, table: { columns: ['model', 'ε bin', 'examples', 'share (%)', 'points H(ε)'], rows }, ...(empty ? { empty } : {}) };
}
