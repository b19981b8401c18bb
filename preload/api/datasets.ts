// Datasets and forget sets: the API contract (types only). Implemented by
// main/backend/services/datasets.ts and main/backend/services/forget-sets.ts; argument schemas in
// main/backend/services/datasets-schemas.ts.
//
// Identifiers: every `id` argument of a dataset or forget set accepts the record id or its unique name.

import type { MethodDef } from './common';
import type { JobInfo } from './jobs';

export type DatasetFormat = 'idx' | 'cifar' | 'folder' | 'csv' | 'npz' | 'builtin';
export type SplitName = 'train' | 'test';

export interface DatasetArrayInfo {
  sha256: string;
  dtype: 'uint8' | 'int32' | 'float32' | 'float64' | 'utf8';
  shape: number[];
  byteLength: number;
}

export interface DatasetMetadataColumn {
  name: string;
  type: 'number' | 'category';
  array: DatasetArrayInfo;
  dictionary?: DatasetArrayInfo;
  /** distinct values when there are at most 256 */
  categories?: string[];
  distinct?: number;
  min?: number | null;
  max?: number | null;
}

/** The stored manifest of a dataset (see main/engine/data/store.ts for the byte layout). */
export interface DatasetManifestInfo {
  format: 'lethe.dataset/1';
  name: string;
  kind: 'image' | 'tabular';
  count: number;
  /** image: [H, W, C]; tabular: [F] */
  sampleShape: number[];
  xDtype: 'uint8' | 'float32';
  layout: 'HWC' | 'features';
  featureNames?: string[];
  classNames: string[];
  splits: { names: SplitName[]; origin: 'source' | 'stratified'; seed: number | null; testFraction: number | null; description: string };
  /** examples per class in each split */
  counts: { train: number[]; test: number[]; totals: { train: number; test: number; all: number } };
  idScheme: string;
  source: {
    format: DatasetFormat;
    location: string;
    builtin?: string;
    options: Record<string, unknown>;
    /** every source file (for sources of more than 1000 files: the first 1000, see fileList) */
    files: { path: string; size: number; sha256: string }[];
    /** all source files in `sha256sum` format, stored as the record's blob 'sourceFiles' */
    fileList?: { sha256: string; count: number; totalBytes: number };
  };
  arrays: { x: DatasetArrayInfo; y: DatasetArrayInfo; split: DatasetArrayInfo; ids: DatasetArrayInfo };
  metadata: DatasetMetadataColumn[];
  warnings: string[];
  importedAt: string;
  importSeconds: number;
}

export interface DatasetSummary {
  id: string;
  name: string;
  kind: 'image' | 'tabular';
  count: number;
  classNames: string[];
  sampleShape: number[];
  counts: DatasetManifestInfo['counts'];
  splitOrigin: 'source' | 'stratified';
  format: DatasetFormat;
  importedAt: string;
}

export interface DatasetDetail extends DatasetSummary {
  manifest: DatasetManifestInfo;
  /** SHA-256 of the canonical JSON of the manifest (what forget sets pin) */
  manifestSha256: string;
  /** forget sets built on this dataset */
  forgetSets: { id: string; name: string; kind: string; count: number }[];
}

export interface ImportSourceArgs {
  format: DatasetFormat;
  /** a file or folder path, or the built-in name for format 'builtin' */
  source: string;
  /**
   * importer options: idx {numClasses?, classNames?}; cifar {variant?: 'cifar10'|'cifar100'};
   * folder {resize?: [w, h] | 'WxH', channels?: 'grayscale'|'rgb', onError?: 'skip'|'fail', maxPixels?};
   * csv {labelColumn?, idColumn?, splitColumn?, featureColumns?, delimiter?}; npz {xKey?, yKey?, splitKey?, classNames?}
   */
  options?: Record<string, unknown>;
  /** for sources without a split of their own (default 0.2 and 0) */
  testFraction?: number;
  splitSeed?: number;
}

export interface ImportPreviewSample {
  id: string;
  label: number;
  split: SplitName | null;
  /** data:image/png;base64,... for images; null for tabular rows */
  png: string | null;
  /** first features of a tabular row */
  features?: number[];
}

export interface ImportPreviewResult {
  ok: boolean;
  /** the first problem found, in plain words */
  error: { code: string; message: string; file?: string } | null;
  kind: 'image' | 'tabular' | null;
  sampleShape: number[] | null;
  classNames: string[];
  featureNames?: string[];
  count: number;
  /** class histogram per split ('unsplit' = the split will be drawn at import) */
  classCounts: { train: number[]; test: number[]; unsplit: number[] } | null;
  split: string | null;
  samples: ImportPreviewSample[];
  warnings: string[];
  files: { path: string; size: number; sha256: string }[];
}

export interface BuiltinDatasetInfo {
  name: 'fashion-mnist-sample' | 'mnist-sample' | 'fashion-mnist-debian';
  title: string;
  description: string;
  examples: number;
  split: string;
  present: boolean;
  location: string | null;
}

export interface ExamplePredicate {
  /** a metadata column name, or 'class' */
  column: string;
  op: 'eq' | 'in' | 'range';
  value?: string | number;
  values?: (string | number)[];
  min?: number;
  max?: number;
}

export interface ExamplesQuery {
  id: string;
  offset?: number;
  /** at most 1000 (default 100) */
  limit?: number;
  split?: SplitName;
  classes?: (number | string)[];
  filters?: ExamplePredicate[];
  /** restrict to the examples of a forget set (or its retain set) */
  forgetSet?: { id: string; part: 'forget' | 'retain' };
}

export interface ExampleRow {
  index: number;
  id: string;
  label: number;
  className: string;
  split: SplitName;
  metadata: Record<string, string | number | null>;
}

export interface ExamplesPage {
  total: number;
  offset: number;
  items: ExampleRow[];
}

export interface ImagesQuery {
  id: string;
  /** example IDs (at most 512) */
  ids: string[];
  /** 'png' = data URLs; 'raw' = base64 of the uint8 HWC pixels */
  encoding?: 'png' | 'raw';
  /** integer upscale factor for PNGs (1..8, default 1) */
  scale?: number;
}

export interface ExampleImage {
  id: string;
  index: number;
  width: number;
  height: number;
  channels: number;
  png?: string;
  rawBase64?: string;
}

// ---------- forget sets ----------

export type ForgetSetKind = 'random' | 'class' | 'subclass' | 'filter' | 'ids' | 'manual' | 'worst-case' | 'coreset' | 'sequential';
export type ScoreMetric = 'loss' | 'margin' | 'memorization-proxy';
export type ClassRef = number | string;

/** The original model for a worst-case rule: a workspace model (by id) or an ONNX file path. */
export interface ScoringModelRef {
  modelId?: string;
  path?: string;
  /** per-channel normalisation applied after scaling pixels to [0, 1] */
  norm?: { mean: number[]; std: number[] };
}

export type ForgetRuleInput =
  | { kind: 'random'; count?: number; fraction?: number; stratify?: boolean; classes?: ClassRef[] }
  | { kind: 'class'; classes: ClassRef[] }
  | { kind: 'subclass'; class: ClassRef; column: string; value?: string | number; min?: number; max?: number }
  | { kind: 'filter'; predicates: ExamplePredicate[] }
  | { kind: 'ids'; ids?: string[]; text?: string; csv?: string; column?: string; onMissing?: 'fail' | 'skip' }
  | { kind: 'manual'; ids: string[] }
  | { kind: 'worst-case'; metric: ScoreMetric; count?: number; fraction?: number; classes?: ClassRef[]; model: ScoringModelRef }
  | { kind: 'coreset'; source: string; fraction: number }
  | {
      kind: 'sequential';
      /** forget sets (ids or names) in the order the requests arrived */
      steps: string[];
      /** one ISO-8601 date or date-time with a zone per step; a blank entry (or no `at`) dates that step by its forget set's creation time */
      at?: string[];
    };

export interface ForgetSetReport {
  requested?: number;
  duplicates?: string[];
  duplicateCount?: number;
  missing?: string[];
  missingCount?: number;
  notInTrain?: string[];
  notInTrainCount?: number;
}

export interface ForgetSetScores {
  metric: ScoreMetric;
  definition: string;
  model: Record<string, unknown>;
  scored: number;
  poolMin: number;
  poolMax: number;
  poolMean: number;
  chosen: { id: string; score: number }[];
}

export interface ForgetSetSequenceStep {
  order: number;
  forgetSetId: string;
  name: string;
  at: string;
  count: number;
  idsSha256: string;
  newCount: number;
  cumulativeCount: number;
  retainCount: number;
  retainIdsSha256: string;
  retainBitmapBlob: string;
}

/** The stored manifest of a forget set (see main/engine/data/forget-sets.ts). */
export interface ForgetSetManifestInfo {
  format: 'lethe.forget-set/1';
  name: string;
  kind: ForgetSetKind;
  params: Record<string, unknown>;
  seed: number | null;
  dataset: { id: string; name: string; manifestSha256: string; trainCount: number };
  count: number;
  /** hex SHA-256 of the canonical ID list (see canonicalForm) */
  idsSha256: string;
  canonicalForm: string;
  classNames: string[];
  forgetCounts: number[];
  retainCounts: number[];
  retain: { count: number; idsSha256: string; encoding: 'bitmap-lsb'; bitmapSha256: string; description: string };
  report: ForgetSetReport;
  scores?: ForgetSetScores;
  sequence?: { steps: ForgetSetSequenceStep[] };
  lockedBy: string[];
}

export interface ForgetSetSummary {
  id: string;
  name: string;
  kind: ForgetSetKind;
  datasetId: string;
  datasetName: string;
  count: number;
  idsSha256: string;
  locked: boolean;
  createdAt: string;
}

export interface ForgetSetDetail extends ForgetSetSummary {
  manifest: ForgetSetManifestInfo;
  /** the exact forget IDs, canonical order (omitted when includeIds is false) */
  ids?: string[];
}

export interface ForgetSetPreview {
  count: number;
  idsSha256: string;
  classNames: string[];
  forgetCounts: number[];
  retainCounts: number[];
  retainCount: number;
  /** up to 64 IDs of the forget set for a sample gallery */
  sampleIds: string[];
  report: ForgetSetReport;
  scores?: ForgetSetScores;
  sequence?: { steps: ForgetSetSequenceStep[] };
}

export interface ForgetSetCreateArgs {
  datasetId: string;
  name: string;
  rule: ForgetRuleInput;
  /** for random and coreset rules (default 0) */
  seed?: number;
}

export interface DatasetMethods {
  'datasets.list': MethodDef<Record<string, never>, DatasetSummary[]>;
  'datasets.get': MethodDef<{ id: string }, DatasetDetail>;
  'datasets.builtins': MethodDef<Record<string, never>, BuiltinDatasetInfo[]>;
  /** validate a source without storing anything: histogram, sample grid, errors in plain words */
  'datasets.previewImport': MethodDef<ImportSourceArgs & { maxSamples?: number }, ImportPreviewResult>;
  /** submit a 'dataset.import' job; its result is { datasetId, name, count } */
  'datasets.import': MethodDef<ImportSourceArgs & { name: string }, JobInfo>;
  'datasets.examples': MethodDef<ExamplesQuery, ExamplesPage>;
  'datasets.images': MethodDef<ImagesQuery, ExampleImage[]>;
  'datasets.thumbnail': MethodDef<{ id: string; exampleId: string; scale?: number }, ExampleImage>;
  /** refused ('conflict') while forget sets use the dataset */
  'datasets.delete': MethodDef<{ id: string }, { deleted: true }>;
  'forgetSets.list': MethodDef<{ datasetId?: string }, ForgetSetSummary[]>;
  'forgetSets.get': MethodDef<{ id: string; includeIds?: boolean }, ForgetSetDetail>;
  /** worst-case rules read cached scores: 'unavailable' until forgetSets.score has scored them */
  'forgetSets.preview': MethodDef<Omit<ForgetSetCreateArgs, 'name'>, ForgetSetPreview>;
  'forgetSets.create': MethodDef<ForgetSetCreateArgs, ForgetSetDetail>;
  /** ensure every training example is scored with the model: cached, or a submitted 'forgetSet.score' job */
  'forgetSets.score': MethodDef<ForgetSetScoreArgs, ForgetSetScoreResult>;
  /** refused ('conflict') when a run uses the set */
  'forgetSets.delete': MethodDef<{ id: string }, { deleted: true }>;
  /** write the forget set as a verifiable folder (ids.txt, retain-ids.txt, manifest.json, forget-set.csv, README.txt, SHA256SUMS) into a new or empty folder */
  'forgetSets.export': MethodDef<{ id: string; path: string }, ForgetSetExportResult>;
}

export interface ForgetSetExportResult {
  id: string;
  name: string;
  /** the folder written */
  path: string;
  idsSha256: string;
  retainIdsSha256: string;
  /** every file written, with its SHA-256 (as listed in SHA256SUMS, which is written last) */
  files: { name: string; sha256: string; bytes: number }[];
}

export interface ForgetSetScoreArgs {
  datasetId: string;
  /** the worst-case rule's model: { modelId } of a workspace model or { path } of an ONNX file */
  model: ScoringModelRef;
  metric: 'loss' | 'margin' | 'memorization-proxy';
}

export interface ForgetSetScoreResult {
  /** true when the scores were already in the workspace's cache (job is then null) */
  cached: boolean;
  /** training examples scored */
  count: number;
  job: JobInfo | null;
}
