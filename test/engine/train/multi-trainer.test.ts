// The N-model training step (multi-trainer.ts): k steps of one graph holding N members give every
// member the weights (and momentum) of k steps of its own single-model Trainer on the same batches.

import { describe, expect, it } from 'vitest';
import { buildMlp, buildSmallCnn, buildResnet18Cifar } from '../../../main/engine/models';
import type { Model } from '../../../main/engine/onnx/ir';
import { Trainer } from '../../../main/engine/train/trainer';
import { MultiTrainer, buildMultiTrainStep, type MultiTrainerOptions } from '../../../main/engine/train/multi-trainer';
import { Rng } from '../../../main/engine/train/rng';
import type { OptimizerSpec } from '../../../main/engine/train/optimizers';

const N = 3;
const B = 8;
const STEPS = 3;
const CLASSES = 4;
const LRS = [0.05, 0.04, 0.03];
const OPT: OptimizerSpec = { kind: 'sgd', momentum: 0.9, weightDecay: 5e-4 };

const cnn = (seed: number) => buildSmallCnn({ inputShape: [1, 8, 8], channels: [4, 8], hidden: 16, classes: CLASSES, seed });
const mlp = (seed: number) => buildMlp({ inputShape: [12], hidden: [16, 8], classes: CLASSES, seed });

/** batches[step][member], every one different */
function batches(per: number) {
  const rng = new Rng(7);
  return Array.from({ length: STEPS }, () =>
    Array.from({ length: N }, () => ({
      x: Float32Array.from({ length: B * per }, () => rng.nextNormal()),
      y: BigInt64Array.from({ length: B }, () => BigInt(rng.nextInt(CLASSES))),
    })),
  );
}

async function compare(build: (seed: number) => Model, o: Partial<MultiTrainerOptions>) {
  const models = Array.from({ length: N }, (_, i) => build(i + 1));
  const shape = models[0].graph.inputs[0].shape!.slice(1) as number[];
  const data = batches(shape.reduce((a, b) => a * b, 1));
  const multi = await MultiTrainer.create({ models, optimizer: OPT, lr: 0.1, threads: 1, ...o });
  const multiLosses: number[][] = [];
  for (let s = 0; s < STEPS; s++) multiLosses.push((await multi.trainStep(data[s], B, LRS[s])).memberLosses);
  let maxW = 0;
  let maxM = 0;
  let maxL = 0;
  let params = 0;
  for (let i = 0; i < N; i++) {
    const t = await Trainer.create({ model: models[i], optimizer: OPT, lr: 0.1, batchSize: B, seed: 0, threads: 1 });
    for (let s = 0; s < STEPS; s++) {
      const r = await t.trainStep(data[s][i].x, data[s][i].y, B, shape, undefined, LRS[s]);
      maxL = Math.max(maxL, Math.abs(r.loss - multiLosses[s][i]));
    }
    const want = t.weights();
    const got = multi.weights(i);
    const gotM = multi.optimizerState(i, 'momentum');
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    for (const k of Object.keys(want)) {
      expect(got[k].length).toBe(want[k].length);
      const wm = t.optimizerState(k).momentum;
      for (let j = 0; j < want[k].length; j++) {
        maxW = Math.max(maxW, Math.abs(got[k][j] - want[k][j]));
        maxM = Math.max(maxM, Math.abs(gotM[k][j] - wm[j]));
      }
      // training moved the weights (the comparison is not of untouched initial values)
      const init = models[i].graph.initializers.find((x) => x.name === k)!.data as Float32Array;
      expect(want[k].some((v, j) => v !== init[j])).toBe(true);
      params++;
    }
    await t.dispose();
  }
  expect(multi.globalStep).toBe(STEPS);
  await multi.dispose();
  expect(params).toBe(N * models[0].graph.initializers.length);
  return { maxW, maxM, maxL };
}

describe('N models trained in one graph match N single-model Trainers', () => {
  it("'prefixed' layout, sequential execution: bit-for-bit", async () => {
    const d = await compare(cnn, {});
    expect(d).toEqual({ maxW: 0, maxM: 0, maxL: 0 });
  });

  it("'prefixed' layout, parallel execution (2 inter-op threads): bit-for-bit", async () => {
    const d = await compare(cnn, { interOpThreads: 2 });
    expect(d).toEqual({ maxW: 0, maxM: 0, maxL: 0 });
  });

  it("'grouped' layout (grouped Conv, batched MatMul): within 1e-6", async () => {
    const d = await compare(cnn, { layout: 'grouped' });
    expect(d.maxW).toBeLessThanOrEqual(1e-6);
    expect(d.maxM).toBeLessThanOrEqual(1e-6);
    expect(d.maxL).toBeLessThanOrEqual(1e-6);
  });

  it("'grouped' layout of an MLP (flat input, Gemm only): within 1e-6", async () => {
    const d = await compare(mlp, { layout: 'grouped' });
    expect(d.maxW).toBeLessThanOrEqual(1e-6);
    expect(d.maxM).toBeLessThanOrEqual(1e-6);
  });

  it('total loss is the sum of the members\' mean cross-entropies; members keep their own names', async () => {
    const models = [mlp(1), mlp(2)];
    const g = buildMultiTrainStep(models, { optimizer: OPT });
    expect(g.data.map((d) => d.x)).toEqual(['m0/input', 'm1/input']);
    expect(g.slots.filter((s) => s.kind === 'param').map((s) => s.input)).toContain('m1/fc2.weight');
    const t = await MultiTrainer.create({ models, optimizer: OPT, lr: 0.01 });
    const x = Float32Array.from({ length: 4 * 12 }, (_, i) => Math.sin(i));
    const r = await t.trainStep([{ x, y: new BigInt64Array(4) }, { x, y: new BigInt64Array(4).fill(1n) }], 4);
    expect(r.loss).toBeCloseTo(r.memberLosses[0] + r.memberLosses[1], 5);
    expect(r.memberLosses[0]).not.toBe(r.memberLosses[1]);
    const baked = t.memberModel(1);
    expect(baked.graph.initializers.find((x) => x.name === 'fc2.weight')!.data).toEqual(t.weights(1)['fc2.weight']);
    await t.dispose();
  });

  it('refuses what it does not support', () => {
    expect(() => buildMultiTrainStep([buildMlp({ inputShape: [12], hidden: [8], dropout: 0.5 })], { optimizer: OPT })).toThrow(/Dropout/);
    expect(() => buildMultiTrainStep([buildResnet18Cifar({ inputShape: [3, 8, 8], width: 4, blocks: [1, 1], classes: 4 })], { optimizer: OPT, layout: 'grouped' })).toThrow(/stacking does not support/);
    expect(() => buildMultiTrainStep([cnn(1), mlp(1)], { optimizer: OPT, layout: 'grouped' })).toThrow(/architecture/);
    expect(() => buildMultiTrainStep([], { optimizer: OPT })).toThrow(/at least one/);
  });
});
