import { describe, expect, it } from 'vitest';
import { lrAt, lrForStep, validateSchedule, type LrScheduleOptions } from '../../../main/engine/train/schedules';
import { Rng, STREAM } from '../../../main/engine/train/rng';

// Expected sequences printed by torch 1.13 (lr of optimizer.param_groups[0] before each scheduler.step()).
const TORCH = {
  step: [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125],
  multistep: [0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001, 0.001, 0.001, 0.001, 0.001, 0.001],
  cosine: [0.1, 0.09757729755661011, 0.0905463412215599, 0.07959536998847742, 0.0657963412215599, 0.0505, 0.03520365877844011, 0.02140463001152259, 0.010453658778440109, 0.0034227024433899004, 0.001, 0.0034227024433899004],
  warmupCosine: [0.025, 0.04375, 0.0625, 0.08125, 0.1, 0.09330127018922195, 0.075, 0.05, 0.025, 0.006698729810778065, 0.0, 0.006698729810778065],
};

function seq(o: LrScheduleOptions, n = 12): number[] {
  validateSchedule(o);
  return Array.from({ length: n }, (_, t) => lrAt(o, t));
}

function close(a: number[], b: number[]) {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(Math.abs(v - b[i]), `t=${i}: ${v} vs ${b[i]}`).toBeLessThan(1e-12));
}

describe('learning-rate schedules match torch.optim.lr_scheduler', () => {
  it('StepLR(step_size=3, gamma=0.5)', () => close(seq({ baseLr: 0.1, schedule: { kind: 'step', stepSize: 3, gamma: 0.5 } }), TORCH.step));
  it('MultiStepLR([2, 5], gamma=0.1)', () => close(seq({ baseLr: 0.1, schedule: { kind: 'multistep', milestones: [2, 5] } }), TORCH.multistep));
  it('CosineAnnealingLR(T_max=10, eta_min=0.001), including past T_max', () =>
    close(seq({ baseLr: 0.1, schedule: { kind: 'cosine', tMax: 10, etaMin: 0.001 } }), TORCH.cosine));
  it('SequentialLR(LinearLR(0.25, total_iters=4), CosineAnnealingLR(T_max=6))', () =>
    close(seq({ baseLr: 0.1, warmup: { length: 4, startFactor: 0.25 }, schedule: { kind: 'cosine', tMax: 6 } }), TORCH.warmupCosine));
  it('constant, and per-step vs per-epoch clocks', () => {
    close(seq({ baseLr: 0.3 }, 3), [0.3, 0.3, 0.3]);
    const o: LrScheduleOptions = { baseLr: 1, schedule: { kind: 'step', stepSize: 1, gamma: 0.5 } };
    expect(lrForStep(o, 2, 1000)).toBe(0.25);
    expect(lrForStep({ ...o, unit: 'step' }, 2, 3)).toBe(0.125);
  });
  it('rejects invalid schedules with a specific reason', () => {
    expect(() => validateSchedule({ baseLr: -1 })).toThrow(/learning rate must be/);
    expect(() => validateSchedule({ baseLr: 0.1, schedule: { kind: 'step', stepSize: 0 } })).toThrow(/stepSize must be a positive integer/);
    expect(() => validateSchedule({ baseLr: 0.1, schedule: { kind: 'multistep', milestones: [5, 2] } })).toThrow(/increasing/);
    expect(() => validateSchedule({ baseLr: 0.1, schedule: { kind: 'cosine', tMax: 0 } })).toThrow(/tMax/);
    expect(() => validateSchedule({ baseLr: 0.1, schedule: { kind: 'poly' } as never })).toThrow(/unknown schedule kind 'poly'/);
    expect(() => validateSchedule({ baseLr: 0.1, warmup: { length: 2, startFactor: 0 } })).toThrow(/startFactor/);
  });
});

describe('seeded RNG (xoshiro128** seeded by SplitMix32)', () => {
  it('is a pure function of (seed, stream) and restores from its state', () => {
    const a = new Rng(42, 7);
    const b = new Rng(42, 7);
    const xs = Array.from({ length: 100 }, () => a.nextU32());
    expect(Array.from({ length: 100 }, () => b.nextU32())).toEqual(xs);
    expect(new Rng(42, 8).nextU32()).not.toBe(xs[0]);
    expect(new Rng(43, 7).nextU32()).not.toBe(xs[0]);
    const c = new Rng(5);
    for (let i = 0; i < 10; i++) c.nextU32();
    const st = c.getState();
    const tail = Array.from({ length: 5 }, () => c.nextU32());
    expect(Array.from({ length: 5 }, () => Rng.fromState(st).nextU32())[0]).toBe(tail[0]);
    expect(() => Rng.fromState({ s: [1, 2, 3] } as never)).toThrow(/invalid RNG state/);
  });
  it('pins the first outputs (changing the generator would silently change every seeded run)', () => {
    const r = new Rng(0, 0);
    expect(Array.from({ length: 4 }, () => r.nextU32())).toEqual([3275386483, 1305491842, 3299602871, 3407670759]);
    expect(Array.from(new Rng(0, STREAM.epochPermutation(0)).permutation(10))).toEqual([0, 2, 4, 1, 9, 3, 8, 5, 7, 6]);
  });
  it('permutations are valid and roughly uniform; floats lie in [0, 1)', () => {
    const r = new Rng(1);
    const p = r.permutation(1000);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 100000; i++) counts[r.nextInt(10)]++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(500);
    for (let i = 0; i < 10000; i++) {
      const f = r.nextFloat();
      expect(f >= 0 && f < 1).toBe(true);
    }
    const m = r.bernoulli(new Float32Array(100000), 0.7);
    const mean = m.reduce((a, b) => a + b, 0) / m.length;
    expect(Math.abs(mean - 0.7)).toBeLessThan(0.01);
  });
});
