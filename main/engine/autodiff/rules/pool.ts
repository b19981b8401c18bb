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
    // Exact with ties: each window's gradient goes to ONE element, the first maximum in row-major window
    // order (as PyTorch and ORT's Indices pick it); an equality mask would double-count ties.
    // - 'indices-scatter': MaxPool's Indices output (flat NCHW) + ScatterElements(reduction='add'); general.
    // - 'window-argmax': non-overlapping 2-D windows only: ArgMax over each window, one-hot, multiply.
    // - 'window-compare': non-overlapping 2-D windows only: equality with the upsampled pooled output, first
    //   maximum picked by a second (fast, Indices-free) MaxPool over position weights.
    op: 'MaxPool',
    differentiable: [0],
    backward: (c) => {
      const X = c.node.inputs[0];
      const b = c.b;
      let g = c.gy[0]!;
      let target = X;
      const prod = c.producer(X);
      if (FORMULATION.fuseReluMaxPool && prod && prod.op === 'Relu' && c.readers(X) === 1) {
        // maxpool(relu(z)): relu's mask at the selected element is [pooled > 0]; apply it on the small tensor
        const Y = c.node.outputs[0];
        g = maskMul(c, g, b.op('Greater', [Y, c.scalar(0, Y)]));
        target = prod.inputs[0];
      }
      const win = FORMULATION.maxPoolGrad === 'indices-scatter' ? null : nonOverlapping(c);
      let dx: string;
      if (win && FORMULATION.maxPoolGrad === 'window-argmax') dx = windowArgmaxGrad(c, g, win);
      else if (win && FORMULATION.maxPoolGrad === 'window-compare') dx = windowCompareGrad(c, g, win);
      else if (win) dx = unpoolGrad(c, g);
      else dx = scatterGrad(c, g);
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

/** MaxPool backward through the Indices output and ScatterElements(add): exact for any geometry. */
function scatterGrad(c: GradContext, g: string): string {
  const b = c.b;
  const X = c.node.inputs[0];
  const idx = c.forwardOutput(1, 'maxpool_indices');
  const sx = c.shape(X);
  const flatLen = isStatic(sx) ? c.i64([numel(sx)]) : b.op('Reshape', [b.op('Size', [X]), c.i64([1])]);
  const zeros = b.op('ConstantOfShape', [flatLen], { value: { type: 'tensor', value: zeroOf(c.dtype(X)) } });
  const flat = b.op('ScatterElements', [zeros, b.op('Reshape', [idx, c.i64([-1])]), b.op('Reshape', [g, c.i64([-1])])], {
    axis: 0,
    reduction: 'add',
  });
  return b.op('Reshape', [flat, c.shapeOf(X)]);
}

/** Non-overlapping windows: every index is unique, so MaxUnpool (a plain scatter) is exact. */
function unpoolGrad(c: GradContext, g: string): string {
  const X = c.node.inputs[0];
  const idx = c.forwardOutput(1, 'maxpool_indices');
  const geo = poolGeometry(c);
  return c.b.op('MaxUnpool', [g, idx, c.shapeOf(X)], { kernel_shape: geo.kernel, strides: geo.strides });
}

interface Window {
  C: number;
  H: number;
  W: number;
  kh: number;
  kw: number;
  Ho: number;
  Wo: number;
}

/** 2-D windows that tile the input without overlap or padding (kernel == stride), else null. */
function nonOverlapping(c: GradContext): Window | null {
  const sx = c.shape(c.node.inputs[0]);
  if (sx.length !== 4 || !isStatic(sx.slice(1))) return null;
  const geo = poolGeometry(c);
  const { kernel: k, strides: s, dilations: d, pads: p } = geo;
  if (k[0] !== s[0] || k[1] !== s[1] || d.some((v) => v !== 1) || p.some((v) => v !== 0)) return null;
  const [, C, H, W] = sx as number[];
  const [Ho, Wo] = geo.outSpatial;
  if (Ho * k[0] > H || Wo * k[1] > W) return null; // ceil_mode windows hanging over the edge
  return { C, H, W, kh: k[0], kw: k[1], Ho, Wo };
}

/** Exact max-pool backward for non-overlapping windows: ArgMax (first maximum) per window, one-hot, multiply. */
function windowArgmaxGrad(c: GradContext, g: string, w: Window): string {
  const b = c.b;
  const X = c.node.inputs[0];
  const { C, H, W, kh, kw, Ho, Wo } = w;
  const kk = kh * kw;
  const cropped = Ho * kh !== H || Wo * kw !== W;
  const xc = cropped ? b.op('Slice', [X, c.i64([0, 0]), c.i64([Ho * kh, Wo * kw]), c.i64([2, 3])]) : X;
  // [N, C, Ho, kh, Wo, kw] -> [N, C, Ho, Wo, kh*kw]
  const x6 = b.op('Transpose', [b.op('Reshape', [xc, c.i64([-1, C, Ho, kh, Wo, kw])])], { perm: [0, 1, 2, 4, 3, 5] });
  const am = b.op('ArgMax', [b.op('Reshape', [x6, c.i64([-1, C, Ho, Wo, kk])])], { axis: 4, keepdims: 1 });
  const range = b.constI64(Array.from({ length: kk }, (_, i) => i));
  const onehot = b.op('Cast', [b.op('Equal', [am, range])], { to: DTYPE_CODE[c.dtype(X)] });
  const spread = b.op('Mul', [onehot, b.op('Unsqueeze', [g, c.i64([4])])]); // [N, C, Ho, Wo, kk]
  const back = b.op('Transpose', [b.op('Reshape', [spread, c.i64([-1, C, Ho, Wo, kh, kw])])], { perm: [0, 1, 2, 4, 3, 5] });
  let dx = b.op('Reshape', [back, c.i64([-1, C, Ho * kh, Wo * kw])]);
  if (cropped) dx = b.op('Pad', [dx, c.i64([0, 0, 0, 0, 0, 0, H - Ho * kh, W - Wo * kw])], { mode: 'constant' });
  return dx;
}

/**
 * Exact max-pool backward for non-overlapping windows without Indices (asking MaxPool for Indices
 * switches it to a slow generic kernel). With up(v) the nearest-neighbour upsampling of a pooled tensor
 * back to window size (Resize): e = (x == up(y)) marks every maximum; z = e * w with a constant
 * per-position weight w = kk - (position in row-major window order), so among tied maxima the first one
 * has the largest z; m = MaxPool(z) (fast kernel) is that weight, and the first maximum is the one element
 * with z == up(m) (m > 0 in every window without NaN). dx = up(g) there, 0 elsewhere. All values compared
 * are small integers or copies, so the selection is exact.
 */
function windowCompareGrad(c: GradContext, g: string, w: Window): string {
  const b = c.b;
  const X = c.node.inputs[0];
  const Y = c.node.outputs[0];
  const { H, W, kh, kw, Ho, Wo } = w;
  const dt = c.dtype(X);
  const Hc = Ho * kh;
  const Wc = Wo * kw;
  const cropped = Hc !== H || Wc !== W;
  const xc = cropped ? b.op('Slice', [X, c.i64([0, 0]), c.i64([Hc, Wc]), c.i64([2, 3])]) : X;
  const scales = b.initializer(b.fresh('pool_up_scales'), { dtype: 'float32', dims: [4], data: new Float32Array([1, 1, kh, kw]) });
  const up = (v: string) => b.op('Resize', [v, '', scales], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
  const kk = kh * kw;
  const wpos = new Float64Array(Hc * Wc);
  for (let i = 0; i < Hc; i++) for (let j = 0; j < Wc; j++) wpos[i * Wc + j] = kk - ((i % kh) * kw + (j % kw));
  const wname = b.initializer(b.fresh('pool_first_weight'), { dtype: dt, dims: [Hc, Wc], data: dt === 'float64' ? wpos : Float32Array.from(wpos) });
  const toF = DTYPE_CODE[dt];
  const z = b.op('Mul', [b.op('Cast', [b.op('Equal', [xc, up(Y)])], { to: toF }), wname]);
  const m = b.op('MaxPool', [z], { kernel_shape: [kh, kw], strides: [kh, kw] });
  let dx = b.op('Mul', [b.op('Cast', [b.op('Equal', [z, up(m)])], { to: toF }), up(g)]);
  if (cropped) dx = b.op('Pad', [dx, c.i64([0, 0, 0, 0, 0, 0, H - Hc, W - Wc])], { mode: 'constant' });
  return dx;
}
