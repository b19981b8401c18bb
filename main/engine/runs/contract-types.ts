// Run and comparison records: the shapes stored in the workspace and returned by the API. Defined
// here once (the engine may not import the contract); preload/api/unlearning.ts re-exports them.
// Types only: no runtime code and no imports.

/** A typed reference from one record to another: the chain request -> forget set -> run -> model -> report. */
export interface TypedRef {
  kind: 'datasets' | 'models' | 'forgetSets' | 'runs' | 'comparisons' | 'reports' | 'sweeps';
  id: string;
  /** content hash of what was referenced (model bytes, forget-set ID list, dataset manifest, stored outputs, record manifest) */
  sha256: string;
}

export interface GuardrailSettingsInfo {
  /** allowed drop of held-out retain accuracy below the original's, in percentage points */
  maxDropPoints: number;
  action: 'stop' | 'flag' | 'off';
  sliceSize: number;
}

export interface GuardrailReportInfo {
  settings: GuardrailSettingsInfo;
  sliceSize: number;
  baseline: number;
  lowest: number | null;
  tripped: boolean;
  trippedAtStep: number | null;
  stopped: boolean;
  /** accuracy: held-out retain accuracy (%); forgetAccuracy: on a seeded sample of up to 500 forget rows (%), watched, not judged */
  checks: { step: number; accuracy: number; forgetAccuracy?: number }[];
}

export interface RunDataCounts {
  /** examples the original trained on (D) */
  train: number;
  forget: number;
  /** D_r, including the held-out slice */
  retain: number;
  heldOut: number;
  test: number;
  /** forget-set examples that were never in the original's training data */
  notTrained: number;
}

/** One unlearning run (a method, or the retrain reference, at one seed) or one evaluation of a model. */
export interface RunManifest {
  format: 'lethe.run/1';
  type: 'unlearn' | 'evaluate';
  /** key under which an identical request reuses this run (sha256 of its canonical inputs) */
  cacheKey: string;
  refs: {
    /** θ_o (for type 'evaluate': the model evaluated) */
    original: TypedRef;
    forgetSet: TypedRef;
    dataset: TypedRef;
    /** the unlearned (or retrained) model this run produced */
    output?: TypedRef;
    /** the stored per-example outputs (blob 'outputs' of this record) */
    outputs: TypedRef;
  };
  method: { id: string; name: string; exact: boolean; params: Record<string, unknown> } | null;
  seed: number;
  guardrail: GuardrailReportInfo | null;
  /** wall time of the method alone (data loading and evaluation excluded), seconds */
  seconds: number | null;
  steps: number | null;
  /** where the wall time went, seconds: reading the data, the method (= seconds), evaluating every example, saving */
  timings?: { load: number; method: number; evaluate: number; save: number };
  stats: Record<string, number>;
  notes: string[];
  counts: RunDataCounts;
  /** accuracies (%) of the evaluated model, for lists */
  summary: { forgetAccuracy: number; retainAccuracy: number; testAccuracy: number };
  environment: { provider: string; threads: number; app: string; onnxruntime: string; node: string; os: string; cpu: string };
  startedAt: string;
  endedAt: string;
}

export interface MetricInfo {
  id: string;
  name: string;
  unit: string;
  formula: string;
  source: string;
  better: 'higher' | 'lower' | 'closer-to-retrain' | 'none';
}

export interface MetricSummary {
  /** one value per seed (null where it could not be computed) */
  values: (number | null)[];
  mean: number | null;
  sd: number | null;
  /** 95% confidence interval (Student's t over seeds); equal to the mean when there is one seed */
  lo: number | null;
  hi: number | null;
  n: number;
  /** |mean - retrain mean| (null for the retrain reference itself or when either is missing) */
  gapToRetrain: number | null;
  missing?: string;
}

export interface ComparisonEntry {
  key: string;
  label: string;
  role: 'original' | 'reference' | 'unlearned';
  method: { id: string; name: string; exact: boolean; params: Record<string, unknown> } | null;
  runs: { seed: number; run: TypedRef; model: TypedRef; seconds: number | null; guardrail: { tripped: boolean; stopped: boolean } | null; notes: string[] }[];
  metrics: Record<string, MetricSummary>;
  /** per-metric extra detail of seed 0 (per-class accuracy, confusion matrix, per-split values...) */
  extras: Record<string, Record<string, unknown>>;
  /** the pre-registered thresholds judged on this entry (unlearned models only) */
  verdicts?: ThresholdVerdict[];
}

export interface ComparisonManifest {
  format: 'lethe.comparison/1';
  name: string;
  refs: { forgetSet: TypedRef; dataset: TypedRef; original: TypedRef };
  forgetSetName: string;
  datasetName: string;
  classNames: string[];
  counts: RunDataCounts;
  /** N: seeds per model (ensemble metrics use N retrained and N unlearned models) */
  seeds: number;
  metrics: MetricInfo[];
  entries: ComparisonEntry[];
  /** pass/fail thresholds fixed when the runs were planned (before any result existed) */
  thresholds?: {
    fixedAt: string;
    items: Threshold[];
    /** runs that started before the thresholds were fixed (reused from earlier work): for those the thresholds are not pre-registered */
    runsStartedBefore: string[];
  };
  createdAt: string;
}

export interface SweepTrial {
  params: Record<string, unknown>;
  run: TypedRef;
  model: TypedRef;
  /** the objective and the numbers it is made of, against the retrain reference */
  metrics: { tow: number | null; avgGap: number | null; forgetAccuracy: number; retainAccuracy: number; testAccuracy: number; miaEfficacy: number | null };
  objective: number | null;
  guardrail: { tripped: boolean; stopped: boolean } | null;
  seconds: number | null;
}

export interface SweepManifest {
  format: 'lethe.sweep/1';
  name: string;
  refs: { original: TypedRef; forgetSet: TypedRef; dataset: TypedRef; reference: TypedRef };
  method: { id: string; name: string };
  spec: { mode: 'grid' | 'random'; space: Record<string, unknown>; base: Record<string, unknown>; trials: number; seed: number; objective: 'tow' | 'avg-gap' };
  trials: SweepTrial[];
  /** index into trials of the best setting (guardrail-tripped trials never win), or null */
  best: number | null;
  createdAt: string;
}

/**
 * A pass/fail criterion fixed before the runs (stored with the plan, so it cannot be changed after
 * seeing results): on the metric's mean over seeds, `value op threshold`, or on its gap to the retrain
 * reference, |mean - retrain mean| <= threshold.
 */
export interface Threshold {
  metric: string;
  op: '<=' | '>=' | 'gap<=';
  value: number;
}

export interface ThresholdVerdict {
  threshold: Threshold;
  /** the number judged (mean, or gap to retrain) */
  observed: number | null;
  /** null when the number is missing */
  pass: boolean | null;
}
