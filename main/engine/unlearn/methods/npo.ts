// NPO for classifiers (Negative Preference Optimization, Zhang et al. 2024, with the retain term:
// "NPO+RT"). Every step takes a forget batch and a retain batch and minimises
//
//   (2/β)·mean_f log(1 + (p_θ(y|x) / p_θo(y|x))^β)  +  λ·mean_r CE(θ; x, y)
//
// with p_θo from the original (eval mode, computed once per forget row). The forget term's gradient
// is gradient ascent on the forget CE weighted by 2·p_θ^β / (p_θ^β + p_θo^β), which starts at 1 and
// shrinks as p_θ(y|x) falls below the reference, so unlike GA the ascent slows down by itself (the
// term saturates at 0) instead of running away.

import { z } from 'zod';
import type { MethodDescriptor } from '../types';
import { Rng } from '../../train/rng';
import { field } from './common';
import { BatchBuilder, GuardedSteps, fixedLogits, optimizerField, optimizerOf } from '../steps';

const params = z.object({
  beta: field.positive(0.1, 'β of the NPO loss'),
  retainWeight: field.nonNeg(1, 'weight λ of the retain cross-entropy (0 = NPO without the retain term)'),
  epochs: field.epochs(5, 'passes over the forget set'),
  lr: field.lr(0.01),
  optimizer: optimizerField('sgd', "optimizer: 'sgd' (momentum 0.9, as the OPTML-Group baselines) or 'adam'"),
  weightDecay: field.nonNeg(5e-4, 'weight decay'),
  forgetBatchSize: field.batchSize(64, 'forget examples per step'),
  retainBatchSize: field.batchSize(64, 'retain examples per step'),
});

export const npo: MethodDescriptor<typeof params> = {
  id: 'npo',
  name: 'NPO (classifier)',
  exact: false,
  scope: 'any',
  gradientBased: true,
  description:
    "Negative Preference Optimization adapted to classifiers: lowers the model's probability of each forget example's label relative to the original's, through the bounded loss (2/β)·log(1 + (p/p_original)^β), together with cross-entropy on the retain set. It acts like gradient ascent at first but slows down as the forget examples are forgotten, which avoids the collapse gradient ascent is known for.",
  source:
    'Zhang, Lin, Bai & Mei 2024, "Negative Preference Optimization" (β = 0.1, NPO+RT with retain weight 1); classifier form as in UNLEARNING-REFERENCE.md. No public classifier code fixes the rest: Lethe uses the OPTML-Group baseline optimizer (SGD, momentum 0.9, weight decay 5e-4) with lr 0.01, 5 epochs over D_f, forget and retain batches of 64',
  params,
  async run(ctx, p) {
    ctx.progress({ fraction: 0, message: "NPO: the original's log-probabilities of the forget labels" });
    const ref = await fixedLogits(ctx, ctx.model, ctx.forget);
    const refLogp = new Float32Array(ctx.forget.n);
    for (let i = 0; i < ctx.forget.n; i++) refLogp[i] = -ref.losses[i];
    const trainer = await ctx.createTrainer({ optimizer: optimizerOf(p.optimizer, p.weightDecay), lr: p.lr, batchSize: p.forgetBatchSize, loss: { exampleWeights: true, reduction: 'sum', terms: { npo: { beta: p.beta } } } });
    try {
      const fb = p.forgetBatchSize;
      const rb = p.retainWeight > 0 && ctx.retain.n > 0 ? p.retainBatchSize : 0;
      const builder = new BatchBuilder([{ data: ctx.forget }, { data: ctx.retain }], fb + rb, ctx.numClasses, trainer.stepsPerRun);
      const spe = Math.ceil(ctx.forget.n / fb);
      const runner = new GuardedSteps(ctx, trainer, 'NPO', spe * p.epochs, [0.03, 1]);
      const checkEvery = Math.max(1, Math.ceil(spe / 4));
      let rPerm: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
      let rPos = 0;
      let rRound = 0;
      let firstNpo = NaN;
      let lastNpo = NaN;
      for (let epoch = 0; epoch < p.epochs && !runner.stopped; epoch++) {
        const fPerm = new Rng(ctx.seed, 8_400_000 + epoch).permutation(ctx.forget.n);
        // each step: a forget batch, then rb retain rows from the retain stream's own permutations
        const plan: [number, number][][] = [];
        for (let k = 0; k < spe; k++) {
          const rows: [number, number][] = [];
          for (let t = k * fb; t < Math.min(ctx.forget.n, (k + 1) * fb); t++) rows.push([0, fPerm[t]]);
          for (let t = 0; t < rb; t++) {
            if (rPos >= rPerm.length) {
              rPerm = new Rng(ctx.seed, 8_450_000 + rRound++).permutation(ctx.retain.n);
              rPos = 0;
            }
            rows.push([1, rPerm[rPos++]]);
          }
          plan.push(rows);
        }
        const forgetRows = (k: number) => plan[k].filter(([src]) => src === 0).length;
        await runner.run(
          builder,
          plan,
          (b, k) => {
            const nf = forgetRows(k);
            const nr = b.nb - nf;
            const ce = new Float32Array(b.nb);
            const nw = new Float32Array(b.nb);
            const rl = new Float32Array(b.nb);
            for (let i = 0; i < b.nb; i++) {
              const forgetRow = i < nf;
              ce[i] = forgetRow ? 0 : p.retainWeight / nr;
              nw[i] = forgetRow ? 1 / nf : 0;
              rl[i] = forgetRow ? refLogp[plan[k][i][1]] : 0;
            }
            return { batch: { x: b.x, y: b.y, nb: b.nb, exampleShape: builder.shape, ceWeights: ce, refLogp: rl, npoWeights: nw }, message: `epoch ${epoch + 1}/${p.epochs}, step ${k + 1}/${spe}` };
          },
          {
            checkAfter: (k) => (k + 1) % checkEvery === 0 || k === spe - 1,
            onResult: (r, k) => {
              const nf = forgetRows(k);
              let s = 0;
              for (let i = 0; i < nf; i++) s += r.npoLosses![i];
              lastNpo = s / nf;
              if (Number.isNaN(firstNpo)) firstNpo = lastNpo;
            },
          },
        );
      }
      const stats: Record<string, number> = {};
      if (Number.isFinite(firstNpo)) stats.firstNpoLoss = firstNpo;
      if (Number.isFinite(lastNpo)) stats.lastNpoLoss = lastNpo;
      return { weights: trainer.weights(), steps: runner.steps, stats };
    } finally {
      await trainer.dispose();
    }
  },
};
