import { predictRow } from '../util';
import { SPLIT_NAMES, SPLIT, type MetricDescriptor, type ModelOutputs, type SplitName } from '../types';

/** Per split, per class: accuracy in % (null where the class has no row in that split) and row counts. */
export function perClassAccuracy(m: ModelOutputs): Record<SplitName, { accuracy: (number | null)[]; rows: number[] }> {
  const out = {} as Record<SplitName, { accuracy: (number | null)[]; rows: number[] }>;
  for (const s of SPLIT_NAMES) {
    const hit = new Array(m.numClasses).fill(0);
    const tot = new Array(m.numClasses).fill(0);
    for (let i = 0; i < m.n; i++) {
      if (m.split[i] !== SPLIT[s]) continue;
      tot[m.labels[i]]++;
      if (predictRow(m, i) === m.labels[i]) hit[m.labels[i]]++;
    }
    out[s] = { accuracy: tot.map((t, k) => (t ? (100 * hit[k]) / t : null)), rows: tot };
  }
  return out;
}

export const metric: MetricDescriptor = {
  id: 'per-class-accuracy',
  name: 'Worst retained-class accuracy',
  unit: '%',
  formula: 'min over classes c with retain rows of 100 × |{i ∈ D_r : y_i = c, argmax z_i = c}| / |{i ∈ D_r : y_i = c}|; extra: per-class accuracy on every split',
  source: 'class-wise accuracy as in SalUn / SSD evaluations (a collapsed retained class shows here first)',
  better: 'higher',
  needs: [],
  compute({ model }) {
    const pc = perClassAccuracy(model);
    const vals = pc.retain.accuracy.filter((v): v is number => v !== null);
    const extra = { perClass: pc };
    if (!vals.length) return { value: null, missing: 'no retain rows', extra };
    return { value: Math.min(...vals), extra: { ...extra, worstClass: pc.retain.accuracy.indexOf(Math.min(...vals)) } };
  },
};
