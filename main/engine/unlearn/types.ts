// The shape of an unlearning method. A method is one file under methods/ exporting a
// MethodDescriptor, listed once in registry.ts. Its zod parameter schema (literature defaults, a
// description per field) is the single definition from which the API validation, the CLI flags and
// the UI form derive (params.ts).

import type { z } from 'zod';
import type { Model } from '../onnx/ir';
import type { ArrayDataset } from '../train/data';
import type { Trainer, TrainerOptions } from '../train/trainer';
import type { ProviderName } from '../train/session';
import type { OptimizerSpec } from '../train/optimizers';
import type { ScheduleSpec } from '../train/schedules';
import type { Guardrail } from './guardrail';
// MethodInfo is defined in contract-types.ts (types only) so the API contract can re-export it.
export type { MethodInfo } from './contract-types';

/** The recipe a model was trained with (from its training provenance), used by Retrain and EU-k. */
export interface Recipe {
  optimizer: OptimizerSpec;
  lr: number;
  schedule: ScheduleSpec | null;
  scheduleUnit?: 'epoch' | 'step';
  warmup?: { length: number; startFactor?: number } | null;
  epochs: number;
  batchSize: number;
  seed: number;
  labelSmoothing?: number;
}

export interface MethodProgress {
  /** 0..1 of the method's own work */
  fraction: number;
  message: string;
  loss?: number;
  /** retain (held-out) and forget accuracy when measured, in % */
  retainAccuracy?: number;
  forgetAccuracy?: number;
}

/** Everything a method needs; built by run.ts from the run's typed references. */
export interface MethodContext {
  /** the original model θ_o (inference form, trained weights as initializers) */
  model: Model;
  /** the untrained starting point the original was trained from, when known (Retrain, EU-k) */
  initModel: Model | null;
  /** the parameters that are trained (weights; BatchNorm statistics excluded) */
  trainable: string[];
  /** the original's training recipe, or a sensible default when it is unknown */
  recipe: Recipe;
  recipeKnown: boolean;
  /** D_f: the forget examples the original trained on */
  forget: ArrayDataset;
  /** D_r: the retain examples (the guardrail's held-out slice excluded) */
  retain: ArrayDataset;
  numClasses: number;
  /** classes whose every training example is forgotten (class forgetting), else [] */
  forgottenClasses: number[];
  seed: number;
  provider: ProviderName;
  threads: number;
  signal: AbortSignal;
  guardrail: Guardrail;
  /** the GU projection switch (gu.ts): set when the run's `gu` parameter is on; trainLoop then projects every update */
  gu?: { k: number; batchSize: number } | null;
  progress(p: MethodProgress): void;
  log(level: 'info' | 'warn', message: string): void;
  /** a Trainer on the original's weights (or `from`), trainable = ctx.trainable unless given */
  createTrainer(o: Partial<Omit<TrainerOptions, 'model'>> & Pick<TrainerOptions, 'optimizer' | 'lr' | 'batchSize'> & { from?: Model }): Promise<Trainer>;
}

export interface MethodResult {
  /** the unlearned model's trainable parameters and running statistics (others keep θ_o's values) */
  weights: Record<string, Float32Array>;
  /** a different starting model whose initializers the weights replace (Retrain, EU-k); default θ_o */
  base?: Model;
  /** numbers the method reports about itself (e.g. SSD's changed-weight count, mask fraction) */
  stats?: Record<string, number>;
  notes?: string[];
  /** optimizer steps taken */
  steps: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface MethodDescriptor<S extends z.ZodObject<any> = z.ZodObject<any>> {
  /** stable id used by the CLI, the API and stored runs (kebab-case) */
  id: string;
  /** display name */
  name: string;
  /** exact (Retrain, SISA) or approximate */
  exact: boolean;
  /** 'class': only for forget sets that are whole classes (UNSIR) */
  scope: 'any' | 'class';
  /** one paragraph, shown in the UI and `lethe unlearn --help` */
  description: string;
  /** the paper and public code the method and its defaults follow */
  source: string;
  params: S;
  /** the method trains with gradients (the GU projection switch and the guardrail apply) */
  gradientBased: boolean;
  /** bumped when the method's behaviour changes, so cached runs of the older code are not reused (default 1) */
  version?: number;
  run(ctx: MethodContext, params: z.output<S>): Promise<MethodResult>;
}
