// Dataset and forget-set shapes shared by the engine and the API contract: the stored manifests
// (DatasetManifestInfo, ForgetSetManifestInfo), forget rules and their reports. Defined here, once,
// because the engine may not import the contract; preload/api/datasets.ts re-exports every name, so
// the contract exposes them unchanged. Types only: no runtime code and no imports, so the
// renderer's program (tsconfig.web.json) can include this file as it is.

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

export interface ExamplePredicate {
  /** a metadata column name, or 'class' */
  column: string;
  op: 'eq' | 'in' | 'range';
  value?: string | number;
  values?: (string | number)[];
  min?: number;
  max?: number;
}

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
