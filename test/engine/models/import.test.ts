// detectTrainable / normalizeImportedModel on hand-built graphs shaped like torch.onnx.export output
// (the real exports are covered by test/parity/import.test.ts when PyTorch is installed).

import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, f } from '../../../main/engine/onnx/builder';
import { makeModel, encodeModel } from '../../../main/engine/onnx/codec';
import { type Model, tensorF32, tensorI64 } from '../../../main/engine/onnx/ir';
import { buildMlp, buildResnet18Cifar, buildSmallCnn, buildVitTiny, detectTrainable, normalizeImportedModel } from '../../../main/engine/models';

const ones = (n: number) => tensorF32([n], new Array(n).fill(1));
const zeros = (n: number) => tensorF32([n], new Array(n).fill(0));
const rand = (dims: number[], seed = 1) => {
  let s = seed;
  const n = dims.reduce((a, b) => a * b, 1);
  return tensorF32(
    dims,
    Array.from({ length: n }, () => {
      s = (s * 16807) % 2147483647;
      return (s / 2147483647 - 0.5) * 0.2;
    }),
  );
};

/** A torch-like training-mode export: Conv -> BN(training_mode=1, 3 outputs) -> Relu -> Dropout(training) -> Gemm. */
function trainingExport(): Model {
  const g = new GraphBuilder();
  g.input('input', 'float32', ['N', 2, 4, 4]);
  g.initializer('conv.weight', rand([3, 2, 3, 3]));
  g.initializer('bn.weight', ones(3));
  g.initializer('bn.bias', zeros(3));
  g.initializer('bn.running_mean', rand([3], 5));
  g.initializer('bn.running_var', ones(3));
  g.initializer('fc.weight', rand([2, 48], 7));
  g.initializer('fc.bias', zeros(2));
  g.initializer('/drop/ratio', tensorF32([], [0.25]));
  g.initializer('/drop/training', { dtype: 'bool', dims: [], data: new Uint8Array([1]) });
  g.initializer('/flat/shape', tensorI64([2], [0, -1]));
  g.addNode('Conv', ['input', 'conv.weight'], ['c'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  g.addNode('BatchNormalization', ['c', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var'], ['b', 'rm_out', 'rv_out'], {
    epsilon: f(1e-5),
    momentum: f(0.9),
    training_mode: 1,
  });
  g.addNode('Relu', ['b'], ['r']);
  g.addNode('Dropout', ['r', '/drop/ratio', '/drop/training'], ['d', 'mask']);
  g.addNode('Reshape', ['d', '/flat/shape'], ['flat']);
  g.addNode('Gemm', ['flat', 'fc.weight', 'fc.bias'], ['logits'], { transB: 1 });
  g.output('logits', 'float32', ['N', 2]);
  return makeModel(g.toGraph('torch_jit'), 15);
}

/** Transformer-like export: cls token via Expand+Concat, pos embedding Add, Linear on 3-D as Transpose+MatMul+Add, an Identity-tied LayerNorm, embedding Gather. */
function tokenExport(): Model {
  const g = new GraphBuilder();
  g.input('input', 'float32', ['N', 4, 8]);
  g.input('ids', 'int64', ['N']);
  g.initializer('cls_token', rand([1, 1, 8], 2));
  g.initializer('pos_embed', rand([1, 5, 8], 3));
  g.initializer('norm1.weight', ones(8));
  g.initializer('norm1.bias', zeros(8));
  g.initializer('fc.weight', rand([8, 8], 4)); // torch layout [out, in], transposed at run time
  g.initializer('fc.bias', rand([8], 9));
  g.initializer('emb.weight', rand([10, 8], 6));
  g.initializer('onnx::Mul_7', tensorF32([], [0.5]));
  g.initializer('onnx::Add_9', tensorF32([1, 5, 8], new Array(40).fill(0.25)));
  g.initializer('/mask', tensorF32([5, 5], Array.from({ length: 25 }, (_, i) => (i % 5 > Math.floor(i / 5) ? -Infinity : 0))));
  g.initializer('/expand_shape', tensorI64([3], [1, 1, 1]));
  g.initializer('/gather_idx', tensorI64([], [0]));
  g.addNode('Expand', ['cls_token', '/expand_shape'], ['cls_e']);
  g.addNode('Shape', ['input'], ['in_shape']);
  g.addNode('Concat', ['cls_e', 'input'], ['tok'], { axis: 1 });
  g.addNode('Add', ['tok', 'pos_embed'], ['tp']);
  g.addNode('Add', ['tp', 'onnx::Add_9'], ['tp2']);
  g.addNode('LayerNormalization', ['tp2', 'norm1.weight', 'norm1.bias'], ['n1'], { axis: -1, epsilon: f(1e-5) });
  g.addNode('Identity', ['norm1.weight'], ['norm2.weight']);
  g.addNode('Identity', ['norm1.bias'], ['norm2.bias']);
  g.addNode('LayerNormalization', ['n1', 'norm2.weight', 'norm2.bias'], ['n2'], { axis: -1, epsilon: f(1e-5) });
  g.addNode('Transpose', ['fc.weight'], ['fc_wt'], { perm: [1, 0] });
  g.addNode('MatMul', ['n2', 'fc_wt'], ['mm']);
  g.addNode('Add', ['fc.bias', 'mm'], ['lin']);
  g.addNode('Mul', ['lin', 'onnx::Mul_7'], ['half']);
  g.addNode('MatMul', ['half', g.op('Transpose', ['half'], { perm: [0, 2, 1] })], ['scores']);
  g.addNode('Add', ['scores', '/mask'], ['masked']);
  g.addNode('Gather', ['emb.weight', 'ids'], ['e']);
  g.addNode('Gather', ['masked', '/gather_idx'], ['first'], { axis: 1 });
  g.addNode('ReduceMean', ['first'], ['pooled'], { axes: [2], keepdims: 0 });
  g.addNode('Concat', ['pooled', 'e'], ['logits'], { axis: 1 });
  g.output('logits', 'float32', ['N', 13]);
  return makeModel(g.toGraph('torch_jit'), 17);
}

describe('detectTrainable', () => {
  it('built-in architectures: every parameter trainable, BN running statistics buffers', () => {
    const cases: [Model, number][] = [
      [buildMlp(), 6],
      [buildSmallCnn(), 8],
      [buildResnet18Cifar({ width: 8 }), 62],
      [buildVitTiny({ dim: 16, depth: 2, heads: 2 }), 4 + 2 * 16 + 2 + 2],
    ];
    for (const [m, n] of cases) {
      const r = detectTrainable(m);
      expect(r.trainable.length, m.metadata['lethe.arch']).toBe(n);
      expect(r.normalized).toEqual([]);
      for (const b of r.buffers) expect(r.trainable).not.toContain(b);
      expect(r.trainable.length + r.buffers.length).toBe(m.graph.initializers.length);
      for (const t of r.trainable) expect(t).toMatch(/\.(weight|bias)$|^cls_token$|^pos_embed$/);
    }
  });

  it('training-mode export: BN and Dropout normalised to inference form, recorded, and the model still runs', async () => {
    const m = trainingExport();
    const r = detectTrainable(m);
    expect(r.trainable.sort()).toEqual(['bn.bias', 'bn.weight', 'conv.weight', 'fc.bias', 'fc.weight']);
    expect(r.reasons['bn.running_mean']).toMatch(/running mean/);
    expect(r.reasons['bn.running_var']).toMatch(/running variance/);
    expect(r.reasons['/drop/ratio']).toMatch(/Dropout/);
    expect(r.reasons['/flat/shape']).toMatch(/int64 constant used by Reshape/);
    expect(r.reasons['conv.weight']).toMatch(/^Conv .* weight/);
    expect(r.normalized.length).toBe(2);
    expect(r.normalized[0]).toMatch(/training-mode BatchNormalization converted to inference form/);
    expect(r.normalized[1]).toMatch(/training-mode Dropout converted to inference form/);

    const { model: norm, changes } = normalizeImportedModel(m);
    expect(changes).toEqual(r.normalized);
    const bn = norm.graph.nodes.find((n) => n.op === 'BatchNormalization')!;
    expect(bn.outputs).toEqual(['b']);
    expect(bn.attrs.training_mode).toBeUndefined();
    const drop = norm.graph.nodes.find((n) => n.op === 'Dropout')!;
    expect(drop.inputs).toEqual(['r', '/drop/ratio']);
    expect(drop.outputs).toEqual(['d']);
    expect(norm.graph.initializers.some((t) => t.name === '/drop/training')).toBe(false);
    expect(norm.metadata['lethe.normalized']).toContain('BatchNormalization');
    // the original is untouched
    expect(m.graph.nodes.find((n) => n.op === 'BatchNormalization')!.outputs.length).toBe(3);
    const s = await ort.InferenceSession.create(encodeModel(norm));
    const out = await s.run({ input: new ort.Tensor('float32', new Float32Array(64).fill(0.5), [2, 2, 4, 4]) });
    expect(out.logits.dims).toEqual([2, 2]);
  });

  it('transformer-style export: tokens, embeddings, MatMul weights behind Transpose, biases; masks and folded constants are buffers; tied LayerNorms are untied', () => {
    const m = tokenExport();
    const r = detectTrainable(m);
    expect(r.trainable.sort()).toEqual(
      ['cls_token', 'emb.weight', 'fc.bias', 'fc.weight', 'norm1.bias', 'norm1.weight', 'norm2.bias', 'norm2.weight', 'pos_embed'].sort(),
    );
    expect(r.reasons['cls_token']).toMatch(/class token.*via Expand/);
    expect(r.reasons['pos_embed']).toMatch(/position embedding/);
    expect(r.reasons['fc.weight']).toMatch(/MatMul .*weight via Transpose/);
    expect(r.reasons['fc.bias']).toMatch(/bias of MatMul/);
    expect(r.reasons['emb.weight']).toMatch(/embedding table/);
    expect(r.reasons['/mask']).toMatch(/non-finite mask/);
    expect(r.reasons['onnx::Mul_7']).toMatch(/scalar constant/);
    expect(r.reasons['onnx::Add_9']).toMatch(/constant folded by the exporter/);
    expect(r.reasons['/gather_idx']).toMatch(/int64/);
    expect(r.normalized.join()).toMatch(/untied 2 initializer\(s\).*'norm2.weight' \(was Identity of 'norm1.weight'\)/);
    const norm = normalizeImportedModel(m).model;
    expect(norm.graph.nodes.some((n) => n.op === 'Identity')).toBe(false);
    const w2 = norm.graph.initializers.find((t) => t.name === 'norm2.weight')!;
    const w1 = norm.graph.initializers.find((t) => t.name === 'norm1.weight')!;
    expect(w2.data).not.toBe(w1.data); // independent copies: training one must not move the other
    expect(Array.from(w2.data as Float32Array)).toEqual(Array.from(w1.data as Float32Array));
  });

  it('overrides and their errors', () => {
    const m = trainingExport();
    const r = detectTrainable(m, { frozen: ['conv.weight'], trainable: ['bn.running_var'] });
    expect(r.trainable).not.toContain('conv.weight');
    expect(r.trainable).toContain('bn.running_var');
    expect(r.reasons['conv.weight']).toMatch(/^override: frozen/);
    expect(() => detectTrainable(m, { trainable: ['/flat/shape'] })).toThrow("trainable override '/flat/shape' is int64; only floating-point initializers can be trained");
    expect(() => detectTrainable(m, { frozen: ['missing'] })).toThrow("frozen override 'missing' is not an initializer of the model");
  });

  it('refuses to normalise a training export whose training outputs are consumed', () => {
    const m = trainingExport();
    m.graph.nodes.push({ op: 'Identity', inputs: ['rm_out'], outputs: ['rm_copy'], attrs: {} });
    expect(() => normalizeImportedModel(m)).toThrow(/training-mode output 'rm_out' is used by other nodes/);
  });
});
