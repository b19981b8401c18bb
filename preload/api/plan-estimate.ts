// The time estimate of an unlearning plan, shown before it is launched (types only). Implemented by
// main/backend/services/plan-estimate.ts. It takes the same arguments as 'unlearning.plan', submits
// nothing, and says for every run what its estimate rests on: a run this machine already made (reused
// as is, or scaled), the original model's own training time, or nothing measured yet.

import type { MethodDef } from './common';
import type { UnlearningPlanArgs } from './unlearning';

export interface PlanEstimateRun {
  method: string;
  methodName: string;
  seed: number;
  /** the stored run that will be reused (same method, parameters, seed, model and forget set): it costs nothing */
  reusedRun: string | null;
  /** estimated wall time of the job (method, loading, evaluation), seconds; null when nothing was measured */
  seconds: number | null;
  /**
   * what the number rests on: 'reused' (a stored run), 'run' (a measured run of this method on this
   * model, or on another of the same architecture and size, scaled to this plan's data and epochs),
   * 'training' (this model's own training time or speed on this machine), 'none'
   */
  basis: 'reused' | 'run' | 'training' | 'none';
  /** the basis in one sentence, e.g. "FT took 7.6 s on this model (run ft-…, 2026-12-03), scaled to 2 epochs" */
  detail: string;
}

export interface UnlearningPlanEstimate {
  runs: PlanEstimateRun[];
  /** the comparison job that follows the runs: seconds (null when not measured) and what it rests on */
  compare: { seconds: number | null; detail: string };
  /** sum of every run's estimate and the comparison's (one after another on a machine this size); null when none is known */
  totalSeconds: number | null;
  /** runs without an estimate (their time is not in totalSeconds) */
  unknown: number;
  /** the data of the plan: forget (D_f), retain (D_r) and test examples */
  counts: { forget: number; retain: number; test: number };
}

export interface PlanEstimateMethods {
  /** validates the plan like 'unlearning.plan' and estimates its time from this machine's measurements; submits nothing */
  'unlearning.estimate': MethodDef<UnlearningPlanArgs, UnlearningPlanEstimate>;
}
