// SCRUB (Kurmanji et al. 2023): the student starts at θ_o, the teacher is θ_o (fixed). Every epoch,
// for the first `msteps` epochs, max-steps over D_f batches minimise −KL(T‖S) (push the student away
// from the teacher on the forget set), then min-steps over D_r batches minimise γ·CE + α·KL(T‖S)
// (stay close to the teacher and the labels on the retain set). One optimizer (and its state) serves
// both phases, as in the public code. KL(T‖S) is DistillKL: T²·Σ p_t (log p_t − log p_s) at
// temperature T, batch mean. The teacher's logits are θ_o's (eval mode), computed once per row.
//
// This file also holds the small step machinery the distillation-style methods share (SCRUB, Bad
// Teacher, NPO): row gathering, teacher logits, and a guarded step runner that checks the guardrail
// the way loop.ts's trainLoop does (every `checkEvery` steps and at phase ends; on a trip the trainer
// goes back to the last weights that passed and the method stops).

import { z } from 'zod';
import type { MethodContext, MethodDescriptor } from '../types';
import type { Model } from '../../onnx/ir';
import type { StepBatch, StepResult, Trainer } from '../../train/trainer';
import { type ArrayDataset, exampleSize } from '../../train/data';
import { evaluateModel } from '../../train/evaluator';
import { Rng } from '../../train/rng';
import type { OptimizerSpec } from '../../train/optimizers';
import { GuardrailTripped } from '../guardrail';
import { field } from './common';

// ---------------------------------------------------------------------------------------------
// shared machinery

/** Logits [n*C] of a fixed model (eval mode) on every row of a dataset. */
export async function fixedLogits(ctx: MethodContext, model: Model, ds: ArrayDataset): Promise<{ logits: Float32Array; numClasses: number; losses: Float32Array }> {
  if (ds.n === 0) return { logits: new Float32Array(0), numClasses: ctx.numClasses, losses: new Float32Array(0) };
  const r = await evaluateModel(model, ds, { batchSize: 512, provider: ctx.provider, threads: ctx.threads, signal: ctx.signal });
  return { logits: r.logits, numClasses: r.numClasses, losses: r.losses };
}

export { subsetRows } from '../data';

/** A row source for batch assembly: a dataset, optional replacement labels, optional per-row teacher logits. */
export interface RowSource {
  data: ArrayDataset;
  labels?: Int32Array;
  teacher?: Float32Array;
}

/** Reusable batch buffers: gather rows (source, index) into x / y / teacher logits. */
export class BatchBuilder {
  readonly per: number;
  readonly shape: number[];
  private x: Float32Array;
  private y: BigInt64Array;
  private t: Float32Array;
  constructor(
    readonly sources: RowSource[],
    readonly maxRows: number,
    readonly numClasses: number,
  ) {
    if (!sources.length) throw new Error('BatchBuilder needs at least one row source');
    this.shape = sources[0].data.exampleShape;
    this.per = exampleSize(sources[0].data);
    for (const s of sources) if (exampleSize(s.data) !== this.per) throw new Error('all row sources must have the same example shape');
    this.x = new Float32Array(maxRows * this.per);
    this.y = new BigInt64Array(maxRows);
    this.t = new Float32Array(maxRows * numClasses);
  }

  /** rows = [source, index] pairs; returns views valid until the next call */
  gather(rows: ArrayLike<readonly [number, number]>): { x: Float32Array; y: BigInt64Array; teacher: Float32Array; nb: number } {
    const nb = rows.length;
    if (nb > this.maxRows) throw new Error(`batch of ${nb} rows exceeds the builder's ${this.maxRows}`);
    const per = this.per;
    const C = this.numClasses;
    for (let i = 0; i < nb; i++) {
      const [si, j] = rows[i];
      const s = this.sources[si];
      this.x.set(s.data.x.subarray(j * per, (j + 1) * per), i * per);
      this.y[i] = BigInt(s.labels ? s.labels[j] : Number(s.data.y[j]));
      if (s.teacher) this.t.set(s.teacher.subarray(j * C, (j + 1) * C), i * C);
    }
    return { x: this.x.subarray(0, nb * per), y: this.y.subarray(0, nb), teacher: this.t.subarray(0, nb * C), nb };
  }
}

/** Seeded shuffled batches of [source, index] rows over the given sources, one epoch. */
export function shuffledBatches(sizes: number[], batchSize: number, rng: Rng): [number, number][][] {
  const all: [number, number][] = [];
  sizes.forEach((n, si) => {
    for (let j = 0; j < n; j++) all.push([si, j]);
  });
  const perm = rng.permutation(all.length);
  const out: [number, number][][] = [];
  for (let s = 0; s < all.length; s += batchSize) out.push(Array.from(perm.subarray(s, Math.min(all.length, s + batchSize)), (p) => all[p]));
  return out;
}

function cancelled(): Error {
  return Object.assign(new Error('cancelled'), { name: 'AbortError' });
}

/**
 * Runs trainer.trainStepWith steps with progress reports and guardrail checks like trainLoop: call
 * step() per batch and check() where a check is due; check() returns false when the guardrail
 * stopped the run (the trainer then holds the last weights that passed).
 */
export class GuardedSteps {
  steps = 0;
  stopped = false;
  lastLoss = NaN;
  private passed: { step: number; weights: Record<string, Float32Array> };
  constructor(
    private readonly ctx: MethodContext,
    private readonly trainer: Trainer,
    private readonly label: string,
    private readonly total: number,
    private readonly span: [number, number] = [0, 1],
  ) {
    this.passed = snapshot(trainer);
  }

  fraction(): number {
    const [f0, f1] = this.span;
    return f0 + ((f1 - f0) * Math.min(this.steps, this.total)) / Math.max(1, this.total);
  }

  async step(b: StepBatch, message: string): Promise<StepResult> {
    if (this.ctx.signal.aborted) throw cancelled();
    const r = await this.trainer.trainStepWith(b);
    this.steps++;
    this.lastLoss = r.loss;
    if (this.steps % 5 === 0 || this.steps === this.total) this.ctx.progress({ fraction: this.fraction(), message: `${this.label}: ${message}`, loss: r.loss });
    return r;
  }

  async check(): Promise<boolean> {
    const g = this.ctx.guardrail;
    if (!g.active || this.stopped) return !this.stopped;
    try {
      const acc = await g.check(this.trainer, this.trainer.globalStep);
      this.ctx.progress({ fraction: this.fraction(), message: `${this.label}: held-out retain accuracy ${acc.toFixed(1)}%`, ...g.latest() });
      this.passed = snapshot(this.trainer);
      return true;
    } catch (e) {
      if (e instanceof GuardrailTripped) {
        this.ctx.log('warn', `${e.message}; stopping and keeping the weights of step ${this.passed.step}.`);
        this.trainer.setWeights(this.passed.weights);
        this.stopped = true;
        return false;
      }
      throw e;
    }
  }
}

export function snapshot(trainer: Trainer): { step: number; weights: Record<string, Float32Array> } {
  const w: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(trainer.weights())) w[k] = new Float32Array(v);
  return { step: trainer.globalStep, weights: w };
}

export function fill(n: number, v: number): Float32Array {
  return new Float32Array(n).fill(v);
}

export const optimizerField = (d: 'adam' | 'sgd', desc = "optimizer: 'adam' (torch defaults) or 'sgd' (momentum 0.9)") => z.enum(['adam', 'sgd']).default(d).describe(desc);

export function optimizerOf(kind: 'adam' | 'sgd', weightDecay: number): OptimizerSpec {
  return kind === 'adam' ? { kind: 'adam', weightDecay } : { kind: 'sgd', momentum: 0.9, weightDecay };
}

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
      );
      const milestones = [0.5, 0.8, 0.9].map((f) => Math.round(f * p.epochs));
      let maxKl = NaN;
      for (let epoch = 1; epoch <= p.epochs; epoch++) {
        const lr = p.lr * 0.1 ** milestones.filter((m) => epoch > m).length;
        if (epoch <= msteps && ctx.forget.n > 0) {
          const batches = shuffledBatches([ctx.forget.n, 0], p.forgetBatchSize, new Rng(ctx.seed, 8_100_000 + epoch));
          let s = 0;
          let cnt = 0;
          for (const rows of batches) {
            const b = builder.gather(rows);
            const r = await runner.step({ x: b.x, y: b.y, nb: b.nb, exampleShape: builder.shape, ceWeights: fill(b.nb, 0), teacherLogits: b.teacher, klWeights: fill(b.nb, -1 / b.nb), lr }, `epoch ${epoch}/${p.epochs}, max-step on the forget set`);
            for (const v of r.klLosses!) s += v;
            cnt += b.nb;
          }
          maxKl = s / cnt;
        }
        const batches = shuffledBatches([0, ctx.retain.n], p.retainBatchSize, new Rng(ctx.seed, 8_200_000 + epoch)).slice(0, minPerEpoch);
        let k = 0;
        for (const rows of batches) {
          const b = builder.gather(rows);
          await runner.step(
            { x: b.x, y: b.y, nb: b.nb, exampleShape: builder.shape, ceWeights: fill(b.nb, p.gamma / b.nb), teacherLogits: b.teacher, klWeights: fill(b.nb, p.alpha / b.nb), lr },
            `epoch ${epoch}/${p.epochs}, min-step on the retain set`,
          );
          k++;
          // the guardrail judges the model after each epoch's min-steps: SCRUB's max-steps damage the
          // retain set on purpose and the min-steps that follow repair it
          if (k === batches.length && !(await runner.check())) break;
        }
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
