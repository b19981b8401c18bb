// Retrain: the exact reference. Train from the original's starting point on the retain set D_r with
// the original's recorded recipe (optimizer, learning rate and schedule, epochs, batch size, seed).
// Seed s of an ensemble re-initialises the starting weights with seed s (seed 0 = the original's own
// starting weights) and draws data order from s.

import { z } from 'zod';
import type { MethodDescriptor } from '../types';

const params = z.object({});

export const retrain: MethodDescriptor<typeof params> = {
  id: 'retrain',
  name: 'Retrain',
  exact: true,
  scope: 'any',
  gradientBased: true,
  description:
    "Trains a new model from the original's starting point on the retain set only, with the original's recorded recipe. It is exact unlearning: the forget set never influenced it. Every comparison uses it as the reference the approximate methods are judged against.",
  source: 'the gold standard of exact unlearning (e.g. Bourtoule et al. 2021; every benchmark in UNLEARNING-REFERENCE.md)',
  params,
  async run(ctx) {
    const r = ctx.recipe;
    if (!ctx.initModel) throw new Error('retrain needs the starting model the original was trained from');
    const trainer = await ctx.createTrainer({
      from: ctx.initModel,
      optimizer: r.optimizer,
      lr: r.lr,
      schedule: r.schedule ?? undefined,
      scheduleUnit: r.scheduleUnit,
      warmup: r.warmup ?? undefined,
      batchSize: r.batchSize,
      seed: r.seed + ctx.seed,
      loss: { labelSmoothing: r.labelSmoothing },
    });
    try {
      if (!ctx.recipeKnown) ctx.log('warn', `The original's training recipe is not recorded; retraining with the default recipe (${r.epochs} epochs, lr ${r.lr}).`);
      let last = 0;
      await trainer.fit(ctx.retain, {
        epochs: r.epochs,
        signal: ctx.signal,
        onStep: (s) => {
          const now = Date.now();
          if (now - last < 250 && s.globalStep !== s.totalSteps) return;
          last = now;
          ctx.progress({ fraction: s.globalStep / s.totalSteps, message: `retrain: epoch ${s.epoch + 1}/${r.epochs}, step ${s.stepInEpoch}/${s.stepsPerEpoch}, lr ${s.lr.toPrecision(3)}`, loss: s.loss });
        },
      });
      return { weights: copy(trainer.weights()), base: ctx.initModel, steps: trainer.globalStep };
    } finally {
      await trainer.dispose();
    }
  },
};

function copy(w: Record<string, Float32Array>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(w).map(([k, v]) => [k, new Float32Array(v)]));
}
