// Data sources of an unlearning run, read straight from the dataset store (no NPZ round trip):
//   D      = the examples the original model was trained on: the dataset's train split, or the seeded
//            class-stratified subset its training recorded (maxTrainExamples, seed);
//   D_f    = forget set ∩ D;   D_r = D \ D_f (a first-class source: "train split minus forget set");
//   D_t    = the dataset's test split.
// Indices are dataset storage indices; every list is ascending.

import type { DatasetReader } from '../data/store';
import { SPLIT_CODE } from '../data/store';
import { Prng, sampleWithoutReplacement } from '../data/prng';
import { exampleSize, type ArrayDataset } from '../train/data';
import { Rng } from '../train/rng';
import { EngineError } from '../errors';

/** The train split, or a seeded class-stratified subset of `limit` examples (the one model training uses). */
export function trainingIndices(labels: Int32Array, splits: Uint8Array, classes: number, limit: number | undefined, seed: number): number[] {
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < labels.length; i++) if (splits[i] === SPLIT_CODE.train) byClass[labels[i]]?.push(i);
  const total = byClass.reduce((a, c) => a + c.length, 0);
  if (limit === undefined || limit >= total) return byClass.flat().sort((a, b) => a - b);
  const exact = byClass.map((c) => (c.length * limit) / total);
  const quota = exact.map(Math.floor);
  let left = limit - quota.reduce((a, b) => a + b, 0);
  const order = exact.map((e, c) => [e - Math.floor(e), c] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, c] of order) {
    if (left <= 0) break;
    if (quota[c] < byClass[c].length) {
      quota[c]++;
      left--;
    }
  }
  const rng = new Prng(seed);
  return byClass.flatMap((c, k) => sampleWithoutReplacement(c, quota[k], rng)).sort((a, b) => a - b);
}

export interface UnlearningIndices {
  train: number[];
  forget: number[];
  retain: number[];
  test: number[];
  /** forget-set examples that were not in the model's training data (never learned) */
  notTrained: number;
  /** classes of D all of whose examples are in D_f */
  forgottenClasses: number[];
}

export function splitIndices(reader: DatasetReader, forgetIndices: readonly number[], train: readonly number[], numClasses: number): UnlearningIndices {
  const inTrain = new Uint8Array(reader.count);
  for (const i of train) inTrain[i] = 1;
  const isForget = new Uint8Array(reader.count);
  let notTrained = 0;
  for (const i of forgetIndices) {
    if (inTrain[i]) isForget[i] = 1;
    else notTrained++;
  }
  const forget: number[] = [];
  const retain: number[] = [];
  for (const i of train) (isForget[i] ? forget : retain).push(i);
  const test: number[] = [];
  for (let i = 0; i < reader.count; i++) if (reader.splits[i] === SPLIT_CODE.test) test.push(i);
  if (forget.length === 0) {
    throw new EngineError('invalid_argument', forgetIndices.length === 0 ? 'The forget set is empty; there is nothing to unlearn.' : `None of the forget set's ${forgetIndices.length} examples were in the model's training data; there is nothing to unlearn.`);
  }
  if (retain.length === 0) throw new EngineError('invalid_argument', 'The forget set covers every training example; nothing would be left to retain (retrain would have no data).');
  const retainPerClass = new Array(numClasses).fill(0);
  const forgetPerClass = new Array(numClasses).fill(0);
  for (const i of retain) retainPerClass[reader.labels[i]]++;
  for (const i of forget) forgetPerClass[reader.labels[i]]++;
  const forgottenClasses = forgetPerClass.flatMap((c, k) => (c > 0 && retainPerClass[k] === 0 ? [k] : []));
  return { train: [...train], forget, retain, test, notTrained, forgottenClasses };
}

/** A seeded held-out slice of the retain set for the guardrail: [slice, rest]. */
export function holdOut(retain: readonly number[], size: number, seed: number): { slice: number[]; rest: number[] } {
  const k = Math.min(size, Math.floor(retain.length / 10));
  if (k <= 0) return { slice: [], rest: [...retain] };
  const perm = new Rng(seed, 8_000_000).permutation(retain.length);
  const pick = new Uint8Array(retain.length);
  for (let i = 0; i < k; i++) pick[perm[i]] = 1;
  const slice: number[] = [];
  const rest: number[] = [];
  retain.forEach((v, i) => (pick[i] ? slice : rest).push(v));
  return { slice, rest };
}

export async function loadArrays(reader: DatasetReader, indices: readonly number[]): Promise<ArrayDataset> {
  return reader.toArrayDataset(indices);
}

/** Rows `idx` of a dataset as a new dataset (labels as Int32Array). */
export function subsetRows(ds: ArrayDataset, idx: ArrayLike<number>): ArrayDataset {
  const per = exampleSize(ds);
  const x = new Float32Array(idx.length * per);
  const y = new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i];
    x.set(ds.x.subarray(j * per, (j + 1) * per), i * per);
    y[i] = Number(ds.y[j]);
  }
  return { x, y, n: idx.length, exampleShape: [...ds.exampleShape] };
}

/** A seeded sample of up to k rows of a dataset, in row order (the guardrail's forget-accuracy watch). */
export function sampleRows(ds: ArrayDataset, k: number, seed: number): ArrayDataset {
  if (ds.n <= k) return ds;
  const perm = new Rng(seed, 8_300_000).permutation(ds.n);
  const idx = Array.from(perm.subarray(0, k)).sort((a, b) => a - b);
  return subsetRows(ds, idx);
}
