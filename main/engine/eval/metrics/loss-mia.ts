import { crossEntropyRow, rowsOf, seededSample } from '../util';
import { crossValidatedLogRegAccuracy } from '../logreg';
import type { MetricDescriptor, ModelOutputs } from '../types';

export const LOSS_MIA_SEED = 0;
export const LOSS_MIA_FOLDS = 10;

/**
 * The balanced rows of the loss attack: the larger of D_f and D_t is subsampled (seeded Fisher–Yates,
 * mulberry32) to the size of the smaller; the other keeps all its rows in row order.
 */
export function lossMiaRows(m: ModelOutputs, seed = LOSS_MIA_SEED): { forget: number[]; test: number[] } {
  const f = rowsOf(m, 'forget');
  const t = rowsOf(m, 'test');
  const k = Math.min(f.length, t.length);
  return {
    forget: f.length > k ? seededSample(f, k, seed) : f,
    test: t.length > k ? seededSample(t, k, seed + 1) : t,
  };
}

export const metric: MetricDescriptor = {
  id: 'loss-mia',
  name: 'Loss MIA accuracy',
  unit: 'ratio',
  formula: 'mean 10-fold accuracy of LogisticRegression() (L2, C=1, intercept) on the per-example loss −log p_y, D_f (1) vs an equal-size seeded sample of D_t (0), StratifiedKFold(10, shuffle=False); ≈ 0.5 = indistinguishable from unseen data',
  source: 'NeurIPS 2023 Machine Unlearning challenge starting kit (simple_mia); the kit uses StratifiedShuffleSplit(10, random_state=0), Lethe StratifiedKFold without shuffling so every example is tested once and the number is reproducible without numpy',
  better: 'closer-to-retrain',
  needs: [],
  compute({ model }) {
    const rows = lossMiaRows(model);
    const k = rows.forget.length;
    if (k < LOSS_MIA_FOLDS) return { value: null, missing: `needs at least ${LOSS_MIA_FOLDS} forget and ${LOSS_MIA_FOLDS} test rows (has ${k} of the smaller)` };
    const x = [...rows.test, ...rows.forget].map((i) => crossEntropyRow(model, i));
    const y = [...rows.test.map(() => 0), ...rows.forget.map(() => 1)];
    const cv = crossValidatedLogRegAccuracy(x, y, LOSS_MIA_FOLDS);
    return { value: cv.mean, extra: { foldAccuracies: cv.folds, perClassRows: k, seed: LOSS_MIA_SEED } };
  },
};
