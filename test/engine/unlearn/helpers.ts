// Shared helper for unlearning-method tests: a small MLP trained in about a second on seeded,
// synthetic, separable data (Gaussian clusters, one per class), split into D_f / D_r / held-out
// retain slice / test the way run.ts expects, plus small evaluation helpers. Everything is seeded, so
// every call with the same options gives byte-identical data and an identical original model.
//
//   const w = await smallWorkbench({ forget: { kind: 'class', classes: [0] } });
//   const out = await runMethod({ ...w.input, methodId: 'scrub', params: { epochs: 3 } });
//   const before = await w.accuracy(w.original, w.forget);  const after = await w.accuracy(out.model, w.forget);

import type { Model } from '../../../main/engine/onnx/ir';
import { buildMlp } from '../../../main/engine/models';
import { detectTrainable } from '../../../main/engine/models/import';
import { Trainer } from '../../../main/engine/train/trainer';
import { evaluateModel, type EvaluationResult } from '../../../main/engine/train/evaluator';
import { type ArrayDataset, exampleSize } from '../../../main/engine/train/data';
import { Rng } from '../../../main/engine/train/rng';
import type { RunMethodInput } from '../../../main/engine/unlearn/run';
import type { MethodContext, Recipe } from '../../../main/engine/unlearn/types';
import type { Guardrail } from '../../../main/engine/unlearn/guardrail';
import type { TrainerOptions } from '../../../main/engine/train/trainer';

export interface WorkbenchOptions {
  /** number of classes (default 4) */
  classes?: number;
  /** training examples per class (default 150) */
  perClass?: number;
  /** test examples per class (default 50) */
  testPerClass?: number;
  /** input features (default 16) */
  dim?: number;
  /** hidden layer widths (default [32]) */
  hidden?: number[];
  /** within-class standard deviation; class means are ~N(0, 1) per feature (default 1: ~99% test accuracy, not saturated) */
  noise?: number;
  /** what to forget: whole classes, or a random fraction of the training set (default class 0) */
  forget?: { kind: 'class'; classes: number[] } | { kind: 'random'; fraction: number };
  /** held-out retain slice for the guardrail (default 60 examples) */
  sliceSize?: number;
  /** original training: epochs (default 10) and Adam learning rate (default 0.005); more makes the softmax saturate (forget CE ~0), where gradient methods barely move */
  epochs?: number;
  lr?: number;
  seed?: number;
}

export interface Workbench {
  /** what runMethod needs, except methodId and params */
  input: Omit<RunMethodInput, 'methodId' | 'params'>;
  original: Model;
  init: Model;
  train: ArrayDataset;
  forget: ArrayDataset;
  retain: ArrayDataset;
  retainSlice: ArrayDataset;
  test: ArrayDataset;
  numClasses: number;
  forgottenClasses: number[];
  /** accuracy in % of a model on a dataset */
  accuracy(model: Model, ds: ArrayDataset): Promise<number>;
  /** full evaluation (logits, losses, predictions) */
  evaluate(model: Model, ds: ArrayDataset): Promise<EvaluationResult>;
  /** the rows of a dataset, by index */
  subset(ds: ArrayDataset, idx: ArrayLike<number>): ArrayDataset;
}

/**
 * A MethodContext over a workbench for calling a method's run() or the loop directly: CPU, 1 thread,
 * seed 0, the guardrail off, no progress or log; `over` replaces any field, `trainer` adds options to
 * every trainer the method creates (e.g. stepsPerRun).
 */
export function methodContext(w: Workbench, over: Partial<MethodContext> = {}, trainer: Partial<TrainerOptions> = {}): MethodContext {
  const trainable = w.input.trainable;
  const seed = over.seed ?? 0;
  return {
    model: w.original,
    initModel: w.init,
    trainable,
    recipe: w.input.recipe,
    recipeKnown: true,
    forget: w.forget,
    retain: w.retain,
    numClasses: w.numClasses,
    forgottenClasses: [],
    seed,
    provider: 'cpu',
    threads: 1,
    signal: new AbortController().signal,
    guardrail: { active: false } as unknown as Guardrail,
    progress: () => {},
    log: () => {},
    createTrainer: (o) => {
      const { from, ...rest } = o;
      return Trainer.create({ seed, trainable, provider: 'cpu', threads: 1, ...rest, ...trainer, model: from ?? w.original });
    },
    ...over,
  };
}

/** Rows `idx` of a dataset (labels as Int32Array). */
export function subset(ds: ArrayDataset, idx: ArrayLike<number>): ArrayDataset {
  const per = exampleSize(ds);
  const n = idx.length;
  const x = new Float32Array(n * per);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const j = idx[i];
    x.set(ds.x.subarray(j * per, (j + 1) * per), i * per);
    y[i] = Number(ds.y[j]);
  }
  return { x, y, n, exampleShape: [...ds.exampleShape] };
}

/** Gaussian clusters: class means ~N(0,1)^dim (seeded), examples mean + noise * N(0,1). */
export function clusters(rng: Rng, means: Float32Array, classes: number, dim: number, perClass: number, noise: number): ArrayDataset {
  const n = classes * perClass;
  const x = new Float32Array(n * dim);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    y[i] = c;
    for (let k = 0; k < dim; k++) x[i * dim + k] = means[c * dim + k] + noise * rng.nextNormal();
  }
  return { x, y, n, exampleShape: [dim] };
}

const cache = new Map<string, Promise<Workbench>>();

/** A trained small model and its unlearning data (cached per options within a test file). */
export function smallWorkbench(o: WorkbenchOptions = {}): Promise<Workbench> {
  const key = JSON.stringify(o);
  let p = cache.get(key);
  if (!p) {
    p = build(o);
    cache.set(key, p);
  }
  return p;
}

async function build(o: WorkbenchOptions): Promise<Workbench> {
  const classes = o.classes ?? 4;
  const dim = o.dim ?? 16;
  const seed = o.seed ?? 1;
  const noise = o.noise ?? 1;
  const rng = new Rng(seed, 11);
  const means = Float32Array.from({ length: classes * dim }, () => rng.nextNormal());
  const train = clusters(rng, means, classes, dim, o.perClass ?? 150, noise);
  const test = clusters(rng, means, classes, dim, o.testPerClass ?? 50, noise);

  const init = buildMlp({ inputShape: [dim], hidden: o.hidden ?? [32], classes, seed });
  const recipe: Recipe = { optimizer: { kind: 'adam' }, lr: o.lr ?? 0.005, schedule: null, epochs: o.epochs ?? 10, batchSize: 32, seed };
  const t = await Trainer.create({ model: init, optimizer: recipe.optimizer, lr: recipe.lr, batchSize: recipe.batchSize, seed });
  let original: Model;
  try {
    await t.fit(train, { epochs: recipe.epochs });
    original = t.inferenceModel();
  } finally {
    await t.dispose();
  }

  const f = o.forget ?? { kind: 'class', classes: [0] };
  const inForget = new Uint8Array(train.n);
  if (f.kind === 'class') {
    for (let i = 0; i < train.n; i++) if (f.classes.includes(Number(train.y[i]))) inForget[i] = 1;
  } else {
    const perm = new Rng(seed, 12).permutation(train.n);
    const k = Math.max(1, Math.round(train.n * f.fraction));
    for (let i = 0; i < k; i++) inForget[perm[i]] = 1;
  }
  const forgetIdx: number[] = [];
  const retainIdx: number[] = [];
  for (let i = 0; i < train.n; i++) (inForget[i] ? forgetIdx : retainIdx).push(i);
  // the guardrail's held-out slice: a seeded sample of the retain rows
  const perm = new Rng(seed, 13).permutation(retainIdx.length);
  const sliceN = Math.min(o.sliceSize ?? 60, Math.floor(retainIdx.length / 4));
  const sliceIdx = Array.from(perm.subarray(0, sliceN), (p) => retainIdx[p]).sort((a, b) => a - b);
  const restIdx = Array.from(perm.subarray(sliceN), (p) => retainIdx[p]).sort((a, b) => a - b);
  const forget = subset(train, forgetIdx);
  const retain = subset(train, restIdx);
  const retainSlice = subset(train, sliceIdx);
  // a class is forgotten when every one of its training examples is in the forget set
  const forgottenClasses: number[] = [];
  for (let c = 0; c < classes; c++) {
    let all = true;
    let any = false;
    for (let i = 0; i < train.n; i++) {
      if (Number(train.y[i]) !== c) continue;
      any = true;
      if (!inForget[i]) all = false;
    }
    if (any && all) forgottenClasses.push(c);
  }
  const evaluate = (model: Model, ds: ArrayDataset) => evaluateModel(model, ds, { batchSize: 512 });
  return {
    input: {
      model: original,
      initModel: init,
      trainable: detectTrainable(original).trainable,
      recipe,
      recipeKnown: true,
      forget,
      retain,
      retainSlice,
      numClasses: classes,
      forgottenClasses,
      seed: 0,
    },
    original,
    init,
    train,
    forget,
    retain,
    retainSlice,
    test,
    numClasses: classes,
    forgottenClasses,
    evaluate,
    accuracy: async (model, ds) => (await evaluate(model, ds)).accuracy * 100,
    subset,
  };
}

/** Mean over rows of KL(p ‖ q) between the softmaxes of two logit matrices [n, C]. */
export function meanKl(pLogits: Float32Array, qLogits: Float32Array, n: number, c: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const lp = logSoftmax(pLogits.subarray(i * c, (i + 1) * c));
    const lq = logSoftmax(qLogits.subarray(i * c, (i + 1) * c));
    for (let k = 0; k < c; k++) s += Math.exp(lp[k]) * (lp[k] - lq[k]);
  }
  return s / n;
}

export function logSoftmax(z: ArrayLike<number>): number[] {
  let m = -Infinity;
  for (let k = 0; k < z.length; k++) m = Math.max(m, z[k]);
  let s = 0;
  for (let k = 0; k < z.length; k++) s += Math.exp(z[k] - m);
  const lse = m + Math.log(s);
  return Array.from(z, (v) => v - lse);
}

/** argmax of each row of a logit matrix [n, C] */
export function argmaxRows(logits: Float32Array, n: number, c: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let k = 1; k < c; k++) if (logits[i * c + k] > logits[i * c + b]) b = k;
    out[i] = b;
  }
  return out;
}
