// The relearning probe: how quickly does a model relearn the forget set? Fine-tune it for a few
// steps on a small seeded part of D_f (the probe set) and measure accuracy on the rest of D_f after
// each checkpoint step. An unlearned model that only hid the forget set recovers much faster than the
// retrain reference, which never learned it; comparisons run the same probe on both.

import type { Model } from '../onnx/ir';
import { Trainer, type StepBatch } from '../train/trainer';
import { stepsThisRun } from '../train/unroll';
import type { ArrayDataset } from '../train/data';
import { exampleSize } from '../train/data';
import { evaluateModel } from '../train/evaluator';
import { Rng } from '../train/rng';
import type { ProviderName } from '../train/session';
import { detectTrainable, normalizeTrainingExport } from '../models/import';

export interface RelearnSettings {
  /** optimizer steps of the probe */
  steps: number;
  lr: number;
  batchSize: number;
  /** fraction of D_f used to relearn (the rest measures); at most maxProbe examples */
  fraction: number;
  maxProbe: number;
  /** steps after which forget accuracy is measured (0 = before) */
  checkpoints: number[];
}

export const DEFAULT_RELEARN: RelearnSettings = { steps: 30, lr: 0.01, batchSize: 32, fraction: 0.1, maxProbe: 500, checkpoints: [0, 5, 10, 20, 30] };

export interface RelearnCurve {
  steps: number[];
  /** accuracy (%) on the held-out part of D_f after each checkpoint step */
  forgetAccuracy: number[];
  probeSize: number;
  evalSize: number;
  settings: RelearnSettings;
}

function take(ds: ArrayDataset, idx: number[]): ArrayDataset {
  const per = exampleSize(ds);
  const x = new Float32Array(idx.length * per);
  const y = new Int32Array(idx.length);
  idx.forEach((j, k) => {
    x.set(ds.x.subarray(j * per, (j + 1) * per), k * per);
    y[k] = Number(ds.y[j]);
  });
  return { x, exampleShape: ds.exampleShape, y, n: idx.length };
}

export async function relearningProbe(model: Model, forget: ArrayDataset, o: { seed?: number; provider?: ProviderName; threads?: number; settings?: Partial<RelearnSettings>; signal?: AbortSignal } = {}): Promise<RelearnCurve | null> {
  const s: RelearnSettings = { ...DEFAULT_RELEARN, ...o.settings };
  const n = forget.n;
  const probeN = Math.min(s.maxProbe, Math.max(1, Math.round(n * s.fraction)));
  if (n - probeN < 1) return null;
  // the same split for every model of a comparison: seeded by the seed only
  const perm = new Rng(o.seed ?? 0, 12_000_000).permutation(n);
  const probeIdx = Array.from(perm.subarray(0, probeN)).sort((a, b) => a - b);
  const evalIdx = Array.from(perm.subarray(probeN)).sort((a, b) => a - b);
  const probe = take(forget, probeIdx);
  const held = take(forget, evalIdx);
  const norm = normalizeTrainingExport(model).model;
  const trainer = await Trainer.create({ model: norm, trainable: detectTrainable(norm).trainable, optimizer: { kind: 'sgd', momentum: 0.9 }, lr: s.lr, batchSize: s.batchSize, seed: o.seed ?? 0, provider: o.provider, threads: o.threads, loss: { exampleWeights: true, reduction: 'sum' } });
  try {
    const curve: { step: number; acc: number }[] = [];
    const measure = async (m: Model) => (await evaluateModel(m, held, { provider: o.provider, threads: o.threads, batchSize: 512 })).accuracy * 100;
    const want = new Set(s.checkpoints.filter((c) => c >= 0 && c <= s.steps));
    if (want.has(0)) curve.push({ step: 0, acc: await measure(norm) });
    const per = exampleSize(probe);
    const bs = Math.min(s.batchSize, probe.n);
    const x = new Float32Array(bs * per);
    const y = new BigInt64Array(bs);
    const w = new Float32Array(bs).fill(1 / bs);
    let order = new Rng(o.seed ?? 0, 12_500_000).permutation(probe.n);
    let pos = 0;
    let round = 0;
    // steps go to the trainer in runs of its stepsPerRun (train/unroll.ts), each ending at a measured step
    const bufs = [{ x, y }, ...Array.from({ length: trainer.stepsPerRun - 1 }, () => ({ x: new Float32Array(bs * per), y: new BigInt64Array(bs) }))];
    const measured = [...want].sort((a, b) => a - b);
    for (let step = 1; step <= s.steps; ) {
      if (o.signal?.aborted) throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
      const next = measured.find((m) => m >= step) ?? s.steps;
      const len = stepsThisRun(bufs.length, Math.min(next, s.steps) - step + 1);
      const run: StepBatch[] = [];
      for (let r = 0; r < len; r++) {
        const b = bufs[r];
        for (let k = 0; k < bs; k++) {
          if (pos >= order.length) {
            order = new Rng(o.seed ?? 0, 12_500_001 + round++).permutation(probe.n);
            pos = 0;
          }
          const j = order[pos++];
          b.x.set(probe.x.subarray(j * per, (j + 1) * per), k * per);
          b.y[k] = BigInt(probe.y[j]);
        }
        run.push({ x: b.x, y: b.y, nb: bs, exampleShape: probe.exampleShape, ceWeights: w });
      }
      await trainer.trainStepsWith(run);
      step += len;
      if (want.has(step - 1)) curve.push({ step: step - 1, acc: await measure(trainer.inferenceModel()) });
    }
    return { steps: curve.map((c) => c.step), forgetAccuracy: curve.map((c) => c.acc), probeSize: probe.n, evalSize: held.n, settings: s };
  } finally {
    await trainer.dispose();
  }
}
