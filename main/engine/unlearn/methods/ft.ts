// FT (fine-tuning): continue training the original on the retain set only, so the forget set is
// forgotten through catastrophic forgetting.

import { z } from 'zod';
import type { MethodDescriptor } from '../types';
import { trainLoop } from '../loop';
import { field, mean, sgd, WEIGHTED_SUM } from './common';

const params = z.object({
  epochs: field.epochs(10, 'passes over the retain set'),
  lr: field.lr(0.01),
  batchSize: field.batchSize(256),
});

export const ft: MethodDescriptor<typeof params> = {
  id: 'ft',
  name: 'FT (fine-tune)',
  exact: false,
  scope: 'any',
  gradientBased: true,
  description: 'Fine-tunes the original model on the retain set only (SGD, momentum 0.9, weight decay 5e-4). The forget set is forgotten only as far as further training overwrites it; it tends to under-forget.',
  source: 'Warnecke et al. 2023; defaults from the OPTML-Group SalUn / l1-sparse code (lr 0.01, 10 epochs, batch 256)',
  params,
  async run(ctx, p) {
    const t = await ctx.createTrainer({ optimizer: sgd(), lr: p.lr, batchSize: p.batchSize, loss: WEIGHTED_SUM });
    try {
      const r = await trainLoop(ctx, t, { epochs: p.epochs, streams: [{ data: ctx.retain, batchSize: p.batchSize, weight: mean }], label: 'FT' });
      return { weights: t.weights(), steps: r.steps };
    } finally {
      await t.dispose();
    }
  },
};
