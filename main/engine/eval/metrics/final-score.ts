import { ensembleForgetQuality, meanAccuracy } from '../ensemble';
import { rowsOf } from '../util';
import type { MetricDescriptor } from '../types';

export const metric: MetricDescriptor = {
  id: 'final-score',
  name: 'NeurIPS 2023 final score',
  unit: 'ratio',
  formula: 'F × (RA_u / RA_r) × (TA_u / TA_r), RA and TA = retain and test accuracy averaged over the N unlearned (u) and the N retrained (r) models',
  source: 'NeurIPS 2023 Machine Unlearning competition, google-deepmind/unlearning_evaluation main.py (final score after utility adjustment)',
  better: 'higher',
  needs: ['ensemble'],
  compute({ ensemble }) {
    const e = ensemble!;
    const N = e.unlearned.length;
    if (N < 3) return { value: null, missing: `needs N ≥ 3 models of each kind (has ${N})` };
    if (rowsOf(e.unlearned[0], 'forget').length === 0) return { value: null, missing: 'no forget rows' };
    const ru = meanAccuracy(e.unlearned, 'retain');
    const rr = meanAccuracy(e.retrained, 'retain');
    const tu = meanAccuracy(e.unlearned, 'test');
    const tr = meanAccuracy(e.retrained, 'test');
    if (ru === null || rr === null || tu === null || tr === null) return { value: null, missing: 'needs retain and test rows' };
    if (rr === 0 || tr === 0) return { value: null, missing: 'the retrained models have 0% retain or test accuracy' };
    const F = ensembleForgetQuality(e).score;
    return { value: F * (ru / rr) * (tu / tr), extra: { N, F, retainAccuracy: { unlearned: ru, retrained: rr }, testAccuracy: { unlearned: tu, retrained: tr } } };
  },
};
