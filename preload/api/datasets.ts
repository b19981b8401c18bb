// Datasets and forget sets: the API contract (types only). Implemented by
// main/backend/services/datasets.ts and main/backend/services/forget-sets.ts; argument schemas in
// main/backend/services/datasets-schemas.ts.
//
// Identifiers: every `id` argument of a dataset or forget set accepts the record id or its unique name.

import type { MethodDef } from './common';
import type { JobInfo } from './jobs';
import type {
  DatasetFormat,
  SplitName,
  DatasetManifestInfo,
  ExamplePredicate,
  ForgetSetKind,
  ScoringModelRef,
  ForgetRuleInput,
  ForgetSetReport,
  ForgetSetScores,
  ForgetSetSequenceStep,
  ForgetSetManifestInfo,
} from '../../main/engine/data/contract-types';

// The shapes the engine shares (manifests, forget rules and reports) are defined once in
// main/engine/data/contract-types.ts (types only) and are part of this contract under the same names.
export type {
  DatasetFormat,
  SplitName,
  DatasetArrayInfo,
  DatasetMetadataColumn,
  DatasetManifestInfo,
  ExamplePredicate,
  ForgetSetKind,
  ScoreMetric,
  ClassRef,
  ScoringModelRef,
  ForgetRuleInput,
  ForgetSetReport,
  ForgetSetScores,
  ForgetSetSequenceStep,
  ForgetSetManifestInfo,
} from '../../main/engine/data/contract-types';

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
  /**
   * the most the stored samples may take, in times the source's size on disk (default 100); a larger
   * value imports a source that expands further (a highly compressed archive or images)
   */
  maxExpansion?: number;
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
  /** columns kept as metadata, not features (CSV: every non-feature column other than label/id/split) */
  metadataColumns?: { name: string; type: 'number' | 'category' }[];
  count: number;
  /** class histogram per split ('unsplit' = the split will be drawn at import) */
  classCounts: { train: number[]; test: number[]; unsplit: number[] } | null;
  split: string | null;
  /** examples per split after the import (a drawn split predicted with the import's own rule) */
  splitTotals: { train: number; test: number } | null;
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
  /** up to 64 IDs for a sample gallery: drawn across the classes (worst-case sets: the hardest first) */
  sampleIds: string[];
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
