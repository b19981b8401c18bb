import { predictRow } from '../util';
import { SPLIT_NAMES, SPLIT, type MetricDescriptor } from '../types';

export const metric: MetricDescriptor = {
  id: 'confusion',
  name: 'Confusion matrices',
  unit: '',
  formula: 'per split, M[y][ŷ] = number of rows with true class y and predicted class ŷ = argmax_k z_k (a table, not a number: value is always null, the matrices are in extra)',
  source: 'standard',
  better: 'none',
  needs: [],
  compute({ model }) {
    const C = model.numClasses;
    const matrices: Record<string, number[][]> = {};
    for (const s of SPLIT_NAMES) {
      const M = Array.from({ length: C }, () => new Array(C).fill(0));
      for (let i = 0; i < model.n; i++) if (model.split[i] === SPLIT[s]) M[model.labels[i]][predictRow(model, i)]++;
      matrices[s] = M;
    }
    return { value: null, extra: { matrices, note: 'rows = true class, columns = predicted class' } };
  },
};
