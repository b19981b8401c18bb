import { klRow, perSplitMeans } from './divergence';
import type { MetricDescriptor } from '../types';

export const metric: MetricDescriptor = {
  id: 'kl-to-retrain',
  name: 'KL(retrain ‖ unlearned) on D_f',
  unit: 'nats',
  formula: 'mean over D_f of KL(p_r ‖ p_u) = Σ_k p_r,k (log p_r,k − log p_u,k), p = softmax of the logits, r = retrain reference, u = judged model; extra: per split',
  source: 'output-distribution KL to the retrained model (Golatkar et al. 2020 "Eternal sunshine", Chundawat et al. 2023 "Bad Teacher"); direction: the retrain reference is the true distribution, the unlearned model its approximation',
  better: 'lower',
  needs: ['reference'],
  compute({ model, reference }) {
    const per = perSplitMeans(reference!, model, klRow);
    return per.forget === null ? { value: null, missing: 'no forget rows', extra: { perSplit: per } } : { value: per.forget, extra: { perSplit: per } };
  },
};
