// The one list of evaluation metrics. Adding a metric = one file under ./metrics + one line here.

import { validateInputs } from './util';
import type { EvalInputs, MetricDescriptor, MetricNeed, MetricValue } from './types';
import { metric as forgetAccuracy } from './metrics/forget-accuracy';
import { metric as relearn } from './metrics/relearn-forget-accuracy';
import { metric as retainAccuracy } from './metrics/retain-accuracy';
import { metric as testAccuracy } from './metrics/test-accuracy';
import { metric as unlearningAccuracy } from './metrics/unlearning-accuracy';
import { metric as perClassAccuracy } from './metrics/per-class-accuracy';
import { metric as confusion } from './metrics/confusion';
import { metric as miaEfficacy } from './metrics/mia-efficacy';
import { metric as miaEfficacyEntropy } from './metrics/mia-efficacy-entropy';
import { metric as miaEfficacyMEntropy } from './metrics/mia-efficacy-m-entropy';
import { metric as lossMia } from './metrics/loss-mia';
import { metric as logitConfidence } from './metrics/logit-confidence';
import { metric as avgGap } from './metrics/avg-gap';
import { metric as tow } from './metrics/tow';
import { metric as klToRetrain } from './metrics/kl-to-retrain';
import { metric as jsToRetrain } from './metrics/js-to-retrain';
import { metric as layerCka } from './metrics/layer-cka';
import { metric as forgettingQuality } from './metrics/forgetting-quality';
import { metric as finalScore } from './metrics/final-score';
import { metric as klom } from './metrics/klom';
import { metric as runTime } from './metrics/run-time';

export const METRICS: MetricDescriptor[] = [
  forgetAccuracy,
  retainAccuracy,
  testAccuracy,
  unlearningAccuracy,
  perClassAccuracy,
  confusion,
  miaEfficacy,
  miaEfficacyEntropy,
  miaEfficacyMEntropy,
  lossMia,
  logitConfidence,
  avgGap,
  tow,
  klToRetrain,
  jsToRetrain,
  layerCka,
  forgettingQuality,
  finalScore,
  klom,
  runTime,
  relearn,
];

const NEED_TEXT: Record<MetricNeed, string> = {
  reference: 'needs the retrain reference',
  original: 'needs the original model',
  ensemble: 'needs an ensemble of N unlearned and N retrained models',
  activations: 'needs layer activations',
  runSeconds: 'needs the run time of the method',
  relearning: 'needs the relearning probe (run with the model and D_f)',
};

function hasNeed(inputs: EvalInputs, need: MetricNeed): boolean {
  switch (need) {
    case 'reference':
      return inputs.reference !== undefined;
    case 'original':
      return inputs.original !== undefined;
    case 'ensemble':
      return inputs.ensemble !== undefined && inputs.ensemble.unlearned.length > 0;
    case 'activations':
      return inputs.activations !== undefined;
    case 'runSeconds':
      return inputs.runSeconds !== undefined;
    case 'relearning':
      return inputs.relearning !== undefined;
  }
}

export function getMetric(id: string): MetricDescriptor {
  const m = METRICS.find((d) => d.id === id);
  if (!m) throw new Error(`unknown metric "${id}" (known: ${METRICS.map((d) => d.id).join(', ')})`);
  return m;
}

/**
 * Every metric's value (or those in `ids`, in that order). A metric whose needs are absent gets
 * { value: null, missing }; malformed inputs throw a plain Error before anything is computed.
 */
export function computeMetrics(inputs: EvalInputs, ids?: string[]): Record<string, MetricValue> {
  const list = ids ? ids.map(getMetric) : METRICS;
  validateInputs(inputs);
  const out: Record<string, MetricValue> = {};
  for (const d of list) {
    const lacking = d.needs.find((n) => !hasNeed(inputs, n));
    out[d.id] = lacking ? { value: null, missing: NEED_TEXT[lacking] } : d.compute(inputs);
  }
  return out;
}
