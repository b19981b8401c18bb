// Test helper for the weight-level unlearning methods (l1-sparse, SSD, Fisher forgetting, CF-k, EU-k,
// IU): a small MLP trained in about a second on seeded synthetic Gaussian clusters (one per class),
// split into D_f / D_r / held-out slice / test as run.ts expects, plus weight comparisons. Everything
// is seeded: the same options give byte-identical data and an identical original model.

import type { Model } from '../../../main/engine/onnx/ir';
import { buildMlp } from '../../../main/engine/models';
import { detectTrainable } from '../../../main/engine/models/import';
import { Trainer } from '../../../main/engine/train/trainer';
import { evaluateModel } from '../../../main/engine/train/evaluator';
import { type ArrayDataset, exampleSize } from '../../../main/engine/train/data';
import { Rng } from '../../../main/engine/train/rng';
import type { RunMethodInput } from '../../../main/engine/unlearn/run';
import type { Recipe } from '../../../main/engine/unlearn/types';

export interface BenchOptions {
  classes?: number;
  perClass?: number;
  dim?: number;
  hidden?: number[];
  noise?: number;
  /** forget whole classes, or a seeded random fraction of the training rows */
  forget?: { classes: number[] } | { fraction: number };
  sliceSize?: number;
  epochs?: number;
  seed?: number;
}

export interface Bench {
  input: Omit<RunMethodInput, 'methodId' | 'params'>;
  original: Model;
  init: Model;
  forget: ArrayDataset;
  retain: ArrayDataset;
  test: ArrayDataset;
  accuracy(model: Model, ds: ArrayDataset): Promise<number>;
  meanLoss(model: Model, ds: ArrayDataset): Promise<number>;
}

export function rows(ds: ArrayDataset, idx: ArrayLike<number>): ArrayDataset {
  const per = exampleSize(ds);
  const x = new Float32Array(idx.length * per);
  const y = new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    x.set(ds.x.subarray(idx[i] * per, (idx[i] + 1) * per), i * per);
    y[i] = Number(ds.y[idx[i]]);
  }
  return { x, y, n: idx.length, exampleShape: [...ds.exampleShape] };
}

function gaussianClusters(rng: Rng, means: Float32Array, classes: number, dim: number, perClass: number, noise: number): ArrayDataset {
  const n = classes * perClass;
  const x = new Float32Array(n * dim);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % classes;
    for (let k = 0; k < dim; k++) x[i * dim + k] = means[y[i] * dim + k] + noise * rng.nextNormal();
  }
  return { x, y, n, exampleShape: [dim] };
}

const cache = new Map<string, Promise<Bench>>();

/** A trained small MLP and its unlearning data (cached per options within a test file). */
export function bench(o: BenchOptions = {}): Promise<Bench> {
  const key = JSON.stringify(o);
  if (!cache.has(key)) cache.set(key, build(o));
  return cache.get(key)!;
}

async function build(o: BenchOptions): Promise<Bench> {
  const classes = o.classes ?? 4;
  const dim = o.dim ?? 12;
  const seed = o.seed ?? 3;
  const noise = o.noise ?? 0.7;
  const rng = new Rng(seed, 21);
  const means = Float32Array.from({ length: classes * dim }, () => rng.nextNormal());
  const train = gaussianClusters(rng, means, classes, dim, o.perClass ?? 80, noise);
  const test = gaussianClusters(rng, means, classes, dim, 40, noise);
  const init = buildMlp({ inputShape: [dim], hidden: o.hidden ?? [24, 16], classes, seed });
  const recipe: Recipe = { optimizer: { kind: 'adam' }, lr: 0.01, schedule: null, epochs: o.epochs ?? 25, batchSize: 32, seed };
  const t = await Trainer.create({ model: init, optimizer: recipe.optimizer, lr: recipe.lr, batchSize: recipe.batchSize, seed });
  let original: Model;
  try {
    await t.fit(train, { epochs: recipe.epochs });
    original = t.inferenceModel();
  } finally {
    await t.dispose();
  }
  const f = o.forget ?? { fraction: 0.1 };
  const isForget = new Uint8Array(train.n);
  if ('classes' in f) {
    for (let i = 0; i < train.n; i++) if (f.classes.includes(Number(train.y[i]))) isForget[i] = 1;
  } else {
    const perm = new Rng(seed, 22).permutation(train.n);
    for (let i = 0; i < Math.max(1, Math.round(train.n * f.fraction)); i++) isForget[perm[i]] = 1;
  }
  const forgetIdx: number[] = [];
  const retainIdx: number[] = [];
  for (let i = 0; i < train.n; i++) (isForget[i] ? forgetIdx : retainIdx).push(i);
  const perm = new Rng(seed, 23).permutation(retainIdx.length);
  const sliceN = o.sliceSize ?? 40;
  const slice = rows(train, Array.from(perm.subarray(0, sliceN), (p) => retainIdx[p]).sort((a, b) => a - b));
  const retain = rows(train, Array.from(perm.subarray(sliceN), (p) => retainIdx[p]).sort((a, b) => a - b));
  const forget = rows(train, forgetIdx);
  const forgottenClasses = 'classes' in f ? [...f.classes] : [];
  return {
    input: {
      model: original,
      initModel: init,
      trainable: detectTrainable(original).trainable,
      recipe,
      recipeKnown: true,
      forget,
      retain,
      retainSlice: slice,
      numClasses: classes,
      forgottenClasses,
      seed: 0,
    },
    original,
    init,
    forget,
    retain,
    test,
    accuracy: async (m, ds) => (await evaluateModel(m, ds, { batchSize: 512 })).accuracy * 100,
    meanLoss: async (m, ds) => (await evaluateModel(m, ds, { batchSize: 512 })).meanLoss,
  };
}

/** A float32 initializer's values. */
export function values(m: Model, name: string): Float32Array {
  const t = m.graph.initializers.find((x) => x.name === name);
  if (!t) throw new Error(`no initializer '${name}'`);
  return t.data as Float32Array;
}

/** Byte-for-byte equality of two float arrays. */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

export function l1Norm(m: Model, names: string[]): number {
  let s = 0;
  for (const n of names) for (const v of values(m, n)) s += Math.abs(v);
  return s;
}
