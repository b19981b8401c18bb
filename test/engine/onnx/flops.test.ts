// Forward FLOPs counted from the graph, against hand counts of the reference workloads.
import { describe, expect, it } from 'vitest';
import { forwardFlops } from '../../../main/engine/onnx/flops';
import { buildMlp, buildResnet18Cifar, buildSmallCnn } from '../../../main/engine/models';

describe('forward FLOPs of the reference workloads', () => {
  it('MLP 784-256-128-10: 2 x (784*256 + 256*128 + 128*10) per example, linear in the batch', () => {
    const per = 2 * (784 * 256 + 256 * 128 + 128 * 10);
    expect(forwardFlops(buildMlp({ seed: 0 }), 1)).toBe(per);
    expect(forwardFlops(buildMlp({ seed: 0 }), 128)).toBe(128 * per);
  });
  it('small CNN: two 3x3 convolutions (28x28 and 14x14, same padding) and two fully connected layers', () => {
    const conv1 = 28 * 28 * 32 * 1 * 9;
    const conv2 = 14 * 14 * 64 * 32 * 9;
    const fc = 64 * 7 * 7 * 128 + 128 * 10;
    expect(forwardFlops(buildSmallCnn({ seed: 0 }), 1)).toBe(2 * (conv1 + conv2 + fc));
  });
  it('ResNet-18-CIFAR: the published 0.556 G multiply-adds per 32x32 image', () => {
    const f = forwardFlops(buildResnet18Cifar({ seed: 0 }), 1);
    expect(f / 2 / 1e9).toBeGreaterThan(0.55);
    expect(f / 2 / 1e9).toBeLessThan(0.56);
  });
});
