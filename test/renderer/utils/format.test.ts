import { describe, expect, it } from 'vitest';
import { estimateEta, formatDuration, formatLoss, progressFraction } from '../../../renderer/src/utils/format';
import { makeJob } from '../fake-api';

describe('format helpers', () => {
  it('formats durations', () => {
    expect(formatDuration(4.2)).toBe('4s');
    expect(formatDuration(75)).toBe('1m 15s');
    expect(formatDuration(3700)).toBe('1h 1m');
    expect(formatDuration(null)).toBe('');
    expect(formatDuration(Number.NaN)).toBe('');
    expect(formatDuration(-1)).toBe('');
  });

  it('formats losses to four significant digits, tiny or huge ones in exponent form', () => {
    expect(formatLoss(2.302585)).toBe('2.303');
    expect(formatLoss(0.000123)).toBe('1.23e-4');
    expect(formatLoss(0)).toBe('0.000');
    expect(formatLoss(Number.POSITIVE_INFINITY)).toBe('');
    expect(formatLoss(undefined)).toBe('');
  });

  it('derives the fraction from fraction, else step/total, else null', () => {
    expect(progressFraction({ step: 1, total: 4, fraction: 0.3 })).toBe(0.3);
    expect(progressFraction({ step: 1, total: 4, fraction: null })).toBe(0.25);
    expect(progressFraction({ step: 9, total: null, fraction: null })).toBeNull();
    expect(progressFraction({ step: 9, total: 4, fraction: null })).toBe(1);
    expect(progressFraction(null)).toBeNull();
  });

  it('uses the job ETA when given, else extrapolates from the start time', () => {
    const start = Date.parse('2026-11-24T10:00:00.000Z');
    const job = makeJob({ startedAt: new Date(start).toISOString(), progress: { step: 25, total: 100, fraction: 0.25 } });
    expect(estimateEta(job, start + 10_000)).toBeCloseTo(30);
    expect(estimateEta({ ...job, progress: { ...job.progress!, etaSeconds: 7 } }, start + 10_000)).toBe(7);
    expect(estimateEta({ ...job, state: 'queued' }, start + 10_000)).toBeNull();
    expect(estimateEta({ ...job, progress: { step: 0, total: 100, fraction: 0 } }, start + 10_000)).toBeNull();
  });
});
