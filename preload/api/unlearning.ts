// Unlearning, runs and comparisons: the API contract (types only). Implemented by
// main/backend/services/unlearning-api.ts (handlers, argument schemas, planUnlearning) on top of the
// run and comparison services (unlearning.ts, comparisons.ts) and the 'unlearn.*' job kinds.
//
// The method list and each method's parameters come from the engine's registry (one zod schema per
// method), so the UI draws every method's form from `MethodInfo.params` and never knows a method by name.

import type { MethodDef } from './common';
import type { JobInfo } from './jobs';
import type { MethodInfo, ParamSpec, ParamType } from '../../main/engine/unlearn/contract-types';
import type {
  TypedRef,
  GuardrailSettingsInfo,
  GuardrailReportInfo,
  RunDataCounts,
  RunManifest,
  MetricInfo,
  MetricSummary,
  ComparisonEntry,
  ComparisonManifest,
  SweepManifest,
  SweepTrial,
  Threshold,
  ThresholdVerdict,
} from '../../main/engine/runs/contract-types';
import type { AttackData, AttackFeature, AttackModelData, AttackPair, AttackRocCurve, ChartCell, ChartSpec, ChartTable, ComparisonChartRequest } from '../../main/engine/reports/contract-types';
import type {
  ChangedExample,
  ChangedExamples,
  EmbeddingData,
  EmbeddingModelData,
  EmbeddingSampleInfo,
  EntryRole,
  ExampleData,
  ExampleModelData,
  ExampleScores,
  ExampleSplit,
} from '../../main/engine/eval/contract-types';

// The shapes the engine shares are defined once in main/engine/unlearn/contract-types.ts and
// main/engine/runs/contract-types.ts (types only) and are part of this contract under the same names.
export type {
  MethodInfo,
  ParamSpec,
  ParamType,
  TypedRef,
  GuardrailSettingsInfo,
  GuardrailReportInfo,
  RunDataCounts,
  RunManifest,
  MetricInfo,
  MetricSummary,
  ComparisonEntry,
  ComparisonManifest,
  SweepManifest,
  SweepTrial,
  Threshold,
  ThresholdVerdict,
};
// the dashboards' charts and attack simulation (main/engine/reports/contract-types.ts)
export type { AttackData, AttackFeature, AttackModelData, AttackPair, AttackRocCurve, ChartCell, ChartSpec, ChartTable, ComparisonChartRequest };
// the embedding view and the instance drill-down (main/engine/eval/contract-types.ts)
export type { ChangedExample, ChangedExamples, EmbeddingData, EmbeddingModelData, EmbeddingSampleInfo, EntryRole, ExampleData, ExampleModelData, ExampleScores, ExampleSplit };

export type MethodParamValue = number | boolean | string;

/** One method of a plan with its parameters (omitted ones take the method's literature defaults). */
export interface PlanMethod {
  id: string;
  params?: Record<string, MethodParamValue>;
}

export interface UnlearningPlanArgs {
  /** the original model θ_o (a trained workspace model) */
  model: string;
  /** forget set id or name */
  forgetSet: string;
  /** at least one; the retrain reference is added by `includeRetrain` */
  methods: PlanMethod[];
  /** seeds 0..seeds-1 for every method (default 1, at most 20) */
  seeds?: number;
  /** applies to every approximate method (exact ones never stop) */
  guardrail?: Partial<GuardrailSettingsInfo>;
  /** add the retrain reference (default true) */
  includeRetrain?: boolean;
  /** name of the comparison record */
  name?: string;
  /**
   * pass/fail thresholds fixed now, before any run starts, and stored with the plan (so they cannot be
   * changed after the results are seen); the comparison judges every unlearned model against them
   */
  thresholds?: Threshold[];
}

export interface UnlearningPlanResult {
  /** the submitted 'unlearn.run' jobs (retrain first) followed by the 'unlearn.compare' job */
  jobs: JobInfo[];
  /** the 'unlearn.compare' job, which depends on every run job; its result names the comparison */
  compareJobId: string;
}

export interface RunSummary {
  id: string;
  type: RunManifest['type'];
  /** null for evaluations */
  method: { id: string; name: string; exact: boolean } | null;
  seed: number;
  /** the original model (for evaluations: the model evaluated) */
  model: string;
  forgetSet: string;
  /** the model this run produced (null for evaluations) */
  output: string | null;
  summary: RunManifest['summary'];
  /** wall time of the method alone, seconds */
  seconds: number | null;
  guardrailTripped: boolean;
  createdAt: string;
}

export type RunDetail = RunManifest & { id: string; createdAt: string };

export interface RunOutputsExportArgs {
  id: string;
  /** absolute path of a new file (an existing one only with `overwrite`, after the user confirmed) */
  path: string;
  /** npz: arrays ids, split, labels (int64), logits (float32 [N, C]); csv: id, split, label, logit_0.. */
  format: 'npz' | 'csv';
  overwrite?: boolean;
}

export interface RunOutputsExportResult {
  id: string;
  path: string;
  format: 'npz' | 'csv';
  rows: number;
  sha256: string;
  sizeBytes: number;
}

export interface ComparisonSummary {
  id: string;
  name: string;
  model: string;
  forgetSet: string;
  forgetSetName: string;
  datasetName: string;
  seeds: number;
  /** labels of the entries (original, retrain reference, methods) */
  entries: string[];
  createdAt: string;
}

export type ComparisonDetail = ComparisonManifest & { id: string };

export type SweepDimensionArg = { values: (number | boolean | string)[] } | { min: number; max: number; log?: boolean };

export interface UnlearningSweepArgs {
  model: string;
  forgetSet: string;
  method: string;
  /** fixed parameters of every trial */
  base?: Record<string, number | boolean | string>;
  space: Record<string, SweepDimensionArg>;
  mode: 'grid' | 'random';
  /** random search: number of trials (default 10) */
  trials?: number;
  seed?: number;
  objective: 'tow' | 'avg-gap';
  guardrail?: Partial<GuardrailSettingsInfo>;
  name?: string;
}

export interface UnlearningSweepResult {
  jobs: JobInfo[];
  /** the job that writes the sweep record (its result names it) */
  sweepJobId: string;
  trials: number;
}

export interface SweepSummary {
  id: string;
  name: string;
  method: string;
  objective: 'tow' | 'avg-gap';
  trials: number;
  best: Record<string, unknown> | null;
  bestObjective: number | null;
  createdAt: string;
}

export type SweepDetail = SweepManifest & { id: string };

export interface ComparisonEmbeddingArgs {
  id: string;
  /** the two models to draw (entry keys); default: the retrain reference and the first unlearned model */
  a?: string;
  b?: string;
  /** submit the 'comparison.embedding' job for the projections not cached yet (default true) */
  compute?: boolean;
}

export interface ComparisonEmbeddingResult {
  /** ready: every projection that can be computed is cached; computing: `job` is on it; incomplete: not asked to compute */
  status: 'ready' | 'computing' | 'incomplete';
  job: JobInfo | null;
  /** the sample and every model's state; points only for models a and b */
  data: EmbeddingData;
  a: string;
  b: string;
  /** the charts of a and b (engine/reports/charts/embedding.ts, the PDF's builder too) */
  charts: [ChartSpec, ChartSpec];
}

export type ComparisonExample = ExampleData & { chart: ChartSpec };

export interface UnlearningMethods {
  'unlearning.methods': MethodDef<Record<string, never>, MethodInfo[]>;
  'unlearning.metrics': MethodDef<Record<string, never>, MetricInfo[]>;
  /**
   * validates every method's parameters, the seeds and the guardrail before anything is submitted
   * ('invalid_argument', one sentence naming the method and parameter), then submits one 'unlearn.run'
   * job per (method, seed), the retrain reference first, and one 'unlearn.compare' job depending on all
   */
  'unlearning.plan': MethodDef<UnlearningPlanArgs, UnlearningPlanResult>;
  /** newest first; filtered by forget set (id or name) and original model */
  'runs.list': MethodDef<{ forgetSet?: string; model?: string }, RunSummary[]>;
  'runs.get': MethodDef<{ id: string }, RunDetail>;
  /** writes the run's stored per-example outputs; an existing file is 'conflict' unless `overwrite` */
  'runs.exportOutputs': MethodDef<RunOutputsExportArgs, RunOutputsExportResult>;
  /** newest first */
  'comparisons.list': MethodDef<Record<string, never>, ComparisonSummary[]>;
  'comparisons.get': MethodDef<{ id: string }, ComparisonDetail>;
  /**
   * charts of one comparison for the dashboards, each built by the engine's chart builder (the PDF
   * report's too): ECharts option + its data table, in the order asked (at most 40 per call)
   */
  'comparisons.charts': MethodDef<{ id: string; charts: ComparisonChartRequest[] }, ChartSpec[]>;
  /**
   * the threshold attack on one per-example score, computed from every model's stored outputs:
   * histograms on shared bins, the share of each split called member at every bin edge, ROC curves
   */
  'comparisons.attack': MethodDef<{ id: string; feature: AttackFeature }, AttackData>;
  /**
   * the embedding view: penultimate features of every model (seed 0 of each entry) on a fixed seeded,
   * class-stratified sample, projected to 2-D by PCA; read from the cache, and what is missing is
   * computed by one 'comparison.embedding' job (submitted here, or the one already running)
   */
  'comparisons.embedding': MethodDef<ComparisonEmbeddingArgs, ComparisonEmbeddingResult>;
  /** one example under every model: probabilities, loss and attack scores from the stored outputs */
  'comparisons.example': MethodDef<{ id: string; exampleId: string }, ComparisonExample>;
  /** the forget examples whose true-class confidence changed most from the original to a model (default: the first unlearned one) */
  'comparisons.changedExamples': MethodDef<{ id: string; key?: string; limit?: number }, ChangedExamples>;
  /**
   * a hyperparameter sweep of one method: every trial (validated up front) is an 'unlearn.run' job,
   * the retrain reference first; an 'unlearn.sweep' job depending on all of them writes the table
   * and the best setting (judged against retrain by ToW or Avg. Gap; guardrail-tripped trials never win)
   */
  'unlearning.sweep': MethodDef<UnlearningSweepArgs, UnlearningSweepResult>;
  'sweeps.list': MethodDef<Record<string, never>, SweepSummary[]>;
  'sweeps.get': MethodDef<{ id: string }, SweepDetail>;
}
