// Derivative rules for elementwise ops (broadcasting handled by ctx.unbroadcast).

import { DTYPE_CODE, attrFloat, getAttr } from '../../onnx/ir';
import { FORMULATION } from '../formulation';
import { fusedBatchNormGrad } from './norm';
import type { GradContext, GradRule } from '../types';

const x0 = (c: GradContext) => c.node.inputs[0];
const y0 = (c: GradContext) => c.node.outputs[0];
const gy0 = (c: GradContext) => c.gy[0]!;

/** gy * Cast(cond) : a 0/1 mask in gy's dtype (faster than Where in ORT CPU) */
export function maskMul(c: GradContext, g: string, cond: string): string {
  const to = DTYPE_CODE[c.dtype(g)];
  return c.b.op('Mul', [g, c.b.op('Cast', [cond], { to })]);
}

/** grad of a unary op: gy * local, where local(c) builds the local derivative */
function unary(op: string, local: (c: GradContext) => string): GradRule {
  return { op, backward: (c) => [c.b.op('Mul', [gy0(c), local(c)])] };
}

export const elementwiseRules: GradRule[] = [
  { op: 'Identity', backward: (c) => [gy0(c)] },
  {
    op: 'Cast',
    backward: (c) => {
      const inT = c.dtype(x0(c));
      if (!['float32', 'float64', 'float16'].includes(inT)) return [null];
      return [c.dtype(gy0(c)) === inT ? gy0(c) : c.b.op('Cast', [gy0(c)], { to: DTYPE_CODE[inT] })];
    },
  },
  {
    op: 'Add',
    backward: (c) =>
      fusedBatchNormGrad(c) ?? [
        c.needs[0] ? c.unbroadcast(gy0(c), c.node.inputs[0], y0(c)) : null,
        c.needs[1] ? c.unbroadcast(gy0(c), c.node.inputs[1], y0(c)) : null,
      ],
  },
  {
    op: 'Sub',
    backward: (c) => [
      c.needs[0] ? c.unbroadcast(gy0(c), c.node.inputs[0], y0(c)) : null,
      c.needs[1] ? c.unbroadcast(c.b.op('Neg', [gy0(c)]), c.node.inputs[1], y0(c)) : null,
    ],
  },
  {
    op: 'Mul',
    backward: (c) => {
      const [a, bb] = c.node.inputs;
      return [
        c.needs[0] ? c.unbroadcast(c.b.op('Mul', [gy0(c), bb]), a, y0(c)) : null,
        c.needs[1] ? c.unbroadcast(c.b.op('Mul', [gy0(c), a]), bb, y0(c)) : null,
      ];
    },
  },
  {
    op: 'Div',
    backward: (c) => {
      const [a, bb] = c.node.inputs;
      const ga = c.b.op('Div', [gy0(c), bb]);
      return [
        c.needs[0] ? c.unbroadcast(ga, a, y0(c)) : null,
        // d(a/b)/db = -y/b
        c.needs[1] ? c.unbroadcast(c.b.op('Neg', [c.b.op('Mul', [ga, y0(c)])]), bb, y0(c)) : null,
      ];
    },
  },
  { op: 'Neg', backward: (c) => [c.b.op('Neg', [gy0(c)])] },
  {
    op: 'Pow',
    backward: (c) => {
      const [a, e] = c.node.inputs;
      const out: (string | null)[] = [null, null];
      if (c.needs[0]) {
        // e * a^(e-1)
        const em1 = c.b.op('Sub', [e, c.scalar(1, e)]);
        const d = c.b.op('Mul', [e, c.b.op('Pow', [a, em1])]);
        out[0] = c.unbroadcast(c.b.op('Mul', [gy0(c), c.dtype(e) === c.dtype(a) ? d : c.b.op('Cast', [d], { to: DTYPE_CODE[c.dtype(a)] })]), a, y0(c));
      }
      if (c.needs[1]) out[1] = c.unbroadcast(c.b.op('Mul', [gy0(c), c.b.op('Mul', [y0(c), c.b.op('Log', [a])])]), e, y0(c));
      return out;
    },
  },
  unary('Sqrt', (c) => c.b.op('Div', [c.scalar(0.5, y0(c)), y0(c)])),
  unary('Exp', (c) => y0(c)),
  { op: 'Log', backward: (c) => [c.b.op('Div', [gy0(c), x0(c)])] },
  { op: 'Reciprocal', backward: (c) => [c.b.op('Neg', [c.b.op('Mul', [gy0(c), c.b.op('Mul', [y0(c), y0(c)])])])] },
  unary('Abs', (c) => c.b.op('Sign', [x0(c)])),
  {
    op: 'Relu',
    backward: (c) => {
      const cond = c.b.op('Greater', [y0(c), c.scalar(0, y0(c))]);
      if (FORMULATION.reluGrad === 'where') return [c.b.op('Where', [cond, gy0(c), c.scalar(0, y0(c))])];
      return [maskMul(c, gy0(c), cond)];
    },
  },
  {
    op: 'LeakyRelu',
    backward: (c) => {
      const alpha = attrFloat(c.node, 'alpha', 0.01);
      const x = x0(c);
      const pos = c.b.op('Cast', [c.b.op('Greater', [x, c.scalar(0, x)])], { to: DTYPE_CODE[c.dtype(x)] });
      // slope = alpha + (1 - alpha) * [x > 0]
      const slope = c.b.op('Add', [c.b.op('Mul', [pos, c.scalar(1 - alpha, x)]), c.scalar(alpha, x)]);
      return [c.b.op('Mul', [gy0(c), slope])];
    },
  },
  unary('Sigmoid', (c) => c.b.op('Mul', [y0(c), c.b.op('Sub', [c.scalar(1, y0(c)), y0(c)])])),
  unary('Tanh', (c) => c.b.op('Sub', [c.scalar(1, y0(c)), c.b.op('Mul', [y0(c), y0(c)])])),
  unary('Erf', (c) => {
    const x = x0(c);
    return c.b.op('Mul', [c.scalar(2 / Math.sqrt(Math.PI), x), c.b.op('Exp', [c.b.op('Neg', [c.b.op('Mul', [x, x])])])]);
  }),
  unary('Softplus', (c) => c.b.op('Sigmoid', [x0(c)])),
  unary('Gelu', (c) => {
    const x = x0(c);
    const b = c.b;
    const approx = getAttr(c.node, 'approximate', 'string') ?? 'none';
    if (approx === 'tanh') {
      // y = 0.5 x (1 + tanh(u)), u = k (x + 0.044715 x^3), k = sqrt(2/pi)
      const k = Math.sqrt(2 / Math.PI);
      const x2 = b.op('Mul', [x, x]);
      const u = b.op('Mul', [b.op('Mul', [x, b.op('Add', [c.scalar(1, x), b.op('Mul', [x2, c.scalar(0.044715, x)])])]), c.scalar(k, x)]);
      const t = b.op('Tanh', [u]);
      const du = b.op('Mul', [b.op('Add', [c.scalar(1, x), b.op('Mul', [x2, c.scalar(3 * 0.044715, x)])]), c.scalar(k, x)]);
      const sech2 = b.op('Sub', [c.scalar(1, x), b.op('Mul', [t, t])]);
      const half = c.scalar(0.5, x);
      return b.op('Add', [b.op('Mul', [half, b.op('Add', [c.scalar(1, x), t])]), b.op('Mul', [b.op('Mul', [half, x]), b.op('Mul', [sech2, du])])]);
    }
    // Phi(x) + x phi(x)
    const cdf = b.op('Mul', [c.scalar(0.5, x), b.op('Add', [c.scalar(1, x), b.op('Erf', [b.op('Mul', [x, c.scalar(Math.SQRT1_2, x)])])])]);
    const pdf = b.op('Mul', [c.scalar(1 / Math.sqrt(2 * Math.PI), x), b.op('Exp', [b.op('Mul', [b.op('Mul', [x, x]), c.scalar(-0.5, x)])])]);
    return b.op('Add', [cdf, b.op('Mul', [x, pdf])]);
  }),
  {
    op: 'Clip',
    differentiable: [0],
    backward: (c) => {
      const x = x0(c);
      const b = c.b;
      let lo: string | undefined = c.node.inputs[1] || undefined;
      let hi: string | undefined = c.node.inputs[2] || undefined;
      // opset < 11 form: min/max attributes
      const aMin = getAttr(c.node, 'min', 'float');
      const aMax = getAttr(c.node, 'max', 'float');
      if (!lo && aMin !== undefined) lo = c.scalar(aMin, x);
      if (!hi && aMax !== undefined) hi = c.scalar(aMax, x);
      let cond: string | null = null;
      if (lo) cond = b.op('GreaterOrEqual', [x, lo]);
      if (hi) {
        const h = b.op('LessOrEqual', [x, hi]);
        cond = cond ? b.op('And', [cond, h]) : h;
      }
      return [cond ? maskMul(c, gy0(c), cond) : gy0(c)];
    },
  },
  {
    op: 'Sum',
    backward: (c) => c.node.inputs.map((x, i) => (c.needs[i] ? c.unbroadcast(gy0(c), x, y0(c)) : null)),
  },
  minMax('Max'),
  minMax('Min'),
  {
    op: 'Where',
    differentiable: [1, 2],
    backward: (c) => {
      const [cond, a, bb] = c.node.inputs;
      const out: (string | null)[] = [null, null, null];
      if (c.needs[1]) out[1] = c.unbroadcast(maskMul(c, gy0(c), cond), a, y0(c));
      if (c.needs[2]) out[2] = c.unbroadcast(maskMul(c, gy0(c), c.b.op('Not', [cond])), bb, y0(c));
      return out;
    },
  },
];

/** Elementwise Max/Min: the gradient goes to the inputs equal to the result, split evenly on ties (as PyTorch). */
function minMax(op: 'Max' | 'Min'): GradRule {
  return {
    op,
    backward: (c) => {
      const y = y0(c);
      const to = DTYPE_CODE[c.dtype(y)];
      const masks = c.node.inputs.map((x) => c.b.op('Cast', [c.b.op('Equal', [x, y])], { to }));
      const count = masks.length === 1 ? null : c.b.op('Sum', masks);
      const g = count ? c.b.op('Div', [gy0(c), count]) : gy0(c);
      return c.node.inputs.map((x, i) => (c.needs[i] ? c.unbroadcast(c.b.op('Mul', [g, masks[i]]), x, y) : null));
    },
  };
}
