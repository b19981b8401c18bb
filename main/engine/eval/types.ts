// Data shapes of the evaluation suite: every metric is a pure function of stored per-example outputs
// (labels, split codes and logits of each model on the same rows in the same order) and, for a few,
// of layer activations on a fixed sample, an ensemble of models, or the method's run time.

export const SPLIT = { forget: 0, retain: 1, test: 2 } as const;
export type SplitName = keyof typeof SPLIT;
export const SPLIT_NAMES: readonly SplitName[] = ['forget', 'retain', 'test'];

/** Per-example outputs of one model on the evaluation examples (forget, retain and test rows, in a fixed order shared by every model of a comparison). */
export interface ModelOutputs {
  split: Uint8Array; // SPLIT code per row
  labels: Int32Array; // true class per row
  logits: Float32Array; // row-major [n, numClasses]
  numClasses: number;
  n: number;
}

export interface LayerActivations {
  layer: string;
  dim: number;
  data: Float32Array /* [m, dim] on a fixed sample of m examples, same rows for every model */;
}

export interface EvalInputs {
  model: ModelOutputs; // the model being judged
  reference?: ModelOutputs; // the retrain reference (θ_r)
  original?: ModelOutputs; // θ_o
  ensemble?: { unlearned: ModelOutputs[]; retrained: ModelOutputs[] }; // N models each, seeds 0..N-1
  activations?: { model: LayerActivations[]; reference?: LayerActivations[]; original?: LayerActivations[]; sampleSplit?: Uint8Array };
  runSeconds?: number; // wall time of the unlearning method alone
  /** the relearning probe's curve for this model (engine/unlearn/relearn.ts) */
  relearning?: { steps: number[]; forgetAccuracy: number[]; probeSize: number; evalSize: number };
}

export interface MetricValue {
  value: number | null;
  /** why null (e.g. "needs the retrain reference") */
  missing?: string;
  extra?: Record<string, unknown>;
}

export type MetricNeed = 'reference' | 'original' | 'ensemble' | 'activations' | 'runSeconds' | 'relearning';

/** The scalar feature a SalUn-style MIA SVC is fitted on (defined in mia.ts: miaFeatures). */
export type MiaFeature = 'confidence' | 'entropy' | 'm-entropy';

export interface MetricDescriptor {
  id: string; // kebab-case, stable, e.g. 'forget-accuracy', 'mia-efficacy'
  name: string; // shown in tables
  unit: '%' | 'ratio' | 'nats' | 's' | '';
  formula: string; // one precise line, the definition shown wherever the number appears
  source: string; // paper/code it follows
  better: 'higher' | 'lower' | 'closer-to-retrain' | 'none';
  needs: MetricNeed[];
  /**
   * the MIA SVC features this metric fits (one SVC per model and feature, seconds each): callers may fit
   * them ahead, side by side on worker threads (miaEfficacyAsync), before compute() reads the memo
   */
  mia?: MiaFeature[];
  compute(inputs: EvalInputs): MetricValue;
}
