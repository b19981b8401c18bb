// The conv weight-gradient formulations on a whole training step: each takes the path it claims for the
// small CNN's layers, and 3 SGD-momentum steps under it give the weights of the reference formulation
// ('unfold-conv') up to float rounding. The unfold in channel slices (unfoldChunkBytes) gives the same
// weights and the slice counts it claims. The per-geometry derivative checks are in grad-rules.test.ts.
import { describe, expect, it } from 'vitest';
import { setFormulation, lowerForTraining, type Formulation } from '../../../main/engine/autodiff';
import { buildTrainStep } from '../../../main/engine/train';
import { buildSmallCnn, detectTrainable } from '../../../main/engine/models';
import type { Model } from '../../../main/engine/onnx/ir';
import { unfoldChannelSlices } from '../../../main/engine/autodiff/rules/conv';
import { weightsAfterSteps } from '../train/helpers';

const weightsAfter = (m: Model, f: Partial<Formulation>) => weightsAfterSteps(m, f, { steps: 3, batch: 8, dataSeed: 11 });

function ops(m: Model, f: Partial<Formulation>): Record<string, number> {
  const prev = setFormulation(f);
  try {
    const st = buildTrainStep(m, { trainable: detectTrainable(m).trainable, optimizer: { kind: 'sgd', momentum: 0.9 }, lower: lowerForTraining });
    const c: Record<string, number> = {};
    for (const n of st.model.graph.nodes) c[n.op] = (c[n.op] ?? 0) + 1;
    return c;
  } finally {
    setFormulation(prev);
  }
}

describe('conv weight-gradient formulations on the small CNN', () => {
  const m = buildSmallCnn({ seed: 5 });
  it('shift-gemm: one Gemm per kernel offset of both 3x3 convolutions, no one-hot unfold Conv', () => {
    const base = ops(m, { convWeightGrad: 'unfold-conv' });
    const shift = ops(m, { convWeightGrad: 'shift-gemm' });
    // 2 convolutions x 9 offsets more Gemms than the formulation that has none for them
    expect((shift.Gemm ?? 0) - (base.Gemm ?? 0)).toBe(18);
    // unfold-conv: forward 2 + input gradient 1 (the first layer needs none) + 2 unfold Convs
    expect(base.Conv).toBe(5);
    expect(shift.Conv).toBe(3);
  });
  it("auto: ResNet-18's stages with more output channels than output positions take the single Gemm", async () => {
    const { buildResnet18Cifar } = await import('../../../main/engine/models');
    const r = buildResnet18Cifar({ seed: 0 });
    const auto = ops(r, { convWeightGrad: 'auto' });
    const batched = ops(r, { convWeightGrad: 'unfold-conv' });
    // 8x8 stage: 4 convs (256 > 64 positions) + its 1x1 shortcut; 4x4 stage likewise: 10 Gemm weight gradients
    expect((auto.Gemm ?? 0) - (batched.Gemm ?? 0)).toBe(10);
    expect((batched.MatMul ?? 0) - (auto.MatMul ?? 0)).toBe(10);
  });
  for (const convWeightGrad of ['unfold-gemm', 'unfold-tall', 'shift-gemm', 'auto'] as const) {
    it(`${convWeightGrad}: 3 steps give unfold-conv's weights`, async () => {
      const a = await weightsAfter(m, { convWeightGrad: 'unfold-conv' });
      const b = await weightsAfter(m, { convWeightGrad });
      let worst = 0;
      for (const k of Object.keys(a)) for (let i = 0; i < a[k].length; i++) worst = Math.max(worst, Math.abs(a[k][i] - b[k][i]) / Math.max(1e-3, Math.abs(a[k][i])));
      console.log(`${convWeightGrad} vs unfold-conv: worst relative weight difference after 3 steps ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-4);
    });
  }
  it('the unfold in channel slices: the same weights after 3 steps, one Slice and one unfold Conv per slice', async () => {
    // conv2 of the small CNN: 32 input channels, 14x14 positions, 3x3: 9 * 196 * 4 bytes per channel and example
    const perChannel = 9 * 196 * 4;
    const whole = await weightsAfter(m, { convWeightGrad: 'unfold-conv', unfoldChunkBytes: 0 });
    const sliced = await weightsAfter(m, { convWeightGrad: 'unfold-conv', unfoldChunkBytes: 8 * perChannel });
    let worst = 0;
    for (const k of Object.keys(whole)) for (let i = 0; i < whole[k].length; i++) worst = Math.max(worst, Math.abs(whole[k][i] - sliced[k][i]) / Math.max(1e-3, Math.abs(whole[k][i])));
    console.log(`unfold in 4 channel slices vs whole: worst relative weight difference after 3 steps ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-6);
    const a = ops(m, { convWeightGrad: 'unfold-conv', unfoldChunkBytes: 0 });
    const b = ops(m, { convWeightGrad: 'unfold-conv', unfoldChunkBytes: 8 * perChannel });
    expect((b.Slice ?? 0) - (a.Slice ?? 0)).toBe(4);
    expect(b.Conv - a.Conv).toBe(3);
    expect(b.MatMul - a.MatMul).toBe(3);
  });
  it("slice counts: ResNet-18's 32x32 layers in 4, its 16x16 layers in 2, by default", () => {
    const limit = 768 * 1024;
    expect(unfoldChannelSlices(64, 9 * 1024 * 4, limit)).toBe(4);
    expect(unfoldChannelSlices(128, 9 * 256 * 4, limit)).toBe(2);
    expect(unfoldChannelSlices(256, 9 * 64 * 4, limit)).toBe(1);
    expect(unfoldChannelSlices(64, 9 * 1024 * 4, 0)).toBe(1);
    // no divisor small enough: the whole matrix
    expect(unfoldChannelSlices(7, 10 * limit, limit)).toBe(1);
    expect(unfoldChannelSlices(7, limit, limit)).toBe(7);
  });
});
