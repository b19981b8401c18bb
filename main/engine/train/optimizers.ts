// Optimizer updates emitted as ONNX nodes (one update per parameter, inside the training-step graph).
// Semantics follow torch.optim (PyTorch 1.13 - 2.x, single-tensor path):
//
// SGD (dampening 0):   g = grad + wd * p
//                      buf = momentum * buf + g            (torch's first step buf = g equals this with buf = 0)
//                      d = nesterov ? g + momentum * buf : buf      (d = g when momentum = 0)
//                      p = p - lr * d
// Adam:                g = grad + wd * p                    (L2 penalty added to the gradient)
// AdamW:               p = p * (1 - lr * wd)                (decoupled weight decay)
// Adam/AdamW:          m = m + (1 - b1) * (g - m);  v = b2 * v + (1 - b2) * g^2
//                      p = p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// t is the 1-based step count (graph input), lr the learning rate (graph input).
//
// Masked parameters (SalUn, CF-k): the gradient is multiplied by the 0/1 mask before it reaches the
// optimizer state, and the whole parameter change (including weight decay) is multiplied by the mask,
// so masked-out weights keep their exact values.

import type { GraphBuilder } from '../onnx/builder';
import { DTYPE_CODE } from '../onnx/ir';

export type OptimizerSpec =
  | { kind: 'sgd'; momentum?: number; nesterov?: boolean; weightDecay?: number }
  | { kind: 'adam' | 'adamw'; beta1?: number; beta2?: number; eps?: number; weightDecay?: number };

export type OptimizerKind = OptimizerSpec['kind'];

export function validateOptimizer(o: OptimizerSpec): void {
  const bad = (m: string) => {
    throw new Error(`invalid optimizer settings: ${m}`);
  };
  if (!o || typeof o !== 'object') bad('expected an object with a kind');
  const wd = o.weightDecay ?? 0;
  if (!(Number.isFinite(wd) && wd >= 0)) bad(`weight decay must be a finite number >= 0, got ${wd}`);
  if (o.kind === 'sgd') {
    const m = o.momentum ?? 0;
    if (!(Number.isFinite(m) && m >= 0 && m < 1)) bad(`SGD momentum must be in [0, 1), got ${m}`);
    if (o.nesterov && m <= 0) bad('Nesterov momentum requires momentum > 0 (as in torch.optim.SGD)');
  } else if (o.kind === 'adam' || o.kind === 'adamw') {
    const b1 = o.beta1 ?? 0.9;
    const b2 = o.beta2 ?? 0.999;
    const eps = o.eps ?? 1e-8;
    if (!(b1 >= 0 && b1 < 1)) bad(`beta1 must be in [0, 1), got ${b1}`);
    if (!(b2 >= 0 && b2 < 1)) bad(`beta2 must be in [0, 1), got ${b2}`);
    if (!(Number.isFinite(eps) && eps >= 0)) bad(`eps must be >= 0, got ${eps}`);
  } else bad(`unknown optimizer '${(o as { kind: string }).kind}' (expected sgd, adam or adamw)`);
}

/** Defaults filled in (torch's defaults; AdamW's weight decay default is 0.01 as in torch). */
export function resolveOptimizer(o: OptimizerSpec): Required<{ kind: OptimizerKind }> & Record<string, number | boolean | string> {
  validateOptimizer(o);
  if (o.kind === 'sgd') return { kind: 'sgd', momentum: o.momentum ?? 0, nesterov: o.nesterov ?? false, weightDecay: o.weightDecay ?? 0 };
  return {
    kind: o.kind,
    beta1: o.beta1 ?? 0.9,
    beta2: o.beta2 ?? 0.999,
    eps: o.eps ?? 1e-8,
    weightDecay: o.weightDecay ?? (o.kind === 'adamw' ? 0.01 : 0),
  };
}

/** Names of the per-parameter state slots (each the parameter's shape, zero-initialised). */
export function stateSlots(o: OptimizerSpec): string[] {
  if (o.kind === 'sgd') return (o.momentum ?? 0) > 0 ? ['momentum'] : [];
  return ['exp_avg', 'exp_avg_sq'];
}

export interface OptimizerScalars {
  lr: string;
  /** Adam: lr / (1 - b1^t) */
  stepSize?: string;
  /** Adam: sqrt(1 - b2^t) */
  bc2Sqrt?: string;
  /** AdamW: lr * wd */
  lrWd?: string;
}

/** Emit the per-step scalars shared by every parameter's update. */
export function emitOptimizerScalars(b: GraphBuilder, o: OptimizerSpec, lr: string, step: string): OptimizerScalars {
  const r = resolveOptimizer(o);
  if (r.kind === 'sgd') return { lr };
  const b1 = r.beta1 as number;
  const b2 = r.beta2 as number;
  // Bias corrections in float64, as torch computes them in Python floats: in float32, 1 - 0.999^t is
  // off by ~1e-5 relative (0.999 is not representable), which would shift every Adam step.
  const f64 = (v: number, hint: string) => b.initializer(b.fresh(hint), { dtype: 'float64', dims: [], data: new Float64Array([v]) });
  const one = f64(1, 'c64_one');
  const t64 = b.op('Cast', [step], { to: DTYPE_CODE.float64 }, 'step_f64');
  const lr64 = b.op('Cast', [lr], { to: DTYPE_CODE.float64 }, 'lr_f64');
  const bc1 = b.op('Sub', [one, b.op('Pow', [f64(b1, 'c64_beta1'), t64])], {}, 'bias_correction1');
  const bc2 = b.op('Sub', [one, b.op('Pow', [f64(b2, 'c64_beta2'), t64])], {}, 'bias_correction2');
  const out: OptimizerScalars = {
    lr,
    stepSize: b.op('Cast', [b.op('Div', [lr64, bc1])], { to: DTYPE_CODE.float32 }, 'adam_step_size'),
    bc2Sqrt: b.op('Cast', [b.op('Sqrt', [bc2])], { to: DTYPE_CODE.float32 }, 'bias_correction2_sqrt'),
  };
  if (r.kind === 'adamw' && (r.weightDecay as number) > 0) out.lrWd = b.op('Mul', [lr, b.constF(r.weightDecay as number)], {}, 'lr_wd');
  return out;
}

/**
 * Emit the update of one parameter. `state` maps slot name -> current value name; returns the new
 * parameter value name and the new state value names (same slot keys).
 */
export function emitParamUpdate(
  b: GraphBuilder,
  o: OptimizerSpec,
  sc: OptimizerScalars,
  p: { param: string; grad: string; state: Record<string, string>; mask?: string },
): { param: string; state: Record<string, string> } {
  const r = resolveOptimizer(o);
  const wd = r.weightDecay as number;
  let g = p.grad;
  if (wd > 0 && r.kind !== 'adamw') g = b.op('Add', [g, b.op('Mul', [p.param, b.constF(wd)])], {}, 'grad_wd');
  if (p.mask) g = b.op('Mul', [g, p.mask], {}, 'grad_masked');
  const newState: Record<string, string> = {};
  let delta: string; // amount subtracted from p
  if (r.kind === 'sgd') {
    const mom = r.momentum as number;
    let d = g;
    if (mom > 0) {
      const buf = b.op('Add', [b.op('Mul', [p.state.momentum, b.constF(mom)]), g], {}, 'momentum_new');
      newState.momentum = buf;
      d = r.nesterov ? b.op('Add', [g, b.op('Mul', [buf, b.constF(mom)])], {}, 'nesterov_dir') : buf;
    }
    delta = b.op('Mul', [d, sc.lr], {}, 'sgd_delta');
  } else {
    const b1 = r.beta1 as number;
    const b2 = r.beta2 as number;
    const m0 = p.state.exp_avg;
    const v0 = p.state.exp_avg_sq;
    const m = b.op('Add', [m0, b.op('Mul', [b.op('Sub', [g, m0]), b.constF(1 - b1)])], {}, 'exp_avg_new');
    const v = b.op('Add', [b.op('Mul', [v0, b.constF(b2)]), b.op('Mul', [b.op('Mul', [g, g]), b.constF(1 - b2)])], {}, 'exp_avg_sq_new');
    newState.exp_avg = m;
    newState.exp_avg_sq = v;
    const denom = b.op('Add', [b.op('Div', [b.op('Sqrt', [v]), sc.bc2Sqrt!]), b.constF(r.eps as number)], {}, 'adam_denom');
    delta = b.op('Mul', [b.op('Div', [m, denom]), sc.stepSize!], {}, 'adam_delta');
    if (sc.lrWd) delta = b.op('Add', [delta, b.op('Mul', [p.param, sc.lrWd])], {}, 'adamw_delta');
  }
  if (p.mask) delta = b.op('Mul', [delta, p.mask], {}, 'delta_masked');
  const param = b.op('Sub', [p.param, delta], {}, 'param_new');
  return { param, state: newState };
}
