// Shapes of the embedding view and the instance drill-down, shared by the engine (chart builders),
// the backend (services/embedding.ts, services/examples.ts) and the API contract
// (preload/api/unlearning.ts re-exports them). Types only: no runtime code.

export type ExampleSplit = 'forget' | 'retain' | 'test';
export type EntryRole = 'original' | 'reference' | 'unlearned';

/** The fixed sample every model of a comparison is projected on (same rows, same order for all). */
export interface EmbeddingSampleInfo {
  ids: string[];
  split: ExampleSplit[];
  /** true class per example */
  labels: number[];
  /** SHA-256 of the ids, one per line: with a model's SHA-256, the cache key of its projection */
  idsSha256: string;
  seed: number;
  /** examples asked for per split (a smaller split gives all its examples) */
  sizes: Record<ExampleSplit, number>;
}

/** One model's 2-D projection of its penultimate features on the sample. */
export interface EmbeddingModelData {
  key: string;
  label: string;
  role: EntryRole;
  /** the model (seed 0 of the entry) */
  model: { id: string; sha256: string };
  /** [x, y] per sample example, in sample order; null until computed or when it cannot be */
  points: [number, number][] | null;
  /** share of the feature variance along PC 1 and PC 2 */
  explainedVarianceRatio: [number, number] | null;
  /** feature dimension of the penultimate layer */
  dim: number | null;
  /** whether the projection is computed (cached); points are sent only for the models asked for */
  computed: boolean;
  /** why it cannot be computed (e.g. the model was deleted) */
  missing?: string;
}

export interface EmbeddingData {
  comparisonId: string;
  projection: 'pca';
  classNames: string[];
  sample: EmbeddingSampleInfo;
  models: EmbeddingModelData[];
}

/** The attack scores of one example under one model (the MIA features, each defined once in engine/eval). */
export interface ExampleScores {
  /** p_y, softmax probability of the true class (MIA-Efficacy's feature) */
  confidence: number;
  /** −Σ_k p_k log p_k (nats) */
  entropy: number;
  /** SVC_MIA.py's m_entropy over the example's split (nats) */
  mEntropy: number;
  /** φ = log p_y − log Σ_{k≠y} p_k (LiRA's logit-scaled confidence; nats) */
  logitConfidence: number;
}

export interface ExampleModelData {
  key: string;
  label: string;
  role: EntryRole;
  /** softmax probabilities per class */
  probabilities: number[];
  predicted: number;
  /** cross-entropy −log p_y (nats) */
  loss: number;
  scores: ExampleScores;
}

export interface ExampleData {
  comparisonId: string;
  exampleId: string;
  /** the dataset the example is read from (for its image) */
  datasetId: string;
  split: ExampleSplit;
  label: number;
  className: string;
  classNames: string[];
  models: ExampleModelData[];
  /** one-line definitions of loss and each score, shown next to the numbers */
  definitions: Record<'loss' | keyof ExampleScores, string>;
}

/** A forget example whose true-class confidence changed most from the original to a model. */
export interface ChangedExample {
  exampleId: string;
  label: number;
  className: string;
  /** p_y under the original */
  original: number;
  /** p_y under the model */
  model: number;
  /** model − original */
  change: number;
}

export interface ChangedExamples {
  comparisonId: string;
  /** the entry compared with the original */
  key: string;
  label: string;
  examples: ChangedExample[];
}
