import type { MethodDef } from './common';
import type { ForgetSetScoreArgs, ImportSourceArgs } from './datasets';

/**
 * The job kinds built into Lethe (main/backend/jobs/kinds/index.ts JOB_KINDS registers exactly these;
 * test/backend/jobs/kinds-contract.test.ts keeps the two lists equal and the types below in step with
 * the handlers).
 */
export const JOB_KINDS_BUILTIN = [
  'workspace.verify',
  'diagnostics.stress',
  'dataset.import',
  'model.train',
  'forgetSet.score',
  'unlearn.run',
  'unlearn.evaluate',
  'unlearn.compare',
  'unlearn.sweep',
  'unlearn.demo',
  'comparison.embedding',
  'report.create',
] as const;

/** A built-in job kind. */
export type JobKindName = (typeof JOB_KINDS_BUILTIN)[number];

/**
 * Kinds of long work. Each kind has a handler that runs in a job worker process: a built-in kind, or
 * a plug-in's (handlers loaded from extra modules, e.g. test fixtures), which can be any string.
 */
export type JobKind = JobKindName | (string & {});

export function isBuiltinJobKind(kind: string): kind is JobKindName {
  return (JOB_KINDS_BUILTIN as readonly string[]).includes(kind);
}

export interface DatasetImportResult {
  datasetId: string;
  name: string;
  count: number;
  counts: { train: number; test: number };
  seconds: number;
}

export interface ForgetSetScoreJobResult {
  datasetId: string;
  metric: ForgetSetScoreArgs['metric'];
  scored: number;
  /** cache key (file cache/scores/<key>.f64) */
  key: string;
  min: number;
  mean: number;
  max: number;
  seconds: number;
}

export interface VerifyMismatch {
  item: string;
  problem: string;
}

export interface VerifyResult {
  ok: boolean;
  records: number;
  blobs: number;
  bytes: number;
  mismatches: VerifyMismatch[];
  /** blobs no record refers to (not a problem: `lethe workspace gc` frees them); null if it could not be worked out */
  unreferenced: { count: number; bytes: number } | null;
}

export interface StressParams {
  iterations: number;
  size: number;
}

export interface StressResult {
  size: number;
  iterations: number;
  flopPerIteration: number;
  gflops: { mean: number; median: number; best: number; worst: number };
  /** GFLOP/s of each iteration, in order (the last 1,000 when there were more) */
  perIteration: number[];
  /** sum of C's entries of the last iteration: shows the work was really done */
  checksum: number;
  method: string;
}

export interface ModelTrainResult {
  model: string;
  saved: { name: string; sha256: string } | null;
  out: { path: string; sha256: string } | null;
  epochs: number;
  steps: number;
  epochLosses: number[];
  testAccuracy: number | null;
  provider: string;
  threads: number;
  fallbackReason: string | null;
  seconds: number;
  resumedFromStep: number | null;
}

/** Parameters of unlearn.demo (the built-in demo; every field optional). */
export interface DemoJobParams {
  /** the demo's size: 'full' (default, the same as `lethe demo`) or 'short' (the class forget set only, FT and SalUn, a minute or two) */
  preset?: 'full' | 'short';
  /** seeds per model (default 1) */
  seeds?: number;
  /** train the original on a seeded stratified subset of this many examples (default 20,000; 0 = all) */
  maxTrain?: number;
  threads?: number;
  provider?: 'cpu' | 'cuda' | 'webgpu' | 'dml' | 'coreml';
}

export interface DemoJobResult {
  /** one comparison per forget set (whole class, random 1%), in that order */
  comparisonIds: string[];
  /** the forget sets' names, in the same order */
  forgetSets: string[];
  seconds: number;
}

/** comparison.embedding: projections computed, already cached, and models that are gone */
export interface ComparisonEmbeddingJobResult {
  comparisonId: string;
  computed: number;
  cached: number;
  unavailable: number;
  seconds: number;
}

/** The report a 'report.create' job wrote (list it with 'reports.list'). */
export interface ReportCreateJobResult {
  reportId: string;
  comparisonId: string;
  pdfSha256: string;
  manifestSha256: string;
}

/**
 * Parameters and results of the built-in kinds as the contract knows them (unknown where the type
 * lives only in the backend: model.train's parameters and the unlearn.* kinds, whose zod schemas are in
 * main/backend/jobs/kinds/). The handlers are declared with these types.
 */
export interface BuiltinJobTypes {
  'workspace.verify': { params: Record<string, never>; result: VerifyResult };
  'diagnostics.stress': { params: StressParams; result: StressResult };
  'dataset.import': { params: ImportSourceArgs & { name: string }; result: DatasetImportResult };
  'model.train': { params: unknown; result: ModelTrainResult };
  'forgetSet.score': { params: ForgetSetScoreArgs; result: ForgetSetScoreJobResult };
  'unlearn.run': { params: unknown; result: unknown };
  'unlearn.evaluate': { params: unknown; result: unknown };
  'unlearn.compare': { params: unknown; result: unknown };
  'unlearn.sweep': { params: unknown; result: unknown };
  'unlearn.demo': { params: DemoJobParams; result: DemoJobResult };
  'comparison.embedding': { params: { comparisonId: string; provider?: 'cpu' | 'cuda' | 'webgpu' | 'dml' | 'coreml'; threads?: number }; result: ComparisonEmbeddingJobResult };
  'report.create': { params: { comparison: string; sign?: string; operator?: string }; result: ReportCreateJobResult };
}

/** Parameters of a job of kind K (unknown for plug-in kinds and for the union of all kinds). */
export type JobParams<K extends JobKind> = K extends JobKindName ? BuiltinJobTypes[K]['params'] : unknown;
/** Result of a succeeded job of kind K (unknown for plug-in kinds and for the union of all kinds). */
export type JobResult<K extends JobKind> = K extends JobKindName ? BuiltinJobTypes[K]['result'] : unknown;

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

export interface JobProgress {
  /** steps done and total (total null when unknown) */
  step: number;
  total: number | null;
  /** 0..1 */
  fraction: number | null;
  /** latest loss when the job trains something */
  loss?: number | null;
  /** latest held-out retain accuracy in % (unlearning jobs that measure it during the run) */
  retainAccuracy?: number | null;
  /** latest forget-set accuracy in % (unlearning jobs that measure it during the run) */
  forgetAccuracy?: number | null;
  /** latest test-split accuracy in % (training jobs measure it after each epoch) */
  testAccuracy?: number | null;
  /** the stage a multi-stage job is in (e.g. the demo's 'train original') */
  stage?: string;
  /** estimated seconds left */
  etaSeconds?: number | null;
  message?: string;
}

/** A job; JobInfo<'forgetSet.score'> has typed params and result. */
export interface JobInfo<K extends JobKind = JobKind> {
  id: string;
  kind: K;
  title: string;
  params: JobParams<K>;
  state: JobState;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  progress: JobProgress | null;
  /** why it failed, was cancelled or interrupted; one plain sentence */
  reason: string | null;
  /** what the job produced (e.g. { modelId }); null until it succeeds */
  result: JobResult<K> | null;
  /** the job can continue from its last checkpoint */
  resumable: boolean;
  attempt: number;
  /** jobs that must succeed before this one starts (their results reach its handler); empty for most */
  dependsOn: string[];
}

/** What to run; JobSubmit<'dataset.import'> checks the params of that kind. */
export interface JobSubmit<K extends JobKind = JobKind> {
  kind: K;
  title?: string;
  params: JobParams<K>;
  /** ids of jobs that must succeed first; if one fails or is cancelled, this job fails saying which */
  dependsOn?: string[];
}

export type JobEvent =
  | { type: 'state'; job: JobInfo }
  | { type: 'progress'; id: string; progress: JobProgress }
  | { type: 'log'; id: string; level: 'info' | 'warn' | 'error'; message: string };

/** One persisted log line of a job. */
export interface JobLogEntry {
  time: string;
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface JobMethods {
  'jobs.list': MethodDef<{ states?: JobState[] }, JobInfo[]>;
  'jobs.get': MethodDef<{ id: string }, JobInfo>;
  'jobs.submit': MethodDef<JobSubmit, JobInfo>;
  'jobs.cancel': MethodDef<{ id: string }, JobInfo>;
  'jobs.resume': MethodDef<{ id: string }, JobInfo>;
  /** the job's log as persisted in the workspace (survives restarts), oldest first; newest `limit` lines */
  'jobs.logs': MethodDef<{ id: string; limit?: number }, { lines: JobLogEntry[]; truncated: boolean }>;
  /** kinds this backend can run, with a one-line description each */
  'jobs.kinds': MethodDef<Record<string, never>, { kind: JobKind; description: string; resumable: boolean }[]>;
}

export interface JobEvents {
  'jobs.event': JobEvent;
}
