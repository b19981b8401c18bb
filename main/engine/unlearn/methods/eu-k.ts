// EU-k (exact unlearning of the last k layers, Goel et al. 2023): re-initialise the last k layers with
// weights (and their norm layers' parameters and statistics) as the built-in architectures initialise
// them (weight-edits.ts reinitializeParams, seeded by the original's training seed + the run seed, so
// seed 0 restores the original's own initial values of those layers, as Retrain does for the whole
// model), then train only them on the retain set with the original's recipe. The earlier layers keep
// θ_o's bits. It is exact only if the earlier layers carry nothing of the forget set, which they do.
//
// Guardrail: the re-initialised head starts at chance, so the held-out retain accuracy is checked once
// at the end (not during training, where it would stop the run at its first check); if it trips with
// action 'stop' the result is not applied and θ_o is kept (as for the one-shot edits).

import { z } from 'zod';
import type { MethodDescriptor } from '../types';
import { trainLoop } from '../loop';
import { reinitializeParams } from '../../train/weight-edits';
import { lrForStep } from '../../train/schedules';
import { EngineError } from '../../errors';
import { WEIGHTED_SUM, mean } from './common';
import { lastKLayers, pick } from './cf-k';
import { guardOneShot } from './ssd';
import type { Guardrail } from '../guardrail';

const params = z.object({
  k: z.number().int().min(1).max(1000).default(1).describe('number of final layers with weights that are re-initialised and retrained'),
  epochs: z.number().int().min(0).max(1000).default(0).describe("passes over the retain set (0 = the original's recorded recipe)"),
  lr: z.number().min(0).max(10).default(0).describe("learning rate (0 = the original's recorded recipe, with its schedule)"),
  batchSize: z.number().int().min(0).max(65536).default(0).describe("examples per batch (0 = the original's recorded recipe)"),
});

export const euK: MethodDescriptor<typeof params> = {
  id: 'eu-k',
  name: 'EU-k (retrain the last k layers)',
  exact: false,
  scope: 'any',
  gradientBased: true,
  description:
    "Re-initialises the last k layers of the original and trains them from scratch on the retain set with the original's training recipe (optimizer, learning rate and schedule, epochs, batch size), keeping every earlier layer exactly as it was. The head then never saw the forget set, but the frozen features did, so it under-forgets what those features learned.",
  source:
    "Goel et al. 2023, \"Towards Adversarial Evaluations for Inexact Machine Unlearning\" (EU-k), k = 1; trained with the original's recipe (as in the paper, which retrains the last k layers like the full model)",
  params,
  async run(ctx, p) {
    const last = lastKLayers(ctx, p.k, 'EU-k');
    const r = ctx.recipe;
    if (!ctx.recipeKnown && (!p.epochs || !p.lr || !p.batchSize)) ctx.log('warn', `The original's training recipe is not recorded; EU-k uses the default recipe (${r.epochs} epochs, lr ${r.lr}) where no value was given.`);
    const epochs = p.epochs || r.epochs;
    const baseLr = p.lr || r.lr;
    const batchSize = p.batchSize || r.batchSize;
    if (!(epochs >= 1 && baseLr > 0 && batchSize >= 1)) throw new EngineError('invalid_argument', `EU-k: the recipe gives epochs ${epochs}, lr ${baseLr}, batch size ${batchSize}; set them explicitly.`);
    const fresh = reinitializeParams(ctx.model, [...last.params, ...last.buffers], r.seed + ctx.seed);
    const t = await ctx.createTrainer({ optimizer: r.optimizer, lr: baseLr, batchSize, loss: { ...WEIGHTED_SUM, labelSmoothing: r.labelSmoothing }, trainable: last.params });
    try {
      t.setWeights(fresh);
      const sched = { baseLr, schedule: r.schedule ?? undefined };
      ctx.log('info', `EU-k: re-initialised and training ${last.params.join(', ')} for ${epochs} epochs (lr ${baseLr}, batch ${batchSize}); everything else is frozen.`);
      const quiet = Object.create(ctx.guardrail, { active: { value: false } }) as Guardrail;
      const res = await trainLoop({ ...ctx, guardrail: quiet }, t, {
        epochs,
        streams: [{ data: ctx.retain, batchSize, weight: mean }],
        lr: (epoch, k, spe) => lrForStep(sched, epoch, epoch * spe + k),
        label: 'EU-k',
      });
      const kept = await guardOneShot(ctx, pick(t.weights(), [...last.params, ...last.buffers]), 'EU-k');
      return { weights: kept.weights, steps: kept.steps ? res.steps : 0 };
    } finally {
      await t.dispose();
    }
  },
};
