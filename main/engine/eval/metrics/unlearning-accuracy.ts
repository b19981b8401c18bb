import { splitAccuracy } from '../util';
import type { MetricDescriptor } from '../types';

export const metric: MetricDescriptor = {
  id: 'unlearning-accuracy',
  name: 'Unlearning accuracy (UA = 100 − forget accuracy)',
  unit: '%',
  formula: 'UA = 100 − forget accuracy = 100 × (1/|D_f|) Σ_{i∈D_f} 1[argmax_k z_ik ≠ y_i]  (OPTML convention; higher = more forgetting; the Unlearning Comparator calls the forget accuracy itself "UA")',
  source: 'SalUn (Fan et al. 2024) / l1-sparse (Jia et al. 2023) code (OPTML-Group): UA = 100 − Acc(θ_u; D_f)',
  better: 'closer-to-retrain',
  needs: [],
  compute({ model }) {
    const v = splitAccuracy(model, 'forget');
    return v === null ? { value: null, missing: 'no forget rows' } : { value: 100 - v };
  },
};
