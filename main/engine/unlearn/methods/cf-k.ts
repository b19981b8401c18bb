// CF-k (catastrophic forgetting of the last k layers, Goel et al. 2023): fine-tune only the last k
// layers with weights (weight-edits.ts lastLayers: the last k Gemm/MatMul/Conv layers with their
// biases, plus the norm layers from the first of them on) on the retain set; every other parameter
// is frozen (not in the trainer's trainable list) and keeps θ_o's bits, and so do the BatchNorm
// running statistics of the frozen part (the result carries only the last k layers' parameters and
// statistics; during training the frozen part's BatchNorm layers normalise with batch statistics,
// as in PyTorch train mode).

import { z } from 'zod';
import type { MethodContext, MethodDescriptor } from '../types';
import { trainLoop } from '../loop';
import { lastLayers } from '../../train/weight-edits';
import { EngineError } from '../../errors';
import { field, mean, sgd, WEIGHTED_SUM } from './common';

const params = z.object({
  k: z.number().int().min(1).max(1000).default(1).describe('number of final layers with weights that are trained (the rest stay frozen)'),
  epochs: field.epochs(10, 'passes over the retain set'),
  lr: field.lr(0.01),
  batchSize: field.batchSize(256),
});

/** The last k layers' trainable parameters and running statistics; a clear refusal when k is too large. */
export function lastKLayers(ctx: Pick<MethodContext, 'model' | 'trainable'>, k: number, method: string): { params: string[]; buffers: string[] } {
  let last;
  try {
    last = lastLayers(ctx.model, k);
  } catch (e) {
    throw new EngineError('invalid_argument', `${method}: ${(e as Error).message}.`);
  }
  const params = last.params.filter((p) => ctx.trainable.includes(p));
  if (!params.length) throw new EngineError('invalid_argument', `${method}: the last ${k} layer(s) have no trainable parameters.`);
  return { params, buffers: last.buffers };
}

export const cfK: MethodDescriptor<typeof params> = {
  id: 'cf-k',
  name: 'CF-k (fine-tune the last k layers)',
  exact: false,
  scope: 'any',
  gradientBased: true,
  description:
    'Fine-tunes only the last k layers of the original on the retain set; every earlier layer stays exactly as it was. Cheap, and it shows how much forgetting the head alone can do; since the features of the forget set are untouched it tends to under-forget.',
  source:
    'Goel et al. 2023, "Towards Adversarial Evaluations for Inexact Machine Unlearning" (CF-k), k = 1; training defaults as Lethe’s FT (OPTML-Group code: SGD momentum 0.9, weight decay 5e-4, lr 0.01, 10 epochs, batch 256)',
  params,
  async run(ctx, p) {
    const last = lastKLayers(ctx, p.k, 'CF-k');
    ctx.log('info', `CF-k: training ${last.params.join(', ')}; everything else is frozen.`);
    const t = await ctx.createTrainer({ optimizer: sgd(), lr: p.lr, batchSize: p.batchSize, loss: WEIGHTED_SUM, trainable: last.params });
    try {
      const r = await trainLoop(ctx, t, { epochs: p.epochs, streams: [{ data: ctx.retain, batchSize: p.batchSize, weight: mean }], label: 'CF-k' });
      return { weights: pick(t.weights(), [...last.params, ...last.buffers]), steps: r.steps };
    } finally {
      await t.dispose();
    }
  },
};

export function pick(w: Record<string, Float32Array>, names: string[]): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const n of names) if (w[n]) out[n] = new Float32Array(w[n]);
  return out;
}
