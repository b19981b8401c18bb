// Quantities over an ensemble of N unlearned and N retrained models (seeds 0..N−1), memoised per
// ensemble object so F and the final score share one computation.

import { forgetScoreFromConfs, type ForgetQuality } from './forget-quality';
import { logitMargin } from './quantities';
import { rowsOf, splitAccuracy } from './util';
import type { EvalInputs, ModelOutputs, SplitName } from './types';

type Ensemble = NonNullable<EvalInputs['ensemble']>;

/** φ (the logit margin, quantities.ts logitMargin) of the given rows under one model. */
export function phiRows(m: ModelOutputs, rows: number[]): Float64Array {
  return Float64Array.from(rows, (i) => logitMargin(m.logits, m.numClasses, i, m.labels[i]));
}

const fqMemo = new WeakMap<Ensemble, ForgetQuality>();

export function ensembleForgetQuality(e: Ensemble): ForgetQuality {
  let fq = fqMemo.get(e);
  if (!fq) {
    const rows = rowsOf(e.unlearned[0], 'forget');
    fq = forgetScoreFromConfs(
      e.unlearned.map((m) => phiRows(m, rows)),
      e.retrained.map((m) => phiRows(m, rows)),
    );
    fqMemo.set(e, fq);
  }
  return fq;
}

/** Mean accuracy (%) of a list of models on one split; null if the split is empty. */
export function meanAccuracy(models: ModelOutputs[], split: SplitName): number | null {
  let s = 0;
  for (const m of models) {
    const a = splitAccuracy(m, split);
    if (a === null) return null;
    s += a;
  }
  return s / models.length;
}
