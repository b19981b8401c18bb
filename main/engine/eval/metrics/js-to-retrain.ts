import { jsRow, perSplitMeans } from './divergence';
import type { MetricDescriptor } from '../types';

export const metric: MetricDescriptor = {
  id: 'js-to-retrain',
  name: 'JS divergence to retrain on D_f',
  unit: 'nats',
  formula: 'mean over D_f of JS(p_r, p_u) = ½ KL(p_r ‖ m) + ½ KL(p_u ‖ m), m = (p_r + p_u)/2, natural log (0 … ln 2); extra: per split',
  source: 'Jensen–Shannon divergence of output distributions (Chundawat et al. 2023 "ZRF"); equals scipy.spatial.distance.jensenshannon(p_r, p_u)²',
  better: 'lower',
  needs: ['reference'],
  compute({ model, reference }) {
    const per = perSplitMeans(reference!, model, jsRow);
    return per.forget === null ? { value: null, missing: 'no forget rows', extra: { perSplit: per } } : { value: per.forget, extra: { perSplit: per } };
  },
};
