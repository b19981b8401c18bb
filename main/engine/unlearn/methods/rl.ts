// RL (random labels): fine-tune on the forget set with random wrong labels together with the retain
// set (the two concatenated, as in the OPTML-Group code), so the forget examples lose their labels.

import { z } from 'zod';
import type { MethodDescriptor } from '../types';
import { randomOtherClass, trainLoop } from '../loop';
import { field, mean, sgd, WEIGHTED_SUM } from './common';

const params = z.object({
  epochs: field.epochs(10, 'passes over forget + retain'),
  lr: field.lr(0.01),
  batchSize: field.batchSize(256, 'examples per batch (forget and retain rows in proportion to their sizes)'),
});

export const rl: MethodDescriptor<typeof params> = {
  id: 'rl',
  name: 'RL (random labels)',
  exact: false,
  scope: 'any',
  gradientBased: true,
  description: 'Fine-tunes on the forget set relabelled with random wrong classes (a fresh draw each time an example is used) mixed with the retain set with true labels. It forgets strongly and tends to over-forget on membership attacks.',
  source: 'Golatkar et al. 2020 / Hayase et al.; defaults from the OPTML-Group SalUn code (lr 0.01, 10 epochs)',
  params,
  async run(ctx, p) {
    const t = await ctx.createTrainer({ optimizer: sgd(), lr: p.lr, batchSize: p.batchSize, loss: WEIGHTED_SUM });
    try {
      const r = await trainLoop(ctx, t, { epochs: p.epochs, streams: mixedStreams(ctx, p.batchSize), label: 'RL' });
      return { weights: t.weights(), steps: r.steps };
    } finally {
      await t.dispose();
    }
  },
};

/** Retain (true labels) and forget (random wrong labels) in proportion to their sizes, every row weighted 1/batch. */
export function mixedStreams(ctx: Parameters<typeof rl.run>[0], batchSize: number) {
  const nr = ctx.retain.n;
  const nf = ctx.forget.n;
  const fb = Math.max(1, Math.round((batchSize * nf) / (nr + nf)));
  const rb = Math.max(1, batchSize - fb);
  return [
    { data: ctx.retain, batchSize: rb, weight: mean },
    { data: ctx.forget, batchSize: fb, weight: mean, relabel: randomOtherClass(ctx.numClasses) },
  ];
}
