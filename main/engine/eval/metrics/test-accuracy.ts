import { splitAccuracy } from '../util';
import type { MetricDescriptor } from '../types';

export const metric: MetricDescriptor = {
  id: 'test-accuracy',
  name: 'Test accuracy (TA)',
  unit: '%',
  formula: '100 × (1/|D_t|) Σ_{i∈D_t} 1[argmax_k z_ik = y_i]  (accuracy of θ_u on the test set, %)',
  source: 'standard; SalUn / l1-sparse code (OPTML-Group), main_forget.py accuracy[test]',
  better: 'higher',
  needs: [],
  compute({ model }) {
    const v = splitAccuracy(model, 'test');
    return v === null ? { value: null, missing: 'no test rows' } : { value: v };
  },
};
