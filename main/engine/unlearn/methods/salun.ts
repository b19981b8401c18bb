// SalUn (saliency unlearning): RL restricted to the most salient weights. The saliency of a weight is
// |∂ CE(θ_o; D_f) / ∂θ| (the gradient of the forget loss summed over the whole forget set, then its
// absolute value); the mask keeps the top `maskFraction` of all weights jointly (one global
// threshold); masked-out weights keep θ_o's values bit for bit.

import { z } from 'zod';
import type { MethodDescriptor } from '../types';
import { trainLoop } from '../loop';
import { computeGradients } from '../../train/gradients';
import { field, sgd, WEIGHTED_SUM } from './common';
import { mixedStreams } from './rl';

const params = z.object({
  maskFraction: field.fraction(0.5, 'fraction of weights (globally, by saliency) that may change'),
  epochs: field.epochs(10, 'passes over forget + retain'),
  lr: field.lr(0.013),
  batchSize: field.batchSize(256),
  saliencyBatchSize: field.batchSize(256, 'batch size of the saliency pass over the forget set'),
});

export const salun: MethodDescriptor<typeof params> = {
  id: 'salun',
  name: 'SalUn',
  exact: false,
  scope: 'any',
  gradientBased: true,
  description: 'Computes the saliency of every weight for the forget set (|gradient of the forget loss|), keeps the most salient fraction trainable and freezes the rest exactly, then runs random-label unlearning (RL) on those weights only. It comes close to retraining on most benchmarks.',
  source: 'Fan et al. 2024, "SalUn" (ICLR); OPTML-Group/Unlearn-Saliency code: mask ratio 0.5, lr 0.013, 10 epochs',
  params,
  async run(ctx, p) {
    ctx.progress({ fraction: 0, message: 'SalUn: saliency of every weight on the forget set' });
    const g = await computeGradients(ctx.model, ctx.forget, { params: ctx.trainable, batchSize: p.saliencyBatchSize, combine: 'sum', provider: ctx.provider, threads: ctx.threads, signal: ctx.signal });
    const masks = saliencyMasks(g.grads, p.maskFraction);
    let kept = 0;
    let total = 0;
    for (const m of Object.values(masks)) {
      total += m.length;
      for (let i = 0; i < m.length; i++) kept += m[i];
    }
    ctx.log('info', `SalUn: ${kept.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} weights are salient and may change.`);
    const t = await ctx.createTrainer({ optimizer: sgd(), lr: p.lr, batchSize: p.batchSize, loss: WEIGHTED_SUM, masks });
    try {
      const r = await trainLoop(ctx, t, { epochs: p.epochs, streams: mixedStreams(ctx, p.batchSize), label: 'SalUn', span: [0.05, 1] });
      return { weights: t.weights(), steps: r.steps, stats: { salientWeights: kept, totalWeights: total, maskFraction: kept / total } };
    } finally {
      await t.dispose();
    }
  },
};

/** 0/1 masks: 1 for the `fraction` of all entries with the largest |g| (one global threshold; ties broken by position). */
export function saliencyMasks(grads: Record<string, Float32Array>, fraction: number): Record<string, Float32Array> {
  const names = Object.keys(grads);
  let total = 0;
  for (const n of names) total += grads[n].length;
  const keep = Math.round(total * fraction);
  const all = new Float32Array(total);
  let o = 0;
  for (const n of names) {
    const g = grads[n];
    for (let i = 0; i < g.length; i++) all[o++] = Math.abs(g[i]);
  }
  const order = Uint32Array.from({ length: total }, (_, i) => i).sort((a, b) => all[b] - all[a] || a - b);
  const flat = new Float32Array(total);
  for (let i = 0; i < keep; i++) flat[order[i]] = 1;
  const out: Record<string, Float32Array> = {};
  o = 0;
  for (const n of names) {
    out[n] = flat.slice(o, o + grads[n].length);
    o += grads[n].length;
  }
  return out;
}
