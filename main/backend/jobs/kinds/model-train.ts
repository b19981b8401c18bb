// model.train: train a model (registered name or .onnx file) on NPZ data or on a workspace dataset
// (`dataset`: its train split, or a seeded stratified subset, written once inside the job as cached
// NPZ files under <workspace>/cache/training-data) with the Trainer, streaming
// progress (step, loss, ETA). Resumable: a checkpoint (weights, optimizer state, BatchNorm statistics,
// epoch/step; the RNG streams are derived from seed/epoch/step) is written atomically to
// <workspace>/checkpoints/model.train/<jobId>.ckpt every `checkpointEvery` steps and at each epoch end
// (one file per job, replaced each time, removed when the job succeeds); the job's persisted
// checkpoint state records its SHA-256, so a resumed job refuses a file that changed. A resumed job
// ends with the same bytes as an uninterrupted run (CPU, same threads).

import { z } from 'zod';
import { ApiError } from '../../../../preload/api/common';
import type { ModelTrainResult } from '../../../../preload/api/jobs';
import type { JobContext, JobHandler } from '../types';
import { parseJobParams } from './params';
import type { TrainParams } from '../../services/models';

const num = z.number().finite();
const optimizerSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sgd'), momentum: num.min(0).lt(1).optional(), nesterov: z.boolean().optional(), weightDecay: num.min(0).optional() }).strict(),
  z.object({ kind: z.literal('adam'), beta1: num.optional(), beta2: num.optional(), eps: num.optional(), weightDecay: num.min(0).optional() }).strict(),
  z.object({ kind: z.literal('adamw'), beta1: num.optional(), beta2: num.optional(), eps: num.optional(), weightDecay: num.min(0).optional() }).strict(),
]);
const scheduleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('constant') }).strict(),
  z.object({ kind: z.literal('step'), stepSize: z.number().int().positive(), gamma: num.positive().optional() }).strict(),
  z.object({ kind: z.literal('multistep'), milestones: z.array(z.number().int().nonnegative()), gamma: num.positive().optional() }).strict(),
  z.object({ kind: z.literal('cosine'), tMax: z.number().int().nonnegative(), etaMin: num.min(0).optional() }).strict(),
]);

export const modelTrainSchema = z
  .object({
    model: z.string().min(1),
    data: z.string().min(1).optional(),
    test: z.string().min(1).optional(),
    dataset: z.object({ id: z.string().min(1), maxTrainExamples: z.number().int().positive().optional() }).strict().optional(),
    epochs: z.number().int().positive().max(100_000),
    batchSize: z.number().int().positive().max(1_000_000),
    lr: num.min(0),
    optimizer: optimizerSchema,
    schedule: scheduleSchema.optional(),
    scheduleUnit: z.enum(['epoch', 'step']).optional(),
    warmup: z.object({ length: z.number().int().nonnegative(), startFactor: num.gt(0).max(1).optional() }).strict().optional(),
    labelSmoothing: num.min(0).max(1).optional(),
    seed: z.number().int().nonnegative(),
    threads: z.number().int().positive().max(1024).optional(),
    provider: z.enum(['cpu', 'cuda', 'webgpu', 'dml', 'coreml']).optional(),
    trainable: z.array(z.string()).optional(),
    frozen: z.array(z.string()).optional(),
    out: z.string().min(1).optional(),
    overwrite: z.boolean().optional(),
    saveAs: z.string().min(1).optional(),
    checkpointEvery: z.number().int().positive().optional(),
  })
  .strict()
  .refine((p) => p.out !== undefined || p.saveAs !== undefined, { message: 'needs out (a file) or saveAs (a model name) so the trained model is kept' })
  .refine((p) => (p.data === undefined) !== (p.dataset === undefined), { message: 'needs exactly one of data (an NPZ file) or dataset (a workspace dataset)' })
  .refine((p) => !(p.dataset && p.test), { message: 'test goes with data; a dataset brings its own test split' });

export type ModelTrainParams = Omit<TrainParams, 'data'> & {
  data?: string;
  dataset?: { id: string; maxTrainExamples?: number };
  checkpointEvery?: number;
};

// the contract (preload/api/jobs.ts) defines this kind's result type
export type { ModelTrainResult };

interface StoredCheckpoint {
  /** path relative to the workspace root */
  file: string;
  sha256: string;
  globalStep: number;
  epoch: number;
}

export const modelTrain: JobHandler<ModelTrainParams, ModelTrainResult> = {
  kind: 'model.train',
  description: 'Train a model on NPZ data (resumable from its last checkpoint)',
  resumable: true,
  validate(params: unknown): ModelTrainParams {
    return parseJobParams('model.train', modelTrainSchema, params) as ModelTrainParams;
  },
  async run(params: ModelTrainParams, ctx: JobContext): Promise<ModelTrainResult> {
    const { openWorkspace } = await import('../../workspace');
    const { trainModel } = await import('../../services/models');
    const { writeFileAtomic, ensureDirDurable } = await import('../../workspace/atomic');
    const { readFile, rm } = await import('node:fs/promises');
    const { createHash } = await import('node:crypto');
    const { join } = await import('node:path');
    const rel = join('checkpoints', 'model.train', `${ctx.jobId.replace(/[^A-Za-z0-9._-]/g, '_')}.ckpt`);
    const ckptPath = join(ctx.workspaceRoot, rel);
    const ws = await openWorkspace(ctx.workspaceRoot, { mode: 'worker' });
    try {
      let resumeFrom: Uint8Array | null = null;
      const ck = ctx.checkpoint as StoredCheckpoint | null;
      if (ck && typeof ck.file === 'string') {
        const bytes = await readFile(join(ctx.workspaceRoot, ck.file)).catch(() => {
          throw new ApiError('not_found', `the checkpoint of this job (${ck.file}) is missing; it cannot be resumed`);
        });
        if (createHash('sha256').update(bytes).digest('hex') !== ck.sha256) {
          throw new ApiError('conflict', `the checkpoint of this job (${ck.file}) was modified or corrupted; it cannot be resumed`);
        }
        resumeFrom = bytes;
        ctx.log('info', `Resuming from the checkpoint at step ${ck.globalStep} (epoch ${ck.epoch}).`);
      }
      let data = params.data;
      let test = params.test;
      let datasetRef: TrainParams['datasetRef'];
      if (params.dataset) {
        const { findDataset } = await import('../../services/datasets');
        const { datasetTrainingFiles } = await import('../../services/models-api');
        const { datasetManifestSha256 } = await import('../../../engine/data/store');
        ctx.progress({ step: 0, total: null, message: 'preparing the training data' });
        const ds = await findDataset(ws, params.dataset.id);
        const files = await datasetTrainingFiles(ws, ds, { maxTrain: params.dataset.maxTrainExamples, seed: params.seed, signal: ctx.signal });
        data = files.train;
        test = files.test ?? undefined;
        datasetRef = {
          id: ds.id,
          name: ds.data.name,
          manifestSha256: datasetManifestSha256(ds.data),
          ...(params.dataset.maxTrainExamples !== undefined ? { maxTrainExamples: params.dataset.maxTrainExamples } : {}),
        };
        ctx.log('info', `Training data: ${files.trainCount.toLocaleString('en-US')} examples of '${ds.data.name}'${files.test ? ', evaluated on its test split' : ''}.`);
      }
      const { dataset: _dataset, ...rest } = params;
      let last = 0;
      /** the latest step reported, so an epoch's accuracy is placed on the same progress axis */
      let at = { step: 0, total: null as number | null };
      const r = await trainModel(
        ws,
        { ...rest, data: data!, ...(test ? { test } : {}), ...(datasetRef ? { datasetRef } : {}), threads: params.threads ?? ctx.settings.intraOpThreads ?? 1, provider: params.provider ?? (ctx.settings.executionProvider as TrainParams['provider']) },
        {
          signal: ctx.signal,
          resumeFrom,
          checkpointEvery: params.checkpointEvery ?? 200,
          evalEachEpoch: true,
          onStep: (s) => {
            at = { step: s.globalStep, total: s.totalSteps };
            const now = Date.now();
            if (now - last < 200 && s.globalStep !== s.totalSteps) return;
            last = now;
            ctx.progress({
              step: s.globalStep,
              total: s.totalSteps,
              fraction: s.totalSteps ? s.globalStep / s.totalSteps : null,
              loss: s.loss,
              etaSeconds: s.etaSeconds,
              message: `epoch ${s.epoch + 1}, step ${s.stepInEpoch}/${s.stepsPerEpoch}, lr ${s.lr.toPrecision(3)}`,
            });
          },
          onEpoch: (e) => {
            const acc = e.eval ? e.eval.accuracy * 100 : null;
            ctx.log('info', `Epoch ${e.epoch}: mean loss ${e.meanLoss.toFixed(4)}${acc !== null ? `, test accuracy ${acc.toFixed(2)}%` : ''} (${e.seconds.toFixed(1)} s).`);
            if (acc !== null)
              ctx.progress({ step: at.step, total: at.total, fraction: at.total ? at.step / at.total : null, testAccuracy: acc, message: `epoch ${e.epoch}: test accuracy ${acc.toFixed(2)}%` });
          },
          saveCheckpoint: async (bytes, c) => {
            await ensureDirDurable(join(ctx.workspaceRoot, 'checkpoints', 'model.train'));
            await writeFileAtomic(ckptPath, bytes);
            const stored: StoredCheckpoint = { file: rel, sha256: createHash('sha256').update(bytes).digest('hex'), globalStep: c.globalStep, epoch: c.epoch };
            await ctx.saveCheckpoint(stored);
          },
        },
      );
      if (r.fit.fallbackReason) ctx.log('warn', r.fit.fallbackReason);
      await rm(ckptPath, { force: true });
      return {
        model: params.model,
        saved: r.saved ? { name: r.saved.name, sha256: r.saved.sha256 } : null,
        out: r.out,
        epochs: r.fit.epochs,
        steps: r.fit.globalStep,
        epochLosses: r.fit.epochLosses,
        testAccuracy: r.testAccuracy,
        provider: r.fit.provider,
        threads: r.fit.threads,
        fallbackReason: r.fit.fallbackReason,
        seconds: r.fit.seconds,
        resumedFromStep: r.resumedFromStep,
      };
    } finally {
      await ws.close();
    }
  },
};
