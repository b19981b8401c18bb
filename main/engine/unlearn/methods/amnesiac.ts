// Amnesiac unlearning (the relabelling variant used by the benchmarks): relabel every forget example
// once with a random wrong class, then train on forget + retain.

import { z } from 'zod';
import type { MethodDescriptor } from '../types';
import { randomOtherClass, trainLoop } from '../loop';
import { Rng } from '../../train/rng';
import { field, mean, sgd, WEIGHTED_SUM } from './common';

const params = z.object({
  epochs: field.epochs(3, 'passes over forget + retain'),
  lr: field.lr(1e-4),
  batchSize: field.batchSize(256),
});

export const amnesiac: MethodDescriptor<typeof params> = {
  id: 'amnesiac',
  name: 'Amnesiac',
  exact: false,
  scope: 'any',
  gradientBased: true,
  description: 'Gives each forget example one fixed random wrong label, then trains on the relabelled forget set together with the retain set. Unlike RL the wrong labels do not change between epochs.',
  source: 'Graves et al. 2021 (Amnesiac Machine Learning), relabelling variant as in Chundawat et al. 2023; 3 epochs, lr 1e-4',
  params,
  async run(ctx, p) {
    const rng = new Rng(ctx.seed, 7_500_000);
    const other = randomOtherClass(ctx.numClasses);
    const labels = new Int32Array(ctx.forget.n);
    for (let i = 0; i < labels.length; i++) labels[i] = other(Number(ctx.forget.y[i]), rng);
    const nr = ctx.retain.n;
    const nf = ctx.forget.n;
    const fb = Math.max(1, Math.round((p.batchSize * nf) / (nr + nf)));
    const t = await ctx.createTrainer({ optimizer: sgd(), lr: p.lr, batchSize: p.batchSize, loss: WEIGHTED_SUM });
    try {
      const r = await trainLoop(ctx, t, {
        epochs: p.epochs,
        streams: [
          { data: ctx.retain, batchSize: Math.max(1, p.batchSize - fb), weight: mean },
          { data: ctx.forget, batchSize: fb, weight: mean, labels },
        ],
        label: 'Amnesiac',
      });
      return { weights: t.weights(), steps: r.steps };
    } finally {
      await t.dispose();
    }
  },
};
