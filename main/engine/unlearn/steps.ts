// The step machinery the unlearning methods share: a fixed model's logits (teachers), row gathering
// into batches (several sources, replacement labels, per-row teacher logits), seeded batch orders, and
// the guarded step runner: progress reports and guardrail checks that keep the last weights that
// passed (GuardCheckpoint, also what trainLoop in loop.ts checks with). Used by SCRUB, Bad Teacher,
// NPO, UNSIR and the loop.

import { z } from 'zod';
import type { MethodContext } from './types';
import type { Model } from '../onnx/ir';
import type { StepBatch, StepResult, Trainer } from '../train/trainer';
import { type ArrayDataset, exampleSize } from '../train/data';
import { evaluateModel } from '../train/evaluator';
import type { Rng } from '../train/rng';
import type { OptimizerSpec } from '../train/optimizers';
import { GuardrailTripped } from './guardrail';
import { stepsThisRun } from '../train/unroll';

/** Logits [n*C] of a fixed model (eval mode) on every row of a dataset. */
export async function fixedLogits(ctx: MethodContext, model: Model, ds: ArrayDataset): Promise<{ logits: Float32Array; numClasses: number; losses: Float32Array }> {
  if (ds.n === 0) return { logits: new Float32Array(0), numClasses: ctx.numClasses, losses: new Float32Array(0) };
  const r = await evaluateModel(model, ds, { batchSize: 512, provider: ctx.provider, threads: ctx.threads, signal: ctx.signal });
  return { logits: r.logits, numClasses: r.numClasses, losses: r.losses };
}

export { subsetRows } from './data';

/** A row source for batch assembly: a dataset, optional replacement labels, optional per-row teacher logits. */
export interface RowSource {
  data: ArrayDataset;
  labels?: Int32Array;
  teacher?: Float32Array;
}

/** Rows gathered by BatchBuilder.gather (views into the builder's buffers of one slot). */
export interface Gathered {
  x: Float32Array;
  y: BigInt64Array;
  teacher: Float32Array;
  nb: number;
}

/**
 * Reusable batch buffers: gather rows (source, index) into x / y / teacher logits. `slots` sets of
 * buffers, one per step of a run of the trainer's stepsPerRun (GuardedSteps.run).
 */
export class BatchBuilder {
  readonly per: number;
  readonly shape: number[];
  private bufs: { x: Float32Array; y: BigInt64Array; t: Float32Array }[];
  constructor(
    readonly sources: RowSource[],
    readonly maxRows: number,
    readonly numClasses: number,
    readonly slots = 1,
  ) {
    if (!sources.length) throw new Error('BatchBuilder needs at least one row source');
    if (!Number.isInteger(slots) || slots < 1) throw new Error(`BatchBuilder slots must be a positive integer, got ${slots}`);
    this.shape = sources[0].data.exampleShape;
    this.per = exampleSize(sources[0].data);
    for (const s of sources) if (exampleSize(s.data) !== this.per) throw new Error('all row sources must have the same example shape');
    this.bufs = Array.from({ length: slots }, () => ({ x: new Float32Array(maxRows * this.per), y: new BigInt64Array(maxRows), t: new Float32Array(maxRows * numClasses) }));
  }

  /** rows = [source, index] pairs; returns views valid until the next call with the same slot */
  gather(rows: ArrayLike<readonly [number, number]>, slot = 0): Gathered {
    const nb = rows.length;
    if (nb > this.maxRows) throw new Error(`batch of ${nb} rows exceeds the builder's ${this.maxRows}`);
    const buf = this.bufs[slot];
    if (!buf) throw new Error(`BatchBuilder has ${this.slots} slot(s), not slot ${slot}`);
    const per = this.per;
    const C = this.numClasses;
    for (let i = 0; i < nb; i++) {
      const [si, j] = rows[i];
      const s = this.sources[si];
      buf.x.set(s.data.x.subarray(j * per, (j + 1) * per), i * per);
      buf.y[i] = BigInt(s.labels ? s.labels[j] : Number(s.data.y[j]));
      if (s.teacher) buf.t.set(s.teacher.subarray(j * C, (j + 1) * C), i * C);
    }
    return { x: buf.x.subarray(0, nb * per), y: buf.y.subarray(0, nb), teacher: buf.t.subarray(0, nb * C), nb };
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
 * The last weights that passed the guardrail, and the check itself: measure the trainer's current weights
 * (held-out retain accuracy, and the forget-accuracy watch), report them as progress, and keep these
 * weights as the new last-passed; on a trip, put the last-passed weights back and say so. One definition
 * for trainLoop and GuardedSteps.
 */
export class GuardCheckpoint {
  stopped = false;
  private passed: { step: number; weights: Record<string, Float32Array> };
  constructor(
    private readonly ctx: MethodContext,
    private readonly trainer: Trainer,
    private readonly label: string,
  ) {
    this.passed = snapshot(trainer);
  }

  /** false when the guardrail stopped the run (the trainer then holds the last weights that passed) */
  async check(fraction: number): Promise<boolean> {
    const g = this.ctx.guardrail;
    if (!g.active || this.stopped) return !this.stopped;
    try {
      const acc = await g.check(this.trainer, this.trainer.globalStep);
      this.ctx.progress({ fraction, message: `${this.label}: held-out retain accuracy ${acc.toFixed(1)}%`, ...g.latest() });
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

/**
 * Steps with progress reports and guardrail checks like trainLoop: run() takes a plan of batches and
 * trains them in runs of the trainer's stepsPerRun, checking where the plan says; check() returns false
 * when the guardrail stopped the run (the trainer then holds the last weights that passed).
 */
export class GuardedSteps {
  steps = 0;
  lastLoss = NaN;
  private readonly guard: GuardCheckpoint;
  constructor(
    private readonly ctx: MethodContext,
    private readonly trainer: Trainer,
    private readonly label: string,
    private readonly total: number,
    private readonly span: [number, number] = [0, 1],
  ) {
    this.guard = new GuardCheckpoint(ctx, trainer, label);
  }

  get stopped(): boolean {
    return this.guard.stopped;
  }

  fraction(): number {
    const [f0, f1] = this.span;
    return f0 + ((f1 - f0) * Math.min(this.steps, this.total)) / Math.max(1, this.total);
  }

  /**
   * One step per planned batch (`plan[i]`: step i's rows), in runs of the trainer's stepsPerRun (and at
   * most the builder's slots): `make` turns step i's gathered rows into its batch and progress message,
   * `onResult` sees each step's result in order, and after every step i with `checkAfter(i)` the
   * guardrail judges (a run ends there). The same weights as one trainStepWith per batch. Returns false when the
   * guardrail stopped the run (the trainer then holds the last weights that passed).
   */
  async run(
    builder: BatchBuilder,
    plan: readonly (readonly (readonly [number, number])[])[],
    make: (g: Gathered, i: number) => { batch: StepBatch; message: string },
    o: { checkAfter?: (i: number) => boolean; onResult?: (r: StepResult, i: number) => void } = {},
  ): Promise<boolean> {
    const K = Math.min(this.trainer.stepsPerRun, builder.slots);
    for (let i = 0; i < plan.length; ) {
      if (this.ctx.signal.aborted) throw cancelled();
      let end = i; // the run's last step: the next check, the plan's end, or K steps on
      while (end < plan.length - 1 && end - i < K - 1 && !o.checkAfter?.(end)) end++;
      const n = stepsThisRun(K, end - i + 1);
      const made = Array.from({ length: n }, (_, j) => make(builder.gather(plan[i + j], j), i + j));
      const rs = await this.trainer.trainStepsWith(made.map((m) => m.batch));
      rs.forEach((r, j) => {
        this.steps++;
        this.lastLoss = r.loss;
        if (this.steps % 5 === 0 || this.steps === this.total) this.ctx.progress({ fraction: this.fraction(), message: `${this.label}: ${made[j].message}`, loss: r.loss });
        o.onResult?.(r, i + j);
      });
      i += n;
      if (o.checkAfter?.(i - 1) && !(await this.check())) return false;
    }
    return true;
  }

  check(): Promise<boolean> {
    return this.guard.check(this.fraction());
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
