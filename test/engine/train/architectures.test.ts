// Every built-in architecture (small configurations) trains through the step graph: the loss on a
// fixed batch falls over a few Adam steps, and the baked inference model agrees with the training
// graph's view of the weights.

import { describe, expect, it } from 'vitest';
import { buildArchitecture } from '../../../main/engine/models';
import { Trainer, evaluateModel, makeDataset } from '../../../main/engine/train';
import { Rng } from '../../../main/engine/train/rng';

const configs: [string, Record<string, unknown>, number[]][] = [
  ['mlp', { inputShape: [16], hidden: [32], classes: 4, dropout: 0.1 }, [16]],
  ['cnn', { inputShape: [1, 8, 8], channels: [4, 8], hidden: 16, classes: 4 }, [1, 8, 8]],
  ['resnet18', { inputShape: [3, 8, 8], width: 4, blocks: [1, 1], classes: 4 }, [3, 8, 8]],
  ['vit', { inputShape: [3, 8, 8], patch: 4, dim: 16, depth: 1, heads: 2, classes: 4 }, [3, 8, 8]],
];

describe('built-in architectures train', () => {
  for (const [arch, opts, shape] of configs) {
    it(arch, async () => {
      const model = buildArchitecture(arch, { ...opts, seed: 1 });
      const n = 16;
      const per = shape.reduce((a, b) => a * b, 1);
      const rng = new Rng(2);
      const y = Int32Array.from({ length: n }, (_, i) => i % 4);
      const x = Float32Array.from({ length: n * per }, (_, i) => rng.nextNormal() + (i % 4 === y[Math.floor(i / per)] ? 1 : 0));
      const ds = makeDataset(x, [n, ...shape], y);
      const t = await Trainer.create({ model, optimizer: { kind: 'adam' }, lr: 3e-3, batchSize: n, seed: 0, shuffle: false });
      expect(t.trainable.length).toBeGreaterThan(0);
      const before = await evaluateModel(t.inferenceModel(), ds);
      const r = await t.fit(ds, { epochs: 8 });
      const after = await evaluateModel(t.inferenceModel(), ds);
      expect(r.epochLosses.every(Number.isFinite)).toBe(true);
      expect(r.epochLosses[7]).toBeLessThan(r.epochLosses[0]);
      expect(after.meanLoss).toBeLessThan(before.meanLoss);
      await t.dispose();
    }, 120_000);
  }
});
