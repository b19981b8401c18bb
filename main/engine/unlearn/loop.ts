// The training loop methods share: each optimizer step trains on one batch made of a batch from
// each data stream (e.g. retain and forget, each with its own batch size), every row weighted by its
// stream's per-example weight (the trainer sums weighted per-example losses, so a negative weight is
// gradient ascent and weights 1/B give the mean). Streams other than the first cycle through their
// own seeded permutations; the first stream defines an epoch. The guardrail is checked every
// `checkEvery` steps and at the end of every epoch; when it trips with action 'stop' the loop ends
// and the trainer is reset to the last weights that passed.
// With the GU projection on (ctx.gu, or LoopOptions.project) every step's update is projected onto
// the orthogonal complement of the span of retain gradients at the step's starting weights (gu.ts).
// Without it, steps go to the trainer in runs of its stepsPerRun (trainStepsWith; the same weights as
// one step at a time), each run ending at a guardrail check or the epoch's end.

import { Rng } from '../train/rng';
import type { StepBatch, Trainer } from '../train/trainer';
import type { ArrayDataset } from '../train/data';
import { exampleSize } from '../train/data';
import { stepsThisRun } from '../train/unroll';
import { GuardCheckpoint } from './steps';
import { GuProjector, trainableSnapshot } from './gu';
import type { MethodContext } from './types';
import type { ProviderName } from '../train/session';

export interface Stream {
  data: ArrayDataset;
  batchSize: number;
  /** per-example loss weight of this stream's rows, given the batch's row counts */
  weight: number | ((rowsOfThisStream: number, rowsInBatch: number) => number);
  /** labels used instead of data.y for this stream (e.g. fixed random wrong labels) */
  labels?: Int32Array;
  /** draw a fresh label each time an example is used (RL/SalUn: a random wrong class) */
  relabel?: (y: number, rng: Rng) => number;
}

export interface LoopOptions {
  epochs: number;
  streams: Stream[];
  /** learning rate of a step (default: the trainer's schedule) */
  lr?: (epoch: number, stepInEpoch: number, stepsPerEpoch: number) => number;
  /** per-step feeds of extra loss terms (e.g. the L1 coefficient of the step's epoch) */
  stepExtras?: (epoch: number, stepInEpoch: number) => Pick<StepBatch, 'l1'>;
  label: string;
  /** fraction of the method's progress this loop covers: [start, end] */
  span?: [number, number];
  /** guardrail check every this many steps (default: 4 times an epoch) */
  checkEvery?: number;
  /** stream used for RNG seeding of permutations and relabels */
  seedStream?: number;
  /** GU projection of every update against k retain gradients (default: on with ctx.retain when ctx.gu is set; false = off) */
  project?: { retain: ArrayDataset; k: number; batchSize?: number } | false;
}

export interface LoopResult {
  steps: number;
  stoppedByGuardrail: boolean;
  lastLoss: number;
}

/** Mean of a list of per-example weight vectors' rows etc. */
function weightOf(s: Stream, rows: number, total: number): number {
  return typeof s.weight === 'number' ? s.weight : s.weight(rows, total);
}

export async function trainLoop(ctx: MethodContext, trainer: Trainer, o: LoopOptions): Promise<LoopResult> {
  const gu = o.project === false ? null : (o.project ?? (ctx.gu ? { retain: ctx.retain, ...ctx.gu } : null));
  if (!gu || !o.streams.length || o.streams[0].data.n === 0) return runLoop(ctx, trainer, o, null);
  const projector = await GuProjector.create(trainer, gu.retain, { k: gu.k, batchSize: gu.batchSize ?? 64, seed: ctx.seed * 1000 + (o.seedStream ?? 0), provider: trainer.provider as ProviderName, threads: trainer.threads });
  ctx.log('info', `${o.label}: GU projection on (each update projected off ${gu.k} retain gradients).`);
  try {
    return await runLoop(ctx, trainer, o, projector);
  } finally {
    await projector.dispose();
  }
}

async function runLoop(ctx: MethodContext, trainer: Trainer, o: LoopOptions, projector: GuProjector | null): Promise<LoopResult> {
  if (!o.streams.length) throw new Error('trainLoop needs at least one data stream');
  const shape = o.streams[0].data.exampleShape;
  const per = exampleSize(o.streams[0].data);
  for (const s of o.streams) {
    if (exampleSize(s.data) !== per) throw new Error('all data streams must have the same example shape');
    if (!Number.isInteger(s.batchSize) || s.batchSize < 1) throw new Error(`batch size must be a positive integer, got ${s.batchSize}`);
  }
  const primary = o.streams[0];
  if (primary.data.n === 0) return { steps: 0, stoppedByGuardrail: false, lastLoss: NaN };
  const spe = Math.ceil(primary.data.n / primary.batchSize);
  const total = spe * o.epochs;
  const checkEvery = o.checkEvery ?? Math.max(1, Math.ceil(spe / 4));
  const [f0, f1] = o.span ?? [0, 1];
  const seedBase = ctx.seed * 1000 + (o.seedStream ?? 0);
  const relabelRng = new Rng(ctx.seed, 7_000_000 + (o.seedStream ?? 0));
  const cursors: { perm: Uint32Array<ArrayBufferLike>; pos: number; round: number }[] = o.streams.map(() => ({ perm: new Uint32Array(0), pos: 0, round: 0 }));
  const maxRows = o.streams.reduce((a, s) => a + s.batchSize, 0);
  const perRun = projector ? 1 : trainer.stepsPerRun;
  const bufs = Array.from({ length: perRun }, () => ({ x: new Float32Array(maxRows * per), y: new BigInt64Array(maxRows), w: new Float32Array(maxRows) }));
  let steps = 0;
  let lastLoss = NaN;
  const guard = new GuardCheckpoint(ctx, trainer, o.label);
  const check = (): Promise<boolean> => guard.check(f0 + ((f1 - f0) * steps) / total);

  /** Rows of step k of an epoch into buffer `slot`: a batch from each stream, weighted (null: no rows). */
  const gather = (epoch: number, k: number, slot: number): StepBatch | null => {
    const { x, y, w } = bufs[slot];
    let rows = 0;
    const counts: number[] = [];
    for (let si = 0; si < o.streams.length; si++) {
      const s = o.streams[si];
      const c = cursors[si];
      let take = si === 0 ? Math.min(s.batchSize, s.data.n - k * s.batchSize) : Math.min(s.batchSize, s.data.n);
      if (si === 0 && k === 0) {
        c.perm = new Rng(seedBase, 1_000_000 + epoch * 16).permutation(s.data.n);
        c.pos = 0;
      }
      const start = rows;
      for (let t = 0; t < take; t++) {
        if (c.pos >= c.perm.length) {
          if (si === 0) {
            take = t;
            break;
          }
          c.perm = new Rng(seedBase, 1_000_000 + c.round++ * 16 + si).permutation(s.data.n);
          c.pos = 0;
        }
        const j = c.perm[c.pos++];
        x.set(s.data.x.subarray(j * per, (j + 1) * per), rows * per);
        const yj = s.labels ? s.labels[j] : Number(s.data.y[j]);
        y[rows] = BigInt(s.relabel ? s.relabel(yj, relabelRng) : yj);
        rows++;
      }
      counts.push(rows - start);
    }
    if (rows === 0) return null;
    let r = 0;
    for (let si = 0; si < o.streams.length; si++) {
      const wv = weightOf(o.streams[si], counts[si], rows);
      for (let t = 0; t < counts[si]; t++) w[r++] = wv;
    }
    return { x: x.subarray(0, rows * per), y: y.subarray(0, rows), nb: rows, exampleShape: shape, ceWeights: trainer.step.weights ? w.subarray(0, rows) : undefined, lr: o.lr?.(epoch, k, spe), ...o.stepExtras?.(epoch, k) };
  };

  for (let epoch = 0; epoch < o.epochs; epoch++) {
    let k = 0;
    while (k < spe) {
      if (ctx.signal.aborted) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
      // a whole run where one fits before the next guardrail check and the epoch's end, else one step
      const n = stepsThisRun(perRun, Math.min(spe - k, checkEvery - (steps % checkEvery)));
      const batches: { b: StepBatch; k: number }[] = [];
      for (let j = 0; j < n; j++, k++) {
        const b = gather(epoch, k, j);
        if (b) batches.push({ b, k });
      }
      if (!batches.length) continue;
      let results;
      if (projector) {
        const old = trainableSnapshot(trainer);
        const basis = await projector.basis();
        results = [await trainer.trainStepWith(batches[0].b)];
        projector.apply(old, basis);
      } else results = await trainer.trainStepsWith(batches.map((q) => q.b));
      let due = false;
      for (let j = 0; j < results.length; j++) {
        const out = results[j];
        const sk = batches[j].k;
        lastLoss = out.loss;
        steps++;
        if (steps % 5 === 0 || steps === total) ctx.progress({ fraction: f0 + ((f1 - f0) * steps) / total, message: `${o.label}: epoch ${epoch + 1}/${o.epochs}, step ${sk + 1}/${spe}`, loss: out.loss });
        if (steps % checkEvery === 0 || sk === spe - 1) due = true;
      }
      if (due && !(await check())) return { steps, stoppedByGuardrail: true, lastLoss };
    }
  }
  return { steps, stoppedByGuardrail: false, lastLoss };
}

/** A random class different from y (uniform over the other C - 1 classes). */
export function randomOtherClass(numClasses: number): (y: number, rng: Rng) => number {
  return (y, rng) => {
    const r = rng.nextInt(numClasses - 1);
    return r >= y ? r + 1 : r;
  };
}
