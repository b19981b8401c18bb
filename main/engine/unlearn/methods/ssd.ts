// SSD (Selective Synaptic Dampening, Foster et al. 2024): no training. The importance of every weight
// is the mean over mini-batches of its squared mini-batch gradient (cross-entropy, eval mode), on the
// forget set (I_f) and on the training data D = D_r ∪ D_f (I_D). Weights with I_f > α·I_D are
// multiplied by min(λ·I_D / I_f, 1); every other weight keeps θ_o's value bit for bit.
//
// D's batches: D_r's batches followed by D_f's (each set batched on its own, so the forget pass is
// reused for I_D); the public code batches the concatenation D_r ++ D_f, so at most the one batch
// that straddles the junction differs. D_r here excludes the guardrail's held-out slice.

import { z } from 'zod';
import type { MethodContext, MethodDescriptor } from '../types';
import { computeGradients } from '../../train/gradients';
import { ssdDampen } from '../../train/weight-edits';
import { bakeInference } from '../../train/bake';
import { GuardrailTripped } from '../guardrail';
import { field } from './common';

const params = z.object({
  alpha: field.positive(10, 'selection weighting α: a weight is dampened when its forget importance exceeds α times its importance on all training data'),
  lambda: field.positive(1, 'dampening constant λ: a selected weight is multiplied by min(λ·I_D / I_f, 1)'),
  batchSize: field.batchSize(64, 'mini-batch size of the importance passes (the importance is the mean over batches of the squared batch gradient)'),
});

export const ssd: MethodDescriptor<typeof params> = {
  id: 'ssd',
  name: 'SSD (selective synaptic dampening)',
  exact: false,
  scope: 'any',
  gradientBased: false,
  description:
    'Needs no training. Measures how important each weight is for the forget set and for all training data (mean squared mini-batch gradient of the loss), then shrinks only the weights that are far more important for the forget set (forget importance above alpha times the overall importance), by the factor min(lambda * overall / forget importance, 1). All other weights stay exactly as they were. Fast; with fixed alpha and lambda it can collapse the accuracy of single retained classes.',
  source:
    'Foster, Schoepf & Brintrup 2024, "Fast Machine Unlearning Without Retraining Through Selective Synaptic Dampening" (AAAI); if-loops/selective-synaptic-dampening code (calc_importance, modify_weight): α = 10, λ = 1 for ResNet-18 (the paper uses α = 5 for ViT), batch size 64',
  params,
  async run(ctx, p) {
    const names = ctx.trainable;
    const common = { params: names, transform: 'square' as const, batchSize: p.batchSize, combine: 'sum' as const, provider: ctx.provider, threads: ctx.threads, signal: ctx.signal };
    ctx.progress({ fraction: 0, message: 'SSD: importances on the forget set' });
    const f = await computeGradients(ctx.model, ctx.forget, common);
    ctx.progress({ fraction: 0.1, message: 'SSD: importances on the training data' });
    const r = ctx.retain.n ? await computeGradients(ctx.model, ctx.retain, common) : null;
    const { forgetImportance, dataImportance } = ssdImportances(f.grads, f.batches, r?.grads ?? null, r?.batches ?? 0);
    // I_D >= I_f·B_f/B (D's batches include D_f's), so nothing can pass the selection when α·B_f/B >= 1
    const share = f.batches / (f.batches + (r?.batches ?? 0));
    if (p.alpha * share >= 1) {
      ctx.log('warn', `SSD: the forget set is ${(100 * share).toFixed(1)}% of the training data's batches, so no weight can have I_f > ${p.alpha}·I_D (that needs alpha < ${(1 / share).toFixed(2)}); nothing will change. The paper's alpha = 10 assumes a forget set of well under 10% of the data.`);
    }
    const theta = initializerValues(ctx, names);
    const res = ssdDampen({ weights: theta, forgetImportance, retainImportance: dataImportance, alpha: p.alpha, lambda: p.lambda });
    let total = 0;
    for (const n of names) total += theta[n].length;
    ctx.log('info', `SSD: ${res.selected.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} weights selected (I_f > ${p.alpha}·I_D), ${res.changed.toLocaleString('en-US')} changed.`);
    ctx.progress({ fraction: 0.95, message: `SSD: dampened ${res.selected} weights` });
    const kept = await guardOneShot(ctx, res.weights, 'SSD');
    return { weights: kept.weights, steps: kept.steps, stats: { selectedWeights: res.selected, changedWeights: res.changed, totalWeights: total, selectedFraction: total ? res.selected / total : 0 } };
  },
};

/**
 * I_f = S_f / B_f and I_D = (S_r + S_f) / (B_r + B_f), where S is the sum over batches of the squared
 * batch gradient and B the number of batches (float32, as computed from float32 sums).
 */
export function ssdImportances(
  forgetSum: Record<string, Float32Array>,
  forgetBatches: number,
  retainSum: Record<string, Float32Array> | null,
  retainBatches: number,
): { forgetImportance: Record<string, Float32Array>; dataImportance: Record<string, Float32Array> } {
  const forgetImportance: Record<string, Float32Array> = {};
  const dataImportance: Record<string, Float32Array> = {};
  const all = forgetBatches + retainBatches;
  for (const [name, sf] of Object.entries(forgetSum)) {
    const sr = retainSum?.[name];
    forgetImportance[name] = Float32Array.from(sf, (v) => v / forgetBatches);
    dataImportance[name] = Float32Array.from(sf, (v, i) => ((sr ? sr[i] : 0) + v) / all);
  }
  return { forgetImportance, dataImportance };
}

/** θ_o's values of the named parameters (copies). */
export function initializerValues(ctx: Pick<MethodContext, 'model'>, names: string[]): Record<string, Float32Array> {
  const inits = new Map(ctx.model.graph.initializers.map((t) => [t.name, t]));
  const out: Record<string, Float32Array> = {};
  for (const n of names) {
    const t = inits.get(n);
    if (!t || t.dtype !== 'float32') throw new Error(`'${n}' is not a float32 initializer of the model`);
    out[n] = new Float32Array(t.data as Float32Array);
  }
  return out;
}

/**
 * The guardrail for one-shot weight edits (SSD, Fisher forgetting, IU): the edited model is measured
 * once on the held-out retain slice (as step 1). If it trips with action 'stop', the edit is not
 * applied and θ_o's weights are kept (the last weights that passed); with 'flag' the edit is kept and
 * the run is flagged. Returns the weights to keep and the number of edits applied (0 or 1).
 */
export async function guardOneShot(ctx: MethodContext, edited: Record<string, Float32Array>, label: string): Promise<{ weights: Record<string, Float32Array>; steps: number }> {
  if (!ctx.guardrail.active) return { weights: edited, steps: 1 };
  try {
    const acc = await ctx.guardrail.check(bakeInference(ctx.model, edited), 1);
    ctx.progress({ fraction: 1, message: `${label}: held-out retain accuracy ${acc.toFixed(1)}%`, ...ctx.guardrail.latest() });
    return { weights: edited, steps: 1 };
  } catch (e) {
    if (e instanceof GuardrailTripped) {
      ctx.log('warn', `${e.message}; the ${label} edit is not applied and the original weights are kept.`);
      return { weights: initializerValues(ctx, Object.keys(edited)), steps: 0 };
    }
    throw e;
  }
}
