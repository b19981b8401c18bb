// Bad Teacher (Chundawat et al. 2023): two teachers and a student. The competent teacher is the
// original θ_o; the incompetent teacher is a randomly initialised model of the same architecture
// (every trainable parameter re-drawn with the run seed the way the built-in architectures are
// initialised, BatchNorm running statistics reset to mean 0 / variance 1, as a fresh torch model in
// eval mode). The student starts at θ_o and is distilled (KL(teacher ‖ student) at temperature T) on
// D_f ∪ a random sample of D_r, shuffled together: forget rows follow the incompetent teacher, retain
// rows the competent one.

import { z } from 'zod';
import type { MethodDescriptor } from '../types';
import { bakeInference } from '../../train/bake';
import { listLayers, reinitializeParams } from '../../train/weight-edits';
import { Rng } from '../../train/rng';
import { field } from './common';
import { BatchBuilder, GuardedSteps, fill, fixedLogits, shuffledBatches, subsetRows } from '../steps';
import type { Model } from '../../onnx/ir';

const params = z.object({
  retainFraction: field.fraction(0.3, 'fraction of the retain set sampled (seeded) into the unlearning data'),
  temperature: field.positive(1, 'KL temperature T'),
  epochs: field.epochs(1, 'passes over the unlearning data (forget set + retain sample)'),
  lr: field.lr(1e-4, 'Adam learning rate'),
  batchSize: field.batchSize(256),
});

/** The original's architecture with freshly drawn weights (seeded), as an inference model. */
export function randomTeacher(model: Model, trainable: string[], seed: number): Model {
  const names = new Set(trainable);
  for (const l of listLayers(model)) for (const b of l.buffers) names.add(b);
  return bakeInference(model, reinitializeParams(model, [...names], seed), { 'lethe.bad-teacher': 'incompetent' });
}

export const badTeacher: MethodDescriptor<typeof params> = {
  id: 'bad-teacher',
  name: 'Bad Teacher',
  exact: false,
  scope: 'any',
  gradientBased: true,
  description:
    'Distils the original into a student with two teachers: on retain examples the student follows the original (the competent teacher), on forget examples it follows a randomly initialised copy of the architecture (the incompetent teacher), so its outputs on the forget set become as uninformative as an untrained model\'s. It trains one epoch on the forget set plus a 30% sample of the retain set.',
  source: 'Chundawat et al. 2023, "Can Bad Teaching Induce Forgetting?" (AAAI); vikram2000b/bad-teaching-unlearning (blindspot_unlearner): KL temperature 1, Adam lr 1e-4, 1 epoch, batch 256, 30% of D_r',
  params,
  async run(ctx, p) {
    const C = ctx.numClasses;
    const rng = new Rng(ctx.seed, 8_300_000);
    const k = Math.min(ctx.retain.n, Math.round(ctx.retain.n * p.retainFraction));
    const pick = Array.from(rng.permutation(ctx.retain.n).subarray(0, k)).sort((a, b) => a - b);
    const retainSample = subsetRows(ctx.retain, pick);
    ctx.progress({ fraction: 0, message: 'Bad Teacher: the teachers\' logits (original on the retain sample, a random model on the forget set)' });
    const bad = randomTeacher(ctx.model, ctx.trainable, ctx.seed);
    const tf = await fixedLogits(ctx, bad, ctx.forget);
    const tr = await fixedLogits(ctx, ctx.model, retainSample);
    const trainer = await ctx.createTrainer({ optimizer: { kind: 'adam' }, lr: p.lr, batchSize: p.batchSize, loss: { exampleWeights: true, reduction: 'sum', terms: { kl: { temperature: p.temperature } } } });
    try {
      const builder = new BatchBuilder(
        [
          { data: ctx.forget, teacher: tf.logits },
          { data: retainSample, teacher: tr.logits },
        ],
        p.batchSize,
        C,
        trainer.stepsPerRun,
      );
      const perEpoch = Math.ceil((ctx.forget.n + retainSample.n) / p.batchSize);
      const runner = new GuardedSteps(ctx, trainer, 'Bad Teacher', perEpoch * p.epochs, [0.05, 1]);
      const checkEvery = Math.max(1, Math.ceil(perEpoch / 4));
      for (let epoch = 0; epoch < p.epochs && !runner.stopped; epoch++) {
        const batches = shuffledBatches([ctx.forget.n, retainSample.n], p.batchSize, new Rng(ctx.seed, 8_310_000 + epoch));
        await runner.run(
          builder,
          batches,
          (b, s) => ({ batch: { x: b.x, y: b.y, nb: b.nb, exampleShape: builder.shape, ceWeights: fill(b.nb, 0), teacherLogits: b.teacher, klWeights: fill(b.nb, 1 / b.nb) }, message: `epoch ${epoch + 1}/${p.epochs}, step ${s + 1}/${batches.length}` }),
          { checkAfter: (s) => (s + 1) % checkEvery === 0 || s + 1 === batches.length },
        );
      }
      return { weights: trainer.weights(), steps: runner.steps, stats: { retainSample: retainSample.n } };
    } finally {
      await trainer.dispose();
    }
  },
};
