import { splitAccuracy } from '../util';
import type { MetricDescriptor } from '../types';

export const metric: MetricDescriptor = {
  id: 'forget-accuracy',
  name: 'Forget accuracy',
  unit: '%',
  formula: '100 × (1/|D_f|) Σ_{i∈D_f} 1[argmax_k z_ik = y_i]  (accuracy of θ_u on the forget set, %)',
  source: 'standard; SalUn / l1-sparse code (OPTML-Group), main_forget.py accuracy[forget]',
  better: 'closer-to-retrain',
  needs: [],
  compute({ model }) {
    const v = splitAccuracy(model, 'forget');
    return v === null ? { value: null, missing: 'no forget rows' } : { value: v };
  },
};
