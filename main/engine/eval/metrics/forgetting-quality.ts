import { ensembleForgetQuality } from '../ensemble';
import { rowsOf, summarize } from '../util';
import type { MetricDescriptor } from '../types';

export const metric: MetricDescriptor = {
  id: 'forgetting-quality',
  name: 'Forgetting quality F (NeurIPS 2023)',
  unit: 'ratio',
  formula: 'F = mean over D_f of H(ε_i), H(ε) = 2^(−⌊ε/0.5⌋) if ε < ⌈ln(N−1)⌉ else 0; ε_i = max over single- and double-threshold rules on φ = z_y − logsumexp_{k≠y} z_k under N unlearned vs N retrained models of max(log(1−δ−FPR) − log FNR, log(1−δ−FNR) − log FPR), clipped at 0, δ = 1e-5, capped at 50',
  source: 'NeurIPS 2023 Machine Unlearning competition (Triantafillou et al. 2024), google-deepmind/unlearning_evaluation metric.py compute_forget_score_from_confs',
  better: 'higher',
  needs: ['ensemble'],
  compute({ ensemble }) {
    const e = ensemble!;
    const N = e.unlearned.length;
    if (N < 3) return { value: null, missing: `needs N ≥ 3 models of each kind (has ${N}; with N ≤ 2 every example scores 0)` };
    if (rowsOf(e.unlearned[0], 'forget').length === 0) return { value: null, missing: 'no forget rows' };
    const fq = ensembleForgetQuality(e);
    const finite = Array.from(fq.epsilons).filter((v) => !Number.isNaN(v));
    return {
      value: fq.score,
      extra: { N, maxEpsilon: fq.maxEpsilon, epsilon: summarize(finite), undefinedExamples: fq.undefinedExamples, epsilons: Array.from(fq.epsilons) },
    };
  },
};
