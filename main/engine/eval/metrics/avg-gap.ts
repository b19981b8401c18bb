import { splitAccuracy } from '../util';
import { miaEfficacy } from '../mia';
import type { MetricDescriptor, ModelOutputs } from '../types';

function four(m: ModelOutputs): Record<'UA' | 'RA' | 'TA' | 'MIA-Efficacy', number | null> {
  const fa = splitAccuracy(m, 'forget');
  return { UA: fa === null ? null : 100 - fa, RA: splitAccuracy(m, 'retain'), TA: splitAccuracy(m, 'test'), 'MIA-Efficacy': miaEfficacy(m, 'confidence').value };
}

export const metric: MetricDescriptor = {
  id: 'avg-gap',
  name: 'Avg. Gap to retrain',
  unit: '%',
  formula: '(1/4) Σ over {UA, RA, TA, MIA-Efficacy (confidence)} of |metric(θ_u) − metric(θ_r)|, each in %',
  source: 'SalUn (Fan et al. 2024), Table "Avg. Gap"; metrics as in OPTML-Group code',
  better: 'lower',
  needs: ['reference'],
  mia: ['confidence'],
  compute({ model, reference }) {
    const u = four(model);
    const r = four(reference!);
    const gaps: Record<string, number> = {};
    for (const k of Object.keys(u) as (keyof typeof u)[]) {
      const a = u[k];
      const b = r[k];
      if (a === null || b === null) return { value: null, missing: `${k} is undefined (empty split)`, extra: { model: u, reference: r } };
      gaps[k] = Math.abs(a - b);
    }
    const v = Object.values(gaps).reduce((a, b) => a + b, 0) / 4;
    return { value: v, extra: { gaps, model: u, reference: r } };
  },
};
