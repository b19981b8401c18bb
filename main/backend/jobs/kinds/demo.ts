// unlearn.demo: the built-in demo (services/demo.ts runDemo, the same pipeline as `lethe demo`) as one
// job: Fashion-MNIST, the small CNN, the original, two forget sets, the retrain reference and every
// method, then one comparison per forget set. Not resumable in the checkpoint sense: every stage is
// cached in the workspace (datasets, models and forget sets by name, runs by their cache key), so
// submitting it again continues where the earlier attempt stopped.

import { z } from 'zod';
import type { JobHandler } from '../types';
import type { DemoJobParams, DemoJobResult } from '../../../../preload/api/jobs';
import { parseJobParams } from './params';

export const unlearnDemoSchema = z
  .object({
    /** the demo's size: 'full' (default, `lethe demo`) or 'short' (one forget set, FT and SalUn, a minute or two) */
    preset: z.enum(['full', 'short']).optional(),
    /** seeds per model (default 1) */
    seeds: z.number().int().min(1).max(10).optional(),
    /** train the original on a seeded stratified subset of this many examples (0 = all 60,000) */
    maxTrain: z.number().int().min(0).max(1_000_000).optional(),
    threads: z.number().int().min(0).max(1024).optional(),
    provider: z.enum(['cpu', 'cuda', 'webgpu', 'dml', 'coreml']).optional(),
  })
  .strict();

export const unlearnDemo: JobHandler<DemoJobParams, DemoJobResult> = {
  kind: 'unlearn.demo',
  description: 'The built-in demo: Fashion-MNIST, a small CNN, two forget sets, the retrain reference and every method, compared (cached stage by stage)',
  resumable: false,
  validate: (params) => parseJobParams('unlearn.demo', unlearnDemoSchema, params ?? {}),
  async run(p, ctx) {
    const { openWorkspace } = await import('../../workspace');
    const { runDemo } = await import('../../services/demo');
    const { isCodedError, engineToApiError } = await import('../../errors');
    const ws = await openWorkspace(ctx.workspaceRoot, { mode: 'worker' });
    let last = 0;
    let lastStage = '';
    try {
      const r = await runDemo(
        ws,
        { ...(p.preset ? { preset: p.preset } : {}), seeds: p.seeds, maxTrain: p.maxTrain, provider: (p.provider ?? ctx.settings.executionProvider) as 'cpu', threads: p.threads ?? ctx.settings.intraOpThreads ?? 1 },
        {
          signal: ctx.signal,
          progress: (stage, fraction, message) => {
            const now = Date.now();
            // a new stage is always reported; within a stage at most every 200 ms
            if (now - last < 200 && stage === lastStage && fraction < 1) return;
            last = now;
            lastStage = stage;
            ctx.progress({ step: Math.round(fraction * 1000), total: 1000, fraction, stage, message: `${stage}: ${message}` });
          },
          log: (message) => ctx.log('info', message),
        },
      ).catch((e) => {
        throw isCodedError(e) ? engineToApiError(e) : e;
      });
      return { comparisonIds: r.comparisons.map((c) => c.id), forgetSets: r.comparisons.map((c) => c.forgetSet), seconds: r.seconds };
    } finally {
      await ws.close();
    }
  },
};
