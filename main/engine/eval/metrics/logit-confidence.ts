import { logitScaledConfidence, mean } from '../util';
import { SPLIT_NAMES, SPLIT, type MetricDescriptor, type ModelOutputs } from '../types';

function perSplitMean(m: ModelOutputs): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const s of SPLIT_NAMES) {
    const v: number[] = [];
    for (let i = 0; i < m.n; i++) if (m.split[i] === SPLIT[s]) v.push(logitScaledConfidence(m.logits, m.numClasses, i, m.labels[i]));
    out[s] = v.length ? mean(v) : null;
  }
  return out;
}

export const metric: MetricDescriptor = {
  id: 'logit-confidence',
  name: 'Mean logit-scaled confidence on D_f',
  unit: 'nats',
  formula: 'mean over D_f of φ = log p_y − log Σ_{k≠y} p_k = z_y − logsumexp_{k≠y} z_k (computed from the logits); extra: per split, and the reference\'s when given',
  source: 'LiRA (Carlini et al. 2022) logit scaling, as in the NeurIPS 2023 unlearning competition metric (google-deepmind/unlearning_evaluation, compute_logit_scaled_confidence)',
  better: 'closer-to-retrain',
  needs: [],
  compute({ model, reference }) {
    const own = perSplitMean(model);
    const extra: Record<string, unknown> = { perSplit: own };
    if (reference) extra.reference = perSplitMean(reference);
    return own.forget === null ? { value: null, missing: 'no forget rows', extra } : { value: own.forget, extra };
  },
};
