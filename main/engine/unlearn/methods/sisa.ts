// SISA (Sharded, Isolated, Sliced, Aggregated; Bourtoule et al. 2021, "Machine Unlearning"): exact
// unlearning by construction. The training data D = D_r ∪ D_f is split into S shards and each shard
// into R slices; one model per shard is trained incrementally slice by slice with a checkpoint after
// every slice; the ensemble aggregates the shard models. Deleting D_f retrains only the shards that
// hold forget examples, each from the checkpoint taken before its first affected slice.
//
// Because Lethe judges a run on its own, one run does both halves: it trains the whole SISA ensemble
// on D ("before", as a deployed SISA model would be), then performs the unlearning request ("after")
// and returns the unlearned ensemble as ONE inference model. The stats say what was retrained, and
// `unlearnSeconds` is the time of the unlearning half alone (the run time includes both halves).
//
// Choices, all data-order independent of D_f so the unlearned ensemble is bit-identical to a SISA
// ensemble trained on D_r from the start (the tests check this):
//   - shard and slice of an example come from two seeded 32-bit hashes of its content (label and the
//     bytes of its features), not from its position in D: the method only receives D_r and D_f as
//     separate arrays, and a content hash is stable under deletion, so removing D_f moves no other
//     example. Shards are therefore balanced in expectation, not exactly equal in size.
//   - within a slice, examples are ordered by hash; step r (1..R) trains on slices 1..r for
//     e' = max(1, round(2e/(R+1))) epochs (the paper's §4.3 choice: the same number of example
//     passes as training on the whole shard for the recipe's e epochs), each epoch in a seeded
//     permutation of its own (stream per shard, step and epoch).
//   - every shard starts from the original's starting point (ctx.initModel) with the original's
//     optimizer, learning rate, batch size, label smoothing and seed (recipe seed + run seed); the
//     recipe's schedule runs on a clock that maps the shard's R·e' epochs onto the recipe's e epochs.
//   - aggregation: the paper's ensemble takes a majority vote of the shard models' labels. Lethe's
//     combined model outputs logits = log of the MEAN of the shard models' softmax probabilities (the
//     aggregation most implementations use: differentiable, no ties, and its logits give the losses,
//     margins and confidences every metric needs; a vote would give one-hot-like outputs).
//   - checkpoints are taken after every slice; within the run only the one each affected shard
//     restarts from is kept in memory (the others are never needed).
//   - a shard left without examples after deletion is dropped from the ensemble.

import { z } from 'zod';
import type { MethodContext, MethodDescriptor } from '../types';
import type { Model } from '../../onnx/ir';
import { combineMeanSoftmax } from '../../onnx/ensemble';
import { bakeInference } from '../../train/bake';
import { type ArrayDataset, exampleSize } from '../../train/data';
import { defaultFeatureValue } from '../../train/eval-graph';
import { lrAt } from '../../train/schedules';
import { Rng } from '../../train/rng';
import type { TrainerCheckpoint } from '../../train/checkpoint';
import type { StepBatch } from '../../train/trainer';
import { stepsThisRun } from '../../train/unroll';
import { field } from './common';
import { EngineError } from '../../errors';

const params = z.object({
  shards: field.int(5, 1, 100, 'S: number of shards, one model each (each shard model sees about 1/S of the data; more shards = cheaper deletions, weaker models)'),
  slices: field.int(5, 1, 100, 'R: slices per shard; a shard model trains on slices 1..r at step r and keeps a checkpoint after every slice (more slices = less to retrain after a deletion)'),
});

export interface SisaParams {
  shards: number;
  slices: number;
}

/** The seeded content hash of one example: two independent 32-bit words. */
export function exampleHash(x: Float32Array, y: number, seed: number): [number, number] {
  const w = new Uint32Array(x.buffer, x.byteOffset, x.length);
  let a = mix(0x811c9dc5 ^ (seed >>> 0) ^ Math.floor(seed / 2 ** 32));
  let b = mix(0x27d4eb2f ^ mix(seed >>> 0) ^ Math.floor(seed / 2 ** 32));
  a = mix(a ^ (y >>> 0));
  b = mix(Math.imul(b ^ (y >>> 0), 0x9e3779b1));
  for (let i = 0; i < w.length; i++) {
    a = Math.imul(a ^ w[i], 0x01000193);
    b = Math.imul(rotl(b ^ w[i], 13), 0x85ebca6b) ^ (b >>> 16);
  }
  return [mix(a ^ w.length), mix(b ^ Math.imul(w.length, 0xc2b2ae35))];
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Shard and slice of every row of a dataset (S shards, R slices, seeded). */
export function sisaAssignment(ds: ArrayDataset, p: SisaParams, seed: number): { shard: Int32Array; slice: Int32Array; hashes: Uint32Array } {
  const per = exampleSize(ds);
  const shard = new Int32Array(ds.n);
  const slice = new Int32Array(ds.n);
  const hashes = new Uint32Array(2 * ds.n);
  for (let i = 0; i < ds.n; i++) {
    const [h1, h2] = exampleHash(ds.x.subarray(i * per, (i + 1) * per), Number(ds.y[i]), seed);
    hashes[2 * i] = h1;
    hashes[2 * i + 1] = h2;
    shard[i] = h1 % p.shards;
    slice[i] = h2 % p.slices;
  }
  return { shard, slice, hashes };
}

/** Epochs per slice step: e' = 2e/(R+1) (same example passes as e epochs on the whole shard). */
export function epochsPerSlice(epochs: number, slices: number): number {
  return Math.max(1, Math.round((2 * epochs) / (slices + 1)));
}

interface Row {
  /** 0 = D_r, 1 = D_f */
  src: 0 | 1;
  i: number;
  h1: number;
  h2: number;
}

export interface SisaHooks {
  /** every optimizer step's batch (x of nb rows), by phase, shard and slice step (0-based) */
  onBatch?(phase: 'train' | 'unlearn', shard: number, step: number, x: Float32Array, nb: number): void;
}

export interface SisaOutcome {
  /** each shard model's trainable weights and running statistics after training on D (null: the shard got no examples) */
  before: (Record<string, Float32Array> | null)[];
  /** the same after the unlearning request (unaffected shards: the very same arrays) */
  after: (Record<string, Float32Array> | null)[];
  /** the shard models' inference form (after), null where dropped */
  models: (Model | null)[];
  /** shards holding forget examples, and the 0-based slice each restarted from */
  affected: { shard: number; fromSlice: number }[];
  stats: Record<string, number>;
  steps: number;
  notes: string[];
}

export async function runSisa(ctx: MethodContext, p: SisaParams, hooks: SisaHooks = {}): Promise<SisaOutcome> {
  const r = ctx.recipe;
  if (!ctx.initModel) throw new EngineError('invalid_argument', 'SISA needs the starting model the original was trained from (it trains its shard models from there); it is not available.');
  const S = p.shards;
  const R = p.slices;
  const notes: string[] = [];
  if (!ctx.recipeKnown) ctx.log('warn', `The original's training recipe is not recorded; SISA trains its shard models with the default recipe (${r.epochs} epochs, lr ${r.lr}).`);
  const seed = r.seed + ctx.seed;
  const per = exampleSize(ctx.retain);
  if (ctx.forget.n && exampleSize(ctx.forget) !== per) throw new Error('forget and retain examples have different shapes');
  const shape = ctx.retain.n ? ctx.retain.exampleShape : ctx.forget.exampleShape;
  const src: ArrayDataset[] = [ctx.retain, ctx.forget];

  // 1. shards and slices: rows ordered by (shard, slice, hash)
  const bins: Row[][][] = Array.from({ length: S }, () => Array.from({ length: R }, () => []));
  for (const s of [0, 1] as const) {
    const a = sisaAssignment(src[s], p, seed);
    for (let i = 0; i < src[s].n; i++) bins[a.shard[i]][a.slice[i]].push({ src: s, i, h1: a.hashes[2 * i], h2: a.hashes[2 * i + 1] });
  }
  for (const sh of bins) for (const sl of sh) sl.sort((u, v) => u.h1 - v.h1 || u.h2 - v.h2 || compareRows(src, per, u, v));
  const firstAffected = bins.map((sh) => sh.findIndex((sl) => sl.some((row) => row.src === 1)));
  const affected = firstAffected.flatMap((f, k) => (f >= 0 ? [{ shard: k, fromSlice: f }] : []));
  const E = epochsPerSlice(r.epochs, R);
  const B = r.batchSize;
  const nD = ctx.retain.n + ctx.forget.n;
  const sched = { baseLr: r.lr, schedule: r.schedule ?? undefined, warmup: r.warmup ?? undefined };
  // the recipe's schedule clock: SISA epoch j of R·E maps to recipe epoch j·e/(R·E) (or its step)
  const origSpe = Math.max(1, Math.ceil(nD / B));
  const lrOf = (j: number, k: number, spe: number) => {
    const epochs = ((j + k / spe) * r.epochs) / (R * E);
    return lrAt(sched, (r.scheduleUnit ?? 'epoch') === 'step' ? Math.floor(epochs * origSpe) : Math.floor(epochs));
  };
  const cumulative = (k: number, step: number, withForget: boolean): Row[] => {
    const rows: Row[] = [];
    for (let j = 0; j <= step; j++) for (const row of bins[k][j]) if (withForget || row.src === 0) rows.push(row);
    return rows;
  };
  const passes = (k: number, from: number, withForget: boolean) => {
    let n = 0;
    for (let s = from; s < R; s++) n += E * cumulative(k, s, withForget).length;
    return n;
  };
  const plan1 = bins.reduce((a, _, k) => a + passes(k, 0, true), 0);
  const plan2 = affected.reduce((a, x) => a + passes(x.shard, x.fromSlice, false), 0);
  let done = 0;

  const trainer = await ctx.createTrainer({ from: ctx.initModel, optimizer: r.optimizer, lr: r.lr, batchSize: B, seed, loss: { labelSmoothing: r.labelSmoothing } });
  // one buffer pair per step of a run (the trainer takes runs of stepsPerRun steps, train/unroll.ts)
  const bufs = Array.from({ length: trainer.stepsPerRun }, () => ({ x: new Float32Array(B * per), y: new BigInt64Array(B) }));
  let steps = 0;
  let stepsUnlearn = 0;
  let lastProgress = 0;
  /** train shard k's slice steps from..R-1; calls keep(step) after each step */
  const trainSteps = async (phase: 'train' | 'unlearn', k: number, from: number, withForget: boolean, after?: (step: number) => void) => {
    for (let s = from; s < R; s++) {
      const rows = cumulative(k, s, withForget);
      const n = rows.length;
      const spe = Math.ceil(n / B);
      for (let e = 0; e < E && n > 0; e++) {
        const perm = new Rng(seed, 3_000_000_000_000 + k * 100_000_000 + s * 100_000 + e).permutation(n);
        for (let b = 0; b < spe; ) {
          if (ctx.signal.aborted) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
          const run: StepBatch[] = [];
          for (let j = 0, len = stepsThisRun(bufs.length, spe - b); j < len; j++, b++) {
            const nb = Math.min(B, n - b * B);
            const { x: xb, y: yb } = bufs[j];
            for (let t = 0; t < nb; t++) {
              const row = rows[perm[b * B + t]];
              const d = src[row.src];
              xb.set(d.x.subarray(row.i * per, (row.i + 1) * per), t * per);
              yb[t] = BigInt(Number(d.y[row.i]));
            }
            const x = xb.subarray(0, nb * per);
            hooks.onBatch?.(phase, k, s, x, nb);
            run.push({ x, y: yb.subarray(0, nb), nb, exampleShape: shape, lr: lrOf(s * E + e, b, spe) });
          }
          const outs = await trainer.trainStepsWith(run);
          const out = outs[outs.length - 1];
          steps += run.length;
          if (phase === 'unlearn') stepsUnlearn += run.length;
          for (const q of run) done += q.nb;
          const now = Date.now();
          if (now - lastProgress > 250) {
            lastProgress = now;
            ctx.progress({ fraction: done / Math.max(1, plan1 + plan2), message: `SISA ${phase === 'train' ? 'training' : 'unlearning'}: shard ${k + 1}/${S}, slice ${s + 1}/${R}, epoch ${e + 1}/${E}`, loss: out.loss });
          }
        }
      }
      after?.(s);
    }
  };
  const before: (Record<string, Float32Array> | null)[] = [];
  const after: (Record<string, Float32Array> | null)[] = [];
  let tUnlearn = 0;
  try {
    const start = trainer.checkpoint();
    const restartFrom = new Map<number, TrainerCheckpoint>();
    // 2. the SISA ensemble on D: every shard slice by slice, a checkpoint after every slice (kept
    //    only where the unlearning restarts: the checkpoint before the shard's first affected slice)
    for (let k = 0; k < S; k++) {
      trainer.restore(start);
      if (firstAffected[k] === 0) restartFrom.set(k, start);
      await trainSteps('train', k, 0, true, (s) => {
        if (s + 1 === firstAffected[k]) restartFrom.set(k, trainer.checkpoint());
      });
      before.push(bins[k].some((sl) => sl.length > 0) ? copy(trainer.weights()) : null);
    }
    // 3. the unlearning request: affected shards retrain their remaining slices without D_f
    const t0 = performance.now();
    for (let k = 0; k < S; k++) {
      if (firstAffected[k] < 0) {
        after.push(before[k]);
        continue;
      }
      trainer.restore(restartFrom.get(k)!);
      await trainSteps('unlearn', k, firstAffected[k], false);
      after.push(bins[k].some((sl) => sl.some((row) => row.src === 0)) ? copy(trainer.weights()) : null);
    }
    tUnlearn = (performance.now() - t0) / 1000;
  } catch (e) {
    await trainer.dispose();
    throw e;
  }
  const base = trainer.model;
  await trainer.dispose();
  const models = after.map((w) => (w ? bakeInference(base, w) : null));
  const empty = after.filter((w) => !w).length;
  if (empty === S) throw new EngineError('invalid_argument', 'SISA: no shard has any retained example; nothing is left to aggregate.');
  if (empty) notes.push(`SISA: ${empty} of ${S} shards hold no retained example and were left out of the ensemble.`);
  const sizes = bins.map((sh) => sh.reduce((a, sl) => a + sl.filter((row) => row.src === 0).length, 0));
  const stats: Record<string, number> = {
    shards: S,
    slices: R,
    epochsPerSlice: E,
    affectedShards: affected.length,
    retrainedSlices: affected.reduce((a, x) => a + (R - x.fromSlice), 0),
    /** example passes fed during the unlearning request (each example once per epoch of each retrained step) */
    retrainedExamples: plan2,
    /** distinct retained examples in the retrained shards */
    retrainedDistinctExamples: affected.reduce((a, x) => a + sizes[x.shard], 0),
    /** example passes of training the ensemble on D */
    trainedExamples: plan1,
    forgetExamples: ctx.forget.n,
    ensembleMembers: S - empty,
    smallestShard: Math.min(...sizes),
    largestShard: Math.max(...sizes),
    trainSteps: steps - stepsUnlearn,
    unlearnSteps: stepsUnlearn,
    unlearnSeconds: tUnlearn,
  };
  ctx.log('info', `SISA: ${affected.length} of ${S} shards held forget examples; retrained ${stats.retrainedSlices} of ${S * R} slice steps (${plan2} example passes against ${plan1} for the whole ensemble).`);
  return { before, after, models, affected, stats, steps, notes };
}

function compareRows(src: ArrayDataset[], per: number, u: Row, v: Row): number {
  const a = src[u.src];
  const b = src[v.src];
  const ya = Number(a.y[u.i]);
  const yb = Number(b.y[v.i]);
  if (ya !== yb) return ya - yb;
  for (let t = 0; t < per; t++) {
    const d = a.x[u.i * per + t] - b.x[v.i * per + t];
    if (d) return d;
  }
  return 0;
}

function copy(w: Record<string, Float32Array>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(w).map(([k, v]) => [k, new Float32Array(v)]));
}

export const sisa: MethodDescriptor<typeof params> = {
  id: 'sisa',
  name: 'SISA',
  exact: true,
  scope: 'any',
  gradientBased: true,
  description:
    "Exact unlearning by design: the training data is split into S shards and each shard into R slices; one model per shard trains slice by slice from the original's starting point with the original's recipe, keeping a checkpoint after every slice. A deletion retrains only the shards that held forget examples, each from its last checkpoint before the first affected slice. The run trains the ensemble on all training data, then serves the deletion; the result is one model whose output is the mean of the shard models' probabilities.",
  source: 'Bourtoule et al. 2021, "Machine Unlearning" (IEEE S&P): shards, slices, e\' = 2e/(R+1) epochs per slice step; S = 5 and R = 5 are Lethe defaults inside the ranges the paper evaluates (S up to 20, R up to 20); mean-probability aggregation instead of its label vote',
  params,
  async run(ctx, p) {
    const out = await runSisa(ctx, p);
    const members = out.models.flatMap((m, k) => (m ? [{ m, k }] : []));
    const base = combineMeanSoftmax(
      members.map((x) => x.m),
      {
        prefix: (i) => `shard${members[i].k}/`,
        features: (i) => defaultFeatureValue(members[i].m.graph, members[i].m.metadata),
        metadata: { 'lethe.ensemble': JSON.stringify({ kind: 'sisa', aggregation: 'mean-softmax', shards: p.shards, slices: p.slices, members: members.map((x) => x.k) }) },
        name: 'sisa_ensemble',
      },
    );
    return { weights: {}, base, stats: out.stats, notes: out.notes, steps: out.steps };
  },
};
