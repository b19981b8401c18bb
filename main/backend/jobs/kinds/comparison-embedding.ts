// comparison.embedding: every model of a comparison through its penultimate layer on the comparison's
// fixed embedding sample, projected to 2-D by PCA and cached (services/embedding.ts). It runs in a job
// worker because onnxruntime-node runs a session on the calling thread: the API process only reads
// the cache. Not resumable: a restarted job skips the projections already cached.

import { z } from 'zod';
import type { ComparisonEmbeddingJobResult } from '../../../../preload/api/jobs';
import type { JobContext, JobHandler } from '../types';
import { parseJobParams } from './params';

const schema = z
  .object({
    comparisonId: z.string().min(1).max(128),
    provider: z.enum(['cpu', 'cuda', 'webgpu', 'dml', 'coreml']).optional(),
    threads: z.number().int().min(0).max(1024).optional(),
  })
  .strict();

export type ComparisonEmbeddingParams = z.output<typeof schema>;

export const comparisonEmbedding: JobHandler<ComparisonEmbeddingParams, ComparisonEmbeddingJobResult> = {
  kind: 'comparison.embedding',
  description: 'Penultimate-layer features of every model of a comparison on a fixed sample, projected to 2-D (PCA)',
  resumable: false,
  validate(params: unknown): ComparisonEmbeddingParams {
    return parseJobParams('comparison.embedding', schema, params);
  },
  async run(p: ComparisonEmbeddingParams, ctx: JobContext): Promise<ComparisonEmbeddingJobResult> {
    const { openWorkspace } = await import('../../workspace');
    const { computeEmbeddings } = await import('../../services/embedding');
    const t0 = Date.now();
    const ws = await openWorkspace(ctx.workspaceRoot, { mode: 'worker' });
    try {
      ctx.progress({ step: 0, total: null, message: 'reading the comparison' });
      const r = await computeEmbeddings(ws, p.comparisonId, {
        signal: ctx.signal,
        provider: (p.provider ?? ctx.settings.executionProvider) as 'cpu',
        threads: p.threads ?? ctx.settings.intraOpThreads ?? 1,
        progress: (done, total, message) => ctx.progress({ step: done, total, fraction: total ? done / total : null, message }),
        log: (level, message) => ctx.log(level, message),
      });
      ctx.log('info', `Embedding view of ${p.comparisonId}: ${r.computed} projected, ${r.cached} already cached${r.unavailable ? `, ${r.unavailable} unavailable` : ''}.`);
      return { comparisonId: p.comparisonId, ...r, seconds: (Date.now() - t0) / 1000 };
    } finally {
      const { closeReaders } = await import('../../services/datasets');
      await closeReaders(ws);
      await ws.close();
    }
  },
};
