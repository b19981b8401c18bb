// Determinism (same seed, provider and threads -> byte-identical weights on CPU, with 1 and with 2
// intra-op threads) and resume equivalence (checkpoint mid-epoch, restore in a new Trainer, finish:
// byte-identical to an uninterrupted run), on models that exercise dropout masks and BatchNorm running
// statistics.

import { describe, expect, it } from 'vitest';
import { buildMlp, buildResnet18Cifar, buildSmallCnn } from '../../../main/engine/models';
import { Trainer, makeDataset, encodeCheckpoint, decodeCheckpoint, type TrainerOptions, type ArrayDataset } from '../../../main/engine/train';
import { Rng } from '../../../main/engine/train/rng';
import type { Model } from '../../../main/engine/onnx/ir';

function synthetic(n: number, shape: number[], classes: number, seed: number): ArrayDataset {
  const rng = new Rng(seed);
  const per = shape.reduce((a, b) => a * b, 1);
  const y = Int32Array.from({ length: n }, () => rng.nextInt(classes));
  // class-dependent mean so the loss can go down
  const x = new Float32Array(n * per);
  for (let i = 0; i < n; i++) for (let j = 0; j < per; j++) x[i * per + j] = rng.nextNormal() * 0.5 + ((j % classes) === y[i] ? 1 : 0);
  return makeDataset(x, [n, ...shape], y);
}

function bytesOf(w: Record<string, Float32Array>): Record<string, string> {
  return Object.fromEntries(Object.entries(w).map(([k, v]) => [k, Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')]));
}

const mlp = () => buildMlp({ inputShape: [12], hidden: [16, 16], classes: 3, dropout: 0.3, seed: 4 });
const tinyResnet = () => buildResnet18Cifar({ inputShape: [3, 8, 8], classes: 4, width: 4, blocks: [1, 1], seed: 2 });

const cases: { name: string; model: () => Model; data: ArrayDataset; opts: Partial<TrainerOptions> }[] = [
  {
    name: 'MLP with dropout (seeded masks), SGD Nesterov, per-step cosine',
    model: mlp,
    data: synthetic(50, [12], 3, 1),
    opts: { optimizer: { kind: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 1e-4 }, lr: 0.05, schedule: { kind: 'cosine', tMax: 21 }, scheduleUnit: 'step', batchSize: 8 },
  },
  {
    name: 'ResNet (BatchNorm running statistics), AdamW, warm-up',
    model: tinyResnet,
    data: synthetic(20, [3, 8, 8], 4, 2),
    opts: { optimizer: { kind: 'adamw', weightDecay: 0.01 }, lr: 0.01, warmup: { length: 1 }, batchSize: 6 },
  },
];

describe('determinism with 2 intra-op threads (CPU)', () => {
  // a conv net large enough that ORT splits its Conv/Gemm/reduction kernels over both threads
  const twoThreadCases = [
    ...cases,
    {
      name: 'small CNN 28x28 (conv + max-pool), Adam, batch 32',
      model: () => buildSmallCnn({ channels: [8, 16], hidden: 32, seed: 3 }),
      data: synthetic(64, [1, 28, 28], 10, 5),
      opts: { optimizer: { kind: 'adam' }, lr: 0.01, batchSize: 32 } as Partial<TrainerOptions>,
    },
  ];
  for (const c of twoThreadCases) {
    it(`${c.name}: two runs with the same seed and 2 threads give byte-identical weights`, async () => {
      const make = () => Trainer.create({ model: c.model(), seed: 7, threads: 2, ...c.opts } as TrainerOptions);
      const a = await make();
      const b = await make();
      expect([a.provider, a.threads]).toEqual(['cpu', 2]);
      const ra = await a.fit(c.data, { epochs: 2 });
      const rb = await b.fit(c.data, { epochs: 2 });
      expect(bytesOf(b.weights())).toEqual(bytesOf(a.weights()));
      expect(rb.epochLosses).toEqual(ra.epochLosses);
      // the run trained: weights moved from the initial model
      const init = Object.fromEntries(c.model().graph.initializers.map((t) => [t.name, t.data as Float32Array]));
      const moved = Object.entries(a.weights()).some(([k, v]) => init[k] && bytesOf({ k: v }).k !== bytesOf({ k: init[k] }).k);
      expect(moved).toBe(true);
      await a.dispose();
      await b.dispose();
    });
  }
});

describe('determinism and resume equivalence (CPU, fixed threads)', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const make = (seed: number) => Trainer.create({ model: c.model(), seed, threads: 1, ...c.opts } as TrainerOptions);
      const epochs = 3;
      // uninterrupted run, keeping the checkpoint taken mid-epoch 2
      const a = await make(7);
      let mid: Uint8Array | null = null;
      const ra = await a.fit(c.data, {
        epochs,
        checkpointEvery: 1,
        onCheckpoint: (ck) => {
          if (ck.epoch === 1 && ck.stepInEpoch === 2) mid = encodeCheckpoint(ck);
        },
      });
      expect(mid).not.toBeNull();
      expect(a.provider).toBe('cpu');
      expect(a.threads).toBe(1);
      if (c.name.includes('dropout')) expect(a.step.dropoutMasks.length).toBeGreaterThan(0);
      if (c.name.includes('BatchNorm')) expect(a.step.runningStats.length).toBeGreaterThan(0);
      const wa = bytesOf(a.weights());

      // same seed again: byte-identical
      const b = await make(7);
      await b.fit(c.data, { epochs });
      expect(bytesOf(b.weights())).toEqual(wa);

      // resumed from the mid-epoch checkpoint in a fresh trainer: byte-identical, same step count and losses
      const r = await make(7);
      r.restore(decodeCheckpoint(mid!));
      expect(r.globalStep).toBe(a.stepsPerEpoch(c.data.n) + 2);
      const rr = await r.fit(c.data, { epochs });
      expect(rr.globalStep).toBe(ra.globalStep);
      expect(bytesOf(r.weights())).toEqual(wa);
      expect(rr.epochLosses).toEqual(ra.epochLosses);

      // another seed: different weights
      const d = await make(8);
      await d.fit(c.data, { epochs: 1 });
      expect(bytesOf(d.weights())).not.toEqual(bytesOf(b.weights()));

      for (const t of [a, b, r, d]) await t.dispose();
    });
  }

  it('cancellation stops at a step boundary and the run continues from there to the same result', async () => {
    const data = synthetic(40, [12], 3, 3);
    const opts = { model: mlp(), seed: 1, threads: 1, optimizer: { kind: 'adam' as const }, lr: 0.01, batchSize: 8 };
    const full = await Trainer.create(opts);
    await full.fit(data, { epochs: 2 });
    const t = await Trainer.create(opts);
    const ac = new AbortController();
    const seen: number[] = [];
    await expect(
      t.fit(data, {
        epochs: 2,
        signal: ac.signal,
        onStep: (s) => {
          seen.push(s.globalStep);
          if (s.globalStep === 7) ac.abort();
          expect(s.etaSeconds === null || s.etaSeconds >= 0).toBe(true);
        },
      }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(t.globalStep).toBe(7);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
    await t.fit(data, { epochs: 2 });
    expect(bytesOf(t.weights())).toEqual(bytesOf(full.weights()));
    await full.dispose();
    await t.dispose();
  });

  it('refuses a checkpoint from other settings and a corrupted checkpoint file', async () => {
    const data = synthetic(16, [12], 3, 4);
    const a = await Trainer.create({ model: mlp(), seed: 1, optimizer: { kind: 'sgd' }, lr: 0.1, batchSize: 8 });
    await a.fit(data, { epochs: 1 });
    const bytes = encodeCheckpoint(a.checkpoint());
    const other = await Trainer.create({ model: mlp(), seed: 1, optimizer: { kind: 'sgd' }, lr: 0.2, batchSize: 8 });
    expect(() => other.restore(decodeCheckpoint(bytes))).toThrow(/different model or training settings/);
    const bad = bytes.slice();
    bad[bad.length - 3] ^= 0xff;
    expect(() => decodeCheckpoint(bad)).toThrow(/checksum mismatch/);
    expect(() => decodeCheckpoint(bytes.slice(0, 10))).toThrow(/invalid training checkpoint/);
    await a.dispose();
    await other.dispose();
  });
});
