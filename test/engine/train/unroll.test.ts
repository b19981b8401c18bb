// Several optimizer steps per session run (unroll.ts): the K-step graph gives byte-for-byte the
// weights, losses and learning rates of K single steps, through fit() (dropout masks, BatchNorm
// running statistics, schedules, checkpoints and resume, cancellation) and through trainStepsWith
// (masks, loss terms, per-example weights); the automatic choice of K; divergence inside a run.

import { describe, expect, it } from 'vitest';
import { buildMlp, buildResnet18Cifar, buildSmallCnn } from '../../../main/engine/models';
import { Trainer, makeDataset, encodeCheckpoint, decodeCheckpoint, buildTrainStep, type TrainerOptions, type ArrayDataset, type StepBatch, type StepInfo, type StepResult, type LossTerms } from '../../../main/engine/train';
import { unrollTrainStep, autoStepsPerRun, unrollBlocker, trainableElements, UNROLL_TUNING } from '../../../main/engine/train/unroll';
import { forwardFlops } from '../../../main/engine/onnx/flops';
import { Rng } from '../../../main/engine/train/rng';
import type { Model } from '../../../main/engine/onnx/ir';
import { tinyMlp, randArray } from './helpers';

function synthetic(n: number, shape: number[], classes: number, seed: number): ArrayDataset {
  const rng = new Rng(seed);
  const per = shape.reduce((a, b) => a * b, 1);
  const y = Int32Array.from({ length: n }, () => rng.nextInt(classes));
  const x = new Float32Array(n * per);
  for (let i = 0; i < n; i++) for (let j = 0; j < per; j++) x[i * per + j] = rng.nextNormal() * 0.5 + (j % classes === y[i] ? 1 : 0);
  return makeDataset(x, [n, ...shape], y);
}

const bytesOf = (w: Record<string, Float32Array>) => Object.fromEntries(Object.entries(w).map(([k, v]) => [k, Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')]));
const unrolledOpen = (t: Trainer) => (t as unknown as { unrolled: unknown }).unrolled !== null;

const cases: { name: string; model: () => Model; data: ArrayDataset; opts: Partial<TrainerOptions>; k: number; threads: number }[] = [
  {
    name: 'MLP with dropout (seeded masks per step), SGD Nesterov + weight decay, per-step cosine, last batch smaller',
    model: () => buildMlp({ inputShape: [12], hidden: [16, 16], classes: 3, dropout: 0.3, seed: 4 }),
    data: synthetic(61, [12], 3, 1),
    opts: { optimizer: { kind: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 1e-4 }, lr: 0.05, schedule: { kind: 'cosine', tMax: 30 }, scheduleUnit: 'step', batchSize: 8 },
    k: 3,
    threads: 1,
  },
  {
    name: 'ResNet (BatchNorm running statistics), AdamW (bias correction per step), warm-up, per-epoch step schedule',
    model: () => buildResnet18Cifar({ inputShape: [3, 8, 8], classes: 4, width: 4, blocks: [1, 1], seed: 2 }),
    data: synthetic(26, [3, 8, 8], 4, 2),
    opts: { optimizer: { kind: 'adamw', weightDecay: 0.01 }, lr: 0.01, warmup: { length: 1 }, schedule: { kind: 'step', stepSize: 1, gamma: 0.5 }, batchSize: 6 },
    k: 2,
    threads: 1,
  },
  {
    name: 'small CNN (conv + max-pool), SGD momentum (fused update), 2 threads',
    model: () => buildSmallCnn({ channels: [8, 16], hidden: 32, seed: 3 }),
    data: synthetic(72, [1, 28, 28], 10, 5),
    opts: { optimizer: { kind: 'sgd', momentum: 0.9 }, lr: 0.02, batchSize: 16 },
    k: 4,
    threads: 2,
  },
];

describe('K steps per run = K single steps, byte for byte', () => {
  for (const c of cases) {
    it(`${c.name}: fit with ${c.k} steps per run`, async () => {
      const make = (k: number) => Trainer.create({ model: c.model(), seed: 7, threads: c.threads, stepsPerRun: k, ...c.opts } as TrainerOptions);
      const one = await make(1);
      const many = await make(c.k);
      expect(many.stepsPerRun).toBe(c.k);
      const seen: Record<number, StepInfo[]> = { 1: [], [c.k]: [] };
      const cks: Record<number, string[]> = { 1: [], [c.k]: [] };
      const run = (t: Trainer, k: number) =>
        t.fit(c.data, {
          epochs: 3,
          onStep: (s) => seen[k].push({ ...s, etaSeconds: null }),
          checkpointEvery: 5,
          onCheckpoint: (ck) => void cks[k].push(`${ck.globalStep}:${JSON.stringify(bytesOf(Object.fromEntries(Object.entries(ck.tensors))))}`),
        });
      const r1 = await run(one, 1);
      const rk = await run(many, c.k);
      expect(unrolledOpen(many)).toBe(true);
      expect(unrolledOpen(one)).toBe(false);
      if (c.name.includes('dropout')) expect(many.step.dropoutMasks.length).toBeGreaterThan(0);
      if (c.name.includes('BatchNorm')) expect(many.step.runningStats.length).toBeGreaterThan(0);
      expect(rk.globalStep).toBe(r1.globalStep);
      expect(bytesOf(many.weights())).toEqual(bytesOf(one.weights()));
      for (const p of many.trainable) expect(bytesOf(many.optimizerState(p))).toEqual(bytesOf(one.optimizerState(p)));
      expect(rk.epochLosses).toEqual(r1.epochLosses);
      expect(seen[c.k]).toEqual(seen[1]);
      expect(seen[1].map((s) => s.globalStep)).toEqual(Array.from({ length: r1.globalStep }, (_, i) => i + 1));
      // checkpoints at the same steps with the same contents (runs end at checkpoint steps)
      expect(cks[c.k]).toEqual(cks[1]);
      await one.dispose();
      await many.dispose();
    });
  }

  it('a run resumed from a checkpoint taken with K steps per run ends where an uninterrupted single-step run does', async () => {
    const c = cases[0];
    const make = (k: number) => Trainer.create({ model: c.model(), seed: 9, threads: 1, stepsPerRun: k, ...c.opts } as TrainerOptions);
    const ref = await make(1);
    await ref.fit(c.data, { epochs: 3 });
    const a = await make(4);
    let mid: Uint8Array | null = null;
    await a.fit(c.data, {
      epochs: 2,
      checkpointEvery: 4,
      onCheckpoint: (ck) => {
        if (ck.epoch === 1 && ck.stepInEpoch === 4) mid = encodeCheckpoint(ck);
      },
    });
    expect(mid).not.toBeNull();
    const r = await make(4);
    r.restore(decodeCheckpoint(mid!));
    await r.fit(c.data, { epochs: 3 });
    expect(bytesOf(r.weights())).toEqual(bytesOf(ref.weights()));
    for (const t of [ref, a, r]) await t.dispose();
  });

  it('trainStepsWith: masks, KL + NPO + L1 terms and per-example weights give the results and weights of trainStepWith', async () => {
    const dims = { d: 5, h: 4, c: 3 };
    const N = 6;
    const terms: LossTerms = { kl: { temperature: 2 }, npo: { beta: 0.5 }, l1: true };
    const rng = new Rng(3);
    const mask = Float32Array.from({ length: dims.h * dims.d }, (_, i) => (i % 3 ? 1 : 0));
    const make = (k: number) =>
      Trainer.create({ model: tinyMlp(dims, 3), trainable: ['W1', 'b1', 'W2', 'b2'], masks: { W1: mask }, optimizer: { kind: 'adam' }, lr: 0.05, batchSize: N, seed: 1, loss: { terms }, stepsPerRun: k });
    const batches: StepBatch[] = Array.from({ length: 7 }, (_, i) => ({
      x: randArray(rng, N * dims.d, 1.5),
      y: BigInt64Array.from({ length: N }, () => BigInt(rng.nextInt(dims.c))),
      nb: N,
      exampleShape: [dims.d],
      ceWeights: randArray(rng, N, 1),
      teacherLogits: randArray(rng, N * dims.c, 3),
      klWeights: Float32Array.from({ length: N }, () => 0.2 + rng.nextFloat()),
      refLogp: Float32Array.from({ length: N }, () => -0.3 - 2 * rng.nextFloat()),
      npoWeights: Float32Array.from({ length: N }, () => 0.2 + rng.nextFloat()),
      l1: 0.01 * (i + 1),
      lr: i === 4 ? 0.01 : undefined,
    }));
    const one = await make(1);
    const single: StepResult[] = [];
    for (const b of batches) single.push(await one.trainStepWith(b));
    const many = await make(3);
    const multi = await many.trainStepsWith(batches); // two runs of 3, then one single step
    expect(unrolledOpen(many)).toBe(true);
    expect(many.globalStep).toBe(7);
    const plain = (r: (typeof single)[number]) => ({ loss: r.loss, lr: r.lr, losses: Array.from(r.losses), kl: Array.from(r.klLosses!), npo: Array.from(r.npoLosses!) });
    expect(multi.map(plain)).toEqual(single.map(plain));
    expect(multi[4].lr).toBe(0.01);
    expect(bytesOf(many.weights())).toEqual(bytesOf(one.weights()));
    // masked-out entries never moved
    const w0 = tinyMlp(dims, 3).graph.initializers.find((t) => t.name === 'W1')!.data as Float32Array;
    mask.forEach((m, i) => {
      if (m === 0) expect(many.weights().W1[i]).toBe(w0[i]);
    });
    // feed checks still apply per batch
    await expect(many.trainStepsWith(batches.slice(0, 3).map((b, i) => (i === 1 ? { ...b, teacherLogits: undefined } : b)))).rejects.toThrow(/pass teacherLogits/);
    expect(many.globalStep).toBe(7);
    await one.dispose();
    await many.dispose();
  });

  it('a diverging step inside a run: the error names that step and the weights stay those from before the run', async () => {
    const model = buildMlp({ inputShape: [4], hidden: [8], classes: 2, seed: 1 });
    const t = await Trainer.create({ model, optimizer: { kind: 'sgd' }, lr: 0.1, batchSize: 4, seed: 1, stepsPerRun: 4 });
    const rng = new Rng(5);
    const b = (): StepBatch => ({ x: randArray(rng, 16, 1), y: BigInt64Array.from([0n, 1n, 0n, 1n]), nb: 4, exampleShape: [4] });
    await t.trainStepsWith([b(), b(), b(), b()]);
    const before = bytesOf(t.weights());
    const bad = [b(), b(), { ...b(), lr: Infinity }, b()];
    await expect(t.trainStepsWith(bad)).rejects.toThrow(/training diverged: loss is NaN at step 8 /);
    expect(t.globalStep).toBe(4);
    expect(bytesOf(t.weights())).toEqual(before);
    await t.dispose();
  });

  it('cancellation takes effect between runs', async () => {
    const c = cases[0];
    const t = await Trainer.create({ model: c.model(), seed: 1, threads: 1, stepsPerRun: 4, ...c.opts } as TrainerOptions);
    const ac = new AbortController();
    const seen: number[] = [];
    await expect(
      t.fit(c.data, {
        epochs: 2,
        signal: ac.signal,
        onStep: (s) => {
          seen.push(s.globalStep);
          if (s.globalStep === 2) ac.abort();
        },
      }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(t.globalStep).toBe(4);
    expect(seen).toEqual([1, 2, 3, 4]);
    await t.dispose();
  });
});

describe('steps per run: the unrolled graph and the automatic choice', () => {
  it('per-step inputs and outputs get a step suffix; parameters, state and running statistics keep their names at the ends', () => {
    const model = buildResnet18Cifar({ inputShape: [3, 8, 8], classes: 4, width: 4, blocks: [1, 1], seed: 2 });
    const step = buildTrainStep(model, { trainable: model.graph.initializers.filter((t) => t.name.endsWith('weight')).map((t) => t.name), optimizer: { kind: 'sgd', momentum: 0.9 } });
    const u = unrollTrainStep(step, 3);
    const ins = new Set(u.model.graph.inputs.map((v) => v.name));
    const outs = new Set(u.model.graph.outputs.map((v) => v.name));
    for (let i = 0; i < 3; i++) {
      expect(ins.has(u.input(step.dataInputs[0].name, i))).toBe(true);
      expect(ins.has(u.input(step.lr, i))).toBe(true);
      expect(outs.has(u.output(step.loss, i))).toBe(true);
    }
    for (const p of step.params) {
      expect(ins.has(p.input) && outs.has(p.output)).toBe(true);
      for (const s of p.state) expect(ins.has(s.input) && outs.has(s.output)).toBe(true);
    }
    for (const r of step.runningStats) expect(ins.has(r.input) && outs.has(r.output)).toBe(true);
    expect(u.model.graph.nodes.length).toBe(3 * step.model.graph.nodes.length);
    expect(new Set(u.model.graph.nodes.flatMap((n) => n.outputs)).size).toBe(u.model.graph.nodes.flatMap((n) => n.outputs).length);
    expect(() => u.input(step.params[0].input, 0)).toThrow(/not a per-step input/);
    expect(() => unrollTrainStep(step, 1)).toThrow(/at least 2/);
  });

  it('8 steps per run for the reference MLP and small CNN (cheap per parameter), 1 for ResNet-18-CIFAR', async () => {
    const choice = (m: Model, batch: number) => {
      const step = buildTrainStep(m, { trainable: m.graph.initializers.filter((t) => t.dtype === 'float32' && !/running/.test(t.name)).map((t) => t.name), optimizer: { kind: 'sgd', momentum: 0.9 } });
      return autoStepsPerRun({ trainableElements: trainableElements(step), trainingFlopsPerStep: 3 * forwardFlops(m, batch) });
    };
    expect(choice(buildMlp({ seed: 0 }), 128)).toBe(UNROLL_TUNING.steps);
    expect(choice(buildSmallCnn({ seed: 0 }), 128)).toBe(UNROLL_TUNING.steps);
    expect(choice(buildResnet18Cifar({ seed: 0 }), 64)).toBe(1);
    // the Trainer's default follows it
    const t = await Trainer.create({ model: buildMlp({ seed: 0 }), optimizer: { kind: 'sgd', momentum: 0.9 }, lr: 0.01, batchSize: 128, seed: 0 });
    expect(t.stepsPerRun).toBe(UNROLL_TUNING.steps);
    await t.dispose();
    await expect(Trainer.create({ model: buildMlp({ seed: 0 }), optimizer: { kind: 'sgd' }, lr: 0.01, batchSize: 8, seed: 0, stepsPerRun: 0 })).rejects.toThrow(/stepsPerRun must be an integer from 1 to 64/);
  });

  it('a step graph with a subgraph is not unrolled', () => {
    const model = buildMlp({ inputShape: [4], hidden: [8], classes: 2, seed: 1 });
    const step = buildTrainStep(model, { trainable: ['fc1.weight'], optimizer: { kind: 'sgd' } });
    expect(unrollBlocker(step)).toBeNull();
    step.model.graph.nodes.push({ op: 'If', inputs: ['c'], outputs: ['o'], attrs: { then_branch: { type: 'graph', value: { name: 't', nodes: [], inputs: [], outputs: [], initializers: [] } } } });
    expect(unrollBlocker(step)).toMatch(/subgraph/);
    expect(() => unrollTrainStep(step, 2)).toThrow(/cannot be unrolled/);
  });
});
