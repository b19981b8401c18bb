// Benchmark: import the 70,000-image Fashion-MNIST into a fresh workspace (goal: < 10 s on 2 cores).
// Run: npx tsx bench/dataset-import.ts [--runs 3]. Prints one line per source and run, then the median.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { openWorkspace } from '../main/backend/workspace';
import { importDataset } from '../main/engine/data/import';
import { listBuiltins } from '../main/engine/data/importers/builtin';

const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;

async function main() {
  console.log(`# Dataset import benchmark: ${os.cpus()[0]?.model ?? 'cpu'} x ${os.availableParallelism?.() ?? os.cpus().length}, Node ${process.version}, load ${os.loadavg()[0].toFixed(1)}`);
  const sources = listBuiltins().filter((b) => b.present && b.name !== 'mnist-sample');
  for (const b of sources) {
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const dir = mkdtempSync(join(os.tmpdir(), 'lethe-bench-'));
      const ws = await openWorkspace(join(dir, 'ws'));
      try {
        const t0 = performance.now();
        const rec = await importDataset(ws, { format: 'builtin', source: b.name, name: b.name });
        const s = (performance.now() - t0) / 1000;
        times.push(s);
        console.log(`${b.name}: run ${r + 1}: ${rec.data.count} examples in ${s.toFixed(2)} s (${Math.round(rec.data.count / s)} examples/s)`);
      } finally {
        await ws.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
    times.sort((a, b) => a - b);
    console.log(`${b.name}: median ${times[Math.floor(times.length / 2)].toFixed(2)} s over ${runs} runs (goal < 10 s)`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
