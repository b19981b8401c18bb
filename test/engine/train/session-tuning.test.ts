// Per-graph session tuning: ORT's memory pattern (one pre-planned block for all intermediates) only for
// training steps whose intermediates are small (an unrolled step graph counts every copy's); an explicit
// SESSION_TUNING setting wins.
import { afterEach, describe, expect, it } from 'vitest';
import { buildTrainStep } from '../../../main/engine/train';
import { intermediateBytes, memoryPatternFor, setSessionTuning, MEMORY_PATTERN_MAX_BYTES, type SESSION_TUNING } from '../../../main/engine/train/session';
import { lowerForTraining } from '../../../main/engine/autodiff';
import { buildMlp, buildResnet18Cifar, buildSmallCnn, detectTrainable } from '../../../main/engine/models';
import { unrollTrainStep } from '../../../main/engine/train/unroll';
import type { Model } from '../../../main/engine/onnx/ir';

const step = (m: Model) => buildTrainStep(m, { trainable: detectTrainable(m).trainable, optimizer: { kind: 'sgd', momentum: 0.9 }, lower: lowerForTraining }).model;
let prev: typeof SESSION_TUNING | null = null;
afterEach(() => {
  if (prev) setSessionTuning({ ...prev });
  prev = null;
});

describe('memory pattern per training graph', () => {
  const mlp = step(buildMlp({ seed: 0 }));
  const resnet = step(buildResnet18Cifar({ seed: 0 }));
  it('counts the intermediates at the given batch size', () => {
    const a = intermediateBytes(mlp, 128);
    const b = intermediateBytes(mlp, 256);
    expect(a).toBeGreaterThan(128 * 784 * 4); // at least the flattened input's copy
    // 128 more examples: at least the first hidden layer's activations and their gradient grow
    expect(b - a).toBeGreaterThan(2 * 128 * 256 * 4);
    expect(intermediateBytes(resnet, 64)).toBeGreaterThan(MEMORY_PATTERN_MAX_BYTES);
  });
  it('an unrolled step graph counts the intermediates of every copy: on for 8 MLP steps, off for 8 small-CNN steps', () => {
    const st = (m: Model) => buildTrainStep(m, { trainable: detectTrainable(m).trainable, optimizer: { kind: 'sgd', momentum: 0.9 }, lower: lowerForTraining });
    const cnn = st(buildSmallCnn({ seed: 0 }));
    const one = intermediateBytes(cnn.model, 128);
    const eight = intermediateBytes(unrollTrainStep(cnn, 8).model, 128);
    expect(eight).toBeGreaterThanOrEqual(8 * one * 0.99);
    expect(memoryPatternFor(cnn.model, 128)).toBe(true);
    expect(memoryPatternFor(unrollTrainStep(cnn, 8).model, 128)).toBe(false);
    expect(memoryPatternFor(unrollTrainStep(st(buildMlp({ seed: 0 })), 8).model, 128)).toBe(true);
  });
  it('on for the MLP step, off for the ResNet-18 step at batch 64; an explicit setting overrides', () => {
    expect(memoryPatternFor(mlp, 128)).toBe(true);
    expect(memoryPatternFor(resnet, 64)).toBe(false);
    prev = setSessionTuning({ memoryPattern: true });
    expect(memoryPatternFor(resnet, 64)).toBe(true);
    setSessionTuning({ memoryPattern: false });
    expect(memoryPatternFor(mlp, 128)).toBe(false);
  });
});
