// Shape/type inference: symbolic dims, folding of shape computations as torch.onnx.export emits them,
// conv/pool arithmetic, opset-dependent forms, and clear errors.

import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../main/engine/onnx/builder';
import { tensorF32, tensorI64 } from '../../../main/engine/onnx/ir';
import { ShapeInferenceError, analyzeShapes, broadcastShapes, dimDiv, dimMul, inferShapes } from '../../../main/engine/onnx/shape-infer';

const shapeOf = (m: Map<string, { shape: unknown }>, n: string) => m.get(n)?.shape;

describe('inferShapes', () => {
  it('resolves a torch.onnx.export-style flatten (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) with a symbolic batch', () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', ['batch', 64, 7, 7]);
    const s = b.op('Shape', ['x']);
    const n = b.op('Gather', [s, b.constI64(0, [])], { axis: 0 });
    const u = b.op('Unsqueeze', [n, b.constI64([0])]);
    const tgt = b.op('Concat', [u, b.constI64([-1])], { axis: 0 });
    const r = b.op('Reshape', ['x', tgt]);
    const c = b.op('Constant', [], { value: { type: 'tensor', value: tensorI64([2], [0, -1]) } });
    const r2 = b.op('Reshape', ['x', c]);
    const fl = b.op('Flatten', ['x']);
    const t = inferShapes(b.toGraph());
    expect(shapeOf(t, tgt)).toEqual([2]);
    expect(analyzeShapes(b.toGraph()).known.get(tgt)?.values).toEqual(['batch', -1]);
    expect(shapeOf(t, r)).toEqual(['batch', 3136]);
    expect(shapeOf(t, r2)).toEqual(['batch', 3136]);
    expect(shapeOf(t, fl)).toEqual(['batch', 3136]);
    expect(t.get(s)?.dtype).toBe('int64');
  });

  it('derives symbolic products and divides them back (Reshape [N*C, -1] -> [N, C, -1])', () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', ['N', 4, 6]);
    const s = b.op('Shape', ['x']);
    const nc = b.op('Mul', [b.op('Gather', [s, b.constI64([0])], { axis: 0 }), b.op('Gather', [s, b.constI64([1])], { axis: 0 })]);
    const r = b.op('Reshape', ['x', b.op('Concat', [nc, b.constI64([-1])], { axis: 0 })]);
    const back = b.op('Reshape', [r, b.op('Concat', [b.op('Slice', [s, b.constI64([0]), b.constI64([1])]), b.constI64([4, -1])], { axis: 0 })]);
    const t = inferShapes(b.toGraph());
    expect(shapeOf(t, r)).toEqual(['4*N', 6]);
    expect(shapeOf(t, back)).toEqual(['N', 4, 6]);
    expect(dimMul('N', 'N')).toBe('N*N');
    expect(dimDiv('4*N*T', 'N*2')).toBe('2*T');
    expect(dimDiv('N', 'T')).toBeNull();
  });

  it('computes conv/pool output sizes with pads, strides, dilations, auto_pad and ceil_mode', () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', ['N', 3, 32, 32]);
    b.initializer('w', tensorF32([16, 3, 3, 3]));
    b.initializer('wd', tensorF32([3, 1, 3, 3]));
    const c1 = b.op('Conv', ['x', 'w'], { pads: [1, 1, 1, 1], strides: [2, 2] });
    const c2 = b.op('Conv', ['x', 'w'], { dilations: [2, 2] });
    const c3 = b.op('Conv', ['x', 'w'], { auto_pad: 'SAME_UPPER', strides: [2, 2] });
    const dw = b.op('Conv', ['x', 'wd'], { group: 3, pads: [1, 1, 1, 1] });
    const [mp, idx] = b.opN('MaxPool', [c1], 2, { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
    const ap = b.op('AveragePool', [c2], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 });
    const gap = b.op('GlobalAveragePool', [mp]);
    const t = inferShapes(b.toGraph());
    expect(shapeOf(t, c1)).toEqual(['N', 16, 16, 16]);
    expect(shapeOf(t, c2)).toEqual(['N', 16, 28, 28]);
    expect(shapeOf(t, c3)).toEqual(['N', 16, 16, 16]);
    expect(shapeOf(t, dw)).toEqual(['N', 3, 32, 32]);
    expect(shapeOf(t, mp)).toEqual(['N', 16, 8, 8]);
    expect(t.get(idx)).toEqual({ dtype: 'int64', shape: ['N', 16, 8, 8] });
    expect(shapeOf(t, ap)).toEqual(['N', 16, 14, 14]);
    expect(shapeOf(t, gap)).toEqual(['N', 16, 1, 1]);
  });

  it('handles reductions with axes as attribute (opset < 18) or input (opset >= 18), keepdims and noop', () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', ['N', 5, 6]);
    const a = b.op('ReduceMean', ['x'], { axes: [1], keepdims: 0 });
    const i = b.op('ReduceSum', ['x', b.constI64([-1])]);
    const all = b.op('ReduceMax', ['x'], { keepdims: 0 });
    const noop = b.op('ReduceSum', ['x'], { noop_with_empty_axes: 1 });
    const am = b.op('ArgMax', ['x'], { axis: 2, keepdims: 0 });
    const t = inferShapes(b.toGraph());
    expect(shapeOf(t, a)).toEqual(['N', 6]);
    expect(shapeOf(t, i)).toEqual(['N', 5, 1]);
    expect(shapeOf(t, all)).toEqual([]);
    expect(shapeOf(t, noop)).toEqual(['N', 5, 6]);
    expect(t.get(am)).toEqual({ dtype: 'int64', shape: ['N', 5] });
  });

  it('covers MatMul broadcasting, Gemm, Split, Slice with steps, Pad, Transpose, Squeeze, Expand, Where, comparisons', () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', ['N', 1, 8, 4]);
    b.input('y', 'float32', [3, 4, 5]);
    b.input('v', 'float32', [4]);
    const mm = b.op('MatMul', ['x', 'y']);
    const mv = b.op('MatMul', ['x', 'v']);
    const g = b.op('Gemm', [b.op('Flatten', ['x']), b.op('Flatten', ['y'])], { transB: 1 });
    const [s1, s2] = b.opN('Split', ['x', b.constI64([3, 5])], 2, { axis: 2 });
    const [e1, e2] = b.opN('Split', ['y'], 2, { axis: 2 });
    const sl = b.op('Slice', ['x', b.constI64([1, -1]), b.constI64([8, 0]), b.constI64([2, 3]), b.constI64([2, -1])]);
    const pd = b.op('Pad', ['x', b.constI64([0, 0, 1, 2, 0, 0, 3, -1])]);
    const tr = b.op('Transpose', ['x'], { perm: [0, 2, 3, 1] });
    const sq = b.op('Squeeze', ['x', b.constI64([1])]);
    const ex = b.op('Expand', ['v', b.constI64([2, 3, 1])]);
    const cmp = b.op('Less', ['x', 'v']);
    const wh = b.op('Where', [cmp, 'x', b.constF(0)]);
    const t = inferShapes(b.toGraph());
    expect(shapeOf(t, mm)).toEqual(['N', 3, 8, 5]);
    expect(shapeOf(t, mv)).toEqual(['N', 1, 8]);
    expect(shapeOf(t, g)).toEqual(['N', 3]);
    expect([shapeOf(t, s1), shapeOf(t, s2)]).toEqual([['N', 1, 3, 4], ['N', 1, 5, 4]]);
    expect([shapeOf(t, e1), shapeOf(t, e2)]).toEqual([[3, 4, 3], [3, 4, 2]]);
    expect(shapeOf(t, sl)).toEqual(['N', 1, 4, 3]);
    expect(shapeOf(t, pd)).toEqual(['N', 1, 12, 5]);
    expect(shapeOf(t, tr)).toEqual(['N', 8, 4, 1]);
    expect(shapeOf(t, sq)).toEqual(['N', 8, 4]);
    expect(shapeOf(t, ex)).toEqual([2, 3, 4]);
    expect(t.get(cmp)).toEqual({ dtype: 'bool', shape: ['N', 1, 8, 4] });
    expect(shapeOf(t, wh)).toEqual(['N', 1, 8, 4]);
  });

  it('folds ConstantOfShape, Range, Cast and handles TopK, OneHot, LayerNormalization, BatchNormalization, overrides', () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', ['N', 10]);
    b.input('lab', 'int64', ['N']);
    const z = b.op('ConstantOfShape', [b.constI64([2, 3])], { value: { type: 'tensor', value: tensorI64([1], [7]) } });
    const rg = b.op('Range', [b.constI64(0, []), b.constI64(5, []), b.constI64(2, [])]);
    const cs = b.op('Cast', [b.op('Shape', ['x'])], { to: 1 });
    const [vals, inds] = b.opN('TopK', ['x', b.constI64([3])], 2);
    const oh = b.op('OneHot', ['lab', b.constI64(10, []), b.constF([0, 1])]);
    b.initializer('g', tensorF32([10]));
    const [ln, mean] = b.opN('LayerNormalization', ['x', 'g'], 2);
    const a = analyzeShapes(b.toGraph(), { x: [32, 10], lab: [32] });
    expect(a.types.get(z)).toEqual({ dtype: 'int64', shape: [2, 3] });
    expect(a.known.get(z)?.values).toEqual([7, 7, 7, 7, 7, 7]);
    expect(a.known.get(rg)?.values).toEqual([0, 2, 4]);
    expect(a.types.get(cs)).toEqual({ dtype: 'float32', shape: [2] });
    expect(shapeOf(a.types, vals)).toEqual([32, 3]);
    expect(a.types.get(inds)?.dtype).toBe('int64');
    expect(shapeOf(a.types, oh)).toEqual([32, 10]);
    expect(shapeOf(a.types, ln)).toEqual([32, 10]);
    expect(shapeOf(a.types, mean)).toEqual([32, 1]);
  });

  it('gives clear errors for impossible shapes and undefined inputs', () => {
    expect(() => broadcastShapes([2, 3], [4, 3])).toThrow(/cannot be broadcast/);
    const b = new GraphBuilder();
    b.input('x', 'float32', [2, 3]);
    b.op('Reshape', ['x', b.constI64([4, -1])]);
    expect(() => inferShapes(b.toGraph())).toThrow(ShapeInferenceError);
    expect(() => inferShapes(b.toGraph())).toThrow(/cannot reshape \[2,3\]/);
    const b2 = new GraphBuilder();
    b2.input('x', 'float32', [2, 3]);
    b2.op('Relu', ['missing']);
    expect(() => inferShapes(b2.toGraph())).toThrow(/'missing' is not defined before use/);
    const b3 = new GraphBuilder();
    b3.input('x', 'float32', [2, 3]);
    b3.input('y', 'float32', [4, 5]);
    b3.op('MatMul', ['x', 'y']);
    expect(() => inferShapes(b3.toGraph())).toThrow(/inner dimensions differ/);
  });
});
