// Unlearning job kinds:
//   unlearn.run      one method (or the retrain reference) at one seed, then the stored per-example
//                    outputs of its model; cached (an identical request reuses the earlier run)
//   unlearn.evaluate the stored outputs of any model on a forget set's rows (cached)
//   unlearn.compare  a comparison record from the unlearn.run jobs it depends on (their results name
//                    the runs) or from explicit run ids
// A pipeline (train original -> retrain -> unlearn x seeds -> compare) is a set of these jobs linked
// by dependsOn (services/unlearning-api.ts: planUnlearning).

import { z } from 'zod';
import type { JobContext, JobHandler } from '../types';
import { parseJobParams } from './params';
import { ApiError } from '../../../../preload/api/common';

const provider = z.enum(['cpu', 'cuda', 'webgpu', 'dml', 'coreml']).optional();
const threads = z.number().int().min(0).max(1024).optional();
const guardrail = z
  .object({ maxDropPoints: z.number().min(0).max(100).optional(), action: z.enum(['stop', 'flag', 'off']).optional(), sliceSize: z.number().int().min(0).max(100_000).optional() })
  .strict()
  .optional();

export const unlearnRunSchema = z
  .object({
    model: z.string().min(1).max(200),
    forgetSet: z.string().min(1).max(200),
    method: z.string().min(1).max(60),
    params: z.record(z.union([z.number(), z.boolean(), z.string()])).optional(),
    seed: z.number().int().min(0).max(1_000_000).optional(),
    guardrail,
    saveAs: z.string().min(1).max(128).optional(),
    provider,
    threads,
  })
  .strict();
export type UnlearnRunParams = z.output<typeof unlearnRunSchema>;

export interface UnlearnRunResult {
  runId: string;
  modelId: string;
  method: string;
  seed: number;
  cached: boolean;
  seconds: number | null;
  summary: { forgetAccuracy: number; retainAccuracy: number; testAccuracy: number };
  guardrail: { tripped: boolean; stopped: boolean } | null;
}

function session(p: { provider?: string; threads?: number }, ctx: JobContext) {
  return { provider: (p.provider ?? ctx.settings.executionProvider) as 'cpu', threads: p.threads ?? ctx.settings.intraOpThreads ?? 1 };
}

function hooks(ctx: JobContext) {
  let last = 0;
  let lastLoss: number | undefined;
  return {
    signal: ctx.signal,
    progress: (fraction: number, message: string, extra?: { loss?: number; retainAccuracy?: number; forgetAccuracy?: number }) => {
      const now = Date.now();
      if (extra?.loss !== undefined) lastLoss = extra.loss;
      // a held-out accuracy is measured rarely: never drop it to throttling, and send the latest loss
      // with it (the loss-only reports in between may have been throttled away)
      const measured = extra?.retainAccuracy !== undefined || extra?.forgetAccuracy !== undefined;
      if (now - last < 200 && fraction < 1 && !measured) return;
      last = now;
      const loss = extra?.loss ?? (measured ? lastLoss : undefined);
      ctx.progress({
        step: Math.round(fraction * 1000),
        total: 1000,
        fraction,
        message,
        ...(loss !== undefined ? { loss } : {}),
        ...(extra?.retainAccuracy !== undefined ? { retainAccuracy: extra.retainAccuracy } : {}),
        ...(extra?.forgetAccuracy !== undefined ? { forgetAccuracy: extra.forgetAccuracy } : {}),
      });
    },
    log: (level: 'info' | 'warn', message: string) => ctx.log(level, message),
  };
}

export const unlearnRun: JobHandler<UnlearnRunParams, UnlearnRunResult> = {
  kind: 'unlearn.run',
  description: 'Run an unlearning method (or the retrain reference) on a model and a forget set',
  resumable: false,
  validate(params: unknown): UnlearnRunParams {
    const p = parseJobParams('unlearn.run', unlearnRunSchema, params);
    return p;
  },
  async run(p, ctx) {
    const { openWorkspace } = await import('../../workspace');
    const { runUnlearning, validateUnlearnParams } = await import('../../services/unlearning');
    const { isCodedError, engineToApiError } = await import('../../errors');
    try {
      validateUnlearnParams(p);
    } catch (e) {
      throw isCodedError(e) ? engineToApiError(e) : e;
    }
    const ws = await openWorkspace(ctx.workspaceRoot, { mode: 'worker' });
    try {
      const r = await runUnlearning(ws, { ...p, ...session(p, ctx) }, hooks(ctx)).catch((e) => {
        throw isCodedError(e) ? engineToApiError(e) : e;
      });
      const d = r.run.data;
      if (d.guardrail?.tripped) ctx.log('warn', d.notes.find((n) => n.startsWith('The guardrail')) ?? 'The guardrail tripped.');
      return { runId: r.run.id, modelId: r.modelId, method: d.method!.id, seed: d.seed, cached: r.cached, seconds: d.seconds, summary: d.summary, guardrail: d.guardrail ? { tripped: d.guardrail.tripped, stopped: d.guardrail.stopped } : null };
    } finally {
      await ws.close();
    }
  },
};

export const unlearnEvaluateSchema = z.object({ model: z.string().min(1).max(200), forgetSet: z.string().min(1).max(200), provider, threads }).strict();

export const unlearnEvaluate: JobHandler<z.output<typeof unlearnEvaluateSchema>, { runId: string; cached: boolean; summary: UnlearnRunResult['summary'] }> = {
  kind: 'unlearn.evaluate',
  description: "Evaluate a model on a forget set's forget, retain and test examples (stored per-example outputs)",
  resumable: false,
  validate: (params) => parseJobParams('unlearn.evaluate', unlearnEvaluateSchema, params),
  async run(p, ctx) {
    const { openWorkspace } = await import('../../workspace');
    const { evaluateOnForgetSet } = await import('../../services/unlearning');
    const ws = await openWorkspace(ctx.workspaceRoot, { mode: 'worker' });
    try {
      const r = await evaluateOnForgetSet(ws, { ...p, ...session(p, ctx) }, hooks(ctx));
      return { runId: r.run.id, cached: r.cached, summary: r.run.data.summary };
    } finally {
      await ws.close();
    }
  },
};

export const unlearnCompareSchema = z
  .object({
    name: z.string().min(1).max(200).optional(),
    model: z.string().min(1).max(200),
    forgetSet: z.string().min(1).max(200),
    /** explicit runs (in addition to those of the unlearn.run jobs this job depends on) */
    runs: z.array(z.string().min(1).max(200)).max(10_000).optional(),
    metrics: z.array(z.string().min(1).max(60)).max(200).optional(),
    thresholds: z
      .object({
        fixedAt: z.string().datetime(),
        items: z.array(z.object({ metric: z.string().min(1).max(60), op: z.enum(['<=', '>=', 'gap<=']), value: z.number().finite() }).strict()).max(100),
      })
      .strict()
      .optional(),
    provider,
    threads,
  })
  .strict();

export const unlearnCompare: JobHandler<z.output<typeof unlearnCompareSchema>, { comparisonId: string; entries: number; seeds: number }> = {
  kind: 'unlearn.compare',
  description: 'Compare the original, the retrain reference and unlearned models on one forget set (every metric)',
  resumable: false,
  validate: (params) => parseJobParams('unlearn.compare', unlearnCompareSchema, params),
  async run(p, ctx) {
    const { openWorkspace } = await import('../../workspace');
    const { buildComparison } = await import('../../services/comparisons');
    const fromDeps = ctx.dependencies.filter((d) => d.kind === 'unlearn.run').map((d) => (d.result as UnlearnRunResult).runId);
    const runs = [...new Set([...(p.runs ?? []), ...fromDeps])];
    if (!runs.length) throw new ApiError('invalid_argument', 'unlearn.compare: no runs to compare (give runs or depend on unlearn.run jobs).');
    const ws = await openWorkspace(ctx.workspaceRoot, { mode: 'worker' });
    try {
      const { runs: _r, ...rest } = p;
      const c = await buildComparison(ws, { ...rest, runs, ...session(p, ctx) }, hooks(ctx));
      return { comparisonId: c.id, entries: c.data.entries.length, seeds: c.data.seeds };
    } finally {
      await ws.close();
    }
  },
};

const dimension = z.union([z.object({ values: z.array(z.union([z.number(), z.boolean(), z.string()])).min(1).max(500) }).strict(), z.object({ min: z.number(), max: z.number(), log: z.boolean().optional() }).strict()]);

export const unlearnSweepSchema = z
  .object({
    name: z.string().min(1).max(200).optional(),
    model: z.string().min(1).max(200),
    forgetSet: z.string().min(1).max(200),
    spec: z
      .object({
        method: z.string().min(1).max(60),
        base: z.record(z.union([z.number(), z.boolean(), z.string()])).optional(),
        space: z.record(dimension),
        mode: z.enum(['grid', 'random']),
        trials: z.number().int().min(1).max(500).optional(),
        seed: z.number().int().min(0).optional(),
        objective: z.enum(['tow', 'avg-gap']),
      })
      .strict(),
    guardrail,
    provider,
    threads,
  })
  .strict();

/**
 * unlearn.sweep: the summary of a sweep whose retrain reference and trials are the unlearn.run jobs it
 * depends on (trial order = dependency order); see unlearning-api planSweep.
 */
export const unlearnSweep: JobHandler<z.output<typeof unlearnSweepSchema>, { sweepId: string; best: number | null; trials: number }> = {
  kind: 'unlearn.sweep',
  description: "Summarise a hyperparameter sweep: each trial judged against the retrain reference, the best setting",
  resumable: false,
  validate(params) {
    const p = parseJobParams('unlearn.sweep', unlearnSweepSchema, params);
    return p;
  },
  async run(p, ctx) {
    const { openWorkspace } = await import('../../workspace');
    const { summarizeSweep } = await import('../../services/sweeps');
    const deps = ctx.dependencies.filter((d) => d.kind === 'unlearn.run').map((d) => d.result as UnlearnRunResult);
    const ref = deps.find((d) => d.method === 'retrain');
    if (!ref) throw new ApiError('invalid_argument', 'unlearn.sweep: it must depend on a retrain run.');
    const ws = await openWorkspace(ctx.workspaceRoot, { mode: 'worker' });
    try {
      const s = await summarizeSweep(ws, p, ref.runId, deps.filter((d) => d !== ref).map((d) => d.runId));
      return { sweepId: s.id, best: s.data.best, trials: s.data.trials.length };
    } finally {
      await ws.close();
    }
  },
};
