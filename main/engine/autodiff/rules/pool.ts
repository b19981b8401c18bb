// Derivative rules for MaxPool, AveragePool and GlobalAveragePool.

import { DTYPE_CODE, attrInt, attrInts, numel } from '../../onnx/ir';
import { isStatic, resolvePads } from '../../onnx/shape-infer';
import { FORMULATION } from '../formulation';
import type { GradContext, GradRule } from '../types';
import { maskMul } from './elementwise';

function poolGeometry(c: GradContext) {
  const X = c.node.inputs[0];
  const sx = c.shape(X);
  const r = sx.length - 2;
  const inSpatial = sx.slice(2);
  if (!isStatic(inSpatial)) c.fail(`backward needs static spatial input dims (got [${inSpatial.join(', ')}])`);
  const kernel = attrInts(c.node, 'kernel_shape', []);
  if (kernel.length !== r) c.fail(`kernel_shape must have ${r} entries`);
  const strides = attrInts(c.node, 'strides', new Array(r).fill(1));
  const dilations = attrInts(c.node, 'dilations', new Array(r).fill(1));
  const pads = resolvePads(c.node, inSpatial, kernel, strides, dilations);
  const ceil = attrInt(c.node, 'ceil_mode', 0) === 1;
  const outSpatial = kernel.map((k, i) => {
    const v = (inSpatial[i] + pads[i] + pads[i + r] - dilations[i] * (k - 1) - 1) / strides[i];
    let o = (ceil ? Math.ceil(v) : Math.floor(v)) + 1;
    // PyTorch/ONNX: the last window must start inside the input or the left padding
    if (ceil && (o - 1) * strides[i] >= inSpatial[i] + pads[i]) o--;
    return o;
  });
  return { r, inSpatial: inSpatial as number[], kernel, strides, dilations, pads, ceil, outSpatial };
}

export const poolRules: GradRule[] = [
  {
    // Exact with ties: the gradient goes to the element MaxPool's Indices output points at (flat NCHW
    // indices), scattered with reduction='add' (overlapping windows may pick the same element).
    op: 'MaxPool',
    differentiable: [0],
    backward: (c) => {
      const X = c.node.inputs[0];
      const b = c.b;
      const idx = c.forwardOutput(1, 'maxpool_indices');
      let g = c.gy[0]!;
      let target = X;
      const prod = c.producer(X);
      if (FORMULATION.fuseReluMaxPool && prod && prod.op === 'Relu' && c.readers(X) === 1) {
        // maxpool(relu(z)): relu's mask at the selected element is [pooled > 0]; apply it on the small tensor
        const Y = c.node.outputs[0];
        g = maskMul(c, g, b.op('Greater', [Y, c.scalar(0, Y)]));
        target = prod.inputs[0];
      }
      const sx = c.shape(X);
      const flatLen = isStatic(sx) ? c.i64([numel(sx)]) : b.op('Reshape', [b.op('Size', [X]), c.i64([1])]);
      const zeros = b.op('ConstantOfShape', [flatLen], { value: { type: 'tensor', value: zeroOf(c.dtype(X)) } });
      const flat = b.op('ScatterElements', [zeros, b.op('Reshape', [idx, c.i64([-1])]), b.op('Reshape', [g, c.i64([-1])])], {
        axis: 0,
        reduction: 'add',
      });
      const dx = b.op('Reshape', [flat, c.shapeOf(X)]);
      if (target !== X) {
        c.addGrad(target, dx);
        return [null];
      }
      return [dx];
    },
  },
  {
    op: 'AveragePool',
    backward: (c) => {
      const b = c.b;
      const X = c.node.inputs[0];
      const geo = poolGeometry(c);
      const { r, inSpatial, kernel, strides, dilations, pads, outSpatial } = geo;
      const includePad = attrInt(c.node, 'count_include_pad', 0) === 1;
      // divisor of each output element, as ORT / PyTorch compute it
      const inv = new Float64Array(numel(outSpatial));
      const idx = new Array(r).fill(0);
      for (let o = 0; o < inv.length; o++) {
        let cnt = 1;
        for (let i = 0; i < r; i++) {
          const start = idx[i] * strides[i] - pads[i];
          const endPad = Math.min(start + dilations[i] * (kernel[i] - 1) + 1, inSpatial[i] + pads[i + r]);
          const s0 = Math.max(start, 0);
          const e0 = Math.min(endPad, inSpatial[i]);
          const valid = Math.max(0, Math.ceil((e0 - s0) / dilations[i]));
          const padded = Math.ceil((endPad - start) / dilations[i]);
          cnt *= includePad ? padded : valid;
        }
        inv[o] = cnt > 0 ? 1 / cnt : 0;
        for (let i = r - 1; i >= 0; i--) {
          if (++idx[i] < outSpatial[i]) break;
          idx[i] = 0;
        }
      }
      const dt = c.dtype(X);
      const invName = b.initializer(b.fresh('avgpool_inv'), {
        dtype: dt,
        dims: outSpatial,
        data: dt === 'float64' ? inv : Float32Array.from(inv),
      });
      const gs = b.op('Mul', [c.gy[0]!, invName]);
      // spread each output's share over its window: ConvTranspose with a ones kernel, one channel at a time
      const g1 = b.op('Reshape', [gs, c.i64([-1, 1, ...outSpatial])]);
      const ones = b.constFill(dt, [1, 1, ...kernel], 1);
      const full = kernel.map((k, i) => strides[i] * (outSpatial[i] - 1) + dilations[i] * (k - 1) + 1);
      let spread = b.op('ConvTranspose', [g1, ones], { kernel_shape: kernel, strides, dilations });
      // `spread` covers padded coordinates [0, full); keep [pads_begin, pads_begin + in)
      const cropEnd = full.map((f, i) => f - (pads[i] + inSpatial[i]));
      if (pads.slice(0, r).some((p) => p !== 0) || cropEnd.some((e) => e !== 0)) {
        const pp = [0, 0, ...pads.slice(0, r).map((p) => -p), 0, 0, ...cropEnd.map((e) => -e)];
        spread = b.op('Pad', [spread, c.i64(pp)], { mode: 'constant' });
      }
      return [b.op('Reshape', [spread, c.shapeOf(X)])];
    },
  },
  {
    op: 'GlobalAveragePool',
    backward: (c) => {
      const b = c.b;
      const X = c.node.inputs[0];
      const sx = c.shape(X);
      const sp = sx.slice(2);
      let scale: string;
      if (isStatic(sp)) scale = c.scalar(1 / numel(sp), X);
      else {
        // 1/(H*W) from the element counts, computed in float
        const to = DTYPE_CODE[c.dtype(X)];
        scale = b.op('Div', [b.op('Cast', [b.op('Size', [c.node.outputs[0]])], { to }), b.op('Cast', [b.op('Size', [X])], { to })]);
      }
      return [b.op('Expand', [b.op('Mul', [c.gy[0]!, scale]), c.shapeOf(X)])];
    },
  },
];

function zeroOf(dtype: string) {
  return dtype === 'float64'
    ? { dtype: 'float64' as const, dims: [1], data: new Float64Array(1) }
    : { dtype: 'float32' as const, dims: [1], data: new Float32Array(1) };
}
