// Fixtures of the unlearning UI tests: methods as the registry describes them, metrics, a run and a
// comparison with two seeds.
import type { ComparisonDetail, MethodInfo, MetricInfo, MetricSummary, RunSummary } from '../../preload/api';

export const METHODS: MethodInfo[] = [
  { id: 'retrain', name: 'Retrain', exact: true, scope: 'any', description: 'Retrain from scratch on the retain set.', source: 'reference', gradientBased: true, params: [] },
  {
    id: 'salun',
    name: 'SalUn',
    exact: false,
    scope: 'any',
    description: 'Saliency-masked random labels.',
    source: 'Fan et al. 2024',
    gradientBased: true,
    params: [
      { name: 'maskFraction', type: 'number', default: 0.5, description: 'fraction of weights that may change', min: 0, minExclusive: true, max: 1 },
      { name: 'epochs', type: 'integer', default: 10, description: 'passes over forget + retain', min: 1, max: 1000 },
      { name: 'lr', type: 'number', default: 0.013, description: 'learning rate', min: 0, minExclusive: true, max: 10 },
    ],
  },
  {
    id: 'toy',
    name: 'Toy <b>method</b>',
    exact: false,
    scope: 'any',
    description: 'A method with every kind of parameter.',
    source: 'test',
    gradientBased: false,
    params: [
      { name: 'project', type: 'boolean', default: false, description: 'GU projection' },
      { name: 'mode', type: 'enum', default: 'soft', description: 'how hard', options: ['soft', 'hard'] },
    ],
  },
];

export const METRICS: MetricInfo[] = [
  { id: 'forget-accuracy', name: 'Forget acc.', unit: '%', formula: 'FA = 100 · mean[argmax f(x) = y] over D_f', source: 'SalUn', better: 'closer-to-retrain' },
  { id: 'retain-accuracy', name: 'Retain acc.', unit: '%', formula: 'RA over D_r', source: 'SalUn', better: 'higher' },
  { id: 'test-accuracy', name: 'Test acc.', unit: '%', formula: 'TA over D_t', source: 'SalUn', better: 'higher' },
  { id: 'mia-efficacy', name: 'MIA-Efficacy', unit: '%', formula: 'SVC on confidences', source: 'SalUn code', better: 'closer-to-retrain' },
  { id: 'avg-gap', name: 'Avg. Gap', unit: '%', formula: 'mean |Δ| of FA, RA, TA, MIA', source: 'SalUn', better: 'lower' },
  { id: 'tow', name: 'ToW', unit: 'ratio', formula: '(1-ΔFA)(1-ΔRA)(1-ΔTA)', source: 'Zhao 2024', better: 'higher' },
  { id: 'run-time', name: 'Run time', unit: 's', formula: 'wall time of the method', source: 'Lethe', better: 'lower' },
  { id: 'klom', name: 'KLoM', unit: 'nats', formula: 'KL of margins', source: 'Georgiev 2024', better: 'lower' },
];

export function run(over: Partial<RunSummary> = {}): RunSummary {
  return {
    id: 'salun-1',
    type: 'unlearn',
    method: { id: 'salun', name: 'SalUn', exact: false },
    seed: 0,
    model: 'cnn-trained',
    forgetSet: 'fs-1',
    output: 'cnn-trained-salun-s0',
    summary: { forgetAccuracy: 3.5, retainAccuracy: 91.25, testAccuracy: 89 },
    seconds: 12.5,
    guardrailTripped: false,
    createdAt: '2026-11-24T10:00:00.000Z',
    ...over,
  };
}

const s = (mean: number | null, half: number, n: number, gap: number | null, missing?: string): MetricSummary => ({
  values: [],
  mean,
  sd: null,
  lo: mean === null ? null : mean - half,
  hi: mean === null ? null : mean + half,
  n,
  gapToRetrain: gap,
  ...(missing ? { missing } : {}),
});

export const COMPARISON: ComparisonDetail = {
  id: 'cmp-1',
  format: 'lethe.comparison/1',
  name: 'class 0 <script>',
  refs: { forgetSet: { kind: 'forgetSets', id: 'fs-1', sha256: 'a' }, dataset: { kind: 'datasets', id: 'd', sha256: 'b' }, original: { kind: 'models', id: 'cnn-trained', sha256: 'c' } },
  forgetSetName: 'class 0',
  datasetName: 'Fashion-MNIST',
  classNames: [],
  counts: { train: 60000, forget: 6000, retain: 54000, heldOut: 1000, test: 10000, notTrained: 0 },
  seeds: 2,
  metrics: METRICS,
  entries: [
    { key: 'retrain', label: 'Retrain', role: 'reference', method: null, runs: [], extras: {}, metrics: { 'forget-accuracy': s(0, 0, 2, null), 'tow': s(null, 0, 0, null, 'needs the retrain reference') } },
    { key: 'salun', label: 'SalUn', role: 'unlearned', method: null, runs: [], extras: {}, metrics: { 'forget-accuracy': s(3.5, 1.25, 2, 3.5), 'tow': s(0.91234, 0.01, 2, null), 'run-time': s(12.5, 0, 1, null) } },
  ],
  createdAt: '2026-11-24T10:00:00.000Z',
};
