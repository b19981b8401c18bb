// Penultimate-layer features for the embedding view: a fixed, seeded, class-stratified sample of the
// evaluation rows (the same rows for every model of a comparison), each model's features on it, and
// their 2-D PCA projection (pca.ts).
//
// The features come from the engine's one inference path (train/evaluator.ts: the evaluation graph
// returns, next to the logits, the input of the last Gemm/MatMul node, or the value a built-in
// architecture names in its 'lethe.features' metadata): no second copy of the forward pass.

import type { Model } from '../onnx/ir';
import type { ArrayDataset } from '../train/data';
import { evaluateModel, type EvaluateOptions } from '../train/evaluator';
import { Rng } from '../train/rng';
import { sha256Hex } from '../util/sha256';
import { pca } from './pca';
import { SPLIT_NAMES, type SplitName } from './types';

/** Examples per split in the embedding sample (2,000 in all when every split is large enough). */
export const EMBEDDING_SAMPLE_SIZES: Readonly<Record<SplitName, number>> = { forget: 500, retain: 1000, test: 500 };

export interface EmbeddingSampleRows {
  /** ascending row indices into the comparison's stored outputs (forget, retain, test order) */
  rows: Int32Array;
  /** SHA-256 of the sampled example ids, one per line in row order: the sample's identity */
  idsSha256: string;
}

/**
 * A fixed, seeded, class-stratified sample of rows: in each split, `sizes[split]` rows (all of them
 * when the split is smaller), shared among the classes in proportion to their counts in that split
 * (largest remainder; ties to the lower class), and drawn within each class by a seeded permutation.
 */
export function embeddingSample(
  rows: { split: ArrayLike<number>; labels: ArrayLike<number>; ids: readonly string[] },
  sizes: Readonly<Record<SplitName, number>> = EMBEDDING_SAMPLE_SIZES,
  seed = 0,
): EmbeddingSampleRows {
  const picked: number[] = [];
  SPLIT_NAMES.forEach((name, code) => {
    const byClass = new Map<number, number[]>();
    for (let i = 0; i < rows.split.length; i++) {
      if (rows.split[i] !== code) continue;
      const y = Number(rows.labels[i]);
      const list = byClass.get(y) ?? [];
      list.push(i);
      byClass.set(y, list);
    }
    const classes = [...byClass.keys()].sort((a, b) => a - b);
    const total = classes.reduce((s, c) => s + byClass.get(c)!.length, 0);
    const want = Math.min(Math.max(0, Math.floor(sizes[name])), total);
    if (!want) return;
    const quota = classes.map((c) => (want * byClass.get(c)!.length) / total);
    const take = quota.map(Math.floor);
    let left = want - take.reduce((a, b) => a + b, 0);
    const order = classes.map((_, i) => i).sort((a, b) => quota[b] - take[b] - (quota[a] - take[a]) || a - b);
    for (const i of order) {
      if (left <= 0) break;
      take[i]++;
      left--;
    }
    classes.forEach((c, i) => {
      const list = byClass.get(c)!;
      const perm = new Rng(seed, 9_100_000 + code * 10_000 + c).permutation(list.length);
      for (let j = 0; j < take[i]; j++) picked.push(list[perm[j]]);
    });
  });
  picked.sort((a, b) => a - b);
  const ids = picked.map((r) => rows.ids[r]);
  return { rows: Int32Array.from(picked), idsSha256: sha256Hex(ids.join('\n')) };
}

/**
 * Penultimate-layer features of every example of `ds` ([n, dim] row-major), through the evaluation
 * graph (one inference path): by default the input of the model's last Gemm/MatMul node.
 */
export async function penultimateFeatures(model: Model, ds: ArrayDataset, o: Omit<EvaluateOptions, 'features'> = {}): Promise<{ data: Float32Array; dim: number; n: number }> {
  const r = await evaluateModel(model, ds, { ...o, features: true });
  if (!r.features) {
    if (ds.n === 0) return { data: new Float32Array(0), dim: 0, n: 0 };
    throw new Error('the model has no penultimate layer Lethe can find (no Gemm or MatMul node reads a computed value, and no lethe.features metadata)');
  }
  return { data: r.features.data, dim: r.features.dim, n: ds.n };
}

export interface Projection2d {
  /** [n, 2] row-major PCA scores */
  points: Float64Array;
  /** share of the feature variance along each axis */
  explainedVarianceRatio: [number, number];
  /** feature dimension */
  dim: number;
}

/** The 2-D PCA projection of features [n, dim] (a 1-D feature gets a zero second axis). */
export function project2d(features: { data: ArrayLike<number>; dim: number; n: number }): Projection2d {
  const { n, dim } = features;
  if (n === 0) return { points: new Float64Array(0), explainedVarianceRatio: [0, 0], dim };
  const p = pca(features.data, n, dim, 2);
  const points = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) {
    points[i * 2] = p.scores[i * p.k];
    points[i * 2 + 1] = p.k > 1 ? p.scores[i * p.k + 1] : 0;
  }
  return { points, explainedVarianceRatio: [p.explainedVarianceRatio[0] ?? 0, p.explainedVarianceRatio[1] ?? 0], dim };
}
