// Derivative rules for Gemm and MatMul (batched, broadcasting, 1-D operands).

import { attrFloat, attrInt } from '../../onnx/ir';
import { f } from '../../onnx/builder';
import type { GradContext, GradRule } from '../types';

/** [-1, last] as a 1-D int64 tensor (constant when the last dim is static) */
function lastDimShape(c: GradContext, x: string, last: unknown): string {
  if (typeof last === 'number') return c.i64([-1, last]);
  const tail = c.b.op('Slice', [c.b.op('Shape', [x]), c.i64([-1]), c.i64([2 ** 31])]);
  return c.b.op('Concat', [c.i64([-1]), tail], { axis: 0 });
}

function swapLast(c: GradContext, x: string, rank: number): string {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 1] = rank - 2;
  perm[rank - 2] = rank - 1;
  return c.b.op('Transpose', [x], { perm });
}

export const matmulRules: GradRule[] = [
  {
    op: 'Gemm',
    backward: (c) => {
      const [A, B, C] = c.node.inputs;
      const gy = c.gy[0]!;
      const alpha = attrFloat(c.node, 'alpha', 1);
      const beta = attrFloat(c.node, 'beta', 1);
      const tA = attrInt(c.node, 'transA', 0);
      const tB = attrInt(c.node, 'transB', 0);
      const out: (string | null)[] = [null, null, null];
      const al = alpha === 1 ? {} : { alpha: f(alpha) };
      if (c.needs[0]) {
        // dA' = alpha gy B'^T
        out[0] = tA
          ? c.b.op('Gemm', [B, gy], { ...al, transA: tB ? 1 : 0, transB: 1 })
          : c.b.op('Gemm', [gy, B], { ...al, transB: tB ? 0 : 1 });
      }
      if (c.needs[1]) {
        // dB' = alpha A'^T gy
        out[1] = tB
          ? c.b.op('Gemm', [gy, A], { ...al, transA: 1, transB: tA ? 1 : 0 })
          : c.b.op('Gemm', [A, gy], { ...al, transA: tA ? 0 : 1 });
      }
      if (C && c.needs[2]) {
        const gc = beta === 1 ? gy : c.b.op('Mul', [gy, c.scalar(beta, gy)]);
        out[2] = c.unbroadcast(gc, C, c.node.outputs[0]);
      }
      return out;
    },
  },
  {
    op: 'MatMul',
    backward: (c) => {
      const [A, B] = c.node.inputs;
      const Y = c.node.outputs[0];
      const b = c.b;
      const sa = c.shape(A);
      const sb = c.shape(B);
      let gy = c.gy[0]!;
      if (sa.length === 1 && sb.length === 1) {
        // dot product: gy is a scalar
        return [c.needs[0] ? b.op('Mul', [gy, B]) : null, c.needs[1] ? b.op('Mul', [gy, A]) : null];
      }
      // promote 1-D operands to matrices; gy gets the corresponding unit dims back
      let a2 = A;
      let b2 = B;
      if (sa.length === 1) {
        a2 = b.op('Unsqueeze', [A, c.i64([0])]);
        gy = b.op('Unsqueeze', [gy, c.i64([-2])]);
      }
      if (sb.length === 1) {
        b2 = b.op('Unsqueeze', [B, c.i64([1])]);
        gy = b.op('Unsqueeze', [gy, c.i64([-1])]);
      }
      const ra = Math.max(sa.length, 2);
      const rb = Math.max(sb.length, 2);
      const ry = Math.max(ra, rb);
      const out: (string | null)[] = [null, null];
      if (c.needs[0]) {
        let ga: string;
        if (rb === 2) ga = b.op('MatMul', [gy, b.op('Transpose', [b2], { perm: [1, 0] })]);
        else ga = b.op('MatMul', [gy, swapLast(c, b2, rb)]);
        out[0] = finish(c, ga, A, sa.length, ry, ra);
      }
      if (c.needs[1]) {
        let gb: string;
        if (rb === 2 && ra >= 2) {
          // weight of a batched/linear layer: fold all batch dims into one Gemm
          const a2d = ra === 2 ? a2 : b.op('Reshape', [a2, lastDimShape(c, a2, sa[sa.length - 1])]);
          const gy2d = ry === 2 ? gy : b.op('Reshape', [gy, lastDimShape(c, gy, sb.length === 1 ? 1 : sb[sb.length - 1])]);
          gb = b.op('Gemm', [a2d, gy2d], { transA: 1 });
          if (sb.length === 1) gb = b.op('Reshape', [gb, c.shapeOf(B)]);
          out[1] = gb;
        } else {
          gb = b.op('MatMul', [swapLast(c, a2, ra), gy]);
          out[1] = finish(c, gb, B, sb.length, ry, rb);
        }
      }
      return out;

      // reduce broadcast batch dims, then restore the operand's own shape
      function finish(ctx: GradContext, g: string, x: string, origRank: number, rOut: number, rX: number): string {
        const lead = rOut - rX;
        const sx = ctx.shape(x);
        const sg = ctx.shape(Y);
        const axes: number[] = [];
        for (let i = 0; i < lead; i++) axes.push(i);
        // batch dims of x that are 1 while the result's are not
        const xb = origRank >= 2 ? sx.slice(0, -2) : [];
        const yb = sg.slice(0, sg.length - (sa.length > 1 ? 1 : 0) - (sb.length > 1 ? 1 : 0));
        const yLead = yb.length - xb.length;
        xb.forEach((d, i) => {
          if (d === 1 && yb[i + yLead] !== 1) axes.push(lead + i);
        });
        let r = g;
        if (axes.length) r = ctx.reduceSum(g, axes, true);
        if (axes.length || origRank === 1) r = ctx.b.op('Reshape', [r, ctx.shapeOf(x)]);
        return r;
      }
    },
  },
];
