import { splitAccuracy } from '../util';
import { SPLIT_NAMES, type MetricDescriptor } from '../types';

export const metric: MetricDescriptor = {
  id: 'tow',
  name: 'ToW (tug of war)',
  unit: 'ratio',
  formula: 'Π over {forget, retain, test} of (1 − |acc(θ_u) − acc(θ_r)| / 100), accuracies in %; 1 = same accuracies as retrain',
  source: 'Zhao et al. 2024, "What makes unlearning hard and what to do about it" (ToW)',
  better: 'higher',
  needs: ['reference'],
  compute({ model, reference }) {
    let v = 1;
    const terms: Record<string, number> = {};
    for (const s of SPLIT_NAMES) {
      const a = splitAccuracy(model, s);
      const b = splitAccuracy(reference!, s);
      if (a === null || b === null) return { value: null, missing: `no ${s} rows` };
      terms[s] = 1 - Math.abs(a - b) / 100;
      v *= terms[s];
    }
    return { value: v, extra: { terms } };
  },
};
