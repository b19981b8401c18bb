// Running one unlearning method on prepared data: builds the MethodContext (guardrail on a held-out
// retain slice for approximate methods, a trainer factory on the original's weights), runs the
// method, times the method alone, and bakes the result into an inference model.

import type { Model } from '../onnx/ir';
import type { ArrayDataset } from '../train/data';
import { Trainer, type TrainerOptions } from '../train/trainer';
import { bakeInference } from '../train/bake';
import type { ProviderName } from '../train/session';
import { Guardrail, type GuardrailReport, type GuardrailSettings, DEFAULT_GUARDRAIL, FORGET_WATCH_ROWS } from './guardrail';
import { sampleRows } from './data';
import { getMethod } from './registry';
import { parseMethodParams } from './params';
import type { MethodContext, MethodProgress, Recipe } from './types';
import { EngineError } from '../errors';

export interface RunMethodInput {
  methodId: string;
  params?: Record<string, unknown>;
  model: Model;
  initModel: Model | null;
  trainable: string[];
  recipe: Recipe;
  recipeKnown: boolean;
  forget: ArrayDataset;
  /** D_r without the held-out slice */
  retain: ArrayDataset;
  /** the guardrail's held-out retain slice (empty for exact methods or when the guardrail is off) */
  retainSlice: ArrayDataset;
  numClasses: number;
  forgottenClasses: number[];
  seed: number;
  provider?: ProviderName;
  threads?: number;
  signal?: AbortSignal;
  guardrail?: Partial<GuardrailSettings>;
  progress?: (p: MethodProgress) => void;
  log?: (level: 'info' | 'warn', message: string) => void;
}

export interface RunMethodOutput {
  model: Model;
  params: Record<string, unknown>;
  /** wall time of the method alone (data loading and evaluation excluded), seconds */
  seconds: number;
  steps: number;
  guardrail: GuardrailReport | null;
  stats: Record<string, number>;
  notes: string[];
  provider: string;
  threads: number;
}

export async function runMethod(inp: RunMethodInput): Promise<RunMethodOutput> {
  const method = getMethod(inp.methodId);
  const params = parseMethodParams(method.id, method.params, inp.params ?? {}) as Record<string, unknown>;
  if (method.scope === 'class' && inp.forgottenClasses.length === 0) {
    throw new EngineError('invalid_argument', `${method.name} forgets whole classes only; this forget set does not contain every training example of any class.`);
  }
  const provider = inp.provider ?? 'cpu';
  const threads = inp.threads ?? 1;
  const settings: GuardrailSettings = { ...DEFAULT_GUARDRAIL, ...inp.guardrail };
  if (method.exact) settings.action = 'off';
  const signal = inp.signal ?? new AbortController().signal;
  const guardrail = await Guardrail.create(settings, inp.retainSlice, inp.model, { provider, threads }, sampleRows(inp.forget, FORGET_WATCH_ROWS, inp.seed));
  const notes: string[] = [];
  let used = { provider, threads };
  const ctx: MethodContext = {
    model: inp.model,
    initModel: inp.initModel,
    trainable: inp.trainable,
    recipe: inp.recipe,
    recipeKnown: inp.recipeKnown,
    forget: inp.forget,
    retain: inp.retain,
    numClasses: inp.numClasses,
    forgottenClasses: inp.forgottenClasses,
    seed: inp.seed,
    provider,
    threads,
    signal,
    guardrail,
    progress: (p) => inp.progress?.(p),
    log: (level, message) => {
      if (level === 'warn') notes.push(message);
      inp.log?.(level, message);
    },
    async createTrainer(o) {
      const { from, ...rest } = o;
      const opts: TrainerOptions = { seed: inp.seed, trainable: inp.trainable, provider, threads, ...rest, model: from ?? inp.model };
      const t = await Trainer.create(opts);
      used = { provider: t.provider as ProviderName, threads: t.threads };
      if (t.fallbackReason && !notes.includes(t.fallbackReason)) ctx.log('warn', t.fallbackReason);
      return t;
    },
  };
  const t0 = performance.now();
  let result;
  try {
    result = await method.run(ctx, params);
  } catch (e) {
    const m = (e as Error).message ?? '';
    if (/training diverged|is not finite|NaN/i.test(m)) throw new EngineError('invalid_argument', `${method.name} diverged: ${m}. Nothing was saved; try a smaller learning rate.`);
    throw e;
  }
  const seconds = (performance.now() - t0) / 1000;
  const base = result.base ?? inp.model;
  for (const [k, v] of Object.entries(result.weights)) {
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) throw new EngineError('invalid_argument', `${method.name} produced a non-finite weight in '${k}'. Nothing was saved; try a smaller learning rate.`);
  }
  const model = bakeInference(base, result.weights, { 'lethe.unlearned.method': method.id, 'lethe.unlearned.seed': String(inp.seed) });
  if (guardrail.tripped) notes.push(guardrail.stopped ? `The guardrail stopped the run at step ${guardrail.trippedAtStep}: held-out retain accuracy fell more than ${settings.maxDropPoints} points below the original's; the last weights that passed were kept.` : `The guardrail flagged this run: held-out retain accuracy fell more than ${settings.maxDropPoints} points below the original's at step ${guardrail.trippedAtStep}.`);
  return {
    model,
    params,
    seconds,
    steps: result.steps,
    guardrail: guardrail.active || guardrail.checks.length ? guardrail.report() : settings.action === 'off' ? null : guardrail.report(),
    stats: result.stats ?? {},
    notes: [...notes, ...(result.notes ?? [])],
    provider: used.provider,
    threads: used.threads,
  };
}
