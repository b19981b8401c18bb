// UNSIR (Tarun et al. 2023, "Fast Yet Effective Machine Unlearning"), class forgetting only.
//   1. Noise: for every forgotten class c, a batch of inputs N_c (init N(0, 1), seeded) is learned by
//      Adam on  −mean CE(θ_o(N_c), c) + λ·mean_i ‖N_c,i‖²  (error-maximising noise: inputs the
//      original finds least like class c), with θ_o fixed in eval mode.
//   2. Impair: one epoch (Adam) on the noise, labelled c and repeated `noiseCopies` times, shuffled
//      with a retain sample (up to `retainPerClass` examples of every retained class).
//   3. Repair: one epoch (fresh Adam) on the retain sample alone.
// The impair step is meant to damage the model, so the guardrail judges the model after repair; if it
// trips there and the action is 'stop', the run keeps the last weights that passed: the original's.
//
// Stated differences from the public notebook: it labels every noise copy with class 0 and keeps only
// 3 rows of each noise batch (loop bugs); Lethe labels noise with its class and keeps the whole batch.
// The public noise loop runs the model in train mode (BatchNorm batch statistics); Lethe uses eval mode.

import { z } from 'zod';
import type { MethodDescriptor } from '../types';
import { EngineError } from '../../errors';
import { InputGradientRunner } from '../../train/input-grad';
import { Rng } from '../../train/rng';
import { exampleSize, type ArrayDataset } from '../../train/data';
import { trainLoop } from '../loop';
import { GuardrailTripped } from '../guardrail';
import { field, mean, WEIGHTED_SUM } from './common';
import { subsetRows } from '../steps';

const params = z.object({
  noiseBatch: field.batchSize(256, 'noise examples learned per forgotten class'),
  noiseSteps: field.int(40, 1, 100_000, 'Adam steps on the noise (the notebook: 5 epochs x 8 steps)'),
  noiseLr: field.lr(0.1, 'Adam learning rate of the noise'),
  noiseL2: field.nonNeg(0.1, 'λ of the noise penalty λ·mean ‖noise‖²'),
  noiseCopies: field.int(20, 1, 1000, 'times each noise batch is repeated in the impair data (the notebook: 20 batches)'),
  retainPerClass: field.int(1000, 1, 1_000_000, 'retain examples per retained class used by impair and repair'),
  impairLr: field.lr(0.02, 'Adam learning rate of the impair epoch'),
  repairLr: field.lr(0.01, 'Adam learning rate of the repair epoch'),
  batchSize: field.batchSize(256),
});

/** Error-maximising noise for class c (Adam on the input), returned as [noiseBatch, ...exampleShape]. */
async function learnNoise(runner: InputGradientRunner, shape: number[], cls: number, p: z.output<typeof params>, rng: Rng, signal: AbortSignal): Promise<{ x: Float32Array; ce: number }> {
  const n = p.noiseBatch;
  const per = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n * per);
  for (let i = 0; i < x.length; i++) x[i] = rng.nextNormal();
  const m = new Float64Array(x.length);
  const v = new Float64Array(x.length);
  const y = new BigInt64Array(n).fill(BigInt(cls));
  const w = new Float32Array(n).fill(-1 / n);
  const b1 = 0.9;
  const b2 = 0.999;
  let ce = NaN;
  for (let t = 1; t <= p.noiseSteps; t++) {
    if (signal.aborted) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
    const r = await runner.run({ x, y, nb: n, exampleShape: shape, weights: w });
    let s = 0;
    for (let i = 0; i < n; i++) s += r.losses[i];
    ce = s / n;
    const bc1 = 1 - b1 ** t;
    const bc2 = Math.sqrt(1 - b2 ** t);
    for (let i = 0; i < x.length; i++) {
      const g = r.grad[i] + ((2 * p.noiseL2) / n) * x[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      x[i] -= ((p.noiseLr / bc1) * m[i]) / (Math.sqrt(v[i]) / bc2 + 1e-8);
    }
  }
  return { x, ce };
}

export const unsir: MethodDescriptor<typeof params> = {
  id: 'unsir',
  name: 'UNSIR',
  exact: false,
  scope: 'class',
  gradientBased: true,
  description:
    'Class forgetting only. Learns "error-maximising" noise for each forgotten class (inputs the original model finds as unlike that class as possible), then impairs the model with one epoch on that noise labelled with the class mixed with a retain sample, which wipes out the class, and repairs it with one epoch on the retain sample alone.',
  source:
    'Tarun et al. 2023, "Fast Yet Effective Machine Unlearning" (IEEE TNNLS); vikram2000b/Fast-Machine-Unlearning notebook: noise batch 256, Adam lr 0.1 for 5x8 steps, penalty 0.1·mean‖n‖², 20 noise batches, 1000 retain examples per class, impair Adam lr 0.02 and repair Adam lr 0.01 for 1 epoch each, batch 256',
  params,
  async run(ctx, p) {
    const classes = ctx.forgottenClasses;
    if (!classes.length) throw new EngineError('invalid_argument', 'UNSIR forgets whole classes only; this forget set does not contain every training example of any class.');
    const shape = ctx.forget.exampleShape;
    const per = exampleSize(ctx.forget);

    // 1. noise per forgotten class
    const noises: { cls: number; x: Float32Array }[] = [];
    const runner = await InputGradientRunner.open(ctx.model, { provider: ctx.provider, threads: ctx.threads, loss: { exampleWeights: true, reduction: 'sum' } });
    const stats: Record<string, number> = {};
    try {
      for (const [i, c] of classes.entries()) {
        ctx.progress({ fraction: (0.3 * i) / classes.length, message: `UNSIR: error-maximising noise for class ${c}` });
        const r = await learnNoise(runner, shape, c, p, new Rng(ctx.seed, 8_500_000 + c), ctx.signal);
        noises.push({ cls: c, x: r.x });
        stats[`noiseCe_class${c}`] = r.ce;
      }
    } finally {
      await runner.dispose();
    }

    // retain sample: up to retainPerClass of every retained class (seeded)
    const byClass = new Map<number, number[]>();
    const order = new Rng(ctx.seed, 8_510_000).permutation(ctx.retain.n);
    for (const j of order) {
      const c = Number(ctx.retain.y[j]);
      let l = byClass.get(c);
      if (!l) byClass.set(c, (l = []));
      if (l.length < p.retainPerClass) l.push(j);
    }
    const pick = [...byClass.values()].flat().sort((a, b) => a - b);
    const retainSample = subsetRows(ctx.retain, pick);

    // 2. impair: noise (labelled, repeated) + retain sample
    const nNoise = noises.length * p.noiseBatch * p.noiseCopies;
    const ix = new Float32Array((nNoise + retainSample.n) * per);
    const iy = new Int32Array(nNoise + retainSample.n);
    let o = 0;
    for (const nz of noises) {
      for (let r = 0; r < p.noiseCopies; r++) {
        ix.set(nz.x, o * per);
        iy.fill(nz.cls, o, o + p.noiseBatch);
        o += p.noiseBatch;
      }
    }
    ix.set(retainSample.x, o * per);
    for (let i = 0; i < retainSample.n; i++) iy[o + i] = Number(retainSample.y[i]);
    const impairData: ArrayDataset = { x: ix, y: iy, n: iy.length, exampleShape: [...shape] };
    const off = { ...ctx, guardrail: Object.create(ctx.guardrail, { active: { value: false } }) } as typeof ctx;
    const impair = await ctx.createTrainer({ optimizer: { kind: 'adam' }, lr: p.impairLr, batchSize: p.batchSize, loss: WEIGHTED_SUM });
    let impaired: Record<string, Float32Array>;
    let steps = 0;
    try {
      const r = await trainLoop(off, impair, { epochs: 1, streams: [{ data: impairData, batchSize: p.batchSize, weight: mean }], label: 'UNSIR impair', span: [0.3, 0.65], seedStream: 1 });
      steps += r.steps;
      impaired = Object.fromEntries(Object.entries(impair.weights()).map(([k, v]) => [k, new Float32Array(v)]));
    } finally {
      await impair.dispose();
    }

    // 3. repair: retain sample only, fresh optimizer state
    const repair = await ctx.createTrainer({ optimizer: { kind: 'adam' }, lr: p.repairLr, batchSize: p.batchSize, loss: WEIGHTED_SUM });
    try {
      repair.setWeights(impaired);
      const r = await trainLoop(off, repair, { epochs: 1, streams: [{ data: retainSample, batchSize: p.batchSize, weight: mean }], label: 'UNSIR repair', span: [0.65, 1], seedStream: 2 });
      steps += r.steps;
      stats.noiseExamples = nNoise;
      stats.retainSample = retainSample.n;
      // the guardrail judges the repaired model
      if (ctx.guardrail.active) {
        try {
          const acc = await ctx.guardrail.check(repair, repair.globalStep);
          ctx.progress({ fraction: 1, message: `UNSIR: held-out retain accuracy after repair ${acc.toFixed(1)}%`, ...ctx.guardrail.latest() });
        } catch (e) {
          if (!(e instanceof GuardrailTripped)) throw e;
          ctx.log('warn', `${e.message} after the repair step; keeping the original's weights (the last that passed).`);
          const orig: Record<string, Float32Array> = {};
          const inits = new Map(ctx.model.graph.initializers.map((t) => [t.name, t]));
          for (const k of Object.keys(impaired)) orig[k] = new Float32Array(inits.get(k)!.data as Float32Array);
          return { weights: orig, steps, stats };
        }
      }
      return { weights: repair.weights(), steps, stats };
    } finally {
      await repair.dispose();
    }
  },
};
