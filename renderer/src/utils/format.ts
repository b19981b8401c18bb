import type { JobInfo, JobProgress } from '../../../preload/api';

/** 75 -> "1m 15s", 3700 -> "1h 1m", 4.2 -> "4s". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${m % 60}m`;
}

/** Losses span orders of magnitude; four significant digits reads well in a dense row. */
export function formatLoss(loss: number | null | undefined): string {
  if (loss === null || loss === undefined || !Number.isFinite(loss)) return '';
  const a = Math.abs(loss);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return loss.toExponential(2);
  return loss.toPrecision(4);
}

/** Fraction done in [0,1], or null when the job cannot tell (indeterminate bar). */
export function progressFraction(p: JobProgress | null | undefined): number | null {
  if (!p) return null;
  if (typeof p.fraction === 'number' && Number.isFinite(p.fraction)) return clamp01(p.fraction);
  if (p.total && p.total > 0) return clamp01(p.step / p.total);
  return null;
}

/**
 * Seconds left: the job's own estimate when it sends one, else a linear extrapolation from the time
 * since it started. `now` is injectable for tests.
 */
export function estimateEta(job: Pick<JobInfo, 'progress' | 'startedAt' | 'state'>, now = Date.now()): number | null {
  if (job.state !== 'running' || !job.progress) return null;
  const own = job.progress.etaSeconds;
  if (typeof own === 'number' && Number.isFinite(own) && own >= 0) return own;
  const f = progressFraction(job.progress);
  if (f === null || f <= 0 || f >= 1 || !job.startedAt) return null;
  const elapsed = (now - Date.parse(job.startedAt)) / 1000;
  if (!Number.isFinite(elapsed) || elapsed <= 0) return null;
  return (elapsed * (1 - f)) / f;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}
