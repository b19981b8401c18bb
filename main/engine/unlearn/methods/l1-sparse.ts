// l1-sparse (Jia et al. 2023, "Model Sparsity Can Simplify Machine Unlearning"): FT on the retain set
// with an L1 penalty on the weights, loss = CE(D_r batch) + α(e)·Σ|θ|, whose coefficient decays
// linearly over the epochs: α(e) = α·(1 − e/(E − E₀)) for epochs e < E − E₀ (E₀ = noL1Epochs),
// 0 afterwards, as in the OPTML-Group Unlearn-Sparse code (unlearn/FT.py, FT_l1 / FT_prune). The L1
// term is the trainer's (loss-terms.ts) over the trainable parameters, its coefficient fed per step.

import { z } from 'zod';
import type { MethodDescriptor } from '../types';
import { trainLoop } from '../loop';
import { EngineError } from '../../errors';
import { field, mean, sgd, WEIGHTED_SUM } from './common';

const params = z.object({
  alpha: field.nonNeg(5e-4, 'initial L1 coefficient α (decays linearly over the epochs)'),
  epochs: field.epochs(10, 'passes over the retain set'),
  noL1Epochs: z.number().int().min(0).max(999).default(0).describe('final epochs trained without the L1 term (the coefficient reaches 0 before them)'),
  lr: field.lr(0.01),
  batchSize: field.batchSize(256),
});

/** The L1 coefficient of epoch e (0-based) as the Unlearn-Sparse code computes it. */
export function l1Coefficient(alpha: number, epoch: number, epochs: number, noL1Epochs: number): number {
  const span = epochs - noL1Epochs;
  return epoch < span ? alpha * (1 - epoch / span) : 0;
}

export const l1Sparse: MethodDescriptor<typeof params> = {
  id: 'l1-sparse',
  name: 'l1-sparse',
  exact: false,
  scope: 'any',
  gradientBased: true,
  description:
    'Fine-tunes the original on the retain set like FT, with an L1 penalty on the weights whose strength starts at alpha and falls linearly towards 0 over the epochs. The penalty pushes the model towards a sparse one, which the paper shows forgets more like retraining; it is among the methods closest to retrain on most benchmarks.',
  source:
    'Jia et al. 2023, "Model Sparsity Can Simplify Machine Unlearning" (NeurIPS); OPTML-Group/Unlearn-Sparse code (FT_l1: alpha·(1 − epoch/(epochs − no_l1_epochs))): α 5e-4 (1e-4 in some of its scripts), lr 0.01, 10 epochs, batch 256, SGD momentum 0.9, weight decay 5e-4',
  params,
  async run(ctx, p) {
    if (p.noL1Epochs >= p.epochs) throw new EngineError('invalid_argument', `l1-sparse: noL1Epochs (${p.noL1Epochs}) must be less than epochs (${p.epochs}).`);
    const t = await ctx.createTrainer({ optimizer: sgd(), lr: p.lr, batchSize: p.batchSize, loss: { ...WEIGHTED_SUM, terms: { l1: true } } });
    try {
      // each step feeds the L1 coefficient of the epoch it belongs to
      const r = await trainLoop(ctx, t, {
        epochs: p.epochs,
        streams: [{ data: ctx.retain, batchSize: p.batchSize, weight: mean }],
        label: 'l1-sparse',
        stepExtras: (epoch) => ({ l1: l1Coefficient(p.alpha, epoch, p.epochs, p.noL1Epochs) }),
      });
      const w = t.weights();
      let l1 = 0;
      let zeros = 0;
      let total = 0;
      for (const name of ctx.trainable) {
        const v = w[name];
        if (!v) continue;
        for (let i = 0; i < v.length; i++) {
          l1 += Math.abs(v[i]);
          if (Math.abs(v[i]) < 1e-4) zeros++;
        }
        total += v.length;
      }
      return { weights: w, steps: r.steps, stats: { l1Norm: l1, nearZeroFraction: total ? zeros / total : 0 } };
    } finally {
      await t.dispose();
    }
  },
};
