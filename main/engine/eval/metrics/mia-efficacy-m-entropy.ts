import { miaEfficacy } from '../mia';
import type { MetricDescriptor } from '../types';

export const metric: MetricDescriptor = {
  id: 'mia-efficacy-m-entropy',
  name: 'MIA-Efficacy (modified entropy, as coded)',
  unit: '%',
  formula: 'feature = SVC_MIA.py m_entropy per group: −Σ_k q_k log p_k with q_k = 1 − p_k for classes occurring among the group labels, else p_k (log 1e-30 for p_k = 0); SVC(C=3, kernel=rbf, gamma=auto=1/n_features=1) fitted on shadow members = the first |D_t| retain rows in row order (label 1) vs D_t (label 0); MIA-Efficacy = 100 × share of D_f rows predicted non-member (0)',
  source: 'SalUn / l1-sparse code (OPTML-Group, Unlearn-Saliency Classification/evaluation/SVC_MIA.py, SVC_MIA_forget_efficacy in main_forget.py)',
  better: 'closer-to-retrain',
  needs: [],
  mia: ['m-entropy'],
  compute({ model }) {
    return miaEfficacy(model, 'm-entropy');
  },
};
