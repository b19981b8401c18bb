import type { MetricDescriptor } from '../types';

export const metric: MetricDescriptor = {
  id: 'run-time',
  name: 'Run time (RTE)',
  unit: 's',
  formula: 'wall-clock seconds of the unlearning procedure alone (evaluation excluded)',
  source: 'RTE as reported by SalUn / l1-sparse (OPTML-Group)',
  better: 'lower',
  needs: ['runSeconds'],
  compute({ runSeconds }) {
    return { value: runSeconds! };
  },
};
