// Derivative rules for BatchNormalization (inference form: fixed statistics), LayerNormalization and
// Dropout in eval form. Training-mode BatchNormalization and Dropout are lowered to standard ops first
// (lower.ts), and those ops have their own rules.

import { attrFloat, attrInt } from '../../onnx/ir';
import type { GradContext, GradRule } from '../types';

/** shape [C, 1, ..., 1] for broadcasting per-channel vectors against NC... tensors */
function perChannel(c: GradContext, v: string, rank: number): string {
  return c.b.op('Unsqueeze', [v, c.i64(Array.from({ length: rank - 2 }, (_, i) => i + 1))]);
}

export const normRules: GradRule[] = [
  {
    op: 'BatchNormalization',
    differentiable: [0, 1, 2, 3, 4],
    backward: (c) => {
      if (attrInt(c.node, 'training_mode', 0) === 1 || c.node.outputs.slice(1).some((o) => o)) {
        c.fail('BatchNormalization in training mode: call lowerForTraining() first (it rewrites it with batch statistics)');
      }
      const [X, scale, , mean, varr] = c.node.inputs;
      const b = c.b;
      const gy = c.gy[0]!;
      const rank = c.shape(X).length;
      const eps = attrFloat(c.node, 'epsilon', 1e-5);
      const axes = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
      // inv = 1/sqrt(var + eps), per channel
      const inv = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [varr, c.scalar(eps, varr)])])]);
      const invB = perChannel(c, inv, rank);
      const out: (string | null)[] = [null, null, null, null, null];
      if (c.needs[0]) out[0] = b.op('Mul', [gy, perChannel(c, b.op('Mul', [scale, inv]), rank)]);
      const xmu = c.needs[1] || c.needs[4] ? b.op('Sub', [X, perChannel(c, mean, rank)]) : '';
      const sumGy = c.needs[2] || c.needs[3] ? c.reduceSum(gy, axes, false) : '';
      if (c.needs[1]) out[1] = c.reduceSum(b.op('Mul', [gy, b.op('Mul', [xmu, invB])]), axes, false);
      if (c.needs[2]) out[2] = sumGy;
      if (c.needs[3]) out[3] = b.op('Neg', [b.op('Mul', [sumGy, b.op('Mul', [scale, inv])])]);
      if (c.needs[4]) {
        // d/dvar of (x-mu) * scale * (var+eps)^-1/2 = -0.5 * (x-mu) * scale * inv^3
        const inv3 = b.op('Mul', [inv, b.op('Mul', [inv, inv])]);
        const s = c.reduceSum(b.op('Mul', [gy, xmu]), axes, false);
        out[4] = b.op('Mul', [s, b.op('Mul', [scale, b.op('Mul', [inv3, c.scalar(-0.5, varr)])])]);
      }
      return out;
    },
  },
  {
    // y = (x - mean) * invstd * scale + bias over axes [axis, rank); statistics recomputed in the
    // backward section in the input's dtype (the node's Mean/InvStdDev outputs may be float32 only).
    op: 'LayerNormalization',
    differentiable: [0, 1, 2],
    backward: (c) => {
      const [X, scale, bias] = c.node.inputs;
      const b = c.b;
      const gy = c.gy[0]!;
      const sx = c.shape(X);
      const rank = sx.length;
      let axis = attrInt(c.node, 'axis', -1);
      if (axis < 0) axis += rank;
      const eps = attrFloat(c.node, 'epsilon', 1e-5);
      const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
      const mean = (v: string) => b.op('ReduceMean', c.opset >= 18 ? [v, c.i64(axes)] : [v], c.opset >= 18 ? {} : { axes });
      const mu = mean(X);
      const xmu = b.op('Sub', [X, mu]);
      const varr = mean(b.op('Mul', [xmu, xmu]));
      const inv = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [varr, c.scalar(eps, X)])])]);
      const xhat = b.op('Mul', [xmu, inv]);
      const Y = c.node.outputs[0];
      const out: (string | null)[] = [null, null, null];
      if (c.needs[1]) out[1] = c.unbroadcast(b.op('Mul', [gy, xhat]), scale, Y);
      if (bias && c.needs[2]) out[2] = c.unbroadcast(gy, bias, Y);
      if (c.needs[0]) {
        const dxhat = b.op('Mul', [gy, scale]);
        const m1 = mean(dxhat);
        const m2 = mean(b.op('Mul', [dxhat, xhat]));
        out[0] = b.op('Mul', [inv, b.op('Sub', [b.op('Sub', [dxhat, m1]), b.op('Mul', [xhat, m2])])]);
      }
      return out;
    },
  },
  {
    // Dropout in eval form (no training_mode input, or a constant false) is the identity. Training-mode
    // dropout must be lowered with lowerForTraining (mask as a graph input).
    op: 'Dropout',
    differentiable: [0],
    backward: (c) => {
      const tm = c.node.inputs[2];
      if (tm) {
        const k = c.known(tm);
        if (!k || k.values[0] !== 0) c.fail('Dropout in training mode: call lowerForTraining() first (masks become graph inputs)');
      }
      return [c.gy[0]!];
    },
  },
];
