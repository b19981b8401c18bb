// Building blocks shared by method files: parameter fields with defaults and descriptions, the
// optimizer most public unlearning code uses (SGD, momentum 0.9, weight decay 5e-4), and batch
// weights for the loss (the trainer sums per-example losses times these weights).

import { z } from 'zod';
import type { OptimizerSpec } from '../../train/optimizers';

export const field = {
  epochs: (d: number, desc = 'passes over the primary data') => z.number().int().min(1).max(1000).default(d).describe(desc),
  lr: (d: number, desc = 'learning rate') => z.number().gt(0).max(10).default(d).describe(desc),
  batchSize: (d: number, desc = 'examples per batch') => z.number().int().min(1).max(65536).default(d).describe(desc),
  fraction: (d: number, desc: string) => z.number().gt(0).max(1).default(d).describe(desc),
  nonNeg: (d: number, desc: string) => z.number().min(0).default(d).describe(desc),
  positive: (d: number, desc: string) => z.number().gt(0).default(d).describe(desc),
  int: (d: number, min: number, max: number, desc: string) => z.number().int().min(min).max(max).default(d).describe(desc),
  bool: (d: boolean, desc: string) => z.boolean().default(d).describe(desc),
};

/** SGD with momentum 0.9 and weight decay 5e-4, as in the OPTML-Group (SalUn, l1-sparse) code. */
export function sgd(momentum = 0.9, weightDecay = 5e-4): OptimizerSpec {
  return { kind: 'sgd', momentum, weightDecay };
}

/** Loss weights of the trainer's sum reduction: each row 1/rows in the batch = the batch mean. */
export const mean = (_rows: number, total: number) => 1 / total;

/** The loss settings every method's trainer uses: per-example weights, summed. */
export const WEIGHTED_SUM = { exampleWeights: true, reduction: 'sum' as const };
