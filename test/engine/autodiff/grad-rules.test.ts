// Every derivative rule in GRAD_RULES is checked numerically (float64 central differences in ORT, or
// float32 where ORT CPU has no double kernel) under several attribute configurations.
// Each case states the precision it must run in: float64 unless it names (`f32`) the op ORT CPU lacks a
// double kernel for, and the fallback reason must name that op, so a new silent fallback fails here.
// Tolerances: 1e-5 relative in float64, 1e-3 in float32; a 1% error in a float32-checked rule must fail.

import { afterAll, describe, expect, it } from 'vitest';
import { GRAD_RULES, RULES_BY_OP, gradCheck, lowerForTraining, setFormulation, type GradCheckOptions, type GradCheckResult, type GradRule } from '../../../main/engine/autodiff';
import { GRAD_CHECK_TOLERANCE } from '../../../main/engine/autodiff/grad-check';
import { GraphBuilder, f } from '../../../main/engine/onnx/builder';
import { type CheckCase, type Spec, distinct, makeTensor, opCase } from './helpers';
import { prng } from '../../../main/engine/autodiff';

interface Case {
  rule: string;
  name: string;
  /** the op ORT CPU has no float64 kernel for, forcing the float32 check (absent: must run in float64) */
  f32?: string;
  make: () => CheckCase & Partial<GradCheckOptions>;
  setup?: () => () => void;
}

const pos = (r: () => number) => 0.5 + r();
const P = (name: string, dims: number[], extra: Partial<Spec> = {}): Spec => ({ name, dims, ...extra });
const I = (name: string, dims: number[], extra: Partial<Spec> = {}): Spec => ({ name, dims, kind: 'input', ...extra });
const K64 = (name: string, data: number[], dims = [data.length]): Spec => ({ name, dims, kind: 'const', dtype: 'int64', data });
const distinctGen = (n: number) => {
  const v = distinct(n);
  return (_r: () => number, i: number) => v[i];
};

const CASES: Case[] = [
  // ---------------- elementwise
  { rule: 'Identity', name: 'identity', make: () => opCase('Identity', [I('x', [2, 3])]) },
  { rule: 'Cast', name: 'cast to float64', make: () => opCase('Cast', [I('x', [2, 3])], { to: 11 }) },
  { rule: 'Add', name: 'broadcast [1,C,1,1]', make: () => opCase('Add', [I('x', [2, 3, 2, 2]), P('b', [1, 3, 1, 1])]) },
  { rule: 'Add', name: 'scalar and trailing', make: () => opCase('Add', [P('s', []), I('x', [2, 4])]) },
  { rule: 'Sub', name: 'broadcast rows', make: () => opCase('Sub', [I('x', [3, 4]), P('b', [4])]) },
  { rule: 'Sub', name: 'both broadcast', make: () => opCase('Sub', [I('x', [3, 1]), P('b', [1, 4])]) },
  { rule: 'Mul', name: 'broadcast [1,C,1,1]', make: () => opCase('Mul', [I('x', [2, 3, 2, 2]), P('g', [1, 3, 1, 1])]) },
  { rule: 'Mul', name: 'scalar', make: () => opCase('Mul', [I('x', [3, 2]), P('s', [])]) },
  { rule: 'Div', name: 'broadcast', make: () => opCase('Div', [I('x', [3, 4]), P('d', [4], { gen: pos })]) },
  { rule: 'Neg', name: 'neg', make: () => opCase('Neg', [I('x', [5])]) },
  { rule: 'Pow', name: 'constant exponent', make: () => opCase('Pow', [I('x', [3, 4], { gen: pos }), { name: 'e', dims: [], kind: 'const', data: [2.5] }]) },
  { rule: 'Pow', name: 'exponent as parameter', make: () => opCase('Pow', [I('x', [3, 4], { gen: pos }), P('e', [4])]) },
  { rule: 'Sqrt', name: 'sqrt', make: () => opCase('Sqrt', [I('x', [3, 4], { gen: pos })]) },
  { rule: 'Exp', name: 'exp', make: () => opCase('Exp', [I('x', [3, 4])]) },
  { rule: 'Log', name: 'log', make: () => opCase('Log', [I('x', [3, 4], { gen: pos })]) },
  { rule: 'Reciprocal', name: 'reciprocal', make: () => opCase('Reciprocal', [I('x', [3, 4], { gen: pos })]) },
  { rule: 'Abs', name: 'abs', make: () => opCase('Abs', [I('x', [12], { gen: distinctGen(12) })]) },
  { rule: 'Relu', name: 'relu', make: () => opCase('Relu', [I('x', [3, 8], { gen: distinctGen(24) })]) },
  { rule: 'Relu', name: 'relu (where formulation)', setup: () => restore(setFormulation({ reluGrad: 'where' })), make: () => opCase('Relu', [I('x', [3, 8], { gen: distinctGen(24) })]) },
  { rule: 'LeakyRelu', name: 'alpha 0.2', make: () => opCase('LeakyRelu', [I('x', [3, 8], { gen: distinctGen(24) })], { alpha: f(0.2) }) },
  { rule: 'Sigmoid', name: 'sigmoid', make: () => opCase('Sigmoid', [I('x', [3, 4])]) },
  { rule: 'Tanh', name: 'tanh', make: () => opCase('Tanh', [I('x', [3, 4])]) },
  { rule: 'Erf', name: 'erf', f32: 'Erf', make: () => opCase('Erf', [I('x', [3, 4])]) },
  { rule: 'Softplus', name: 'softplus', f32: 'Softplus', make: () => opCase('Softplus', [I('x', [3, 4])]) },
  { rule: 'Gelu', name: 'opset-20 Gelu (erf)', f32: 'Erf', make: () => ({ ...opCase('Gelu', [I('x', [3, 4])]), opset: 20 }) },
  { rule: 'Gelu', name: 'opset-20 Gelu (tanh)', make: () => ({ ...opCase('Gelu', [I('x', [3, 4])], { approximate: 'tanh' }), opset: 20 }) },
  { rule: 'Erf', name: 'torch Gelu decomposition x*0.5*(1+erf(x/sqrt2))', f32: 'Erf', make: () => geluDecomposition() },
  { rule: 'Clip', name: 'min/max as inputs', make: () => opCase('Clip', [I('x', [4, 6], { gen: distinctGen(24) }), { name: 'lo', dims: [], kind: 'const', data: [-0.4] }, { name: 'hi', dims: [], kind: 'const', data: [0.6] }]) },
  { rule: 'Clip', name: 'max only', make: () => opCase('Clip', [I('x', [4, 6], { gen: distinctGen(24) }), '', { name: 'hi', dims: [], kind: 'const', data: [0.3] }]) },
  { rule: 'Sum', name: 'three inputs, broadcast', make: () => opCase('Sum', [I('x', [2, 3]), P('a', [3]), P('b', [2, 1])]) },
  { rule: 'Max', name: 'broadcast', make: () => opCase('Max', [I('x', [3, 4], { gen: distinctGen(12) }), P('m', [4], { data: [0.05, -0.33, 0.41, 0.12] })]) },
  { rule: 'Min', name: 'three inputs', make: () => opCase('Min', [I('x', [3, 4], { gen: distinctGen(12) }), P('a', [3, 4]), P('m', [4], { data: [0.05, -0.33, 0.41, 0.12] })]) },
  { rule: 'Where', name: 'broadcast condition', make: () => opCase('Where', [{ name: 'c', dims: [3, 1], kind: 'const', dtype: 'bool', data: [1, 0, 1] }, I('x', [3, 4]), P('y', [4])]) },
  // ---------------- matrix products
  { rule: 'Gemm', name: 'plain + bias [N]', make: () => opCase('Gemm', [I('a', [3, 4]), P('w', [4, 5]), P('c', [5])]) },
  { rule: 'Gemm', name: 'transB, alpha, beta, bias [1,N]', make: () => opCase('Gemm', [I('a', [3, 4]), P('w', [5, 4]), P('c', [1, 5])], { transB: 1, alpha: f(0.7), beta: f(1.3) }) },
  { rule: 'Gemm', name: 'transA, scalar bias', make: () => opCase('Gemm', [I('a', [4, 3]), P('w', [4, 5]), P('c', [])], { transA: 1 }) },
  { rule: 'Gemm', name: 'transA + transB, full bias', make: () => opCase('Gemm', [I('a', [4, 3]), P('w', [5, 4]), P('c', [3, 5])], { transA: 1, transB: 1 }) },
  { rule: 'MatMul', name: 'batched x 2-D weight', make: () => opCase('MatMul', [I('a', [2, 3, 4]), P('w', [4, 5])]) },
  { rule: 'MatMul', name: 'broadcast batch dims', make: () => opCase('MatMul', [I('a', [2, 1, 3, 4]), P('b', [3, 4, 2])]) },
  { rule: 'MatMul', name: '2-D x batched', make: () => opCase('MatMul', [I('a', [3, 4]), P('b', [2, 4, 5])]) },
  { rule: 'MatMul', name: '1-D x 2-D', make: () => opCase('MatMul', [I('a', [4]), P('b', [4, 5])]) },
  { rule: 'MatMul', name: 'batched x 1-D', make: () => opCase('MatMul', [I('a', [2, 3, 4]), P('b', [4])]) },
  { rule: 'MatMul', name: '1-D x 1-D', make: () => opCase('MatMul', [I('a', [4]), P('b', [4])]) },
  // ---------------- convolution
  { rule: 'Conv', name: '3x3 pads 1 + bias', f32: 'Conv', make: () => opCase('Conv', [I('x', [2, 3, 5, 5]), P('w', [4, 3, 3, 3]), P('b', [4])], { pads: [1, 1, 1, 1] }) },
  { rule: 'Conv', name: 'stride 2, asymmetric pads', f32: 'Conv', make: () => opCase('Conv', [I('x', [2, 2, 6, 7]), P('w', [3, 2, 3, 2])], { strides: [2, 2], pads: [1, 0, 0, 1] }) },
  { rule: 'Conv', name: 'dilation 2', f32: 'Conv', make: () => opCase('Conv', [I('x', [1, 2, 7, 7]), P('w', [3, 2, 3, 3])], { dilations: [2, 2], pads: [2, 2, 2, 2] }) },
  { rule: 'Conv', name: 'groups 2, stride 2', f32: 'Conv', make: () => opCase('Conv', [I('x', [2, 4, 6, 6]), P('w', [6, 2, 3, 3]), P('b', [6])], { group: 2, strides: [2, 2], pads: [1, 1, 1, 1] }) },
  { rule: 'Conv', name: 'depthwise', f32: 'Conv', make: () => opCase('Conv', [I('x', [2, 3, 5, 5]), P('w', [3, 1, 3, 3])], { group: 3, pads: [1, 1, 1, 1] }) },
  { rule: 'Conv', name: '1x1 stride 2 (downsample)', f32: 'Conv', make: () => opCase('Conv', [I('x', [2, 3, 5, 5]), P('w', [4, 3, 1, 1])], { strides: [2, 2] }) },
  { rule: 'Conv', name: '1-D, stride 2, dilation 2', f32: 'Conv', make: () => opCase('Conv', [I('x', [2, 3, 11]), P('w', [2, 3, 3]), P('b', [2])], { strides: [2], dilations: [2], pads: [1, 2] }) },
  { rule: 'Conv', name: 'auto_pad SAME_UPPER stride 2', f32: 'Conv', make: () => opCase('Conv', [I('x', [1, 2, 6, 6]), P('w', [2, 2, 3, 3])], { auto_pad: 'SAME_UPPER', strides: [2, 2] }) },
  { rule: 'Conv', name: 'im2col formulation, groups 2', f32: 'Conv', setup: () => restore(setFormulation({ convWeightGrad: 'im2col' })), make: () => opCase('Conv', [I('x', [2, 4, 5, 5]), P('w', [4, 2, 3, 3])], { group: 2, pads: [1, 1, 1, 1] }) },
  { rule: 'Conv', name: 'im2col formulation, stride 2', f32: 'Conv', setup: () => restore(setFormulation({ convWeightGrad: 'im2col' })), make: () => opCase('Conv', [I('x', [2, 3, 6, 6]), P('w', [4, 3, 3, 3])], { strides: [2, 2], pads: [1, 1, 1, 1] }) },
  { rule: 'Conv', name: 'per-offset formulation, groups 2, stride 2', f32: 'Conv', setup: () => restore(setFormulation({ convWeightGrad: 'per-offset' })), make: () => opCase('Conv', [I('x', [2, 4, 6, 6]), P('w', [6, 2, 3, 3])], { group: 2, strides: [2, 2], pads: [1, 1, 1, 1] }) },
  { rule: 'Conv', name: 'per-offset formulation, dilation 2', f32: 'Conv', setup: () => restore(setFormulation({ convWeightGrad: 'per-offset' })), make: () => opCase('Conv', [I('x', [1, 2, 7, 7]), P('w', [3, 2, 3, 3])], { dilations: [2, 2], pads: [2, 1, 2, 1] }) },
  { rule: 'Conv', name: 'unfold-conv formulation, groups 2, stride 2, dilation', f32: 'Conv', setup: () => restore(setFormulation({ convWeightGrad: 'unfold-conv' })), make: () => opCase('Conv', [I('x', [2, 4, 7, 7]), P('w', [6, 2, 3, 3]), P('b', [6])], { group: 2, strides: [2, 2], dilations: [1, 2], pads: [1, 2, 0, 1] }) },
  { rule: 'Conv', name: 'unfold-conv formulation, 1-D', f32: 'Conv', setup: () => restore(setFormulation({ convWeightGrad: 'unfold-conv' })), make: () => opCase('Conv', [I('x', [2, 3, 9]), P('w', [2, 3, 3])], { strides: [2], pads: [1, 1] }) },
  { rule: 'Conv', name: 'unfold-tall formulation, 3x3 pads 1', f32: 'Conv', setup: () => restore(setFormulation({ convWeightGrad: 'unfold-tall' })), make: () => opCase('Conv', [I('x', [3, 2, 5, 5]), P('w', [4, 2, 3, 3]), P('b', [4])], { pads: [1, 1, 1, 1] }) },
  { rule: 'Conv', name: 'unfold-tall formulation, stride 2 pads 1 (one straddling row per image)', f32: 'Conv', setup: () => restore(setFormulation({ convWeightGrad: 'unfold-tall' })), make: () => opCase('Conv', [I('x', [3, 3, 6, 6]), P('w', [4, 3, 3, 3])], { strides: [2, 2], pads: [1, 1, 1, 1] }) },
  { rule: 'Conv', name: 'unfold-tall formulation, 1x1 stride 2 (kernel smaller than the stride)', f32: 'Conv', setup: () => restore(setFormulation({ convWeightGrad: 'unfold-tall' })), make: () => opCase('Conv', [I('x', [2, 3, 6, 6]), P('w', [4, 3, 1, 1])], { strides: [2, 2] }) },
  { rule: 'Conv', name: 'unfold-tall formulation, 1x1 stride 2 on odd rows (falls back to unfold-conv)', f32: 'Conv', setup: () => restore(setFormulation({ convWeightGrad: 'unfold-tall' })), make: () => opCase('Conv', [I('x', [2, 3, 5, 5]), P('w', [4, 3, 1, 1])], { strides: [2, 2] }) },
  { rule: 'Conv', name: 'unfold-tall formulation, dilation (2, 1), asymmetric pads, stride (1, 2)', f32: 'Conv', setup: () => restore(setFormulation({ convWeightGrad: 'unfold-tall' })), make: () => opCase('Conv', [I('x', [2, 2, 7, 8]), P('w', [3, 2, 3, 2]), P('b', [3])], { dilations: [2, 1], strides: [1, 2], pads: [2, 0, 1, 1] }) },
  { rule: 'Conv', name: 'unfold-tall formulation, groups 2 (falls back to unfold-conv)', f32: 'Conv', setup: () => restore(setFormulation({ convWeightGrad: 'unfold-tall' })), make: () => opCase('Conv', [I('x', [2, 4, 6, 6]), P('w', [6, 2, 3, 3])], { group: 2, pads: [1, 1, 1, 1] }) },
  { rule: 'Conv', name: 'unfold-tall formulation, auto_pad SAME_UPPER stride 2', f32: 'Conv', setup: () => restore(setFormulation({ convWeightGrad: 'unfold-tall' })), make: () => opCase('Conv', [I('x', [2, 2, 6, 6]), P('w', [2, 2, 3, 3])], { auto_pad: 'SAME_UPPER', strides: [2, 2] }) },
  { rule: 'Conv', name: 'shift-gemm formulation, 3x3 pads 1', f32: 'Conv', setup: () => restore(setFormulation({ convWeightGrad: 'shift-gemm' })), make: () => opCase('Conv', [I('x', [2, 2, 14, 14]), P('w', [4, 2, 3, 3]), P('b', [4])], { pads: [1, 1, 1, 1] }) },
  { rule: 'Conv', name: 'shift-gemm formulation, 3x2 kernel, asymmetric pads, dilation (2, 1)', f32: 'Conv', setup: () => restore(setFormulation({ convWeightGrad: 'shift-gemm' })), make: () => opCase('Conv', [I('x', [2, 2, 20, 18]), P('w', [3, 2, 3, 2])], { dilations: [2, 1], pads: [2, 0, 1, 1] }) },
  { rule: 'Conv', name: 'shift-gemm formulation, no padding (windows run into the next image)', f32: 'Conv', setup: () => restore(setFormulation({ convWeightGrad: 'shift-gemm' })), make: () => opCase('Conv', [I('x', [3, 2, 9, 9]), P('w', [3, 2, 2, 2])], {}) },
  { rule: 'Conv', name: 'shift-gemm formulation, 1x1', f32: 'Conv', setup: () => restore(setFormulation({ convWeightGrad: 'shift-gemm' })), make: () => opCase('Conv', [I('x', [2, 3, 4, 4]), P('w', [5, 3, 1, 1])], {}) },
  { rule: 'Conv', name: 'shift-gemm formulation, stride 2 (falls back to unfold-gemm)', f32: 'Conv', setup: () => restore(setFormulation({ convWeightGrad: 'shift-gemm' })), make: () => opCase('Conv', [I('x', [2, 3, 6, 6]), P('w', [4, 3, 3, 3])], { strides: [2, 2], pads: [1, 1, 1, 1] }) },
  { rule: 'Conv', name: 'shift-gemm formulation, small image, large padding (falls back)', f32: 'Conv', setup: () => restore(setFormulation({ convWeightGrad: 'shift-gemm' })), make: () => opCase('Conv', [I('x', [2, 2, 3, 3]), P('w', [2, 2, 3, 3])], { pads: [1, 1, 1, 1] }) },
  { rule: 'Conv', name: 'unfold-conv in 2 channel slices (unfoldChunkBytes), 3x3 pads 1', f32: 'Conv', setup: () => restore(setFormulation({ convWeightGrad: 'unfold-conv', unfoldChunkBytes: 2 * 9 * 36 * 8 })), make: () => opCase('Conv', [I('x', [2, 4, 6, 6]), P('w', [3, 4, 3, 3]), P('b', [3])], { pads: [1, 1, 1, 1] }) },
  { rule: 'Conv', name: 'auto in 3 channel slices, stride 2, dilation (1, 2), asymmetric pads', f32: 'Conv', setup: () => restore(setFormulation({ convWeightGrad: 'auto', unfoldChunkBytes: 9 * 9 * 8 })), make: () => opCase('Conv', [I('x', [2, 3, 7, 7]), P('w', [2, 3, 3, 3])], { strides: [2, 2], dilations: [1, 2], pads: [1, 2, 0, 1] }) },
  { rule: 'Conv', name: 'unfold-gemm formulation, stride 2 pads 1', f32: 'Conv', setup: () => restore(setFormulation({ convWeightGrad: 'unfold-gemm' })), make: () => opCase('Conv', [I('x', [2, 3, 6, 6]), P('w', [4, 3, 3, 3]), P('b', [4])], { strides: [2, 2], pads: [1, 1, 1, 1] }) },
  { rule: 'Conv', name: 'conv-transpose input gradient, 3x3 pads 1', f32: 'Conv', setup: () => restore(setFormulation({ convInputGrad: 'conv-transpose' })), make: () => opCase('Conv', [I('x', [2, 3, 5, 5]), P('w', [4, 3, 3, 3]), P('b', [4])], { pads: [1, 1, 1, 1] }) },
  { rule: 'Conv', name: 'conv input gradient, asymmetric pads, 3x2 kernel', f32: 'Conv', setup: () => restore(setFormulation({ convInputGrad: 'conv' })), make: () => opCase('Conv', [I('x', [2, 2, 6, 7]), P('w', [3, 2, 3, 2])], { pads: [1, 0, 0, 1] }) },
  { rule: 'Conv', name: 'conv input gradient, groups 2 + dilation', f32: 'Conv', setup: () => restore(setFormulation({ convInputGrad: 'conv' })), make: () => opCase('Conv', [I('x', [2, 4, 7, 7]), P('w', [6, 2, 3, 3])], { group: 2, dilations: [2, 1], pads: [2, 1, 1, 0] }) },
  { rule: 'Conv', name: 'conv input gradient, pads larger than the kernel (ConvTranspose fallback)', f32: 'Conv', setup: () => restore(setFormulation({ convInputGrad: 'conv' })), make: () => opCase('Conv', [I('x', [1, 2, 4, 4]), P('w', [3, 2, 1, 1])], { pads: [1, 1, 1, 1] }) },
  { rule: 'Conv', name: 'conv-dilated input gradient, stride 2, asymmetric pads', f32: 'Conv', setup: () => restore(setFormulation({ convInputGrad: 'conv-dilated' })), make: () => opCase('Conv', [I('x', [2, 2, 6, 7]), P('w', [3, 2, 3, 2])], { strides: [2, 2], pads: [1, 0, 0, 1] }) },
  { rule: 'Conv', name: 'conv-dilated input gradient, groups 2, stride (2, 3)', f32: 'Conv', setup: () => restore(setFormulation({ convInputGrad: 'conv-dilated' })), make: () => opCase('Conv', [I('x', [2, 4, 7, 8]), P('w', [6, 2, 3, 3]), P('b', [6])], { group: 2, strides: [2, 3], pads: [1, 1, 1, 1] }) },
  { rule: 'Conv', name: 'conv-dilated input gradient, 1x1 stride 2', f32: 'Conv', setup: () => restore(setFormulation({ convInputGrad: 'conv-dilated' })), make: () => opCase('Conv', [I('x', [2, 3, 5, 5]), P('w', [4, 3, 1, 1])], { strides: [2, 2] }) },
  { rule: 'Conv', name: 'conv-dilated input gradient, 1-D stride 2 dilation 2', f32: 'Conv', setup: () => restore(setFormulation({ convInputGrad: 'conv-dilated' })), make: () => opCase('Conv', [I('x', [2, 3, 11]), P('w', [2, 3, 3])], { strides: [2], dilations: [2], pads: [1, 2] }) },
  { rule: 'Conv', name: 'conv-dilated input gradient, auto_pad SAME_UPPER stride 2', f32: 'Conv', setup: () => restore(setFormulation({ convInputGrad: 'conv-dilated' })), make: () => opCase('Conv', [I('x', [1, 2, 6, 6]), P('w', [2, 2, 3, 3])], { auto_pad: 'SAME_UPPER', strides: [2, 2] }) },
  // ---------------- pooling
  { rule: 'MaxPool', name: '2x2 stride 2', f32: 'MaxUnpool', make: () => opCase('MaxPool', [I('x', [2, 2, 4, 4], { gen: distinctGen(64) })], { kernel_shape: [2, 2], strides: [2, 2] }) },
  { rule: 'MaxPool', name: '2x2 stride 2, indices-scatter formulation', setup: () => restore(setFormulation({ maxPoolGrad: 'indices-scatter' })), make: () => opCase('MaxPool', [I('x', [2, 2, 4, 4], { gen: distinctGen(64) })], { kernel_shape: [2, 2], strides: [2, 2] }) },
  { rule: 'MaxPool', name: '2x3 windows on 5x7 (cropped edge), indices-unpool', f32: 'MaxUnpool', setup: () => restore(setFormulation({ maxPoolGrad: 'indices-unpool' })), make: () => opCase('MaxPool', [I('x', [2, 2, 5, 7], { gen: distinctGen(140) })], { kernel_shape: [2, 3], strides: [2, 3] }) },
  { rule: 'MaxPool', name: '3x3 stride 2 (overlapping), indices-unpool falls back to scatter', setup: () => restore(setFormulation({ maxPoolGrad: 'indices-unpool' })), make: () => opCase('MaxPool', [I('x', [1, 2, 7, 7], { gen: distinctGen(98) })], { kernel_shape: [3, 3], strides: [2, 2] }) },
  { rule: 'MaxPool', name: '2x3 windows on 5x7 (cropped edge), window-argmax', setup: () => restore(setFormulation({ maxPoolGrad: 'window-argmax' })), make: () => opCase('MaxPool', [I('x', [1, 2, 5, 7], { gen: distinctGen(70) })], { kernel_shape: [2, 3], strides: [2, 3] }) },
  { rule: 'MaxPool', name: '2x3 windows on 5x7 (cropped edge), window-compare', f32: 'Resize', setup: () => restore(setFormulation({ maxPoolGrad: 'window-compare' })), make: () => opCase('MaxPool', [I('x', [2, 2, 5, 7], { gen: distinctGen(140) })], { kernel_shape: [2, 3], strides: [2, 3] }) },
  { rule: 'MaxPool', name: '3x1 windows, window-compare', f32: 'Resize', setup: () => restore(setFormulation({ maxPoolGrad: 'window-compare' })), make: () => opCase('MaxPool', [I('x', [1, 2, 6, 4], { gen: distinctGen(48) })], { kernel_shape: [3, 1], strides: [3, 1] }) },
  { rule: 'MaxPool', name: '3x3 stride 2 pads 1 (overlapping)', make: () => opCase('MaxPool', [I('x', [1, 2, 5, 5], { gen: distinctGen(50) })], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }) },
  { rule: 'MaxPool', name: 'ceil_mode', make: () => opCase('MaxPool', [I('x', [1, 2, 5, 5], { gen: distinctGen(50) })], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }) },
  { rule: 'MaxPool', name: 'Relu -> MaxPool fusion', f32: 'MaxUnpool', make: () => reluMaxPool() },
  { rule: 'MaxPool', name: 'Relu -> MaxPool fusion, window-compare', f32: 'Resize', setup: () => restore(setFormulation({ maxPoolGrad: 'window-compare' })), make: () => reluMaxPool() },
  { rule: 'AveragePool', name: '2x2 stride 2', f32: 'AveragePool', make: () => opCase('AveragePool', [I('x', [2, 2, 4, 4])], { kernel_shape: [2, 2], strides: [2, 2] }) },
  { rule: 'AveragePool', name: '3x3 pads 1 count_include_pad=0', f32: 'AveragePool', make: () => opCase('AveragePool', [I('x', [1, 2, 5, 5])], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }) },
  { rule: 'AveragePool', name: '3x3 pads 1 count_include_pad=1', f32: 'AveragePool', make: () => opCase('AveragePool', [I('x', [1, 2, 5, 5])], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 }) },
  { rule: 'AveragePool', name: 'ceil_mode, count_include_pad=0', f32: 'AveragePool', make: () => opCase('AveragePool', [I('x', [1, 2, 6, 6])], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }) },
  { rule: 'AveragePool', name: 'ceil_mode + pads, count_include_pad=1', f32: 'AveragePool', make: () => opCase('AveragePool', [I('x', [1, 1, 6, 6])], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1, count_include_pad: 1 }) },
  { rule: 'GlobalAveragePool', name: 'global average', f32: 'GlobalAveragePool', make: () => opCase('GlobalAveragePool', [I('x', [2, 3, 3, 4])]) },
  // ---------------- softmax / reductions
  { rule: 'Softmax', name: 'axis -1 (3-D)', make: () => opCase('Softmax', [I('x', [2, 3, 4])]) },
  { rule: 'Softmax', name: 'axis 1 (3-D)', make: () => opCase('Softmax', [I('x', [2, 3, 4])], { axis: 1 }) },
  { rule: 'LogSoftmax', name: 'axis -1', make: () => opCase('LogSoftmax', [I('x', [3, 5])]) },
  { rule: 'LogSoftmax', name: 'axis 0', make: () => opCase('LogSoftmax', [I('x', [3, 5])], { axis: 0 }) },
  { rule: 'ReduceSum', name: 'axes input, keepdims 0', make: () => opCase('ReduceSum', [I('x', [2, 3, 4]), K64('ax', [0, 2])], { keepdims: 0 }) },
  { rule: 'ReduceSum', name: 'all axes, keepdims 1', make: () => opCase('ReduceSum', [I('x', [2, 3])]) },
  { rule: 'ReduceMean', name: 'axes attribute (opset 17), keepdims 0', make: () => opCase('ReduceMean', [I('x', [2, 3, 4])], { axes: [1], keepdims: 0 }) },
  { rule: 'ReduceMean', name: 'axes input (opset 18), negative axis', make: () => ({ ...opCase('ReduceMean', [I('x', [2, 3, 4]), K64('ax', [-1])]), opset: 18 }) },
  // ---------------- normalisation / dropout
  { rule: 'BatchNormalization', name: 'inference mode, all inputs', make: () => opCase('BatchNormalization', [I('x', [2, 3, 2, 2]), P('s', [3]), P('b', [3]), P('m', [3]), P('v', [3], { gen: pos })], { epsilon: f(1e-3) }) },
  { rule: 'LayerNormalization', name: 'last axis', make: () => opCase('LayerNormalization', [I('x', [2, 3, 5]), P('s', [5]), P('b', [5])], { epsilon: f(1e-5) }) },
  { rule: 'LayerNormalization', name: 'axis 1, no bias', make: () => opCase('LayerNormalization', [I('x', [2, 3, 4]), P('s', [3, 4])], { axis: 1 }) },
  { rule: 'Dropout', name: 'eval (identity)', make: () => opCase('Dropout', [I('x', [3, 4])]) },
  { rule: 'Mul', name: 'lowered Dropout (mask input, ratio 0.25)', make: () => loweredDropout() },
  { rule: 'BatchNormalization', name: 'training lowering (batch statistics)', make: () => loweredBatchNorm([3, 2, 3, 3]) },
  { rule: 'BatchNormalization', name: 'training lowering, rank 2 (BatchNorm1d)', make: () => loweredBatchNorm([5, 3]) },
  { rule: 'BatchNormalization', name: 'training lowering, scale and bias only (input frozen)', make: () => loweredBatchNorm([3, 2, 3, 3], ['s', 'bb']) },
  { rule: 'BatchNormalization', name: 'training lowering, input and bias only (scale frozen)', make: () => loweredBatchNorm([3, 2, 3, 3], ['x', 'bb']) },
  { rule: 'BatchNormalization', name: 'training lowering, generic backward', setup: () => restore(setFormulation({ batchNormGrad: 'generic' })), make: () => loweredBatchNorm([3, 2, 3, 3]) },
  // ---------------- data movement
  { rule: 'Flatten', name: 'axis 2', make: () => opCase('Flatten', [I('x', [2, 3, 2, 2])], { axis: 2 }) },
  { rule: 'Reshape', name: '0 and -1', make: () => opCase('Reshape', [I('x', [2, 3, 4]), K64('s', [0, -1, 2])]) },
  { rule: 'Transpose', name: 'perm', make: () => opCase('Transpose', [I('x', [2, 3, 4])], { perm: [2, 0, 1] }) },
  { rule: 'Squeeze', name: 'axes input', make: () => opCase('Squeeze', [I('x', [2, 1, 3, 1]), K64('a', [1, -1])]) },
  { rule: 'Unsqueeze', name: 'axes input', make: () => opCase('Unsqueeze', [I('x', [2, 3]), K64('a', [0, 3])]) },
  { rule: 'Concat', name: 'three inputs axis 1', make: () => opCase('Concat', [I('x', [2, 1, 3]), P('a', [2, 2, 3]), P('b', [2, 3, 3])], { axis: 1 }) },
  { rule: 'Split', name: 'split sizes input', make: () => opCase('Split', [I('x', [2, 5]), K64('s', [2, 3])], { axis: 1 }, 2) },
  { rule: 'Split', name: 'equal parts, one output unused', make: () => splitOneUsed() },
  { rule: 'Slice', name: 'steps 2, negative start', make: () => opCase('Slice', [I('x', [3, 7]), K64('st', [-6]), K64('en', [7]), K64('ax', [1]), K64('sp', [2])]) },
  { rule: 'Slice', name: 'two axes, step 3 and 1', make: () => opCase('Slice', [I('x', [4, 8, 3]), K64('st', [1, 0]), K64('en', [8, 3]), K64('ax', [1, 0]), K64('sp', [3, 1])]) },
  { rule: 'Slice', name: 'negative step', make: () => opCase('Slice', [I('x', [2, 7]), K64('st', [5]), K64('en', [0]), K64('ax', [1]), K64('sp', [-2])]) },
  { rule: 'Slice', name: 'no axes/steps', make: () => opCase('Slice', [I('x', [5, 4]), K64('st', [1, 1]), K64('en', [4, 100])]) },
  { rule: 'Pad', name: 'constant, incl. negative pads', make: () => opCase('Pad', [I('x', [2, 3, 4]), K64('p', [0, 1, -1, 0, 2, 1])]) },
  { rule: 'Expand', name: 'broadcast to a larger shape', make: () => opCase('Expand', [I('x', [3, 1]), K64('s', [2, 3, 4])]) },
  { rule: 'Gather', name: 'embedding rows, repeated + negative indices', make: () => opCase('Gather', [P('emb', [5, 3]), { name: 'idx', dims: [2, 3], kind: 'const', dtype: 'int64', data: [1, 3, 1, -1, 1, 0] }]) },
  { rule: 'Gather', name: 'axis 1, scalar index', make: () => opCase('Gather', [I('x', [2, 4, 3]), { name: 'idx', dims: [], kind: 'const', dtype: 'int64', data: [2] }], { axis: 1 }) },
  { rule: 'Gather', name: 'opset 13 fallback (one-hot matmul)', make: () => ({ ...opCase('Gather', [P('emb', [4, 2]), K64('idx', [0, 2, 2, 3])]), opset: 13 }) },
];

function restore(prev: ReturnType<typeof setFormulation>) {
  return () => setFormulation(prev);
}

function geluDecomposition(): CheckCase {
  const b = new GraphBuilder();
  const r = prng(11);
  const x = 'x';
  b.input(x, 'float32', [3, 4]);
  const e = b.op('Erf', [b.op('Div', [x, b.constF(Math.SQRT2)])]);
  b.addNode('Mul', [b.op('Mul', [x, b.constF(0.5)]), b.op('Add', [e, b.constF(1)])], ['y']);
  b.output('y', 'float32', [3, 4]);
  return { graph: b.toGraph(), feeds: { x: makeTensor({ name: x, dims: [3, 4] }, r) }, wrt: [x] };
}

function reluMaxPool(): CheckCase {
  const b = new GraphBuilder();
  b.input('x', 'float32', [1, 2, 4, 4]);
  const h = b.op('Relu', ['x']);
  b.addNode('MaxPool', [h], ['y'], { kernel_shape: [2, 2], strides: [2, 2] });
  b.output('y', 'float32', null);
  const v = distinct(32);
  return { graph: b.toGraph(), feeds: { x: makeTensor({ name: 'x', dims: [1, 2, 4, 4], data: v }, prng(1)) }, wrt: ['x'] };
}

function splitOneUsed(): CheckCase {
  const b = new GraphBuilder();
  b.input('x', 'float32', [2, 6]);
  const [p] = b.opN('Split', ['x', b.constI64([3, 3])], 2, { axis: 1 });
  b.addNode('Mul', [p, p], ['y']);
  b.output('y', 'float32', null);
  return { graph: b.toGraph(), feeds: { x: makeTensor({ name: 'x', dims: [2, 6] }, prng(2)) }, wrt: ['x'] };
}

function loweredDropout(): CheckCase {
  const b = new GraphBuilder();
  b.input('x', 'float32', [3, 4]);
  b.addNode('Dropout', ['x', b.constF(0.25)], ['y']);
  b.output('y', 'float32', null);
  const low = lowerForTraining(b.toGraph(), { dropout: 'mask-inputs' });
  expect(low.dropoutMasks).toHaveLength(1);
  expect(low.dropoutMasks[0].ratio).toBe(0.25);
  const r = prng(5);
  const mask = makeTensor({ name: 'm', dims: [3, 4], gen: (rr) => (rr() < 0.75 ? 1 : 0) }, r);
  return { graph: low.graph, feeds: { x: makeTensor({ name: 'x', dims: [3, 4] }, r), [low.dropoutMasks[0].input]: mask }, wrt: ['x'] };
}

function loweredBatchNorm(dims: number[], wrt = ['x', 's', 'bb']): CheckCase {
  const C = dims[1];
  const b = new GraphBuilder();
  const r = prng(9);
  b.input('x', 'float32', dims);
  b.initializer('s', makeTensor({ name: 's', dims: [C] }, r));
  b.initializer('bb', makeTensor({ name: 'bb', dims: [C] }, r));
  b.initializer('rm', makeTensor({ name: 'rm', dims: [C] }, r));
  b.initializer('rv', makeTensor({ name: 'rv', dims: [C], gen: pos }, r));
  b.addNode('BatchNormalization', ['x', 's', 'bb', 'rm', 'rv'], ['y'], { epsilon: f(1e-5), momentum: f(0.9) });
  b.output('y', 'float32', null);
  const low = lowerForTraining(b.toGraph(), { dropout: 'identity' });
  return { graph: low.graph, feeds: { x: makeTensor({ name: 'x', dims }, r) }, wrt, outputs: ['y'] } as CheckCase;
}

const worst: Record<'float64' | 'float32', { err: number; label: string; n: number }> = {
  float64: { err: 0, label: '', n: 0 },
  float32: { err: 0, label: '', n: 0 },
};

describe('gradient check of every derivative rule', () => {
  it('every rule in GRAD_RULES has at least one numerical check case', () => {
    const covered = new Set(CASES.map((c) => c.rule));
    const missing = GRAD_RULES.map((r) => r.op).filter((op) => !covered.has(op));
    expect(missing).toEqual([]);
  });

  for (const c of CASES) {
    it(`${c.rule}: ${c.name} [${c.f32 ? 'float32' : 'float64'}]`, async () => {
      const undo = c.setup?.();
      try {
        const opts = c.make();
        const res = await gradCheck(opts as GradCheckOptions);
        const summary = `${res.precision} maxRel=${res.maxRelError.toExponential(2)} ${res.fallbackReason ?? ''}`;
        expect(res.precision, summary).toBe(c.f32 ? 'float32' : 'float64');
        if (c.f32) expect(res.fallbackReason).toMatch(new RegExp(`implementation for ${c.f32}\\(`));
        expect(res.tolerance).toBe(GRAD_CHECK_TOLERANCE[res.precision]);
        expect(res.ok, summary + JSON.stringify(res.tensors)).toBe(true);
        expect(res.tensors.length).toBe(opts.wrt.length);
        const w = worst[res.precision];
        w.n++;
        if (res.maxRelError >= w.err) Object.assign(w, { err: res.maxRelError, label: `${c.rule}: ${c.name}` });
      } finally {
        undo?.();
      }
    });
  }

  afterAll(() => {
    for (const [p, w] of Object.entries(worst)) {
      if (w.n) console.log(`grad-check ${p}: ${w.n} cases, worst relative error ${w.err.toExponential(2)} (${w.label}), tolerance ${GRAD_CHECK_TOLERANCE[p as 'float64']}`);
    }
  });
});

// A rule whose gradients are all scaled by (1 + delta): a deliberately wrong rule for the checker to catch.
function scaledRule(rule: GradRule, delta: number): GradRule {
  return {
    ...rule,
    backward: (ctx) =>
      rule.backward(ctx).map((g, i) => (g ? ctx.b.op('Mul', [g, ctx.scalar(1 + delta, ctx.node.inputs[i])]) : g)),
  };
}

describe('the float32 fallback is tight enough to catch a 1% error in a rule', () => {
  const MUTANTS = ['Conv: 3x3 pads 1 + bias', 'Conv: depthwise', 'AveragePool: 3x3 pads 1 count_include_pad=0', 'GlobalAveragePool: global average', 'Erf: erf', 'Softplus: softplus', 'MaxPool: 2x2 stride 2'];
  it.each(MUTANTS)('%s with every gradient scaled by 1.01 fails the check', async (label) => {
    const c = CASES.find((k) => `${k.rule}: ${k.name}` === label)!;
    expect(c.f32).toBeDefined();
    const rules = RULES_BY_OP as Map<string, GradRule>;
    const good = rules.get(c.rule)!;
    rules.set(c.rule, scaledRule(good, 0.01));
    const undo = c.setup?.();
    let res: GradCheckResult;
    try {
      res = await gradCheck(c.make() as GradCheckOptions);
    } finally {
      undo?.();
      rules.set(c.rule, good);
    }
    expect(res.precision).toBe('float32');
    expect(res.ok).toBe(false);
    // the measured error is the injected 1% (not noise): between 0.5% and 2%
    expect(res.maxRelError).toBeGreaterThan(5e-3);
    expect(res.maxRelError).toBeLessThan(2e-2);
  });
});
