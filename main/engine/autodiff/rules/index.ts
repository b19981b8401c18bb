// The registry: one derivative rule per ONNX op. Adding a rule = add it to one of these lists; the
// gradient-check test fails until the new op has a numerical check case.

import type { GradRule } from '../types';
import { convRules } from './conv';
import { elementwiseRules } from './elementwise';
import { matmulRules } from './matmul';
import { normRules } from './norm';
import { poolRules } from './pool';
import { reduceRules } from './reduce';
import { shapeRules } from './shape';

export const GRAD_RULES: readonly GradRule[] = [
  ...elementwiseRules,
  ...matmulRules,
  ...convRules,
  ...poolRules,
  ...reduceRules,
  ...normRules,
  ...shapeRules,
];

export const RULES_BY_OP: ReadonlyMap<string, GradRule> = (() => {
  const m = new Map<string, GradRule>();
  for (const r of GRAD_RULES) {
    if (m.has(r.op)) throw new Error(`duplicate derivative rule for ${r.op}`);
    m.set(r.op, r);
  }
  return m;
})();
