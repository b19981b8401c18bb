// Import-time diagnostics on hand-built graphs: ops with no derivative rule between the parameters and
// the outputs (trainingBlockers; and buildBackward naming all of them in one error), and recognition of
// torch's constant-folded exports (BatchNorm folded into 'onnx::Conv_*' weights).

import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../main/engine/onnx/builder';
import { makeModel } from '../../../main/engine/onnx/codec';
import { type Model, tensorF32 } from '../../../main/engine/onnx/ir';
import { buildBackward, AutodiffError } from '../../../main/engine/autodiff';
import { buildMlp, buildSmallCnn, buildVitTiny, buildResnet18Cifar, detectTrainable } from '../../../main/engine/models';
import { trainingBlockers, trainingBlockerWarning, looksConstantFolded } from '../../../main/engine/models/import';

const w = (dims: number[], v = 0.1) => tensorF32(dims, new Array(dims.reduce((a, b) => a * b, 1)).fill(v));

/**
 * input -> MatMul(w1) -> Selu -> HardSwish -> MatMul(w2) -> ReduceMax(axis 1, keepdims) -> Add(b) -> logits;
 * side branches: Softplus of w1 that goes nowhere, Erf only on constants, Softsign of the input (no parameter).
 */
function blocked(withLoss = false): Model {
  const g = new GraphBuilder();
  g.input('input', 'float32', ['N', 4]);
  g.initializer('w1', w([4, 4]));
  g.initializer('w2', w([4, 3]));
  g.initializer('b', w([1]));
  g.initializer('c', w([3]));
  const h = g.op('HardSwish', [g.op('Selu', [g.op('MatMul', ['input', 'w1'])])]);
  const z = g.op('MatMul', [h, 'w2']);
  const r = g.op('ReduceMax', [z], { axes: [1], keepdims: 1 });
  const side = g.op('Softsign', ['input']);
  const cst = g.op('Erf', ['c']);
  g.op('Softplus', ['w1']); // a dead end: does not reach an output
  const y = g.op('Add', [g.op('Add', [g.op('Add', [z, r]), 'b']), g.op('Add', [g.op('ReduceSum', [side], { keepdims: 1 }), cst])]);
  g.addNode('Identity', [y], ['logits']);
  g.output('logits', 'float32', ['N', 3]);
  if (withLoss) {
    g.addNode('ReduceSum', ['logits'], ['loss'], { keepdims: 0 });
    g.output('loss', 'float32', []);
  }
  return makeModel(g.toGraph(), 13);
}

describe('trainingBlockers', () => {
  it('lists every op without a derivative rule on a parameter-to-output path, and only those', () => {
    const m = blocked();
    const bl = trainingBlockers(m, ['w1', 'w2', 'b']);
    expect(bl.map((b) => b.op)).toEqual(['HardSwish', 'ReduceMax', 'Selu']);
    expect(trainingBlockerWarning(bl)).toBe('can be evaluated but not trained: no gradient rule for HardSwish, ReduceMax, Selu');
    // with only the last bias trainable nothing blocks it
    expect(trainingBlockers(m, ['b'])).toEqual([]);
    // with only w2 trainable, the ops before it do not matter
    expect(trainingBlockers(m, ['w2']).map((b) => b.op)).toEqual(['ReduceMax']);
    expect(trainingBlockerWarning([])).toBeNull();
  });

  it('finds nothing to block in the built-in architectures', () => {
    for (const model of [
      buildMlp({ inputShape: [8], hidden: [6], classes: 3 }),
      buildSmallCnn({ inputShape: [1, 8, 8], classes: 3 }),
      buildResnet18Cifar({ inputShape: [3, 8, 8], width: 4, classes: 3 }),
      buildVitTiny({ inputShape: [3, 8, 8], patch: 4, dim: 8, depth: 1, heads: 2, classes: 3 }),
    ]) {
      expect(trainingBlockers(model, detectTrainable(model).trainable)).toEqual([]);
    }
  });
});

describe('buildBackward with several ops lacking a rule', () => {
  it('names all of them in one error, not only the first one met', () => {
    const graph = blocked(true).graph;
    let err: unknown;
    try {
      buildBackward(graph, { loss: 'loss', wrt: ['w1', 'w2', 'b'] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AutodiffError);
    expect((err as Error).message).toMatch(/^no derivative rule for ops HardSwish, ReduceMax, Selu \(Selu node '[^']+', HardSwish node '[^']+', ReduceMax node '[^']+'\); they lie between the parameters and the loss$/);
    expect((err as Error).message).not.toMatch(/Softplus|Softsign|Erf/);
  });
});

describe('looksConstantFolded', () => {
  function conv(producer: string, weight: string, withBn: boolean): Model {
    const g = new GraphBuilder();
    g.input('input', 'float32', ['N', 1, 4, 4]);
    g.initializer(weight, w([2, 1, 3, 3]));
    let y = g.op('Conv', ['input', weight], { kernel_shape: [3, 3] });
    if (withBn) {
      for (const n of ['s', 'b', 'm']) g.initializer(`bn.${n}`, w([2], n === 's' ? 1 : 0));
      g.initializer('bn.v', w([2], 1));
      y = g.op('BatchNormalization', [y, 'bn.s', 'bn.b', 'bn.m', 'bn.v']);
    }
    g.addNode('Identity', [y], ['out']);
    g.output('out', 'float32', null);
    return { ...makeModel(g.toGraph(), 13), producerName: producer };
  }
  it('is true only for a pytorch export with onnx::Conv_* weights and no BatchNormalization', () => {
    expect(looksConstantFolded(conv('pytorch', 'onnx::Conv_12', false))).toBe(true);
    expect(looksConstantFolded(conv('pytorch', 'onnx::Conv_12', true))).toBe(false);
    expect(looksConstantFolded(conv('pytorch', 'conv.weight', false))).toBe(false);
    expect(looksConstantFolded(conv('tf2onnx', 'onnx::Conv_12', false))).toBe(false);
  });
});
