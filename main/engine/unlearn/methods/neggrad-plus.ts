// NegGrad+: minimise alpha * CE(retain batch) - (1 - alpha) * CE(forget batch) in every step.

import { z } from 'zod';
import type { MethodDescriptor } from '../types';
import { trainLoop } from '../loop';
import { field, sgd, WEIGHTED_SUM } from './common';

const params = z.object({
  alpha: z.number().gt(0).lt(1).default(0.95).describe('weight of the retain loss; the forget loss gets 1 - alpha and is ascended'),
  epochs: field.epochs(5, 'passes over the retain set'),
  lr: field.lr(0.01),
  batchSize: field.batchSize(256, 'retain examples per batch'),
  forgetBatchSize: field.batchSize(64, 'forget examples per batch'),
});

export const neggradPlus: MethodDescriptor<typeof params> = {
  id: 'neggrad-plus',
  name: 'NegGrad+',
  exact: false,
  scope: 'any',
  gradientBased: true,
  description: 'Each step descends the retain loss and ascends the forget loss together: alpha * CE(D_r) - (1 - alpha) * CE(D_f). The retain term keeps the model useful while the forget term removes the forget set.',
  source: 'Kurmanji et al. 2023 (SCRUB paper, NegGrad+ baseline), alpha = 0.95',
  params,
  async run(ctx, p) {
    const t = await ctx.createTrainer({ optimizer: sgd(), lr: p.lr, batchSize: p.batchSize, loss: WEIGHTED_SUM });
    try {
      const r = await trainLoop(ctx, t, {
        epochs: p.epochs,
        streams: [
          { data: ctx.retain, batchSize: p.batchSize, weight: (rows) => p.alpha / rows },
          { data: ctx.forget, batchSize: p.forgetBatchSize, weight: (rows) => -(1 - p.alpha) / rows },
        ],
        label: 'NegGrad+',
      });
      return { weights: t.weights(), steps: r.steps };
    } finally {
      await t.dispose();
    }
  },
};
