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
  return {
    signal: ctx.signal,
    progress: (fraction: number, message: string, extra?: { loss?: number }) => {
      const now = Date.now();
      if (now - last < 200 && fraction < 1) return;
      last = now;
      ctx.progress({ step: Math.round(fraction * 1000), total: 1000, fraction, message, ...(extra?.loss !== undefined ? { loss: extra.loss } : {}) });
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
