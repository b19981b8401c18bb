import { describe, expect, it } from 'vitest';
import { Trainer } from '../../../main/engine/train/trainer';
import { Rng } from '../../../main/engine/train/rng';
import { tinyMlp, initWeights, refLossGrad, refUpdate, maxRelErr, randArray, type RefOpt } from './helpers';
import type { OptimizerSpec } from '../../../main/engine/train/optimizers';

const dims = { d: 5, h: 4, c: 3 };
const N = 8;
const PARAMS = ['W1', 'b1', 'W2', 'b2'];

function batches(steps: number) {
  const rng = new Rng(99);
  return Array.from({ length: steps }, () => ({
    x: randArray(rng, N * dims.d, 1.5),
    y: Array.from({ length: N }, () => rng.nextInt(dims.c)),
    w: Float32Array.from({ length: N }, () => 0.25 + rng.nextFloat()),
  }));
}

async function runBoth(
  opt: OptimizerSpec,
  o: { steps?: number; eps?: number; weights?: boolean; lrs?: number[]; masks?: Record<string, Float32Array>; frozen?: string[] } = {},
) {
  const model = tinyMlp(dims, 3);
  const steps = o.steps ?? 4;
  const lrs = o.lrs ?? Array.from({ length: steps }, (_, i) => 0.1 / (1 + i));
  const trainable = PARAMS.filter((p) => !o.frozen?.includes(p));
  const tr = await Trainer.create({
    model,
    trainable,
    optimizer: opt,
    lr: 0.1,
    batchSize: N,
    seed: 0,
    masks: o.masks,
    loss: { labelSmoothing: o.eps, exampleWeights: o.weights },
  });
  const ref = initWeights(model);
  const refState: Record<string, Record<string, Float64Array>> = {};
  const data = batches(steps);
  const losses: [number, number][] = [];
  for (let s = 0; s < steps; s++) {
    const { x, y, w } = data[s];
    const r = refLossGrad(ref, dims, x, y, N, { eps: o.eps, weights: o.weights ? w : undefined });
    const out = await tr.trainStep(x, BigInt64Array.from(y.map(BigInt)), N, [dims.d], o.weights ? w : undefined, lrs[s]);
    losses.push([out.loss, r.loss]);
    for (const p of trainable) refUpdate(opt as RefOpt, ref[p], r.grads[p], (refState[p] ??= {}), lrs[s], s + 1, o.masks?.[p]);
  }
  const got = tr.weights();
  await tr.dispose();
  return { got, ref, losses, model };
}

describe('optimizer updates match torch.optim semantics (float64 JS reference)', () => {
  const cases: [string, OptimizerSpec][] = [
    ['plain SGD', { kind: 'sgd' }],
    // without weight decay the momentum update is fused into the weight-gradient Gemm (fuse-update.ts)
    ['SGD + momentum', { kind: 'sgd', momentum: 0.9 }],
    ['SGD + momentum + weight decay', { kind: 'sgd', momentum: 0.9, weightDecay: 5e-4 }],
    ['SGD Nesterov', { kind: 'sgd', momentum: 0.8, nesterov: true, weightDecay: 1e-3 }],
    ['Adam', { kind: 'adam' }],
    // a large eps makes its placement (outside the bias-corrected sqrt, as in torch) matter
    ['Adam + L2 weight decay', { kind: 'adam', beta1: 0.8, beta2: 0.99, eps: 1e-3, weightDecay: 0.01 }],
    ['AdamW', { kind: 'adamw', weightDecay: 0.05 }],
  ];
  for (const [name, opt] of cases) {
    it(name, async () => {
      const { got, ref, losses } = await runBoth(opt, { steps: 5 });
      for (const [a, b] of losses) expect(Math.abs(a - b)).toBeLessThan(1e-5 * Math.max(1, Math.abs(b)));
      // float32 graph vs float64 reference over 5 steps; Adam's normalised step amplifies rounding a little
      const tol = opt.kind === 'sgd' ? 2e-5 : 5e-5;
      for (const p of PARAMS) expect(maxRelErr(got[p], ref[p]), p).toBeLessThan(tol);
      // the update really happened
      const m = tinyMlp(dims, 3).graph.initializers.find((t) => t.name === 'W1')!.data as Float32Array;
      expect(maxRelErr(got.W1, Float64Array.from(m))).toBeGreaterThan(1e-3);
    });
  }

  it('label smoothing and per-example weights (weighted mean, PyTorch semantics)', async () => {
    const { got, ref, losses } = await runBoth({ kind: 'sgd', momentum: 0.5 }, { eps: 0.1, weights: true });
    for (const [a, b] of losses) expect(Math.abs(a - b)).toBeLessThan(1e-5);
    for (const p of PARAMS) expect(maxRelErr(got[p], ref[p]), p).toBeLessThan(2e-5);
  });

  it('masked parameters: masked-out entries keep their exact values, others follow the masked reference', async () => {
    const model = tinyMlp(dims, 3);
    const W1 = model.graph.initializers.find((t) => t.name === 'W1')!.data as Float32Array;
    const mask = Float32Array.from({ length: W1.length }, (_, i) => (i % 3 === 0 ? 0 : 1));
    const { got, ref } = await runBoth({ kind: 'adamw', weightDecay: 0.1 }, { masks: { W1: mask } });
    for (let i = 0; i < W1.length; i++) if (mask[i] === 0) expect(got.W1[i]).toBe(W1[i]);
    expect(maxRelErr(got.W1, ref.W1)).toBeLessThan(2e-5);
    let moved = 0;
    for (let i = 0; i < W1.length; i++) if (mask[i] === 1 && got.W1[i] !== W1[i]) moved++;
    expect(moved).toBe(mask.reduce((a, b) => a + b, 0));
  });

  it("reduction 'sum' with signed per-example weights gives gradient ascent (GA / NegGrad+)", async () => {
    const model = tinyMlp(dims, 3);
    const tr = await Trainer.create({ model, trainable: PARAMS, optimizer: { kind: 'sgd' }, lr: 0.1, batchSize: N, seed: 0, loss: { exampleWeights: true, reduction: 'sum' } });
    const { x, y } = batches(1)[0];
    const w = new Float32Array(N).fill(-1 / N);
    const out = await tr.trainStep(x, BigInt64Array.from(y.map(BigInt)), N, [dims.d], w, 0.1);
    const ref = initWeights(model);
    const r = refLossGrad(ref, dims, x, y, N);
    expect(out.loss).toBeCloseTo(-r.loss, 5);
    for (const p of PARAMS) {
      for (let i = 0; i < ref[p].length; i++) ref[p][i] += 0.1 * r.grads[p][i];
      expect(maxRelErr(tr.weights()[p], ref[p]), p).toBeLessThan(2e-5);
    }
    // a zero mask set later freezes a parameter completely
    await tr.dispose();
    const W1 = model.graph.initializers.find((t) => t.name === 'W1')!.data as Float32Array;
    const t2 = await Trainer.create({ model, trainable: PARAMS, optimizer: { kind: 'sgd', momentum: 0.9 }, lr: 0.1, batchSize: N, seed: 0, masks: { W1: new Float32Array(W1.length).fill(1) } });
    t2.setMask('W1', new Float32Array(W1.length));
    await t2.trainStep(x, BigInt64Array.from(y.map(BigInt)), N, [dims.d]);
    expect(Array.from(t2.weights().W1)).toEqual(Array.from(W1));
    expect(() => t2.setMask('W2', new Float32Array(12))).toThrow(/not created as a masked parameter/);
    await t2.dispose();
  });

  it('frozen parameters never change and are not graph inputs', async () => {
    const model = tinyMlp(dims, 3);
    const tr = await Trainer.create({ model, frozen: ['W1', 'b1'], trainable: PARAMS, optimizer: { kind: 'sgd', momentum: 0.9 }, lr: 0.5, batchSize: N, seed: 0 });
    expect(tr.trainable).toEqual(['W2', 'b2']);
    const names = tr.step.model.graph.inputs.map((v) => v.name);
    expect(names).not.toContain('W1');
    expect(tr.step.model.graph.initializers.map((t) => t.name)).toContain('W1');
    const { x, y } = batches(1)[0];
    await tr.trainStep(x, BigInt64Array.from(y.map(BigInt)), N, [dims.d]);
    expect(tr.weights().W1).toBeUndefined();
    const baked = tr.inferenceModel();
    const W1 = baked.graph.initializers.find((t) => t.name === 'W1')!.data;
    expect(W1).toEqual(model.graph.initializers.find((t) => t.name === 'W1')!.data);
    await tr.dispose();
  });

  it('rejects bad optimizer settings and unknown parameters with specific messages', async () => {
    const model = tinyMlp(dims, 3);
    const base = { model, trainable: PARAMS, lr: 0.1, batchSize: 4, seed: 0 };
    await expect(Trainer.create({ ...base, optimizer: { kind: 'sgd', momentum: 1.5 } })).rejects.toThrow(/momentum must be in \[0, 1\)/);
    await expect(Trainer.create({ ...base, optimizer: { kind: 'sgd', nesterov: true } })).rejects.toThrow(/Nesterov/);
    await expect(Trainer.create({ ...base, optimizer: { kind: 'adam', beta2: 1 } })).rejects.toThrow(/beta2/);
    await expect(Trainer.create({ ...base, optimizer: { kind: 'rmsprop' } as never })).rejects.toThrow(/unknown optimizer 'rmsprop'/);
    await expect(Trainer.create({ ...base, trainable: ['nope'], optimizer: { kind: 'sgd' } })).rejects.toThrow(/'nope' is not an initializer/);
    await expect(Trainer.create({ ...base, optimizer: { kind: 'sgd' }, masks: { W1: new Float32Array(3) } })).rejects.toThrow(/mask for 'W1' must be a Float32Array of 20 values/);
    await expect(Trainer.create({ ...base, optimizer: { kind: 'sgd' }, batchSize: 0 })).rejects.toThrow(/batch size/);
  });
});
