// The guardrail: while an approximate method runs, retain accuracy is measured on a held-out slice
// of the retain set (examples the method never trains on). When it drops more than `maxDropPoints`
// below the original model's accuracy on the same slice, the run stops ('stop': the last weights
// that passed are kept) or is flagged ('flag': it runs to the end), and the result says so.

import type { Model } from '../onnx/ir';
import type { ArrayDataset } from '../train/data';
import { evaluateModel } from '../train/evaluator';
import { Trainer } from '../train/trainer';
import { exampleSize } from '../train/data';

/** Accuracy (%) of a trainer's current weights on `ds`, through trainer.logits (eval mode). */
export async function trainerAccuracy(t: Trainer, ds: ArrayDataset, batchSize = 500): Promise<number> {
  const per = exampleSize(ds);
  let hit = 0;
  for (let s = 0; s < ds.n; s += batchSize) {
    const nb = Math.min(batchSize, ds.n - s);
    const z = await t.logits(ds.x.subarray(s * per, (s + nb) * per), nb, ds.exampleShape);
    const C = z.length / nb;
    for (let i = 0; i < nb; i++) {
      let best = 0;
      for (let k = 1; k < C; k++) if (z[i * C + k] > z[i * C + best]) best = k;
      if (best === Number(ds.y[s + i])) hit++;
    }
  }
  return ds.n ? (100 * hit) / ds.n : 0;
}
import type { ProviderName } from '../train/session';

import type { GuardrailReportInfo, GuardrailSettingsInfo } from '../runs/contract-types';

export type GuardrailSettings = GuardrailSettingsInfo;

export const DEFAULT_GUARDRAIL: GuardrailSettings = { maxDropPoints: 5, action: 'stop', sliceSize: 1000 };

export type GuardrailCheck = GuardrailReportInfo['checks'][number];
export type GuardrailReport = GuardrailReportInfo;

export class GuardrailTripped extends Error {
  constructor(readonly step: number, readonly accuracy: number) {
    super(`guardrail: held-out retain accuracy fell to ${accuracy.toFixed(2)}% at step ${step}`);
    this.name = 'GuardrailTripped';
  }
}

/** Forget rows measured at each guardrail check (a seeded sample when D_f is larger): the live forget-accuracy curve. */
export const FORGET_WATCH_ROWS = 500;

export class Guardrail {
  readonly checks: GuardrailCheck[] = [];
  tripped = false;
  trippedAtStep: number | null = null;
  stopped = false;
  private constructor(
    readonly settings: GuardrailSettings,
    readonly slice: ArrayDataset,
    readonly baseline: number,
    private readonly session: { provider: ProviderName; threads: number },
    /** forget rows watched at each check (not judged: forgetting is what the method is for) */
    readonly forgetWatch: ArrayDataset | null = null,
  ) {}

  static async create(settings: GuardrailSettings, slice: ArrayDataset, original: Model, session: { provider: ProviderName; threads: number }, forgetWatch: ArrayDataset | null = null): Promise<Guardrail> {
    const baseline = slice.n ? (await evaluateModel(original, slice, { ...session, batchSize: 500 })).accuracy * 100 : 100;
    return new Guardrail(settings, slice, baseline, session, forgetWatch && forgetWatch.n ? forgetWatch : null);
  }

  /** The latest check as progress fields: held-out retain accuracy and, when watched, forget accuracy (%). */
  latest(): { retainAccuracy?: number; forgetAccuracy?: number } {
    const c = this.checks[this.checks.length - 1];
    if (!c) return {};
    return { retainAccuracy: c.accuracy, ...(c.forgetAccuracy !== undefined ? { forgetAccuracy: c.forgetAccuracy } : {}) };
  }

  get active(): boolean {
    return this.settings.action !== 'off' && this.slice.n > 0;
  }

  /**
   * Measure a model (the method's current weights baked into an inference model). Returns the
   * accuracy in %. Throws GuardrailTripped when the action is 'stop' and the drop exceeds the limit.
   */
  async check(model: Model | Trainer, step: number): Promise<number> {
    if (!this.active) return NaN;
    // a Trainer is measured through its own eval session (weights fed as inputs, nothing baked)
    const measure = async (ds: ArrayDataset) => (model instanceof Trainer ? await trainerAccuracy(model, ds) : (await evaluateModel(model, ds, { ...this.session, batchSize: 500 })).accuracy * 100);
    const acc = await measure(this.slice);
    const forgetAccuracy = this.forgetWatch ? await measure(this.forgetWatch) : undefined;
    this.checks.push({ step, accuracy: acc, ...(forgetAccuracy !== undefined ? { forgetAccuracy } : {}) });
    if (this.baseline - acc > this.settings.maxDropPoints && !this.tripped) {
      this.tripped = true;
      this.trippedAtStep = step;
      if (this.settings.action === 'stop') {
        this.stopped = true;
        throw new GuardrailTripped(step, acc);
      }
    }
    return acc;
  }

  report(): GuardrailReport {
    const accs = this.checks.map((c) => c.accuracy);
    return {
      settings: { ...this.settings },
      sliceSize: this.slice.n,
      baseline: this.baseline,
      lowest: accs.length ? Math.min(...accs) : null,
      tripped: this.tripped,
      trippedAtStep: this.trippedAtStep,
      stopped: this.stopped,
      checks: [...this.checks],
    };
  }
}
