// Derivative rule for Conv (1-D, 2-D, 3-D; strides, pads/auto_pad, dilations, groups incl. depthwise).
//
// Input gradient (FORMULATION.convInputGrad): a Conv with flipped, channel-transposed weights for stride 1
// (faster in ORT CPU), else ConvTranspose with output_padding chosen so the result has the input's size.
// Weight gradient: unfold the (padded) input into one strided Slice per kernel offset and contract with
// the output gradient by Gemm/MatMul (FORMULATION.convWeightGrad picks per-offset products or one
// im2col product). Measured much faster in ORT CPU than "Conv on transposed tensors".

import { type DType, attrInt, attrInts, bytesPerElement } from '../../onnx/ir';
import { isStatic, resolvePads } from '../../onnx/shape-infer';
import { FORMULATION } from '../formulation';
import type { GradContext, GradRule } from '../types';

export interface ConvGeometry {
  r: number;
  kernel: number[];
  strides: number[];
  dilations: number[];
  pads: number[];
  group: number;
  inSpatial: number[];
  outSpatial: number[];
}

export function convGeometry(c: GradContext): ConvGeometry {
  const [X, W] = c.node.inputs;
  const sx = c.shape(X);
  const sw = c.shape(W);
  const r = sx.length - 2;
  if (!isStatic(sw)) c.fail(`the weight shape must be static (got [${sw.join(', ')}])`);
  const inSpatial = sx.slice(2);
  if (!isStatic(inSpatial)) c.fail(`backward needs static spatial input dims (got [${inSpatial.join(', ')}])`);
  const kernel = attrInts(c.node, 'kernel_shape', (sw as number[]).slice(2));
  const strides = attrInts(c.node, 'strides', new Array(r).fill(1));
  const dilations = attrInts(c.node, 'dilations', new Array(r).fill(1));
  const pads = resolvePads(c.node, inSpatial, kernel, strides, dilations);
  const group = attrInt(c.node, 'group', 1);
  const outSpatial = kernel.map((k, i) => Math.floor((inSpatial[i] + pads[i] + pads[i + r] - dilations[i] * (k - 1) - 1) / strides[i]) + 1);
  return { r, kernel, strides, dilations, pads, group, inSpatial: inSpatial as number[], outSpatial };
}

export const convRules: GradRule[] = [
  {
    op: 'Conv',
    backward: (c) => {
      const [X, W, B] = c.node.inputs;
      const gy = c.gy[0]!;
      const geo = convGeometry(c);
      const sw = c.shape(W) as number[];
      const out: (string | null)[] = [null, null, null];
      if (c.needs[0]) out[0] = convInputGrad(c, gy, W, geo);
      if (c.needs[1]) out[1] = convWeightGrad(c, gy, X, geo, sw);
      if (B && c.needs[2]) out[2] = c.reduceSum(gy, [0, ...geo.outSpatial.map((_, i) => i + 2)], false);
      return out;
    },
  },
];

function convInputGrad(c: GradContext, gy: string, W: string, g: ConvGeometry): string {
  const { r, kernel, strides, dilations, pads, group, inSpatial, outSpatial } = g;
  if (FORMULATION.convInputGrad !== 'conv-transpose') {
    const strided = strides.some((s) => s !== 1);
    if (!strided || FORMULATION.convInputGrad === 'conv-dilated') {
      const viaConv = convInputGradByConv(c, gy, W, g);
      if (viaConv) return viaConv;
    }
  }
  const outputPadding = kernel.map((k, i) => inSpatial[i] + pads[i] + pads[i + r] - (strides[i] * (outSpatial[i] - 1) + dilations[i] * (k - 1) + 1));
  return c.b.op('ConvTranspose', [gy, W], {
    kernel_shape: kernel,
    strides,
    dilations,
    pads,
    group,
    output_padding: outputPadding.some((p) => p !== 0) ? outputPadding : undefined,
  });
}

/**
 * Input gradient as an ordinary Conv: dx = Conv(gy', W') with W'[g*Cg + c, m] = W[g*Mg + m, c] flipped
 * in every spatial axis, stride 1, the forward dilations, and pads d*(k-1) - p on each side (the extra
 * rows a strided forward conv never reached are covered by the end pad). gy' is gy itself for stride 1,
 * else gy with (s-1) zeros inserted after every element (Reshape + Pad + Reshape). Null when a pad
 * would be negative (pads larger than the dilated kernel extent): the caller uses ConvTranspose.
 */
function convInputGradByConv(c: GradContext, gy: string, W: string, g: ConvGeometry): string | null {
  const b = c.b;
  const { kernel, strides, dilations, pads, group, inSpatial, outSpatial } = g;
  const sw = c.shape(W) as number[];
  const [M, Cg] = sw;
  const Mg = M / group;
  const KK = kernel.reduce((a, k) => a * k, 1);
  // zero-dilated gradient length per axis: O*s (the trailing s-1 zeros are absorbed by the end pad)
  const dil = outSpatial.map((o, i) => o * strides[i]);
  const padB = kernel.map((k, i) => dilations[i] * (k - 1) - pads[i]);
  const padE = kernel.map((k, i) => inSpatial[i] - dil[i] - padB[i] + dilations[i] * (k - 1));
  if ([...padB, ...padE].some((p) => p < 0)) return null;
  let gin = gy;
  if (strides.some((s) => s !== 1)) {
    // [N, M, O1, 1, O2, 1, ...] -> pad the unit axes to s -> [N, M, O1*s1, O2*s2, ...]
    const inter = outSpatial.flatMap((o) => [o, 1]);
    const x = b.op('Reshape', [gy, c.i64([-1, M, ...inter])]);
    const pad = [0, 0, ...outSpatial.flatMap(() => [0, 0]), 0, 0, ...strides.flatMap((s) => [0, s - 1])];
    gin = b.op('Reshape', [b.op('Pad', [x, c.i64(pad)], { mode: 'constant' }), c.i64([-1, M, ...dil])]);
  }
  // flipped, channel-transposed weights: [M*Cg, KK] x (anti-identity KK x KK) reverses the kernel offsets,
  // i.e. flips every spatial axis (exact: one product by 1 per output, the rest by 0; a small Gemm is far
  // faster than an element-wise Gather or negative-step Slice), then [g, Mg, Cg, KK] -> [g, Cg, Mg, KK]
  let w2 = b.op('Reshape', [W, c.i64([M * Cg, KK])]);
  if (KK > 1) {
    const anti = new Float64Array(KK * KK);
    for (let i = 0; i < KK; i++) anti[i * KK + (KK - 1 - i)] = 1;
    const dt = c.dtype(W);
    const P = b.initializer(b.fresh('kernel_flip'), { dtype: dt, dims: [KK, KK], data: dt === 'float64' ? anti : Float32Array.from(anti) });
    w2 = b.op('MatMul', [w2, P]);
  }
  const wf =
    group === 1
      ? b.op('Reshape', [b.op('Transpose', [b.op('Reshape', [w2, c.i64([M, Cg, KK])])], { perm: [1, 0, 2] }), c.i64([Cg, M, ...kernel])])
      : b.op('Reshape', [b.op('Transpose', [b.op('Reshape', [w2, c.i64([group, Mg, Cg, KK])])], { perm: [0, 2, 1, 3] }), c.i64([group * Cg, Mg, ...kernel])]);
  return b.op('Conv', [gin, wf], {
    kernel_shape: kernel,
    dilations,
    pads: [...padB, ...padE],
    group,
  });
}

function convWeightGrad(c: GradContext, gy: string, X: string, g: ConvGeometry, sw: number[]): string {
  const b = c.b;
  const { r, kernel, strides, dilations, pads, group, outSpatial } = g;
  const [M, Cg] = sw;
  const C = Cg * group;
  const Mg = M / group;
  const spatialAxes = kernel.map((_, i) => i + 2);
  const perm01 = [1, 0, ...spatialAxes];

  const f = FORMULATION.convWeightGrad;
  if (f === 'shift-gemm') {
    const shifted = shiftGemmWeightGrad(c, gy, X, g, sw);
    if (shifted) return shifted;
  }
  if (f === 'unfold-tall') {
    const tall = tallUnfoldWeightGrad(c, gy, X, g, sw);
    if (tall) return tall;
  }
  // the unfold formulations and the fallbacks of the two above ('shift-gemm' to one Gemm, 'unfold-tall' to batched)
  if (f !== 'per-offset' && f !== 'im2col') return unfoldConvWeightGrad(c, gy, X, g, sw, f === 'auto' ? autoUnfoldGemm(g, sw) : f === 'unfold-gemm' || f === 'shift-gemm');

  // padded input with channels first: [C, N, *Sp]
  let xp = X;
  if (pads.some((p) => p !== 0)) {
    xp = b.op('Pad', [X, c.i64([0, 0, ...pads.slice(0, r), 0, 0, ...pads.slice(r)])], { mode: 'constant' });
  }
  const xt = b.op('Transpose', [xp], { perm: perm01 });
  // output gradient as [M, N*O] (groups: [g, Mg, N*O])
  const gyt = b.op('Transpose', [gy], { perm: perm01 });

  const offsets: number[][] = [];
  const rec = (prefix: number[]) => {
    if (prefix.length === r) offsets.push(prefix);
    else for (let k = 0; k < kernel[prefix.length]; k++) rec([...prefix, k]);
  };
  rec([]);
  const KK = offsets.length;
  const paddedSpatial = g.inSpatial.map((d, i) => d + pads[i] + pads[i + r]);
  const sliceAt = (off: number[]): string => {
    const starts = off.map((k, i) => k * dilations[i]);
    const ends = starts.map((s0, i) => s0 + strides[i] * (outSpatial[i] - 1) + 1);
    const whole = starts.every((s0, i) => s0 === 0 && ends[i] === paddedSpatial[i] && strides[i] === 1);
    const sl = whole ? xt : b.op('Slice', [xt, c.i64(starts), c.i64(ends), c.i64(spatialAxes), c.i64(strides)]);
    return group === 1 ? b.op('Reshape', [sl, c.i64([C, -1])]) : b.op('Reshape', [sl, c.i64([group, Cg, -1])]);
  };

  if (group === 1) {
    const g2 = b.op('Reshape', [gyt, c.i64([M, -1])]);
    if (FORMULATION.convWeightGrad === 'im2col' && KK > 1) {
      const cols = b.op('Concat', offsets.map(sliceAt), { axis: 0 }); // [KK*C, N*O]
      const dw = b.op('Gemm', [g2, cols], { transB: 1 }); // [M, KK*C]
      const t = b.op('Transpose', [b.op('Reshape', [dw, c.i64([M, KK, C])])], { perm: [0, 2, 1] });
      return b.op('Reshape', [t, c.i64(sw)]);
    }
    const parts = offsets.map((off) => b.op('Gemm', [g2, sliceAt(off)], { transB: 1 })); // [M, C] each
    if (KK === 1) return b.op('Reshape', [parts[0], c.i64(sw)]);
    const stacked = b.op('Concat', parts.map((p) => b.op('Reshape', [p, c.i64([M, C, 1])])), { axis: 2 }); // [M, C, KK]
    return b.op('Reshape', [stacked, c.i64(sw)]);
  }

  // grouped / depthwise: batched MatMul over groups; gy transposed once to [g, N*O, Mg]
  const g3t = b.op('Transpose', [b.op('Reshape', [gyt, c.i64([group, Mg, -1])])], { perm: [0, 2, 1] });
  if (FORMULATION.convWeightGrad === 'im2col' && KK > 1) {
    const cols = b.op('Concat', offsets.map(sliceAt), { axis: 1 }); // [g, KK*Cg, N*O]
    const dw = b.op('MatMul', [cols, g3t]); // [g, KK*Cg, Mg]
    const t = b.op('Transpose', [b.op('Reshape', [dw, c.i64([group, KK, Cg, Mg])])], { perm: [0, 3, 2, 1] }); // [g, Mg, Cg, KK]
    return b.op('Reshape', [t, c.i64(sw)]);
  }
  const parts = offsets.map((off) => b.op('MatMul', [sliceAt(off), g3t])); // [g, Cg, Mg]
  const stacked = KK === 1 ? parts[0] : b.op('Concat', parts.map((p) => b.op('Reshape', [p, c.i64([group, Cg, Mg, 1])])), { axis: 3 });
  const t = b.op('Transpose', [b.op('Reshape', [stacked, c.i64([group, Cg, Mg, KK])])], { perm: [0, 2, 1, 3] }); // [g, Mg, Cg, KK]
  return b.op('Reshape', [t, c.i64(sw)]);
}

/**
 * 'auto': per convolution, the unfold variant that moves less memory. The batched MatMul writes a
 * weight-sized partial gradient per example (N x C*KK x M, then summed), the single Gemm transposes the
 * column matrix (N x C*KK x O): one Gemm where the output channels outnumber the output positions
 * (ResNet-18's 8x8 and 4x4 stages: 600 MB of per-example partials for one 4x4 layer at batch 64).
 */
export function autoUnfoldGemm(g: ConvGeometry, sw: number[]): boolean {
  const O = g.outSpatial.reduce((a, o) => a * o, 1);
  return g.group === 1 && sw[0] > O;
}

/** Largest padded-grid / output-grid size ratio at which 'shift-gemm' is used (its Gemms run over the padded grid). */
export const SHIFT_GEMM_MAX_OVERHEAD = 1.35;

/**
 * Weight gradient of a 2-D, ungrouped, stride-1 convolution without a column matrix. With the padded
 * input flattened per channel over (batch, rows, columns) into xf[C, N*Hp*Wp], kernel offset (a, b) is a
 * shift by off = a*dh*Wp + b*dw of that flat index, and the output gradient placed on the same padded
 * grid (zeros right of and below each image's Ho x Wo block) as gf[M, N*Hp*Wp] gives
 *   dW[:, :, a, b] = gf[:, 0:T'] . xf[:, off:off+T']^T,   T' = N*Hp*Wp - maxOff,
 * one Gemm per offset on contiguous slices (a plain copy of rows, no gather). Positions past an image's
 * block carry gy = 0, so a window running into the next image adds nothing. Returns null where it does
 * not apply (strided, grouped, not 2-D, or the padded grid more than SHIFT_GEMM_MAX_OVERHEAD x the output's).
 */
function shiftGemmWeightGrad(c: GradContext, gy: string, X: string, g: ConvGeometry, sw: number[]): string | null {
  const b = c.b;
  const { r, kernel, strides, dilations, pads, group, inSpatial, outSpatial } = g;
  if (r !== 2 || group !== 1 || strides.some((s) => s !== 1)) return null;
  const [M, C] = sw;
  const [kh, kw] = kernel;
  const [H, W] = inSpatial;
  const [Ho, Wo] = outSpatial;
  const Hp = H + pads[0] + pads[2];
  const Wp = W + pads[1] + pads[3];
  if (Ho < 1 || Wo < 1 || (Hp * Wp) / (Ho * Wo) > SHIFT_GEMM_MAX_OVERHEAD) return null;
  // stride 1: Ho = Hp - (kh-1)*dh, Wo = Wp - (kw-1)*dw
  const maxOff = (kh - 1) * dilations[0] * Wp + (kw - 1) * dilations[1];
  let xt = b.op('Transpose', [X], { perm: [1, 0, 2, 3] }); // [C, N, H, W]
  if (pads.some((p) => p !== 0)) xt = b.op('Pad', [xt, c.i64([0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]])], { mode: 'constant' }); // [C, N, Hp, Wp]
  const xf = b.op('Reshape', [xt, c.i64([C, -1])]);
  let gt = b.op('Transpose', [gy], { perm: [1, 0, 2, 3] }); // [M, N, Ho, Wo]
  if (Hp > Ho || Wp > Wo) gt = b.op('Pad', [gt, c.i64([0, 0, 0, 0, 0, 0, Hp - Ho, Wp - Wo])], { mode: 'constant' }); // [M, N, Hp, Wp]
  let gf = b.op('Reshape', [gt, c.i64([M, -1])]);
  const BIG = 2 ** 62; // "to the end" (exact as an int64; every flat index is far below it)
  if (maxOff > 0) gf = b.op('Slice', [gf, c.i64([0]), c.i64([-maxOff]), c.i64([1])]);
  const parts: string[] = [];
  for (let a = 0; a < kh; a++) {
    for (let bb = 0; bb < kw; bb++) {
      const off = a * dilations[0] * Wp + bb * dilations[1];
      const end = off - maxOff;
      const xs = maxOff === 0 ? xf : b.op('Slice', [xf, c.i64([off]), c.i64([end === 0 ? BIG : end]), c.i64([1])]);
      parts.push(b.op('Gemm', [gf, xs], { transB: 1 })); // [M, C]
    }
  }
  if (parts.length === 1) return b.op('Reshape', [parts[0], c.i64(sw)]);
  const stacked = b.op('Concat', parts.map((p) => b.op('Unsqueeze', [p, c.i64([2])])), { axis: 2 }); // [M, C, KK]
  return b.op('Reshape', [stacked, c.i64(sw)]);
}

/**
 * Weight gradient of a 2-D, ungrouped convolution as ONE Gemm over a column matrix laid out for it:
 *   dW[m, c*KK + k] = sum over (n, i, j) of gy[n, m, i, j] * xpad[n, c, i*sh + kh_k*dh, j*sw + kw_k*dw].
 * The batch is stacked along the rows into one tall image per channel (x as [C, 1, N*Hp, W], each image
 * padded on top and bottom to Hp rows, Hp a multiple of the row stride), so a Conv with KK one-hot
 * kernels writes the columns as [C, KK, N*R, Wo] (R = Hp / sh rows per image) = a [C*KK, positions]
 * matrix with no transpose of the (KK times larger) columns. Rows i >= Ho of each image straddle two
 * images; the output gradient, moved to [M, N, R, Wo], is zero there, so they add nothing.
 * Returns null where the layout does not apply (grouped, not 2-D, Hp not a multiple of the stride).
 */
function tallUnfoldWeightGrad(c: GradContext, gy: string, X: string, g: ConvGeometry, sw: number[]): string | null {
  const b = c.b;
  const { r, kernel, strides, dilations, pads, group, inSpatial, outSpatial } = g;
  if (r !== 2 || group !== 1) return null;
  const [M, C] = sw;
  const [kh] = kernel;
  const KK = kernel[0] * kernel[1];
  const [sh] = strides;
  const [H, W] = inSpatial;
  const [Ho] = outSpatial;
  const Hp = H + pads[0] + pads[2];
  if (Hp % sh !== 0) return null;
  const R = Hp / sh;
  const ekh = (kh - 1) * dilations[0] + 1;
  // extra zero rows under the last image so the Conv writes exactly N*R rows
  const extra = Math.max(0, ekh - sh);
  const kname = oneHotUnfoldKernel(c, 1, kernel, c.dtype(X));
  let xt = b.op('Transpose', [X], { perm: [1, 0, 2, 3] }); // [C, N, H, W]
  if (pads[0] || pads[2]) xt = b.op('Pad', [xt, c.i64([0, 0, pads[0], 0, 0, 0, pads[2], 0])], { mode: 'constant' }); // [C, N, Hp, W]
  const tall = b.op('Reshape', [xt, c.i64([C, 1, -1, W])]); // [C, 1, N*Hp, W]
  const cols = b.op('Conv', [tall, kname], { kernel_shape: kernel, strides, dilations, pads: [0, pads[1], extra, pads[3]], group: 1 }); // [C, KK, N*R, Wo]
  let gyt = b.op('Transpose', [gy], { perm: [1, 0, 2, 3] }); // [M, N, Ho, Wo]
  if (R > Ho) gyt = b.op('Pad', [gyt, c.i64([0, 0, 0, 0, 0, 0, R - Ho, 0])], { mode: 'constant' }); // [M, N, R, Wo]
  const dw = b.op('Gemm', [b.op('Reshape', [gyt, c.i64([M, -1])]), b.op('Reshape', [cols, c.i64([C * KK, -1])])], { transB: 1 }); // [M, C*KK]
  return b.op('Reshape', [dw, c.i64(sw)]);
}

/**
 * Weight gradient with the unfold done by one depthwise Conv whose kernels are one-hot (one output
 * channel per input channel and kernel offset): cols[n, c*KK + k, o] = xpad[n, c, o*s + k*d].
 * Then dW[g] = sum_n cols[n, g] . gy[n, g]^T with a batched MatMul and a ReduceSum over the batch, or,
 * with `oneGemm` (ungrouped only), one Gemm contracting over batch and positions together.
 */
function unfoldConvWeightGrad(c: GradContext, gy: string, X: string, g: ConvGeometry, sw: number[], oneGemm: boolean): string {
  const b = c.b;
  const { kernel, strides, dilations, pads, group, outSpatial } = g;
  const [M, Cg] = sw;
  const C = Cg * group;
  const Mg = M / group;
  const KK = kernel.reduce((a, k) => a * k, 1);
  const dt = c.dtype(X);
  if (!oneGemm && group === 1) {
    const slices = unfoldChannelSlices(C, KK * outSpatial.reduce((a, o) => a * o, 1) * bytesPerElement(dt), FORMULATION.unfoldChunkBytes);
    if (slices > 1) return chunkedUnfoldWeightGrad(c, gy, X, g, sw, slices);
  }
  const kname = oneHotUnfoldKernel(c, C, kernel, dt);
  const O = outSpatial.reduce((a, o) => a * o, 1);
  const cols = b.op('Conv', [X, kname], { kernel_shape: kernel, strides, dilations, pads, group: C }); // [N, C*KK, *O]
  if (oneGemm && group === 1) {
    // one GEMM contracting over batch and positions together: dW = gy[M, N*O] . cols[C*KK, N*O]^T
    const colsT = b.op('Transpose', [b.op('Reshape', [cols, c.i64([0, C * KK, O])])], { perm: [1, 0, 2] }); // [C*KK, N, O]
    const gyT2 = b.op('Transpose', [b.op('Reshape', [gy, c.i64([0, M, O])])], { perm: [1, 0, 2] }); // [M, N, O]
    const dw = b.op('Gemm', [b.op('Reshape', [gyT2, c.i64([M, -1])]), b.op('Reshape', [colsT, c.i64([C * KK, -1])])], { transB: 1 }); // [M, C*KK]
    return b.op('Reshape', [dw, c.i64(sw)]);
  }
  const cols4 = b.op('Reshape', [cols, c.i64([-1, group, Cg * KK, O])]);
  const gyT = b.op('Transpose', [b.op('Reshape', [gy, c.i64([-1, group, Mg, O])])], { perm: [0, 1, 3, 2] }); // [N, g, O, Mg]
  const per = b.op('MatMul', [cols4, gyT]); // [N, g, Cg*KK, Mg]
  const dw = c.reduceSum(per, [0], false); // [g, Cg*KK, Mg]
  const t = b.op('Transpose', [dw], { perm: [0, 2, 1] }); // [g, Mg, Cg*KK]
  return b.op('Reshape', [t, c.i64(sw)]);
}

/**
 * Into how many equal slices of input channels the batched unfold of an ungrouped convolution is cut:
 * the fewest (a divisor of C) whose column matrix holds at most `maxBytes` per example; 1 when off
 * (maxBytes 0) or when no divisor gets there (then the whole matrix, as before).
 */
export function unfoldChannelSlices(C: number, bytesPerChannel: number, maxBytes: number): number {
  if (!(maxBytes > 0) || C * bytesPerChannel <= maxBytes) return 1;
  for (let d = 2; d <= C; d++) if (C % d === 0 && (C / d) * bytesPerChannel <= maxBytes) return d;
  return 1;
}

/**
 * 'unfold-conv' for an ungrouped convolution, one slice of Cs = C / slices input channels at a time:
 * cols_s[n, c*KK + k, o] = xpad_s[n, c, o*s + k*d] (the one-hot Conv on the slice's channels),
 * dW[:, slice s] = sum_n gy[n] . cols_s[n]^T, the slices' results concatenated. The same per-entry sums
 * as the whole column matrix, with 1/slices of its memory live at a time.
 */
function chunkedUnfoldWeightGrad(c: GradContext, gy: string, X: string, g: ConvGeometry, sw: number[], slices: number): string {
  const b = c.b;
  const { kernel, strides, dilations, pads, outSpatial } = g;
  const [M, C] = sw;
  const Cs = C / slices;
  const KK = kernel.reduce((a, k) => a * k, 1);
  const O = outSpatial.reduce((a, o) => a * o, 1);
  const kname = oneHotUnfoldKernel(c, Cs, kernel, c.dtype(X));
  const gyT = b.op('Transpose', [b.op('Reshape', [gy, c.i64([0, M, O])])], { perm: [0, 2, 1] }); // [N, O, M]
  const parts: string[] = [];
  for (let s = 0; s < slices; s++) {
    const xs = b.op('Slice', [X, c.i64([s * Cs]), c.i64([(s + 1) * Cs]), c.i64([1])]);
    const cols = b.op('Conv', [xs, kname], { kernel_shape: kernel, strides, dilations, pads, group: Cs }); // [N, Cs*KK, *O]
    const per = b.op('MatMul', [b.op('Reshape', [cols, c.i64([0, Cs * KK, O])]), gyT]); // [N, Cs*KK, M]
    parts.push(c.reduceSum(per, [0], false)); // [Cs*KK, M]
  }
  const dw = b.op('Concat', parts, { axis: 0 }); // [C*KK, M]
  return b.op('Reshape', [b.op('Transpose', [dw], { perm: [1, 0] }), c.i64(sw)]);
}

/**
 * The one-hot kernels of the unfold Conv (group = channels): output channel c*KK + k copies input
 * channel c at kernel offset k, so the Conv writes cols[n, c*KK + k, o] = xpad[n, c, o*s + k*d].
 */
function oneHotUnfoldKernel(c: GradContext, channels: number, kernel: number[], dt: DType): string {
  const KK = kernel.reduce((a, k) => a * k, 1);
  const onehot = new Float64Array(channels * KK * KK);
  for (let ch = 0; ch < channels; ch++) for (let k = 0; k < KK; k++) onehot[(ch * KK + k) * KK + k] = 1;
  return c.b.initializer(c.b.fresh('unfold_kernel'), { dtype: dt, dims: [channels * KK, 1, ...kernel], data: dt === 'float64' ? onehot : Float32Array.from(onehot) });
}
