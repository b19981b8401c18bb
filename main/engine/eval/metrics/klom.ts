import { binnedKl } from '../klom';
import { logitMargin } from '../quantities';
import { summarize } from '../util';
import { SPLIT_NAMES, SPLIT, type MetricDescriptor, type ModelOutputs } from '../types';

/** KLoM of every row: KL(P_u ‖ P_r) of the binned logit margins (quantities.ts logitMargin) under the N unlearned and N retrained models. */
export function klomPerRow(unlearned: ModelOutputs[], retrained: ModelOutputs[]): Float64Array {
  const n = unlearned[0].n;
  const out = new Float64Array(n);
  const u = new Float64Array(unlearned.length);
  const r = new Float64Array(retrained.length);
  for (let i = 0; i < n; i++) {
    unlearned.forEach((m, j) => (u[j] = logitMargin(m.logits, m.numClasses, i, m.labels[i])));
    retrained.forEach((m, j) => (r[j] = logitMargin(m.logits, m.numClasses, i, m.labels[i])));
    out[i] = binnedKl(u, r);
  }
  return out;
}

export const metric: MetricDescriptor = {
  id: 'klom',
  name: 'KLoM (median over D_f)',
  unit: 'nats',
  formula: 'median over D_f of KL(P_u ‖ P_r) between 20-bin histograms (shared range, margins clipped to ±100, P_r floored at 1e-5 where P_u > 0) of the margin z_y − logsumexp_{k≠y} z_k under N unlearned (P_u) and N retrained (P_r) models; extra: distribution per split',
  source: 'KLoM, Attribute-to-Delete (Georgiev et al. 2024); data-unlearning-bench src/eval.py compute_binned_KL_div / kl_from_margins',
  better: 'lower',
  needs: ['ensemble'],
  compute({ ensemble }) {
    const e = ensemble!;
    const N = e.unlearned.length;
    if (N < 2) return { value: null, missing: `needs N ≥ 2 models of each kind (has ${N})` };
    const per = klomPerRow(e.unlearned, e.retrained);
    const split = e.unlearned[0].split;
    const perSplit: Record<string, ReturnType<typeof summarize>> = {};
    let undefinedRows = 0;
    for (const s of SPLIT_NAMES) {
      const v: number[] = [];
      per.forEach((x, i) => {
        if (split[i] !== SPLIT[s]) return;
        if (Number.isNaN(x)) undefinedRows++;
        else v.push(x);
      });
      perSplit[s] = summarize(v);
    }
    const f = perSplit.forget;
    const extra = { N, perSplit, ...(undefinedRows ? { undefinedRows } : {}) };
    return f.median === null ? { value: null, missing: 'no forget rows', extra } : { value: f.median, extra };
  },
};
