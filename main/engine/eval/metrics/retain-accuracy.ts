import { splitAccuracy } from '../util';
import type { MetricDescriptor } from '../types';

export const metric: MetricDescriptor = {
  id: 'retain-accuracy',
  name: 'Retain accuracy (RA)',
  unit: '%',
  formula: '100 × (1/|D_r|) Σ_{i∈D_r} 1[argmax_k z_ik = y_i]  (accuracy of θ_u on the retain set, %)',
  source: 'standard; SalUn / l1-sparse code (OPTML-Group), main_forget.py accuracy[retain]',
  better: 'higher',
  needs: [],
  compute({ model }) {
    const v = splitAccuracy(model, 'retain');
    return v === null ? { value: null, missing: 'no retain rows' } : { value: v };
  },
};
