// Types the API contract re-exports (types only; the definition is recipe.ts's zod schema, which a
// compile-time check there keeps equal to this).

/** A training recipe with every field filled (recipe.ts's schema output). */
export interface TrainingRecipe {
  epochs: number;
  batchSize: number;
  optimizer: 'sgd' | 'adam' | 'adamw';
  lr: number;
  /** SGD only */
  momentum: number;
  /** SGD only */
  nesterov: boolean;
  weightDecay: number;
  schedule: 'constant' | 'cosine' | 'step';
  /** schedule 'step': epochs between decays (0 = a third of the run) */
  stepSize: number;
  /** schedule 'step': decay factor */
  gamma: number;
  labelSmoothing: number;
  seed: number;
}
