// Learning-rate schedules, evaluated in JS (the step graph takes the learning rate as a scalar
// input, so changing it never needs a new graph). Semantics follow torch.optim.lr_scheduler's
// closed forms: StepLR, MultiStepLR, CosineAnnealingLR (eta_min) and LinearLR warm-up chained in
// front of the main schedule like SequentialLR. `unit` decides whether the schedule's clock counts
// epochs (torch's usual `scheduler.step()` per epoch) or optimizer steps.

export type ScheduleSpec =
  | { kind: 'constant' }
  | { kind: 'step'; stepSize: number; gamma?: number }
  | { kind: 'multistep'; milestones: number[]; gamma?: number }
  | { kind: 'cosine'; tMax: number; etaMin?: number };

export interface LrScheduleOptions {
  baseLr: number;
  schedule?: ScheduleSpec;
  /** 'epoch' (default): t = completed epochs; 'step': t = completed optimizer steps */
  unit?: 'epoch' | 'step';
  /** linear warm-up over `length` units from startFactor * baseLr to baseLr (torch LinearLR; default startFactor 1/3) */
  warmup?: { length: number; startFactor?: number };
}

export function validateSchedule(o: LrScheduleOptions): void {
  const bad = (m: string) => {
    throw new Error(`invalid learning-rate schedule: ${m}`);
  };
  if (!(Number.isFinite(o.baseLr) && o.baseLr >= 0)) bad(`learning rate must be a finite number >= 0, got ${o.baseLr}`);
  if (o.unit !== undefined && o.unit !== 'epoch' && o.unit !== 'step') bad(`unit must be 'epoch' or 'step', got ${String(o.unit)}`);
  const s = o.schedule ?? { kind: 'constant' };
  switch (s.kind) {
    case 'constant':
      break;
    case 'step':
      if (!(Number.isInteger(s.stepSize) && s.stepSize > 0)) bad(`step: stepSize must be a positive integer, got ${s.stepSize}`);
      if (s.gamma !== undefined && !(Number.isFinite(s.gamma) && s.gamma > 0)) bad(`step: gamma must be > 0, got ${s.gamma}`);
      break;
    case 'multistep':
      if (!Array.isArray(s.milestones) || s.milestones.some((m, i) => !Number.isInteger(m) || m < 0 || (i > 0 && m <= s.milestones[i - 1])))
        bad('multistep: milestones must be increasing non-negative integers');
      if (s.gamma !== undefined && !(Number.isFinite(s.gamma) && s.gamma > 0)) bad(`multistep: gamma must be > 0, got ${s.gamma}`);
      break;
    case 'cosine':
      if (!(Number.isInteger(s.tMax) && s.tMax > 0)) bad(`cosine: tMax must be a positive integer, got ${s.tMax}`);
      if (s.etaMin !== undefined && !(Number.isFinite(s.etaMin) && s.etaMin >= 0)) bad(`cosine: etaMin must be >= 0, got ${s.etaMin}`);
      break;
    default:
      bad(`unknown schedule kind '${(s as { kind: string }).kind}' (expected constant, step, multistep or cosine)`);
  }
  if (o.warmup) {
    if (!(Number.isInteger(o.warmup.length) && o.warmup.length >= 0)) bad(`warmup length must be a non-negative integer, got ${o.warmup.length}`);
    const sf = o.warmup.startFactor;
    if (sf !== undefined && !(Number.isFinite(sf) && sf > 0 && sf <= 1)) bad(`warmup startFactor must be in (0, 1], got ${sf}`);
  }
}

/** Learning rate at schedule time t (t = completed epochs or steps, see `unit`). */
export function lrAt(o: LrScheduleOptions, t: number): number {
  const base = o.baseLr;
  let tMain = t;
  let factor = 1;
  if (o.warmup && o.warmup.length > 0) {
    const W = o.warmup.length;
    if (t < W) {
      const sf = o.warmup.startFactor ?? 1 / 3;
      return base * (sf + ((1 - sf) * t) / W);
    }
    tMain = t - W;
  }
  const s = o.schedule ?? { kind: 'constant' };
  switch (s.kind) {
    case 'constant':
      break;
    case 'step':
      factor = (s.gamma ?? 0.1) ** Math.floor(tMain / s.stepSize);
      break;
    case 'multistep': {
      const k = s.milestones.filter((m) => m <= tMain).length;
      factor = (s.gamma ?? 0.1) ** k;
      break;
    }
    case 'cosine': {
      const etaMin = s.etaMin ?? 0;
      return etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * tMain) / s.tMax))) / 2;
    }
  }
  return base * factor;
}

/** Learning rate for the optimizer step taken at (epoch, stepInEpoch). */
export function lrForStep(o: LrScheduleOptions, epoch: number, globalStep: number): number {
  return lrAt(o, (o.unit ?? 'epoch') === 'epoch' ? epoch : globalStep);
}
