import type { MetricDescriptor } from '../types';

export const metric: MetricDescriptor = {
  id: 'relearn-forget-accuracy',
  name: 'Relearning probe',
  unit: '%',
  formula:
    'accuracy on the held-out 90% of D_f after fine-tuning the model for 30 SGD steps (lr 0.01, momentum 0.9, batch 32) on a seeded 10% of D_f (at most 500); the same probe runs on the retrain reference, so the gap shows how much faster the forget set comes back',
  source: 'relearning attacks / "relearn time" (Golatkar et al. 2020; Lynch et al. 2024); UNLEARNING-REFERENCE.md',
  better: 'closer-to-retrain',
  needs: ['relearning'],
  compute({ relearning }) {
    const r = relearning!;
    return { value: r.forgetAccuracy[r.forgetAccuracy.length - 1] ?? null, extra: { steps: r.steps, forgetAccuracy: r.forgetAccuracy, probeSize: r.probeSize, evalSize: r.evalSize } };
  },
};
