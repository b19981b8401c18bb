// diagnostics.stress: a real CPU benchmark ("Test this machine"). Runs `iterations` float32 matrix
// multiplications C = A·B of size `size`×`size` (2·size³ floating-point operations each) in this
// worker's single JS thread and reports GFLOP/s per iteration. Resumable: the checkpoint holds the
// iterations done and their figures. Also the long-running, cancellable job of the e2e tests.

import { ApiError } from '../../../../preload/api/common';
import type { StressParams, StressResult } from '../../../../preload/api/jobs';
import type { JobContext, JobHandler } from '../types';

// the contract (preload/api/jobs.ts) defines this kind's parameter and result types
export type { StressParams, StressResult };

interface StressCheckpoint {
  iteration: number;
  gflops: number[];
}

const LIMITS = { iterations: [1, 1_000_000], size: [8, 2048] } as const;

function intParam(obj: Record<string, unknown>, key: keyof typeof LIMITS, dflt: number): number {
  const v = obj[key] ?? dflt;
  const [lo, hi] = LIMITS[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw new ApiError('invalid_argument', `diagnostics.stress: ${key} must be a whole number from ${lo} to ${hi}, got ${JSON.stringify(v)}.`);
  }
  return v;
}

/** seeded uniform values in [-1, 1) (mulberry32) */
function fillRandom(a: Float32Array, seed: number): void {
  let s = seed >>> 0;
  for (let i = 0; i < a.length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    a[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new DOMException('Cancelled', 'AbortError');
}

const yieldNow = () => new Promise<void>((r) => setImmediate(r));

/**
 * C = A·B in i-k-j order (row of B streamed, contiguous inner loop). Yields to the event loop about
 * every 20 ms so a cancel message is seen promptly even for large sizes; the yield time is excluded
 * from the measured compute time.
 */
export async function matmulTimed(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  n: number,
  signal: AbortSignal,
  onRows?: (rowsDone: number) => void,
): Promise<number> {
  c.fill(0);
  let computeMs = 0;
  let sliceStart = performance.now();
  for (let i = 0; i < n; i++) {
    const ci = i * n;
    for (let k = 0; k < n; k++) {
      const aik = a[ci + k]!;
      const bk = k * n;
      for (let j = 0; j < n; j++) c[ci + j]! += aik * b[bk + j]!;
    }
    const now = performance.now();
    if (now - sliceStart > 20) {
      computeMs += now - sliceStart;
      onRows?.(i + 1);
      await yieldNow();
      throwIfAborted(signal);
      sliceStart = performance.now();
    }
  }
  computeMs += performance.now() - sliceStart;
  return computeMs;
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const diagnosticsStress: JobHandler<StressParams, StressResult> = {
  kind: 'diagnostics.stress',
  description: 'Test this machine: float32 matrix-multiply benchmark, GFLOP/s per iteration',
  resumable: true,
  validate(params: unknown): StressParams {
    if (params === undefined || params === null) params = {};
    if (typeof params !== 'object' || Array.isArray(params)) {
      throw new ApiError('invalid_argument', 'diagnostics.stress: params must be an object like {"iterations": 20, "size": 256}.');
    }
    const p = params as Record<string, unknown>;
    const unknown = Object.keys(p).filter((k) => k !== 'iterations' && k !== 'size');
    if (unknown.length) throw new ApiError('invalid_argument', `diagnostics.stress: unknown parameter ${JSON.stringify(unknown[0])}; expected iterations and size.`);
    return { iterations: intParam(p, 'iterations', 20), size: intParam(p, 'size', 256) };
  },
  async run({ iterations, size: n }, ctx: JobContext): Promise<StressResult> {
    const ck = ctx.checkpoint as StressCheckpoint | null;
    const gflops: number[] = ck && Number.isInteger(ck.iteration) && Array.isArray(ck.gflops) ? ck.gflops.slice(0, ck.iteration) : [];
    const start = gflops.length;
    if (start > 0) ctx.log('info', `Resuming at iteration ${start + 1} of ${iterations}.`);
    const a = new Float32Array(n * n);
    const b = new Float32Array(n * n);
    const c = new Float32Array(n * n);
    fillRandom(a, 0x1e7e);
    fillRandom(b, 0xbeef);
    const flop = 2 * n * n * n;
    let lastCheckpoint = performance.now();
    for (let it = start; it < iterations; it++) {
      throwIfAborted(ctx.signal);
      // large sizes take seconds per iteration: report progress inside the iteration too
      const ms = await matmulTimed(a, b, c, n, ctx.signal, (rows) =>
        ctx.progress({ step: it, total: iterations, fraction: (it + rows / n) / iterations, message: `iteration ${it + 1}/${iterations}: ${Math.round((100 * rows) / n)}% done` }),
      );
      const g = flop / (Math.max(ms, 1e-3) * 1e-3) / 1e9;
      gflops.push(g);
      ctx.progress({ step: it + 1, total: iterations, message: `iteration ${it + 1}/${iterations}: ${g.toFixed(2)} GFLOP/s (${n}×${n} float32 matmul)` });
      if (performance.now() - lastCheckpoint > 1000 && it + 1 < iterations) {
        await ctx.saveCheckpoint({ iteration: it + 1, gflops } satisfies StressCheckpoint);
        lastCheckpoint = performance.now();
      }
      await yieldNow();
    }
    let checksum = 0;
    for (let i = 0; i < c.length; i++) checksum += c[i]!;
    const sum = gflops.reduce((x, y) => x + y, 0);
    return {
      size: n,
      iterations,
      flopPerIteration: flop,
      gflops: { mean: sum / gflops.length, median: median(gflops), best: Math.max(...gflops), worst: Math.min(...gflops) },
      perIteration: gflops.slice(-1000),
      checksum,
      method: 'single-threaded JavaScript float32 matmul (i-k-j loop) in the job worker',
    };
  },
};
