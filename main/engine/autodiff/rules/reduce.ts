// Derivative rules for Softmax/LogSoftmax and ReduceSum/ReduceMean.

import { DTYPE_CODE, attrInt, getAttr } from '../../onnx/ir';
import { numelDims } from '../../onnx/shape-infer';
import type { GradContext, GradRule } from '../types';

/** Axes a Softmax-family node normalises over (opset >= 13: one axis; older: all axes from `axis` on). */
function softmaxAxes(c: GradContext): number[] {
  const rank = c.shape(c.node.inputs[0]).length;
  const legacy = c.opset < 13;
  let axis = attrInt(c.node, 'axis', legacy ? 1 : -1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) c.fail(`axis out of range for rank ${rank}`);
  return legacy ? Array.from({ length: rank - axis }, (_, i) => axis + i) : [axis];
}

/** Reduced axes of a Reduce* node (attribute before opset 18 for most ops, input from 13 for ReduceSum). */
export function reduceAxes(c: GradContext): number[] | 'none' {
  const rank = c.shape(c.node.inputs[0]).length;
  let axes = getAttr(c.node, 'axes', 'ints');
  if (!axes && c.node.inputs[1]) axes = c.ints(c.node.inputs[1], 'reduction axes');
  if (!axes || axes.length === 0) {
    if (attrInt(c.node, 'noop_with_empty_axes', 0)) return 'none';
    return Array.from({ length: rank }, (_, i) => i);
  }
  return axes.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
}

/** Broadcast a reduced gradient back to the input's shape. */
function expandBack(c: GradContext, g: string, axes: number[]): string {
  const keep = attrInt(c.node, 'keepdims', 1);
  const X = c.node.inputs[0];
  const gk = keep ? g : c.b.op('Unsqueeze', [g, c.i64(axes)]);
  return c.b.op('Expand', [gk, c.shapeOf(X)]);
}

export const reduceRules: GradRule[] = [
  {
    op: 'Softmax',
    backward: (c) => {
      const Y = c.node.outputs[0];
      const gy = c.gy[0]!;
      const gyY = c.b.op('Mul', [gy, Y]);
      const s = c.reduceSum(gyY, softmaxAxes(c), true);
      return [c.b.op('Sub', [gyY, c.b.op('Mul', [Y, s])])];
    },
  },
  {
    op: 'LogSoftmax',
    backward: (c) => {
      const Y = c.node.outputs[0];
      const gy = c.gy[0]!;
      const s = c.reduceSum(gy, softmaxAxes(c), true);
      return [c.b.op('Sub', [gy, c.b.op('Mul', [c.b.op('Exp', [Y]), s])])];
    },
  },
  {
    op: 'ReduceSum',
    differentiable: [0],
    backward: (c) => {
      const axes = reduceAxes(c);
      if (axes === 'none') return [c.gy[0]!];
      return [expandBack(c, c.gy[0]!, axes)];
    },
  },
  {
    op: 'ReduceMean',
    differentiable: [0],
    backward: (c) => {
      const axes = reduceAxes(c);
      if (axes === 'none') return [c.gy[0]!];
      const X = c.node.inputs[0];
      const sx = c.shape(X);
      const n = numelDims(axes.map((a) => sx[a]));
      let g: string;
      if (typeof n === 'number') g = c.b.op('Mul', [c.gy[0]!, c.scalar(1 / n, X)]);
      else {
        const to = DTYPE_CODE[c.dtype(X)];
        const ratio = c.b.op('Div', [c.b.op('Cast', [c.b.op('Size', [c.node.outputs[0]])], { to }), c.b.op('Cast', [c.b.op('Size', [X])], { to })]);
        g = c.b.op('Mul', [c.gy[0]!, ratio]);
      }
      return [expandBack(c, g, axes)];
    },
  },
];
