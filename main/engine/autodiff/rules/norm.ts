// Derivative rules for BatchNormalization (inference form: fixed statistics), LayerNormalization and
// Dropout in eval form. Training-mode BatchNormalization and Dropout are lowered to standard ops first
// (lower.ts), and those ops have their own rules.

import { attrFloat, attrInt } from '../../onnx/ir';
import type { GradContext, GradResult, GradRule } from '../types';
import { BN_TRAIN_MARK, FORMULATION } from '../formulation';

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

/**
 * Fused backward of a training-mode BatchNormalization lowered by lowerForTraining, applied at its final
 * node  Y = Add(Mul(xmu, k), Unsqueeze(bias))  with  xmu = Sub(X, mean), mean = Mul(ReduceSum(X), 1/n),
 * k = Mul(invstd, Unsqueeze(scale)). With per-channel sums sg = sum(gy), sx = sum(gy * xmu):
 *   dbias = sg,  dscale = invstd * sx,
 *   dx = k * (gy - sg/n - xmu * invstd^2 * sx/n)      (PyTorch's batch_norm_backward, rearranged)
 * The gradients go straight to X, scale and bias (the inner nodes get none and are not differentiated).
 * Returns null when the node does not have exactly that structure (the generic rules then apply).
 */
export function fusedBatchNormGrad(c: GradContext): GradResult | null {
  if (FORMULATION.batchNormGrad !== 'fused' || !c.node.name?.startsWith(BN_TRAIN_MARK)) return null;
  const [t, biasU] = c.node.inputs;
  const mulT = c.producer(t);
  const unsB = c.producer(biasU);
  if (mulT?.op !== 'Mul' || unsB?.op !== 'Unsqueeze') return null;
  const [xmu, k] = mulT.inputs;
  const sub = c.producer(xmu);
  const mulK = c.producer(k);
  if (sub?.op !== 'Sub' || mulK?.op !== 'Mul') return null;
  const [X, mean] = sub.inputs;
  const [inv, scaleU] = mulK.inputs;
  const meanN = c.producer(mean);
  const unsS = c.producer(scaleU);
  if (meanN?.op !== 'Mul' || unsS?.op !== 'Unsqueeze' || c.producer(meanN.inputs[0])?.op !== 'ReduceSum') return null;
  // every inner value must be private to this BatchNorm (xmu: Mul(xmu, xmu) for the variance, and here)
  if (c.readers(t) !== 1 || c.readers(k) !== 1 || c.readers(xmu) !== 3) return null;
  const invN = meanN.inputs[1];
  const scale = unsS.inputs[0];
  const bias = unsB.inputs[0];
  const b = c.b;
  const gy = c.gy[0]!;
  const rank = c.shape(X).length;
  const axes = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
  const C = c.shape(scale)[0];
  const flat = c.i64([typeof C === 'number' ? C : -1]);
  // only what is needed (frozen layers: e.g. X is not active when everything before the BN is frozen)
  const needX = c.isActive(X);
  const needScale = c.isActive(scale);
  const sg = needX || c.isActive(bias) ? c.reduceSum(gy, axes, true) : ''; // [1, C, 1...]
  const sx = needX || needScale ? c.reduceSum(b.op('Mul', [gy, xmu]), axes, true) : '';
  if (c.isActive(bias)) c.addGrad(bias, b.op('Reshape', [sg, flat]));
  if (needScale) c.addGrad(scale, b.op('Reshape', [b.op('Mul', [sx, inv]), flat]));
  if (needX) {
    // dx = (gy - sg/n - xmu * (invstd^2 * sx/n)) * k
    const m1 = b.op('Mul', [sg, invN]);
    const a = b.op('Mul', [b.op('Mul', [inv, inv]), b.op('Mul', [sx, invN])]);
    c.addGrad(X, b.op('Mul', [b.op('Sub', [b.op('Sub', [gy, m1]), b.op('Mul', [xmu, a])]), k]));
  }
  return [null, null];
}
