// `lethe model ...`: create from a built-in architecture, import an ONNX file, export, list, show,
// train (on NPZ data: x float32 [N, ...], y int64 [N]) and grad (loss + gradient of every trainable
// initializer, written as NPZ keyed by initializer name).

import { resolve } from 'node:path';
import type { CliCommand, CliContext, CliOption } from '../types';
import { CliUsageError } from '../types';
import { withWorkspace } from '../workspace';
import type { Workspace } from '../../backend/workspace/types';
import {
  createModel,
  importModel,
  exportModel,
  listModels,
  getModelRecord,
  modelGradients,
  trainModel,
  type ModelManifest,
  type TrainParams,
} from '../../backend/services/models';
import { ARCHITECTURES } from '../../engine/models';
import { writeNpzFile } from '../../engine/io/npz';
import type { Npz } from '../../engine/io/npz';
import type { ScheduleSpec } from '../../engine/train/schedules';
import { checkOutputFile } from '../../backend/services/output-target';
import { ApiError } from '../../../preload/api/common';
import { computeChoice, list, num, str, PROVIDERS, type ComputeChoice } from '../options';
import { table } from './dataset';
import { ARCH_RECIPE_OVERRIDES, RECIPE_APPLIES_WHEN, TRAINING_RECIPE_DEFAULTS, recipeFor, recipeParams, trainerSpecs, type TrainingRecipe } from '../../engine/train/recipe';
import type { ParamSpec } from '../../engine/unlearn/contract-types';
import { EngineError } from '../../engine/errors';

/**
 * The --out file of a command: refused (exit 2, one line) if it exists and --force is not given, or if
 * it is not a regular file (a folder, a device, a FIFO, /proc...), even with --force.
 */
async function checkOut(out: string, force: boolean): Promise<void> {
  try {
    await checkOutputFile(out, { overwrite: force, overwriteHint: 'add --force to replace it', what: '--out' });
  } catch (e) {
    if (e instanceof ApiError) throw new CliUsageError(e.message);
    throw e;
  }
}

export function parseShape(s: string, what = '--input'): number[] {
  const parts = s.toLowerCase().split(/[x,]/);
  const dims = parts.map(Number);
  if (!parts.length || dims.some((d, i) => !/^\d+$/.test(parts[i]) || d <= 0)) throw new CliUsageError(`${what} must look like 1x28x28 or 784, got '${s}'`);
  return dims;
}

/** --schedule constant | step:<size>[:<gamma>] | multistep:<m1,m2,...>[:<gamma>] | cosine[:<etaMin>] */
export function parseSchedule(s: string, tMax: number): ScheduleSpec {
  const [kind, a, b] = s.split(':');
  const bad = () => new CliUsageError(`--schedule must be constant, step:<size>[:gamma], multistep:<m1,m2>[:gamma] or cosine[:eta_min], got '${s}'`);
  const n = (x: string | undefined) => {
    if (x === undefined || x === '' || !Number.isFinite(Number(x))) throw bad();
    return Number(x);
  };
  switch (kind) {
    case 'constant':
      if (a !== undefined) throw bad();
      return { kind: 'constant' };
    case 'step':
      return { kind: 'step', stepSize: n(a), gamma: b === undefined ? undefined : n(b) };
    case 'multistep':
      if (!a) throw bad();
      return { kind: 'multistep', milestones: a.split(',').map(n), gamma: b === undefined ? undefined : n(b) };
    case 'cosine':
      return { kind: 'cosine', tMax, etaMin: a === undefined ? undefined : n(a) };
    default:
      throw bad();
  }
}

function computeNote(c: ComputeChoice): string {
  const from = [c.providerFrom === 'settings' ? 'provider' : '', c.threadsFrom === 'settings' ? 'threads' : ''].filter(Boolean);
  return from.length ? ` (${from.join(' and ')} from the workspace settings)` : '';
}

function threadsLabel(n: number): string {
  return `${n} thread${n === 1 ? '' : 's'}`;
}

function isFileRef(ref: string): boolean {
  return /\.onnx$/i.test(ref) || ref.includes('/') || ref.includes('\\');
}

function describe(m: ModelManifest): string {
  const shape = (s: (number | string | null)[] | null) => (s ? `[${s.map((d) => d ?? '?').join(', ')}]` : '[?]');
  return [
    `Model       ${m.name}`,
    `Source      ${m.source}${m.arch ? ` (${m.arch})` : ''}${m.importedFrom ? ` from ${m.importedFrom}` : ''}`,
    `SHA-256     ${m.sha256}`,
    `Size        ${m.sizeBytes} bytes, opset ${m.opset}${m.producer ? `, produced by ${m.producer}` : ''}`,
    `Inputs      ${m.inputs.map((v) => `${v.name} ${v.dtype} ${shape(v.shape)}`).join('; ')}`,
    `Outputs     ${m.outputs.map((v) => `${v.name} ${v.dtype} ${shape(v.shape)}`).join('; ')}`,
    `Trainable   ${m.trainable.length} tensors, ${m.parameterCount} values`,
    `Buffers     ${m.buffers.length}`,
    ...(m.overrides.trainable.length || m.overrides.frozen.length
      ? [`Overrides   trainable: ${m.overrides.trainable.join(', ') || '-'}; frozen: ${m.overrides.frozen.join(', ') || '-'}`]
      : []),
    ...(m.training
      ? [
          `Trained     ${m.training.epochs} epochs, ${m.training.optimizer.kind} lr ${m.training.lr}, batch ${m.training.batchSize}, seed ${m.training.seed}, ${m.training.provider} x${m.training.threads}` +
            (m.training.testAccuracy !== null ? `, test accuracy ${(m.training.testAccuracy * 100).toFixed(2)}%` : ''),
        ]
      : []),
    ...m.warnings.map((w) => `Warning     ${w}`),
  ].join('\n');
}

export const modelCreateCommand: CliCommand = {
  name: 'model create',
  summary: 'Create a model from a built-in architecture (mlp, cnn, resnet18, vit)',
  usage: '--arch mlp|cnn|resnet18|vit --name <name> [--classes 10] [--input 1x28x28] [--seed 0] [vit: --patch 4 --dim 192 --depth 6 --heads 3 --mlp-ratio 4]',
  options: {
    arch: { type: 'string', description: `architecture: ${ARCHITECTURES.join(', ')}`, required: true },
    name: { type: 'string', description: 'name of the new model in the workspace', required: true },
    classes: { type: 'string', description: 'number of classes (default 10)' },
    input: { type: 'string', description: 'example shape without the batch dimension, e.g. 1x28x28, 3x32x32 or 784' },
    seed: { type: 'string', description: 'initialisation seed (default 0)' },
    hidden: { type: 'string', description: 'mlp: hidden widths (e.g. 256,128); cnn: fc width' },
    width: { type: 'string', description: 'resnet18: channels of the first stage (default 64)' },
    dropout: { type: 'string', description: 'dropout probability (mlp, cnn, vit; default 0)' },
    patch: { type: 'string', description: 'vit: patch size; must divide the input height and width (default 4)' },
    dim: { type: 'string', description: 'vit: embedding width (default 192)' },
    depth: { type: 'string', description: 'vit: transformer blocks (default 6)' },
    heads: { type: 'string', description: 'vit: attention heads; must divide --dim (default 3)' },
    'mlp-ratio': { type: 'string', description: 'vit: MLP hidden width as a multiple of --dim, an integer (default 4)' },
  },
  examples: [
    'lethe model create --arch cnn --name fmnist-cnn',
    'lethe model create --arch resnet18 --name r18 --input 3x32x32 --classes 10 --seed 1 --json',
    'lethe model create --arch vit --name vit-s --input 3x32x32 --patch 4 --dim 96 --depth 4 --heads 4 --mlp-ratio 2',
  ],
  async run(ctx) {
    const arch = str(ctx, 'arch')!;
    if (!(ARCHITECTURES as readonly string[]).includes(arch)) throw new CliUsageError(`--arch must be one of ${ARCHITECTURES.join(', ')}, got '${arch}'`);
    const options: Record<string, unknown> = {};
    const hidden = str(ctx, 'hidden');
    if (hidden !== undefined) {
      const h = hidden.split(',').map((s) => Number(s));
      if (h.some((d) => !Number.isInteger(d) || d <= 0)) throw new CliUsageError(`--hidden must be positive integers, got '${hidden}'`);
      options.hidden = arch === 'mlp' ? h : h[0];
    }
    const width = num(ctx, 'width', { int: true, min: 1 });
    if (width !== undefined) options.width = width;
    const dropout = num(ctx, 'dropout', { min: 0, max: 0.99 });
    if (dropout !== undefined) options.dropout = dropout;
    const input = str(ctx, 'input');
    const inputShape = input ? parseShape(input) : undefined;
    Object.assign(options, vitOptions(ctx, arch, inputShape));
    const m = await withWorkspace(ctx, (ws) =>
      createModel(ws, {
        name: str(ctx, 'name')!,
        arch,
        classes: num(ctx, 'classes', { int: true, min: 2 }),
        inputShape,
        seed: num(ctx, 'seed', { int: true, min: 0 }),
        options,
      }),
    );
    ctx.print(m, `Created model '${m.name}' (${arch}, ${m.parameterCount} trainable values, sha256 ${m.sha256.slice(0, 16)}...)`);
  },
};

const VIT_FLAGS = ['patch', 'dim', 'depth', 'heads', 'mlp-ratio'] as const;

/** --patch/--dim/--depth/--heads/--mlp-ratio (vit only), checked against each other and the input shape. */
export function vitOptions(ctx: CliContext, arch: string, inputShape: number[] | undefined): Record<string, number> {
  const given = VIT_FLAGS.filter((k) => str(ctx, k) !== undefined);
  if (arch !== 'vit') {
    if (given.length) throw new CliUsageError(`--${given[0]} applies to --arch vit only`);
    return {};
  }
  const out: Record<string, number> = {};
  const patch = num(ctx, 'patch', { int: true, min: 1, max: 1024 });
  const dim = num(ctx, 'dim', { int: true, min: 1, max: 8192 });
  const depth = num(ctx, 'depth', { int: true, min: 1, max: 128 });
  const heads = num(ctx, 'heads', { int: true, min: 1, max: 1024 });
  const mlpRatio = num(ctx, 'mlp-ratio', { int: true, min: 1, max: 64 });
  const shape = inputShape ?? [3, 32, 32];
  if (shape.length !== 3) throw new CliUsageError(`--arch vit needs an image input CxHxW (e.g. 3x32x32), got --input ${shape.join('x')}`);
  const p = patch ?? 4;
  if (shape[1] % p !== 0 || shape[2] % p !== 0) {
    throw new CliUsageError(`--patch ${p} must divide the input height and width (${shape[1]}x${shape[2]})${patch === undefined ? '; give --patch' : ''}`);
  }
  const d = dim ?? 192;
  const h = heads ?? 3;
  if (d % h !== 0) throw new CliUsageError(`--heads ${h} must divide --dim ${d}`);
  if (patch !== undefined) out.patch = patch;
  if (dim !== undefined) out.dim = dim;
  if (depth !== undefined) out.depth = depth;
  if (heads !== undefined) out.heads = heads;
  if (mlpRatio !== undefined) out.mlpRatio = mlpRatio;
  return out;
}

export const modelImportCommand: CliCommand = {
  name: 'model import',
  summary: 'Import an ONNX model file (validated; trainable initializers detected)',
  usage: '<file.onnx> [--name <name>] [--trainable a,b] [--frozen c]',
  positionals: [{ name: 'file.onnx', description: 'the ONNX file to import', required: true }],
  options: {
    name: { type: 'string', description: 'name in the workspace (default: the file name)' },
    trainable: { type: 'string', multiple: true, description: 'initializers to force trainable (comma-separated)' },
    frozen: { type: 'string', multiple: true, description: 'initializers to force frozen (comma-separated)' },
  },
  examples: ['lethe model import resnet.onnx --name resnet-base', 'lethe model import net.onnx --frozen conv1.weight,conv1.bias --json'],
  async run(ctx) {
    const file = resolve(ctx.positionals[0]);
    const m = await withWorkspace(ctx, (ws) => importModel(ws, { file, name: str(ctx, 'name'), trainable: list(ctx, 'trainable'), frozen: list(ctx, 'frozen') }));
    const overrides = m.overrides.trainable.length || m.overrides.frozen.length ? ` (overrides kept for train and grad: trainable ${m.overrides.trainable.join(', ') || '-'}; frozen ${m.overrides.frozen.join(', ') || '-'})` : '';
    ctx.print(m, [`Imported '${m.name}': ${m.trainable.length} trainable tensors (${m.parameterCount} values), ${m.buffers.length} buffers${overrides}`, ...m.warnings.map((w) => `warning: ${w}`)].join('\n'));
  },
};

export const modelExportCommand: CliCommand = {
  name: 'model export',
  summary: 'Write a registered model as a standalone inference ONNX file',
  usage: '<name> --out <file.onnx> [--force]',
  positionals: [{ name: 'name', description: 'model name', required: true }],
  options: {
    out: { type: 'string', description: 'output .onnx file (an existing file is refused without --force)', required: true },
    force: { type: 'boolean', description: 'replace an existing --out file' },
  },
  examples: ['lethe model export fmnist-cnn --out cnn.onnx'],
  async run(ctx) {
    const out = resolve(str(ctx, 'out')!);
    const force = ctx.values.force === true;
    await checkOut(out, force);
    const r = await withWorkspace(ctx, (ws) => exportModel(ws, ctx.positionals[0], out, { overwrite: force, overwriteHint: 'add --force to replace it' }), 'read');
    ctx.print(r, [`Wrote ${r.path} (${r.sizeBytes} bytes, sha256 ${r.sha256})`, ...r.converted.map((c) => `converted to inference form: ${c}`)].join('\n'));
  },
};

export const modelListCommand: CliCommand = {
  name: 'model list',
  summary: 'List the models in the workspace',
  options: {},
  examples: ['lethe model list', 'lethe model list --json'],
  async run(ctx) {
    const ms = await withWorkspace(ctx, (ws) => listModels(ws), 'read');
    const human = ms.length
      ? table([
          ['name', 'source', 'arch', 'parameters', 'sha256'],
          ...ms.map((m) => [m.name, m.source, m.arch ?? '-', m.parameterCount, m.sha256.slice(0, 12)]),
        ])
      : "No models yet. Create one with 'lethe model create --arch cnn --name my-cnn' or import one with 'lethe model import <file.onnx>'.";
    ctx.print(ms, human);
  },
};

export const modelShowCommand: CliCommand = {
  name: 'model show',
  summary: 'Show one model: hashes, inputs/outputs, trainable parameters, training provenance',
  usage: '<name>',
  positionals: [{ name: 'name', description: 'model name', required: true }],
  options: {},
  async run(ctx) {
    const rec = await withWorkspace(ctx, (ws) => getModelRecord(ws, ctx.positionals[0]), 'read');
    ctx.print(rec.data, describe(rec.data));
  },
};

// ---- the recipe flags, derived from the one recipe schema ----

const RECIPE_SPECS = recipeParams(null);
/** batchSize -> batch-size: the flag of a recipe field (also the UI form's data-field) */
const recipeFlag = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const SCHEDULE_SYNTAX = 'constant | cosine[:eta_min] | step[:<size>[:gamma]] | multistep:<m1,m2>[:gamma]';

const RECIPE_OPTIONS: Record<string, CliOption> = Object.fromEntries(
  RECIPE_SPECS.map((s) => {
    const values = s.name === 'schedule' ? `: ${SCHEDULE_SYNTAX}` : s.type === 'enum' ? `: ${s.options!.join(', ')}` : '';
    const when = RECIPE_APPLIES_WHEN[s.name as keyof TrainingRecipe];
    const only = when && !s.description.includes(' only') ? ` (${when.param} ${when.values.join('/')} only)` : '';
    return [recipeFlag(s.name), { type: s.type === 'boolean' ? 'boolean' : 'string', description: `${s.description}${values}${only} (default ${String(s.default)})` }];
  }),
);

/** The usage line's recipe part: every field that applies with the defaults, at its default. */
const RECIPE_USAGE = RECIPE_SPECS.filter((s) => {
  const when = RECIPE_APPLIES_WHEN[s.name as keyof TrainingRecipe];
  return !when || when.values.includes(String(TRAINING_RECIPE_DEFAULTS[when.param]));
})
  .map((s) => (s.type === 'boolean' ? `[--${recipeFlag(s.name)}]` : `[--${recipeFlag(s.name)} ${String(s.default)}]`))
  .join(' ');

/** 'resnet18: epochs 30, lr 0.1, weight-decay 0.0005; vit: ...' */
const ARCH_DEFAULTS_TEXT = Object.entries(ARCH_RECIPE_OVERRIDES)
  .map(([arch, o]) => `${arch}: ${Object.entries(o).map(([k, v]) => `${recipeFlag(k)} ${String(v)}`).join(', ')}`)
  .join('; ');

function outOfRange(s: ParamSpec, v: number): string | null {
  if (s.min !== undefined && (s.minExclusive ? v <= s.min : v < s.min)) return `${s.minExclusive ? 'above' : 'at least'} ${s.min}`;
  if (s.max !== undefined && (s.maxExclusive ? v >= s.max : v > s.max)) return `${s.maxExclusive ? 'below' : 'at most'} ${s.max}`;
  return null;
}

/** The recipe fields given on the command line (checked against the schema's bounds), and a --schedule in the engine's fuller syntax. */
function recipeFlags(ctx: CliContext): { recipe: Partial<TrainingRecipe>; schedule?: ScheduleSpec } {
  const recipe: Record<string, number | boolean | string> = {};
  let schedule: ScheduleSpec | undefined;
  for (const s of RECIPE_SPECS) {
    const flag = recipeFlag(s.name);
    if (s.type === 'boolean') {
      if (ctx.values[flag] === true) recipe[s.name] = true;
      continue;
    }
    const raw = str(ctx, flag);
    if (raw === undefined) continue;
    if (s.type === 'enum') {
      if (s.options!.includes(raw)) recipe[s.name] = raw;
      else if (s.name === 'schedule') {
        // step:<size>[:gamma], multistep:..., cosine:<eta_min>: the engine's schedule as given
        schedule = parseSchedule(raw, 0);
        if (s.options!.includes(schedule.kind)) recipe[s.name] = schedule.kind;
      } else throw new CliUsageError(`--${flag} must be ${s.options!.slice(0, -1).join(', ')} or ${s.options!.at(-1)}, got '${raw}'`);
      continue;
    }
    const v = num(ctx, flag, { int: s.type === 'integer' })!;
    const why = outOfRange(s, v);
    if (why) throw new CliUsageError(`--${flag} must be ${why}, got ${raw}`);
    recipe[s.name] = v;
  }
  const opt = recipe.optimizer ?? TRAINING_RECIPE_DEFAULTS.optimizer;
  if (opt !== 'sgd' && (recipe.momentum !== undefined || recipe.nesterov !== undefined)) throw new CliUsageError('--momentum and --nesterov apply to --optimizer sgd only');
  return { recipe: recipe as Partial<TrainingRecipe>, schedule };
}

function recipeForCli(arch: string | null, given: Partial<TrainingRecipe>): TrainingRecipe {
  try {
    return recipeFor(arch, given);
  } catch (e) {
    if (e instanceof EngineError && e.code === 'invalid_argument') throw new CliUsageError(e.message.replace(/\.$/, ''));
    throw e;
  }
}

export const modelTrainCommand: CliCommand = {
  name: 'model train',
  summary: 'Train a model on NPZ data (x float32 [N, ...], y int64 [N]) or a workspace dataset and write the trained ONNX',
  usage: `--model <name|file.onnx> (--data <train.npz> [--test <test.npz>] | --dataset <name|id> [--max-train N]) (--out <file.onnx> | --save-as <name>) ${RECIPE_USAGE}`,
  options: {
    model: { type: 'string', description: `registered model name or .onnx file; a model of a built-in architecture with its own recipe starts from it (${ARCH_DEFAULTS_TEXT})`, required: true },
    data: { type: 'string', description: 'training data .npz (x, y); or use --dataset' },
    test: { type: 'string', description: 'test data .npz, evaluated after training (with --data)' },
    dataset: { type: 'string', description: "workspace dataset (name or id): trains on its train split, evaluates on its test split" },
    'max-train': { type: 'string', description: 'with --dataset: train on a seeded, class-stratified subset of this many train examples' },
    // the recipe flags: one per field of the recipe schema (main/engine/train/recipe.ts), with its defaults
    ...RECIPE_OPTIONS,
    'schedule-unit': { type: 'string', description: 'epoch (default) or step: what the schedule counts' },
    warmup: { type: 'string', description: 'linear warm-up length in schedule units' },
    threads: { type: 'string', description: 'intra-op threads, 0 = all cores (default: the workspace setting, else 1: bit-reproducible)' },
    provider: { type: 'string', description: `execution provider: ${PROVIDERS.join(', ')} (default: the workspace setting, else cpu; falls back to cpu)` },
    trainable: { type: 'string', multiple: true, description: 'initializers to force trainable (on top of the overrides given at import)' },
    frozen: { type: 'string', multiple: true, description: 'initializers to keep frozen (on top of the overrides given at import)' },
    out: { type: 'string', description: 'write the trained inference ONNX here (an existing file is refused without --force)' },
    force: { type: 'boolean', description: 'replace an existing --out file' },
    'save-as': { type: 'string', description: 'register the trained model in the workspace under this name' },
  },
  examples: [
    'lethe model train --model cnn.onnx --data train.npz --test test.npz --epochs 2 --batch-size 128 --optimizer adam --lr 0.001 --out trained.onnx',
    'lethe model train --model fmnist-cnn --data train.npz --save-as fmnist-cnn-trained   (the defaults: SGD, momentum 0.9, lr 0.05, cosine, 5 epochs, batch 128)',
    'lethe model train --model fmnist-cnn --dataset fashion-mnist --max-train 5000 --epochs 2 --save-as fmnist-cnn-5k',
  ],
  async run(ctx) {
    const given = recipeFlags(ctx);
    const unit = str(ctx, 'schedule-unit') ?? 'epoch';
    if (unit !== 'epoch' && unit !== 'step') throw new CliUsageError(`--schedule-unit must be epoch or step, got '${unit}'`);
    const warmup = num(ctx, 'warmup', { int: true, min: 0 });
    const out = str(ctx, 'out');
    const saveAs = str(ctx, 'save-as');
    if (!out && !saveAs) throw new CliUsageError("give --out <file.onnx> or --save-as <name> so the trained model is kept");
    const force = ctx.values.force === true;
    if (force && !out) throw new CliUsageError('--force applies to --out only');
    if (out) await checkOut(resolve(out), force);
    const dataFile = str(ctx, 'data');
    const dataset = str(ctx, 'dataset');
    if ((dataFile === undefined) === (dataset === undefined)) throw new CliUsageError('give exactly one of --data <train.npz> or --dataset <name|id>');
    if (dataset !== undefined && str(ctx, 'test') !== undefined) throw new CliUsageError('--test goes with --data; a --dataset is evaluated on its own test split');
    const maxTrain = num(ctx, 'max-train', { int: true, min: 1 });
    if (maxTrain !== undefined && dataset === undefined) throw new CliUsageError('--max-train applies to --dataset only');
    const compute = await computeChoice(ctx);
    const params: TrainParams = {
      model: str(ctx, 'model')!,
      data: dataFile ? resolve(dataFile) : '',
      test: str(ctx, 'test') ? resolve(str(ctx, 'test')!) : undefined,
      // the recipe fields are filled in run() below, once the model's architecture is known
      epochs: 0,
      batchSize: 0,
      lr: 0,
      optimizer: { kind: 'sgd' },
      scheduleUnit: unit,
      warmup: warmup ? { length: warmup } : undefined,
      seed: 0,
      threads: compute.threads,
      provider: compute.provider,
      trainable: list(ctx, 'trainable'),
      frozen: list(ctx, 'frozen'),
      out: out ? resolve(out) : undefined,
      overwrite: force,
      saveAs,
    };
    if (isFileRef(params.model)) params.model = resolve(params.model);
    let lastPrint = 0;
    const hooks = {
      onStep: (s: { globalStep: number; totalSteps: number; loss: number; etaSeconds: number | null; epoch: number }) => {
        const now = Date.now();
        if (now - lastPrint > 2000) {
          lastPrint = now;
          ctx.progress(`step ${s.globalStep}/${s.totalSteps}  epoch ${s.epoch + 1}  loss ${s.loss.toFixed(4)}  eta ${s.etaSeconds === null ? '?' : `${Math.round(s.etaSeconds)} s`}`);
        }
      },
      onEpoch: (e: { epoch: number; meanLoss: number; seconds: number }) => ctx.progress(`epoch ${e.epoch} done: mean loss ${e.meanLoss.toFixed(4)} (${e.seconds.toFixed(1)} s)`),
    };
    const run = async (ws: Workspace | null) => {
      // the defaults of the model's architecture (imported models and files: the recipe schema's), then the flags
      const arch = ws && !isFileRef(params.model) ? (await getModelRecord(ws, params.model)).data.arch : null;
      const recipe = recipeForCli(arch, given.recipe);
      const specs = trainerSpecs(recipe);
      Object.assign(params, {
        epochs: recipe.epochs,
        batchSize: recipe.batchSize,
        lr: recipe.lr,
        optimizer: specs.optimizer,
        // cosine with tMax 0 = over the whole run (resolved by trainModel once the data size is known)
        schedule: given.schedule ?? specs.schedule,
        labelSmoothing: recipe.labelSmoothing || undefined,
        seed: recipe.seed,
      });
      if (dataset !== undefined) {
        const { findDataset } = await import('../../backend/services/datasets');
        const { datasetTrainingFiles } = await import('../../backend/services/models-api');
        const { datasetManifestSha256 } = await import('../../engine/data/store');
        const ds = await findDataset(ws!, dataset);
        if (!ds.data.counts.totals.train) throw new CliUsageError(`dataset '${ds.data.name}' has no examples in its train split`);
        ctx.progress(`preparing the training data from dataset '${ds.data.name}'...`);
        const files = await datasetTrainingFiles(ws!, ds, { maxTrain, seed: params.seed });
        params.data = files.train;
        params.test = files.test ?? undefined;
        params.datasetRef = {
          id: ds.id,
          name: ds.data.name,
          manifestSha256: datasetManifestSha256(ds.data),
          ...(maxTrain !== undefined ? { maxTrainExamples: maxTrain } : {}),
        };
        ctx.progress(`training on ${files.trainCount} examples of '${ds.data.name}'${files.test ? ', evaluating on its test split' : ' (it has no test split)'}`);
      }
      return trainModel(ws, params, hooks);
    };
    const needWs = !isFileRef(params.model) || saveAs !== undefined || dataset !== undefined;
    const r = needWs ? await withWorkspace(ctx, run) : await run(null);
    const result = {
      model: params.model,
      dataset: params.datasetRef ?? null,
      provider: r.fit.provider,
      threads: r.fit.threads,
      requested: { provider: params.provider ?? 'cpu', threads: compute.threads, providerFrom: compute.providerFrom, threadsFrom: compute.threadsFrom },
      fallbackReason: r.fit.fallbackReason,
      epochs: r.fit.epochs,
      steps: r.fit.globalStep,
      epochLosses: r.fit.epochLosses,
      testAccuracy: r.testAccuracy,
      seconds: r.fit.seconds,
      medianStepMs: r.fit.medianStepMs,
      out: r.out,
      saved: r.saved ? { name: r.saved.name, sha256: r.saved.sha256 } : null,
    };
    ctx.print(
      result,
      [
        `Trained ${r.fit.epochs} epochs (${r.fit.globalStep} steps) in ${r.fit.seconds.toFixed(1)} s on ${r.fit.provider} with ${threadsLabel(r.fit.threads)}${computeNote(compute)}`,
        params.datasetRef ? `data: dataset '${params.datasetRef.name}' (${r.provenance.data.n} training examples${params.datasetRef.maxTrainExamples !== undefined ? `, --max-train ${params.datasetRef.maxTrainExamples}` : ''})` : '',
        r.fit.fallbackReason ? `note: ${r.fit.fallbackReason}` : '',
        `epoch losses: ${r.fit.epochLosses.map((l) => l.toFixed(4)).join(', ')}`,
        r.testAccuracy !== null ? `test accuracy: ${(r.testAccuracy * 100).toFixed(2)}%` : '',
        r.out ? `wrote ${r.out.path} (sha256 ${r.out.sha256})` : '',
        r.saved ? `saved as model '${r.saved.name}'` : '',
      ]
        .filter(Boolean)
        .join('\n'),
    );
  },
};

export const modelGradCommand: CliCommand = {
  name: 'model grad',
  summary: 'Write the loss and the gradient of every trainable initializer for one batch (NPZ)',
  usage: '--model <file.onnx|name> --inputs <batch.npz> --out <grads.npz> [--mode eval|train]',
  options: {
    model: { type: 'string', description: 'ONNX file or registered model name', required: true },
    inputs: { type: 'string', description: 'batch .npz with x (float32 [N, ...]) and y (int64 [N])', required: true },
    out: { type: 'string', description: 'output .npz: loss + one array per trainable initializer', required: true },
    mode: { type: 'string', description: 'eval (default: BatchNorm running statistics) or train (batch statistics; dropout off)' },
    trainable: { type: 'string', multiple: true, description: 'initializers to force trainable (on top of the overrides given at import)' },
    frozen: { type: 'string', multiple: true, description: 'initializers to leave out (on top of the overrides given at import)' },
    threads: { type: 'string', description: 'intra-op threads, 0 = all cores (default: the workspace setting, else 1)' },
    provider: { type: 'string', description: `execution provider: ${PROVIDERS.join(', ')} (default: the workspace setting, else cpu)` },
  },
  examples: ['lethe model grad --model net.onnx --inputs batch.npz --out grads.npz', 'lethe model grad --model bn.onnx --inputs batch.npz --out g.npz --mode train --json'],
  async run(ctx) {
    const mode = str(ctx, 'mode') ?? 'eval';
    if (mode !== 'eval' && mode !== 'train') throw new CliUsageError(`--mode must be eval or train, got '${mode}'`);
    let model = str(ctx, 'model')!;
    if (isFileRef(model)) model = resolve(model);
    const compute = await computeChoice(ctx);
    const params = {
      model,
      inputs: resolve(str(ctx, 'inputs')!),
      mode: mode as 'eval' | 'train',
      trainable: list(ctx, 'trainable'),
      frozen: list(ctx, 'frozen'),
      threads: compute.threads,
      provider: compute.provider,
    };
    const r = isFileRef(model) ? await modelGradients(null, params) : await withWorkspace(ctx, (ws) => modelGradients(ws, params), 'read');
    const arrays: Npz = { loss: { dtype: 'float32', shape: [], data: new Float32Array([r.loss]) } };
    for (const [k, g] of Object.entries(r.grads)) {
      if (k === 'loss') throw new Error("the model has an initializer named 'loss', which collides with the loss key of the output NPZ");
      arrays[k] = { dtype: 'float32', shape: r.dims[k], data: g };
    }
    const out = resolve(str(ctx, 'out')!);
    await writeNpzFile(out, arrays);
    const summary = { out, loss: r.loss, n: r.n, mode, parameters: Object.keys(r.grads), provider: r.provider, threads: r.threads, modelSha256: r.modelSha256, inputsSha256: r.inputsSha256 };
    ctx.print(
      summary,
      `loss ${r.loss.toPrecision(8)} over ${r.n} examples (mode ${mode}, ${r.provider} with ${threadsLabel(r.threads)}${computeNote(compute)}); gradients of ${summary.parameters.length} initializers written to ${out}`,
    );
  },
};

export const MODEL_COMMANDS: CliCommand[] = [
  modelCreateCommand,
  modelImportCommand,
  modelExportCommand,
  modelListCommand,
  modelShowCommand,
  modelTrainCommand,
  modelGradCommand,
];
