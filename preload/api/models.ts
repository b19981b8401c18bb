// Models: the API contract (types only). Implemented by main/backend/services/models-api.ts on top of
// the model registry (main/backend/services/models.ts); argument schemas live beside the handlers.
//
// Identifiers: a model's `id` is its unique name in the workspace (letters, digits, '.', '_', '-').

import type { MethodDef } from './common';
import type { JobInfo } from './jobs';
import type { TrainingRecipe } from '../../main/engine/train/contract-types';
import type { ParamSpec } from '../../main/engine/unlearn/contract-types';

export type ModelSource = 'builtin' | 'imported' | 'trained' | 'unlearned';
export type ArchitectureName = 'mlp' | 'cnn' | 'resnet18' | 'vit';

export interface ModelValueInfo {
  name: string;
  dtype: string;
  /** null when the file declares no shape; string entries are symbolic dimensions such as 'N' */
  shape: (number | string | null)[] | null;
}

export interface ModelSummary {
  id: string;
  name: string;
  source: ModelSource;
  /** built-in architecture (also for models trained from one); null for imported models */
  arch: string | null;
  /** the data input's per-example shape (without the batch dimension); null when undeclared */
  inputShape: (number | string | null)[] | null;
  /** number of classes from the output shape [N, classes]; null when undeclared */
  classes: number | null;
  parameterCount: number;
  sha256: string;
  sizeBytes: number;
  createdAt: string;
  /**
   * whether its weights were trained: true for trained and unlearned models, false for a freshly
   * created built-in architecture (random weights), null for an imported file (Lethe cannot tell)
   */
  trained: boolean | null;
  /** accuracy on the test split measured when Lethe trained it (0..1); null otherwise */
  testAccuracy: number | null;
  /** the workspace dataset it was trained on (an unlearned model: its original's); null when unknown */
  dataset: { id: string; name: string } | null;
}

export interface InitializerInfo {
  name: string;
  dtype: string;
  dims: number[];
  elements: number;
  /** why it was classified trainable or frozen (detected from the graph, or a user override) */
  reason: string;
}

// The training recipe is defined once, by a zod schema in the engine (main/engine/train/recipe.ts);
// its defaults are the defaults of the API, the CLI and the UI form.
export type { TrainingRecipe } from '../../main/engine/train/contract-types';

/** What the train form is drawn from (models.recipe): one model's defaults and a spec per recipe field. */
export interface TrainingRecipeInfo {
  /** the architecture whose defaults these are (null: imported models) */
  arch: string | null;
  recipe: TrainingRecipe;
  /** one spec per recipe field, in form order, with this architecture's defaults */
  params: ParamSpec[];
  /** fields that apply only when another field has one of these values (momentum: optimizer sgd, ...) */
  appliesWhen: Partial<Record<keyof TrainingRecipe, { param: keyof TrainingRecipe; values: string[] }>>;
}

export interface ModelTrainingInfo {
  baseModel: { name: string | null; sha256: string };
  /** the training NPZ; `dataset` names the workspace dataset it was made from */
  data: { sha256: string; n: number; file: string | null; dataset?: { id: string; name: string; manifestSha256: string; maxTrainExamples?: number } };
  optimizer: Record<string, unknown>;
  lr: number;
  schedule: Record<string, unknown> | null;
  epochs: number;
  batchSize: number;
  seed: number;
  provider: string;
  threads: number;
  fallbackReason: string | null;
  epochLosses: number[];
  /** accuracy on the test split after each epoch (0..1), aligned with epochLosses; null for an epoch not measured (before a resume); absent in records made before it was measured */
  epochTestAccuracies?: (number | null)[];
  testAccuracy: number | null;
  seconds: number;
}

export interface ModelDetail extends ModelSummary {
  archOptions: Record<string, unknown> | null;
  opset: number;
  producer: string;
  inputs: ModelValueInfo[];
  outputs: ModelValueInfo[];
  trainable: InitializerInfo[];
  frozen: InitializerInfo[];
  overrides: { trainable: string[]; frozen: string[] };
  warnings: string[];
  provenance: {
    kind: 'created' | 'imported' | 'trained' | 'unlearned';
    /** file name the model was imported from (no folder) */
    importedFrom: string | null;
    /** the model it was trained from (trained models) */
    trainedFrom: { name: string | null; sha256: string } | null;
  };
  /** recipe, data and metrics of the training run (trained models) */
  training: ModelTrainingInfo | null;
  /** the unlearning run that made it (unlearned models and retrain references) */
  unlearning: { runId: string; method: string; seed: number; original: { name: string; sha256: string }; forgetSet: { id: string; idsSha256: string } } | null;
}

export interface ArchitectureInfo {
  name: ArchitectureName;
  title: string;
  description: string;
  /** the options the builder uses when none are given (inputShape, classes, seed included) */
  defaults: Record<string, unknown>;
  /** its training defaults (the recipe schema's defaults with this architecture's overrides) */
  recipe: TrainingRecipe;
}

export interface ModelCreateArgs {
  arch: ArchitectureName;
  name: string;
  classes?: number;
  /** per-example input shape, e.g. [1, 28, 28] (C, H, W) */
  inputShape?: number[];
  seed?: number;
  /** further architecture options (hidden, channels, width, depth, dropout, ...) */
  options?: Record<string, unknown>;
}

export interface ModelImportArgs {
  /** an .onnx file on this machine */
  path: string;
  name?: string;
  /** initializer names to force trainable / frozen */
  trainable?: string[];
  frozen?: string[];
}

export interface ModelTrainArgs extends Partial<TrainingRecipe> {
  modelId: string;
  /** a workspace dataset (id or name): its train split is used, its test split measures accuracy */
  datasetId?: string;
  /** use at most this many training examples (a seeded, class-stratified subset); default all */
  maxTrainExamples?: number;
  /** NPZ form instead of a dataset: keys x float32 [N, ...] and y int64 [N] */
  dataPath?: string;
  testPath?: string;
  /** name of the trained model (default '<model>-trained', made unique) */
  saveAs?: string;
}

export interface ModelMethods {
  'models.list': MethodDef<Record<string, never>, ModelSummary[]>;
  'models.get': MethodDef<{ id: string }, ModelDetail>;
  'models.architectures': MethodDef<Record<string, never>, ArchitectureInfo[]>;
  /** the training recipe's defaults for an architecture (null or unknown: imported models), a spec per field for the train form */
  'models.recipe': MethodDef<{ arch: string | null }, TrainingRecipeInfo>;
  'models.create': MethodDef<ModelCreateArgs, ModelDetail>;
  /** validates the file with the ONNX loader; a bad file is 'invalid_argument' with the reason in plain words */
  'models.import': MethodDef<ModelImportArgs, ModelDetail>;
  /**
   * writes the inference ONNX to `path` (absolute). An existing file is refused ('conflict') unless
   * `overwrite` is true, which the UI sends only after the user confirmed replacing it; a path that is
   * not a regular file (folder, device, FIFO, /proc...) is refused ('invalid_argument') regardless.
   */
  'models.export': MethodDef<{ id: string; path: string; overwrite?: boolean }, { id: string; path: string; sha256: string; sizeBytes: number }>;
  /** submits a 'model.train' job; its result names the saved model */
  'models.train': MethodDef<ModelTrainArgs, JobInfo>;
  /** refused ('conflict') while a run or forget set uses the model */
  'models.delete': MethodDef<{ id: string }, { deleted: true }>;
}

export const MODEL_METHOD_NAMES = [
  'models.list',
  'models.get',
  'models.architectures',
  'models.recipe',
  'models.create',
  'models.import',
  'models.export',
  'models.train',
  'models.delete',
] as const satisfies readonly (keyof ModelMethods)[];
