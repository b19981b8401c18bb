// forgetSet.score: score every training example of a dataset with an original model (loss, margin or
// the memorization proxy; main/engine/data/scorer.ts defines them) and cache the scores in the
// workspace (main/backend/services/score-cache.ts), for worst-case forget sets. It runs in a job
// worker because onnxruntime-node runs a session on the calling thread: the API process only reads
// the cache. Not resumable: a restarted job scores again (the cache is written once, at the end).

import type { z } from 'zod';
import { datasetArgSchemas } from '../../services/datasets-schemas';
import type { ForgetSetScoreJobResult } from '../../../../preload/api/jobs';
import type { JobContext, JobHandler } from '../types';
import { parseJobParams } from './params';

// the same parameters as the API call that submits it (forgetSets.score)
const schema = datasetArgSchemas['forgetSets.score'];

export type ForgetSetScoreParams = z.infer<typeof schema>;

/** the job's result, as the contract (preload/api/jobs.ts ForgetSetScoreJobResult) defines it */
export type ForgetSetScoreResult = ForgetSetScoreJobResult;

export const forgetSetScore: JobHandler<ForgetSetScoreParams, ForgetSetScoreResult> = {
  kind: 'forgetSet.score',
  description: 'Score every training example with the original model (for worst-case forget sets)',
  resumable: false,
  validate(params: unknown): ForgetSetScoreParams {
    return parseJobParams('forgetSet.score', schema, params) as ForgetSetScoreParams;
  },
  async run(p: ForgetSetScoreParams, ctx: JobContext): Promise<ForgetSetScoreResult> {
    const { openWorkspace } = await import('../../workspace');
    const { findDataset, openReader } = await import('../../services/datasets');
    const { scorerForModel } = await import('../../services/forget-sets');
    const { computeAndCacheScores } = await import('../../services/score-cache');
    const t0 = Date.now();
    const ws = await openWorkspace(ctx.workspaceRoot, { mode: 'worker' });
    try {
      const ds = await findDataset(ws, p.datasetId);
      const reader = await openReader(ws, ds);
      let last = 0;
      ctx.progress({ step: 0, total: null, message: 'loading the model' });
      const r = await computeAndCacheScores(ws, reader, p.model, p.metric, (m) => scorerForModel(ws, m), {
        signal: ctx.signal,
        onProgress: (done, total) => {
          const now = Date.now();
          if (now - last < 200 && done !== total) return;
          last = now;
          const secs = (now - t0) / 1000;
          ctx.progress({
            step: done,
            total,
            fraction: total ? done / total : null,
            etaSeconds: done > 0 ? (secs / done) * (total - done) : null,
            message: `scored ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} examples`,
          });
        },
      });
      let min = Infinity;
      let max = -Infinity;
      let sum = 0;
      for (const s of r.scores) {
        min = Math.min(min, s);
        max = Math.max(max, s);
        sum += s;
      }
      ctx.log('info', `Scored ${r.scores.length} training examples of '${ds.data.name}' (${p.metric}).`);
      return { datasetId: ds.id, metric: p.metric, scored: r.scores.length, key: r.key, min, mean: sum / Math.max(1, r.scores.length), max, seconds: (Date.now() - t0) / 1000 };
    } finally {
      await ws.close();
    }
  },
};
