import { linearCka } from '../cka';
import { SPLIT_NAMES, SPLIT, type LayerActivations, type MetricDescriptor } from '../types';

function nanToNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function compare(a: LayerActivations, others: LayerActivations[] | undefined, splitRows: Record<string, number[]> | null) {
  const b = others?.find((l) => l.layer === a.layer);
  if (!b) return null;
  const all = nanToNull(linearCka(a.data, a.dim, b.data, b.dim));
  const perSplit: Record<string, number | null> = {};
  if (splitRows) for (const [s, rows] of Object.entries(splitRows)) perSplit[s] = rows.length >= 2 ? nanToNull(linearCka(a.data, a.dim, b.data, b.dim, rows)) : null;
  return { all, ...(splitRows ? { perSplit } : {}) };
}

export const metric: MetricDescriptor = {
  id: 'layer-cka',
  name: 'Linear CKA to retrain (last layer)',
  unit: 'ratio',
  formula: 'CKA(X, Y) = ‖Yᵀ X‖_F² / (‖Xᵀ X‖_F ‖Yᵀ Y‖_F) on column-centred activations of the same m sample rows (X = judged model, Y = retrain reference), for the last listed layer; extra: every layer vs reference and vs original, per split of the sample',
  source: 'linear CKA (Kornblith et al. 2019), layer-wise as in the Unlearning Comparator (Lee et al. 2025)',
  better: 'higher',
  needs: ['activations'],
  compute({ activations }) {
    const act = activations!;
    if (!act.model.length) return { value: null, missing: 'no layers listed' };
    let splitRows: Record<string, number[]> | null = null;
    if (act.sampleSplit) {
      splitRows = {};
      for (const s of SPLIT_NAMES) {
        const rows: number[] = [];
        act.sampleSplit.forEach((c, i) => c === SPLIT[s] && rows.push(i));
        splitRows[s] = rows;
      }
      splitRows.train = [...splitRows.forget, ...splitRows.retain].sort((a, b) => a - b);
    }
    const layers = act.model.map((l) => ({ layer: l.layer, vsReference: compare(l, act.reference, splitRows), vsOriginal: compare(l, act.original, splitRows) }));
    const last = layers[layers.length - 1];
    if (!act.reference) return { value: null, missing: "needs the retrain reference's activations", extra: { layers } };
    if (!last.vsReference) return { value: null, missing: `the reference has no activations for layer "${last.layer}"`, extra: { layers } };
    const v = last.vsReference.all;
    return v === null ? { value: null, missing: 'CKA is undefined (a constant layer)', extra: { layers } } : { value: v, extra: { layer: last.layer, layers } };
  },
};
