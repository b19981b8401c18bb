// Argument schema of 'unlearning.estimate' (spread into validation.ts): the very schema of
// 'unlearning.plan', whose arguments it takes.

import type { z } from 'zod';
import type { PlanEstimateMethods } from '../../../preload/api/plan-estimate';
import { unlearningArgSchemas } from './unlearning-schemas';

export const planEstimateArgSchemas = {
  'unlearning.estimate': unlearningArgSchemas['unlearning.plan'],
} satisfies { [M in keyof PlanEstimateMethods]: z.ZodType<PlanEstimateMethods[M]['args'], z.ZodTypeDef, unknown> };
