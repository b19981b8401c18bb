// The training recipe, defined once: a zod schema whose defaults are THE training defaults (chosen for
// the built-in CNN on Fashion-MNIST: 5 epochs of SGD, batch 128, lr 0.05, momentum 0.9, cosine), with a
// description per field. Everything else derives from it:
//   - the API's `models.train` validation (trainingRecipeInput) and its defaults (recipeFor),
//   - the contract type TrainingRecipe (contract-types.ts, checked equal to the schema's output),
//   - the CLI flags of `lethe model train`, their help and its usage line (recipeParams),
//   - the UI's train form (models.recipe returns recipeInfo: defaults, specs, which fields apply when),
//   - the optimizer and schedule the trainer runs (trainerSpecs).
// Architectures whose literature recipe differs (ResNet-18, ViT) override a few fields; imported
// models and the MLP/CNN take the defaults as they are.

import { z } from 'zod';
import { describeParams } from '../unlearn/params';
import type { ParamSpec } from '../unlearn/contract-types';
import { EngineError } from '../errors';
import type { TrainingRecipe } from './contract-types';
import type { OptimizerSpec } from './optimizers';
import type { ScheduleSpec } from './schedules';

export type { TrainingRecipe } from './contract-types';

/** Fields that apply only when another field has one of these values (momentum: optimizer sgd, ...). */
export type RecipeAppliesWhen = Partial<Record<keyof TrainingRecipe, { param: keyof TrainingRecipe; values: string[] }>>;

/** What the train form is drawn from (the contract's TrainingRecipeInfo). */
export interface TrainingRecipeInfo {
  arch: string | null;
  recipe: TrainingRecipe;
  params: ParamSpec[];
  appliesWhen: RecipeAppliesWhen;
}

export const trainingRecipeSchema = z.object({
  epochs: z.number().int().min(1).max(100_000).default(5).describe('passes over the training data'),
  batchSize: z.number().int().min(1).max(1_000_000).default(128).describe('examples per optimizer step'),
  optimizer: z.enum(['sgd', 'adam', 'adamw']).default('sgd').describe('optimizer'),
  lr: z.number().gt(0).max(100).default(0.05).describe('learning rate (where the schedule starts)'),
  momentum: z.number().min(0).lt(1).default(0.9).describe('SGD momentum (SGD only)'),
  nesterov: z.boolean().default(false).describe('Nesterov momentum (SGD only)'),
  weightDecay: z.number().min(0).max(10).default(0).describe('weight decay (L2 for SGD and Adam, decoupled for AdamW)'),
  schedule: z.enum(['constant', 'cosine', 'step']).default('cosine').describe('learning-rate schedule over the run (cosine: down to 0; step: times gamma every stepSize epochs)'),
  stepSize: z.number().int().min(0).max(1_000_000).default(0).describe('step schedule: epochs between decays (0 = a third of the run)'),
  gamma: z.number().gt(0).max(1).default(0.1).describe('step schedule: decay factor'),
  labelSmoothing: z.number().min(0).lt(1).default(0).describe('label smoothing of the cross-entropy'),
  seed: z.number().int().min(0).max(0xffffffff).default(0).describe('seed of the initial data order, dropout masks and training subset'),
});

// The schema's output is the contract's TrainingRecipe, field for field (a compile-time check both ways).
type SchemaRecipe = z.output<typeof trainingRecipeSchema>;
const sameShape: [SchemaRecipe extends TrainingRecipe ? true : false, TrainingRecipe extends SchemaRecipe ? true : false] = [true, true];
void sameShape;

/** The recipe fields, optional (no defaults filled): what `models.train` and the CLI accept. */
export const trainingRecipeInput = trainingRecipeSchema.partial();

/** The defaults. */
export const TRAINING_RECIPE_DEFAULTS: TrainingRecipe = trainingRecipeSchema.parse({});

/** Fields that apply only for some values of another field. */
export const RECIPE_APPLIES_WHEN: RecipeAppliesWhen = {
  momentum: { param: 'optimizer', values: ['sgd'] },
  nesterov: { param: 'optimizer', values: ['sgd'] },
  stepSize: { param: 'schedule', values: ['step'] },
  gamma: { param: 'schedule', values: ['step'] },
};

/** Per-architecture departures from the defaults (the recipes their papers train with). */
export const ARCH_RECIPE_OVERRIDES: Readonly<Record<string, Partial<TrainingRecipe>>> = {
  resnet18: { epochs: 30, lr: 0.1, weightDecay: 5e-4 },
  vit: { epochs: 30, optimizer: 'adamw', lr: 0.001, weightDecay: 0.05 },
};

function parseRecipe(raw: unknown, where: string): TrainingRecipe {
  const r = trainingRecipeSchema.strict().safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const msg = issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}` : `'${issue.path.join('.')}': ${issue.message.charAt(0).toLowerCase()}${issue.message.slice(1)}`;
    throw new EngineError('invalid_argument', `${where}: ${msg}.`);
  }
  return r.data;
}

/** The recipe for a model of architecture `arch` (null: imported), with `given` fields on top; validated. */
export function recipeFor(arch: string | null, given: Partial<TrainingRecipe> = {}): TrainingRecipe {
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  const r = parseRecipe({ ...(arch ? ARCH_RECIPE_OVERRIDES[arch] : undefined), ...defined }, 'training recipe');
  if (r.optimizer !== 'sgd' && (given.momentum !== undefined || given.nesterov !== undefined))
    throw new EngineError('invalid_argument', `momentum and nesterov apply to SGD, not ${r.optimizer}.`);
  return r;
}

/** One spec per field, with the defaults of `arch`. */
export function recipeParams(arch: string | null = null): ParamSpec[] {
  const d = recipeFor(arch);
  return describeParams(trainingRecipeSchema).map((s) => ({ ...s, default: d[s.name as keyof TrainingRecipe] }));
}

export function recipeInfo(arch: string | null): TrainingRecipeInfo {
  return { arch, recipe: recipeFor(arch), params: recipeParams(arch), appliesWhen: RECIPE_APPLIES_WHEN };
}

/** The trainer's optimizer and schedule for a recipe (cosine over the whole run: tMax 0, resolved by the trainer). */
export function trainerSpecs(r: TrainingRecipe): { optimizer: OptimizerSpec; schedule: ScheduleSpec } {
  const optimizer: OptimizerSpec =
    r.optimizer === 'sgd' ? { kind: 'sgd', momentum: r.momentum, nesterov: r.nesterov, weightDecay: r.weightDecay } : { kind: r.optimizer, weightDecay: r.weightDecay };
  const schedule: ScheduleSpec =
    r.schedule === 'cosine'
      ? { kind: 'cosine', tMax: 0 }
      : r.schedule === 'step'
        ? { kind: 'step', stepSize: r.stepSize > 0 ? r.stepSize : Math.max(1, Math.floor(r.epochs / 3)), gamma: r.gamma }
        : { kind: 'constant' };
  return { optimizer, schedule };
}
