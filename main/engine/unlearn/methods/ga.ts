// GA (gradient ascent, "NegGrad"): maximise the cross-entropy on the forget set.

import { z } from 'zod';
import type { MethodDescriptor } from '../types';
import { trainLoop } from '../loop';
import { field, sgd, WEIGHTED_SUM } from './common';

const params = z.object({
  epochs: field.epochs(5, 'passes over the forget set'),
  lr: field.lr(1e-4, 'learning rate (GA is very sensitive to it)'),
  batchSize: field.batchSize(256),
});

export const ga: MethodDescriptor<typeof params> = {
  id: 'ga',
  name: 'GA (gradient ascent)',
  exact: false,
  scope: 'any',
  gradientBased: true,
  description: 'Runs gradient ascent on the cross-entropy of the forget set, pushing the model away from its labels. Cheap, but very sensitive to the learning rate: too high collapses the model (the guardrail watches for that), too low under-forgets.',
  source: 'Thudi et al. 2022 / Golatkar et al. 2020 (NegGrad); defaults from the OPTML-Group SalUn code (lr 1e-4, 5 epochs)',
  params,
  async run(ctx, p) {
    const t = await ctx.createTrainer({ optimizer: sgd(), lr: p.lr, batchSize: p.batchSize, loss: WEIGHTED_SUM });
    try {
      const r = await trainLoop(ctx, t, { epochs: p.epochs, streams: [{ data: ctx.forget, batchSize: p.batchSize, weight: (_r, total) => -1 / total }], label: 'GA' });
      return { weights: t.weights(), steps: r.steps };
    } finally {
      await t.dispose();
    }
  },
};
