// SCRUB (Kurmanji et al. 2023): the student starts at θ_o, the teacher is θ_o (fixed). Every epoch,
// for the first `msteps` epochs, max-steps over D_f batches minimise −KL(T‖S) (push the student away
// from the teacher on the forget set), then min-steps over D_r batches minimise γ·CE + α·KL(T‖S)
// (stay close to the teacher and the labels on the retain set). One optimizer (and its state) serves
// both phases, as in the public code. KL(T‖S) is DistillKL: T²·Σ p_t (log p_t − log p_s) at
// temperature T, batch mean. The teacher's logits are θ_o's (eval mode), computed once per row.
// The step machinery it shares with Bad Teacher and NPO (batches, teacher logits, the guarded step
// runner) is in ../steps.ts.

import { z } from 'zod';
import type { MethodDescriptor } from '../types';
import { Rng } from '../../train/rng';
import { field } from './common';
import { BatchBuilder, GuardedSteps, fill, fixedLogits, optimizerField, optimizerOf, shuffledBatches } from '../steps';

// ---------------------------------------------------------------------------------------------
// SCRUB

const params = z.object({
  alpha: field.nonNeg(0.5, 'weight α of KL(teacher ‖ student) in the min-steps on the retain set'),
  gamma: field.nonNeg(1, 'weight γ of the cross-entropy in the min-steps on the retain set'),
  msteps: field.int(3, 0, 1000, 'max-steps (on the forget set) are taken in the first msteps epochs (capped at epochs)'),
  epochs: field.epochs(10, 'epochs; each is an optional max-step pass over D_f then a min-step pass over D_r'),
  temperature: field.positive(2, 'distillation temperature T (small-scale code: 2; the large-scale setting uses 4)'),
  lr: field.lr(5e-4, 'learning rate (×0.1 after 50%, 80% and 90% of the epochs, as lr_decay_epochs [5, 8, 9] of 10)'),
  optimizer: optimizerField('adam'),
  weightDecay: field.nonNeg(0.1, 'weight decay (L2 added to the gradient, as torch Adam/SGD weight_decay)'),
  retainBatchSize: field.batchSize(32, 'retain examples per min-step'),
  forgetBatchSize: field.batchSize(64, 'forget examples per max-step'),
  retainStepsPerEpoch: field.int(0, 0, 1_000_000, 'cap on min-steps per epoch (0 = a full pass over the retain set); for large retain sets'),
});

export const scrub: MethodDescriptor<typeof params> = {
  id: 'scrub',
  name: 'SCRUB',
  exact: false,
  scope: 'any',
  gradientBased: true,
  // 2: the guardrail judges only after each epoch's min-steps
  version: 2,
  description:
    'A student (starting from the original) is trained against the original as a fixed teacher. In the first epochs it takes "max-steps" that push its outputs on the forget set away from the teacher (maximising KL divergence), and every epoch it takes "min-steps" on the retain set that keep it close to the teacher and to the true labels (γ·cross-entropy + α·KL). It forgets while keeping retain accuracy, and is among the strongest approximate methods.',
  source:
    'Kurmanji et al. 2023, "Towards Unbounded Machine Unlearning" (NeurIPS); meghdadk/SCRUB small_scale_unlearning.ipynb: α 0.5, γ 1, msteps 3, 10 epochs, kd_T 2, Adam lr 5e-4, weight decay 0.1, lr ×0.1 at epochs 5/8/9, retain batch 32, forget batch 64',
  params,
  async run(ctx, p) {
    const C = ctx.numClasses;
    ctx.progress({ fraction: 0, message: "SCRUB: the teacher's logits on the forget and retain sets" });
    const tf = await fixedLogits(ctx, ctx.model, ctx.forget);
    const tr = await fixedLogits(ctx, ctx.model, ctx.retain);
    const trainer = await ctx.createTrainer({
      optimizer: optimizerOf(p.optimizer, p.weightDecay),
      lr: p.lr,
      batchSize: p.retainBatchSize,
      loss: { exampleWeights: true, reduction: 'sum', terms: { kl: { temperature: p.temperature } } },
    });
    try {
      const msteps = Math.min(p.msteps, p.epochs);
      const maxPerEpoch = Math.ceil(ctx.forget.n / p.forgetBatchSize);
      const fullMin = Math.ceil(ctx.retain.n / p.retainBatchSize);
      const minPerEpoch = p.retainStepsPerEpoch > 0 ? Math.min(fullMin, p.retainStepsPerEpoch) : fullMin;
      const total = msteps * maxPerEpoch + p.epochs * minPerEpoch;
      const runner = new GuardedSteps(ctx, trainer, 'SCRUB', total, [0.05, 1]);
      const builder = new BatchBuilder(
        [
          { data: ctx.forget, teacher: tf.logits },
          { data: ctx.retain, teacher: tr.logits },
        ],
        Math.max(p.retainBatchSize, p.forgetBatchSize),
        C,
        trainer.stepsPerRun,
      );
      const milestones = [0.5, 0.8, 0.9].map((f) => Math.round(f * p.epochs));
      let maxKl = NaN;
      for (let epoch = 1; epoch <= p.epochs; epoch++) {
        const lr = p.lr * 0.1 ** milestones.filter((m) => epoch > m).length;
        if (epoch <= msteps && ctx.forget.n > 0) {
          const batches = shuffledBatches([ctx.forget.n, 0], p.forgetBatchSize, new Rng(ctx.seed, 8_100_000 + epoch));
          let s = 0;
          let cnt = 0;
          await runner.run(
            builder,
            batches,
            (b) => ({ batch: { x: b.x, y: b.y, nb: b.nb, exampleShape: builder.shape, ceWeights: fill(b.nb, 0), teacherLogits: b.teacher, klWeights: fill(b.nb, -1 / b.nb), lr }, message: `epoch ${epoch}/${p.epochs}, max-step on the forget set` }),
            {
              onResult: (r) => {
                for (const v of r.klLosses!) s += v;
                cnt += r.klLosses!.length;
              },
            },
          );
          maxKl = s / cnt;
        }
        const batches = shuffledBatches([0, ctx.retain.n], p.retainBatchSize, new Rng(ctx.seed, 8_200_000 + epoch)).slice(0, minPerEpoch);
        // the guardrail judges the model after each epoch's min-steps: SCRUB's max-steps damage the
        // retain set on purpose and the min-steps that follow repair it
        await runner.run(
          builder,
          batches,
          (b) => ({
            batch: { x: b.x, y: b.y, nb: b.nb, exampleShape: builder.shape, ceWeights: fill(b.nb, p.gamma / b.nb), teacherLogits: b.teacher, klWeights: fill(b.nb, p.alpha / b.nb), lr },
            message: `epoch ${epoch}/${p.epochs}, min-step on the retain set`,
          }),
          { checkAfter: (i) => i === batches.length - 1 },
        );
        if (runner.stopped) break;
      }
      const stats: Record<string, number> = { maxSteps: msteps * maxPerEpoch };
      if (Number.isFinite(maxKl)) stats.lastMaxStepKl = maxKl;
      return { weights: trainer.weights(), steps: runner.steps, stats };
    } finally {
      await trainer.dispose();
    }
  },
};
