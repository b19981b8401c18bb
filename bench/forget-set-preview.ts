// Benchmark: forget-set preview on the 70,000-example Fashion-MNIST sample, as the API process runs it
// (datasets.preview is answered in the main process, so its longest synchronous stretch is what the UI
// and every other request wait for). Prints, per rule, the wall time of the first preview (which also
// sorts the dataset's IDs once into canonical order) and the medians of 5 more, with the longest
// event-loop block seen by a 1 ms timer.
// Run: npx tsx bench/forget-set-preview.ts

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { openWorkspace } from '../main/backend/workspace';
import { importDataset } from '../main/engine/data/import';
import { closeReaders } from '../main/backend/services/datasets';
import { previewForgetSet } from '../main/backend/services/forget-sets';
import type { ForgetRuleInput } from '../preload/api/datasets';

const RULES: ForgetRuleInput[] = [
  { kind: 'class', classes: [0] },
  { kind: 'random', count: 600 },
  { kind: 'random', fraction: 0.5 },
];

async function main() {
  console.log(`# Forget-set preview benchmark: ${os.cpus()[0]?.model ?? 'cpu'} x ${os.availableParallelism?.() ?? os.cpus().length}, Node ${process.version}, load ${os.loadavg()[0].toFixed(1)}`);
  const dir = mkdtempSync(join(os.tmpdir(), 'lethe-bench-'));
  const ws = await openWorkspace(join(dir, 'ws'));
  try {
    const rec = await importDataset(ws, { format: 'builtin', source: 'fashion-mnist-sample', name: 'fm' });
    for (const rule of RULES) {
      const walls: number[] = [];
      const blocks: number[] = [];
      for (let k = 0; k < 6; k++) {
        let last = performance.now();
        let maxGap = 0;
        const t = setInterval(() => {
          const now = performance.now();
          maxGap = Math.max(maxGap, now - last);
          last = now;
        }, 1);
        const t0 = performance.now();
        await previewForgetSet(ws, { datasetId: rec.id, rule }, { scoring: 'cache-only' });
        walls.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 5));
        clearInterval(t);
        blocks.push(maxGap);
      }
      const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)].toFixed(0);
      console.log(`${JSON.stringify(rule)}: first ${walls[0].toFixed(0)} ms; then median ${median(walls.slice(1))} ms wall, longest event-loop block ${median(blocks.slice(1))} ms`);
    }
  } finally {
    await closeReaders(ws);
    await ws.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
