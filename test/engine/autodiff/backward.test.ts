// buildBackward behaviour beyond single rules: accumulation, unreachable/integer inputs, seeds, errors,
// symbolic batch dims, exact MaxPool with ties, BatchNorm training lowering vs a float64 JS reference,
// and that the checker really fails on a wrong rule.

import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { AutodiffError, RULES_BY_OP, buildBackward, gradCheck, lowerForTraining, prng, setFormulation, type GradRule } from '../../../main/engine/autodiff';
import { GraphBuilder, f } from '../../../main/engine/onnx/builder';
import { encodeModel, makeModel } from '../../../main/engine/onnx/codec';
import type { Graph, Tensor } from '../../../main/engine/onnx/ir';
import { makeTensor, opCase } from './helpers';

async function run(graph: Graph, feeds: Record<string, Tensor>, opset = 17): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(encodeModel(makeModel(graph, opset)), { intraOpNumThreads: 1 });
  const res = await s.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor(v.dtype as 'float32', v.data as Float32Array, v.dims)])));
  await s.release();
  return res;
}

const f32 = (dims: number[], data: number[]): Tensor => ({ dtype: 'float32', dims, data: Float32Array.from(data) });

describe('buildBackward', () => {
  it('accumulates the gradient of a value read by several nodes (fan-out) and checks numerically', async () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', [3, 4]);
    b.initializer('w', makeTensor({ name: 'w', dims: [4, 4] }, prng(1)));
    const h = b.op('Tanh', [b.op('MatMul', ['x', 'w'])]);
    const y = b.op('Add', [b.op('Mul', [h, h]), b.op('MatMul', [h, 'w'])]); // w and h both fan out
    b.addNode('Identity', [y], ['y']);
    b.output('y', 'float32', null);
    const res = await gradCheck({ graph: b.toGraph(), feeds: { x: makeTensor({ name: 'x', dims: [3, 4] }, prng(2)) }, wrt: ['x', 'w'] });
    expect(res.ok, JSON.stringify(res.tensors)).toBe(true);
  });

  it('gives an explicit zero gradient to parameters that do not reach the loss, and none to integer inputs', async () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', ['N', 3]);
    b.input('idx', 'int64', [2]);
    b.initializer('w', f32([3], [1, 2, 3]));
    b.initializer('unused', f32([2, 2], [1, 1, 1, 1]));
    const g = b.op('Gather', ['x', 'idx'], { axis: 0 });
    const loss = b.op('ReduceSum', [b.op('Mul', [g, 'w'])], { keepdims: 0 }, 'loss');
    b.output(loss, 'float32', []);
    expect(() => buildBackward(b.toGraph(), { loss, wrt: ['idx'] })).toThrow(/int64, not float/);
    const bw = buildBackward(b.toGraph(), { loss, wrt: ['w', 'unused', 'x'] });
    expect(bw.unreachable).toEqual(['unused']);
    const out = await run(bw.graph, { x: f32([4, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), idx: { dtype: 'int64', dims: [2], data: BigInt64Array.from([3n, 3n]) } });
    expect(Array.from(out[bw.grads.unused].data as Float32Array)).toEqual([0, 0, 0, 0]);
    expect(Array.from(out[bw.grads.w].data as Float32Array)).toEqual([20, 22, 24]); // row 3 gathered twice
    expect(Array.from(out[bw.grads.x].data as Float32Array)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 4, 6]);
  });

  it('uses a lossGrad seed input and keeps batch dims symbolic (runs at two batch sizes)', async () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', ['N', 4]);
    b.initializer('w', makeTensor({ name: 'w', dims: [4, 2] }, prng(3)));
    b.initializer('c', f32([2], [0.1, -0.2]));
    const z = b.op('Relu', [b.op('Gemm', ['x', 'w', 'c'])]);
    const loss = b.op('ReduceMean', [z], { keepdims: 0 }, 'loss');
    b.output(loss, 'float32', []);
    const bw = buildBackward(b.toGraph(), { loss, wrt: ['w', 'c'], lossGrad: 'dloss' });
    for (const n of [1, 5]) {
      const x = makeTensor({ name: 'x', dims: [n, 4] }, prng(n));
      const one = await run(bw.graph, { x, dloss: f32([], [1]) });
      const three = await run(bw.graph, { x, dloss: f32([], [3]) });
      const g1 = one[bw.grads.w].data as Float32Array;
      const g3 = three[bw.grads.w].data as Float32Array;
      expect(g1.length).toBe(8);
      g1.forEach((v, i) => expect(g3[i]).toBeCloseTo(3 * v, 6));
    }
  });

  it('symbolic batch dims: a conv net built with batch N gives the same gradients as with a static batch', async () => {
    const build = (batch: number | string) => {
      const b = new GraphBuilder();
      const r = prng(4);
      b.input('x', 'float32', [batch, 2, 6, 6]);
      b.input('y', 'float32', [null, 3]); // unknown dims: broadcasting resolved at run time
      b.initializer('w', makeTensor({ name: 'w', dims: [3, 2, 3, 3] }, r));
      b.initializer('wf', makeTensor({ name: 'wf', dims: [12, 3] }, r));
      let h = b.op('Conv', ['x', 'w'], { pads: [1, 1, 1, 1], strides: [2, 2] });
      h = b.op('MaxPool', [b.op('Relu', [h])], { kernel_shape: [2, 2], strides: [1, 1] });
      h = b.op('Add', [b.op('MatMul', [b.op('Flatten', [h]), 'wf']), 'y']);
      const loss = b.op('ReduceSum', [b.op('Mul', [h, h])], { keepdims: 0 }, 'loss');
      b.output(loss, 'float32', []);
      return buildBackward(b.toGraph(), { loss, wrt: ['w', 'wf', 'x', 'y'] });
    };
    const x = makeTensor({ name: 'x', dims: [3, 2, 6, 6] }, prng(8));
    const y = f32([1, 3], [0.3, -0.2, 0.1]);
    const sym = build('N');
    const fixed = build(3);
    const a = await run(sym.graph, { x, y });
    const c = await run(fixed.graph, { x, y });
    for (const w of ['w', 'wf', 'x', 'y']) {
      const ga = a[sym.grads[w]];
      const gc = c[fixed.grads[w]];
      expect(ga.dims).toEqual(gc.dims);
      (ga.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo((gc.data as Float32Array)[i], 4));
    }
    expect(a[sym.grads.y].dims).toEqual([1, 3]);
  });

  it('rejects a non-scalar or integer loss and ops without a rule, with clear messages', () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', [2, 3]);
    const y = b.op('Relu', ['x']);
    const c = b.op('Cast', [b.op('ReduceSum', [y], { keepdims: 0 })], { to: 7 });
    expect(() => buildBackward(b.toGraph(), { loss: y, wrt: ['x'] })).toThrow(/must be a scalar/);
    expect(() => buildBackward(b.toGraph(), { loss: c, wrt: ['x'] })).toThrow(/must be a float tensor/);
    expect(() => buildBackward(b.toGraph(), { loss: 'nope', wrt: ['x'] })).toThrow(/not a value/);
    const b2 = new GraphBuilder();
    b2.input('x', 'float32', [2, 3]);
    const l2 = b2.op('ReduceSum', [b2.op('Selu', ['x'])], { keepdims: 0 });
    expect(() => buildBackward(b2.toGraph(), { loss: l2, wrt: ['x'] })).toThrow(AutodiffError);
    expect(() => buildBackward(b2.toGraph(), { loss: l2, wrt: ['x'] })).toThrow(/no derivative rule for op Selu/);
    expect(() => buildBackward(b2.toGraph(), { loss: l2, wrt: ['x'], opset: 11 })).toThrow(/opset >= 13/);
  });

  it('the checker fails when a rule is wrong (Tanh with a wrong derivative)', async () => {
    const rules = RULES_BY_OP as Map<string, GradRule>;
    const good = rules.get('Tanh')!;
    rules.set('Tanh', { op: 'Tanh', backward: (c) => [c.b.op('Mul', [c.gy[0]!, c.b.op('Sub', [c.scalar(1, c.node.outputs[0]), c.node.outputs[0]])])] });
    try {
      const res = await gradCheck(opCase('Tanh', [{ name: 'x', dims: [3, 4], kind: 'input' }]));
      expect(res.ok).toBe(false);
      expect(res.maxRelError).toBeGreaterThan(0.05);
    } finally {
      rules.set('Tanh', good);
    }
  });

  it.each(['window-compare', 'window-argmax', 'indices-scatter', 'indices-unpool'] as const)('MaxPool backward is exact with ties (%s): each window sends its gradient to exactly one maximal element, the first', async (form) => {
    const prev = setFormulation({ maxPoolGrad: form });
    try {
      // flat backgrounds with many equal maxima (the case an equality mask gets wrong)
      const vals = [0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 0, 0, 2, 2, 0, 0, 5, 5, 5, 5, 5, 5, 5, 5, 3, 0, 0, 0, 0, 3, 0, 0];
      const cs = opCase('MaxPool', [{ name: 'x', dims: [1, 2, 4, 4], kind: 'input', data: vals }], { kernel_shape: [2, 2], strides: [2, 2] });
      const g: Graph = { ...cs.graph };
      const gy = f32([1, 2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
      const bw = buildBackward(
        { ...g, nodes: [...g.nodes, { op: 'Mul', inputs: ['y0', 'r'], outputs: ['m'], attrs: {} }, { op: 'ReduceSum', inputs: ['m'], outputs: ['loss'], attrs: { keepdims: { type: 'int', value: 0 } } }], initializers: [...g.initializers, { name: 'r', ...gy }] },
        { loss: 'loss', wrt: ['x'] },
      );
      const out = await run(bw.graph, cs.feeds);
      const dx = out[bw.grads.x].data as Float32Array;
      const x = Float32Array.from(vals);
      let total = 0;
      for (let c = 0; c < 2; c++)
        for (let wy = 0; wy < 2; wy++)
          for (let wx = 0; wx < 2; wx++) {
            const idx = [0, 1].flatMap((dy) => [0, 1].map((dx_) => c * 16 + (2 * wy + dy) * 4 + 2 * wx + dx_));
            const mx = Math.max(...idx.map((i) => x[i]));
            const got = idx.filter((i) => dx[i] !== 0);
            expect(got.length).toBe(1); // one element, not every tied one
            expect(got[0]).toBe(idx.find((i) => x[i] === mx)); // the first maximum in row-major order, as PyTorch
            expect(dx[got[0]]).toBe(gy.data[c * 4 + wy * 2 + wx]);
            total += dx[got[0]];
          }
      expect(total).toBe(36);
    } finally {
      setFormulation(prev);
    }
  });

  it('training-mode BatchNorm backward is fused (one closed form, fewer nodes) and equals the rule-by-rule backward', async () => {
    const dims = [4, 3, 2, 3];
    const r = prng(5);
    const b = new GraphBuilder();
    b.input('x', 'float32', dims);
    for (const [n, v] of [['s', 1.3], ['bb', 0.2], ['rm', 0], ['rv', 1]] as const) b.initializer(n, { dtype: 'float32', dims: [3], data: new Float32Array(3).fill(v) });
    const y = b.op('BatchNormalization', ['x', 's', 'bb', 'rm', 'rv'], { epsilon: f(1e-5), momentum: f(0.9) });
    b.addNode('ReduceSum', [b.op('Mul', [y, b.op('Tanh', [y])])], ['loss'], { keepdims: 0 });
    b.output('loss', 'float32', []);
    const low = lowerForTraining(b.toGraph(), { dropout: 'identity' }).graph;
    const feeds = { x: makeTensor({ name: 'x', dims }, r) };
    const grads = async (form: 'fused' | 'generic') => {
      const prev = setFormulation({ batchNormGrad: form });
      try {
        const bw = buildBackward(low, { loss: 'loss', wrt: ['x', 's', 'bb'] });
        const out = await run(bw.graph, feeds);
        return { nodes: bw.graph.nodes.length, vals: ['x', 's', 'bb'].map((w) => Array.from(out[bw.grads[w]].data as Float32Array)) };
      } finally {
        setFormulation(prev);
      }
    };
    const fused = await grads('fused');
    const generic = await grads('generic');
    expect(fused.nodes).toBeLessThan(generic.nodes);
    fused.vals.forEach((v, i) => v.forEach((g, j) => expect(Math.abs(g - generic.vals[i][j])).toBeLessThan(1e-4 * (1 + Math.abs(g)))));
  });

  it('BatchNormalization training lowering: output and running statistics match a float64 reference (PyTorch semantics)', async () => {
    const N = 4, C = 3, H = 2, W = 3;
    const r = prng(21);
    const x = makeTensor({ name: 'x', dims: [N, C, H, W], gen: (rr) => rr() * 4 - 1 }, r);
    const scale = f32([C], [1.5, -0.5, 2]);
    const bias = f32([C], [0.1, 0.2, -0.3]);
    const rm = f32([C], [0.5, -1, 0]);
    const rv = f32([C], [1, 2, 0.5]);
    const b = new GraphBuilder();
    b.input('x', 'float32', ['N', C, H, W]);
    for (const [n, t] of Object.entries({ s: scale, bb: bias, rm, rv })) b.initializer(n, t);
    b.addNode('BatchNormalization', ['x', 's', 'bb', 'rm', 'rv'], ['y'], { epsilon: f(1e-5), momentum: f(0.8) });
    b.output('y', 'float32', null);
    const low = lowerForTraining(b.toGraph(), { dropout: 'identity' });
    expect(low.runningStats.map((s) => s.name)).toEqual(['rm', 'rv']);
    const graph = { ...low.graph, outputs: [...low.graph.outputs, ...low.runningStats.map((s) => ({ name: s.updated, dtype: 'float32' as const, shape: [C] }))] };
    const out = await run(graph, { x });
    const m = 0.2; // PyTorch momentum = 1 - ONNX momentum
    const n = N * H * W;
    for (let c = 0; c < C; c++) {
      const v: number[] = [];
      for (let i = 0; i < N; i++) for (let j = 0; j < H * W; j++) v.push(x.data[(i * C + c) * H * W + j] as number);
      const mean = v.reduce((a, b2) => a + b2, 0) / n;
      const varB = v.reduce((a, b2) => a + (b2 - mean) ** 2, 0) / n;
      const varU = (varB * n) / (n - 1);
      expect((out[low.runningStats[0].updated].data as Float32Array)[c]).toBeCloseTo(rm.data[c] as number * (1 - m) + mean * m, 6);
      expect((out[low.runningStats[1].updated].data as Float32Array)[c]).toBeCloseTo(rv.data[c] as number * (1 - m) + varU * m, 6);
      const y0 = (out.y.data as Float32Array)[(0 * C + c) * H * W];
      expect(y0).toBeCloseTo(((v[0] - mean) / Math.sqrt(varB + 1e-5)) * (scale.data[c] as number) + (bias.data[c] as number), 5);
    }
    // bnMomentum override in PyTorch convention
    const low2 = lowerForTraining(b.toGraph(), { dropout: 'identity', bnMomentum: 1 });
    const g2 = { ...low2.graph, outputs: [{ name: low2.runningStats[0].updated, dtype: 'float32' as const, shape: [C] }] };
    const out2 = await run(g2, { x });
    const mean0 = (out2[low2.runningStats[0].updated].data as Float32Array)[0];
    expect(mean0).toBeCloseTo((out[low.runningStats[0].updated].data as Float32Array)[0] / m - (rm.data[0] as number) * (1 - m) / m, 4);
  });

  it('Dropout lowering: mask input scales by 1/(1-ratio); identity mode removes it', async () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', [2, 3]);
    b.addNode('Dropout', ['x', b.constF(0.5)], ['y']);
    b.output('y', 'float32', null);
    const low = lowerForTraining(b.toGraph(), { dropout: 'mask-inputs' });
    expect(low.dropoutMasks).toEqual([{ input: low.dropoutMasks[0].input, shapeOf: 'x', ratio: 0.5 }]);
    expect(low.graph.inputs.find((i) => i.name === low.dropoutMasks[0].input)?.shape).toEqual([2, 3]);
    const out = await run(low.graph, { x: f32([2, 3], [1, 2, 3, 4, 5, 6]), [low.dropoutMasks[0].input]: f32([2, 3], [1, 0, 1, 0, 0, 1]) });
    expect(Array.from(out.y.data as Float32Array)).toEqual([2, 0, 6, 0, 0, 12]);
    const id = lowerForTraining(b.toGraph(), { dropout: 'identity' });
    expect(id.dropoutMasks).toEqual([]);
    expect(id.graph.nodes.some((n) => n.op === 'Dropout')).toBe(false);
    const out2 = await run(id.graph, { x: f32([2, 3], [1, 2, 3, 4, 5, 6]) });
    expect(Array.from(out2.y.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('a small CNN (conv-relu-maxpool x2, BN, flatten, gemm, log-softmax) passes the gradient check end to end', async () => {
    const r = prng(33);
    const b = new GraphBuilder();
    b.input('x', 'float32', [2, 1, 8, 8]);
    const P = (name: string, dims: number[], sc = 0.5) => b.initializer(name, makeTensor({ name, dims, gen: (rr) => (rr() * 2 - 1) * sc }, r));
    P('w1', [4, 1, 3, 3]); P('b1', [4]); P('g1', [4]); P('be1', [4]);
    b.initializer('rm1', f32([4], [0, 0, 0, 0])); b.initializer('rv1', f32([4], [1, 1, 1, 1]));
    P('w2', [3, 4, 3, 3]); P('b2', [3]); P('wf', [5, 12]); P('bf', [5]);
    let h = b.op('Conv', ['x', 'w1', 'b1'], { pads: [1, 1, 1, 1] });
    h = b.op('BatchNormalization', [h, 'g1', 'be1', 'rm1', 'rv1']);
    h = b.op('MaxPool', [b.op('Relu', [h])], { kernel_shape: [2, 2], strides: [2, 2] });
    h = b.op('Conv', [h, 'w2', 'b2'], { pads: [1, 1, 1, 1] });
    h = b.op('MaxPool', [b.op('Relu', [h])], { kernel_shape: [2, 2], strides: [2, 2] });
    h = b.op('Gemm', [b.op('Flatten', [h]), 'wf', 'bf'], { transB: 1 });
    b.addNode('LogSoftmax', [h], ['y'], { axis: 1 });
    b.output('y', 'float32', null);
    const low = lowerForTraining(b.toGraph(), { dropout: 'identity' });
    const res = await gradCheck({
      graph: low.graph,
      feeds: { x: makeTensor({ name: 'x', dims: [2, 1, 8, 8] }, r) },
      wrt: ['w1', 'b1', 'g1', 'be1', 'w2', 'b2', 'wf', 'bf'],
      outputs: ['y'],
      maxCoords: 12,
      eps: 1e-3, // float32 (ORT has no double Conv): a small step crosses fewer ReLU/max-pool kinks
      // a whole network in float32 with a small step: the conv bias before BatchNorm has a zero true
      // gradient and is judged against 1% of the largest gradient (observed 1.7e-3); single rules hold 1e-3
      tolerance: 5e-3,
    });
    expect(res.precision).toBe('float32');
    expect(res.ok, `${res.precision} ${res.maxRelError} ${JSON.stringify(res.tensors)}`).toBe(true);
  });
});
