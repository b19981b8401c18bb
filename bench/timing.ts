// Throughput measurement shared by the Lethe side of the benchmark: warm-up, then several passes of at
// least `minSeconds` each; the median pass rate is reported (robust to a noisy shared machine).

export interface TimingOptions {
  warmup: number;
  passes: number;
  minSeconds: number;
}

export async function samplesPerSecond(fn: () => Promise<unknown>, batch: number, o: TimingOptions): Promise<number> {
  for (let i = 0; i < o.warmup; i++) await fn();
  const rates: number[] = [];
  for (let p = 0; p < o.passes; p++) {
    let n = 0;
    const t0 = performance.now();
    let dt = 0;
    do {
      await fn();
      n++;
      dt = (performance.now() - t0) / 1000;
    } while (dt < o.minSeconds);
    rates.push((n * batch) / dt);
  }
  return median(rates);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
