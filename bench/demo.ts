// npm run bench:demo — time `lethe demo` end to end in a fresh temporary workspace (2 threads by
// default) and say where the time goes: per stage, and within the unlearning runs how much is the
// methods themselves, evaluating every example, the membership-inference SVC and the rest. Prints a
// markdown section for docs/benchmarks.md. Not a test: it measures this machine.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openWorkspace } from '../main/backend/workspace';
import { runDemo } from '../main/backend/services/demo';
import { closeReaders } from '../main/backend/services/datasets';
import type { RunManifest } from '../main/engine/runs/contract-types';

const threads = Number(process.argv.find((a) => a.startsWith('--threads='))?.split('=')[1] ?? 2);
const root = mkdtempSync(join(tmpdir(), 'lethe-bench-demo-'));
const load0 = loadavg()[0];
const ws = await openWorkspace(root);
const t0 = performance.now();
let result;
try {
  result = await runDemo(ws, { threads }, { progress: (s, f) => process.stderr.write(`\r[${(f * 100).toFixed(0).padStart(3)}%] ${s.padEnd(40)}`) });
} finally {
  process.stderr.write('\n');
}
const wall = (performance.now() - t0) / 1000;
const runs = (await ws.listRecords<RunManifest>('runs')).map((r) => r.data);
await closeReaders(ws);
await ws.close();
const load1 = loadavg()[0];

const sum = (f: (r: RunManifest) => number) => runs.reduce((a, r) => a + f(r), 0);
const unlearn = runs.filter((r) => r.type === 'unlearn');
const method = sum((r) => r.timings?.method ?? 0);
const evaluate = sum((r) => r.timings?.evaluate ?? 0);
const load = sum((r) => r.timings?.load ?? 0);
const save = sum((r) => r.timings?.save ?? 0);
const runStages = result.stages.filter((s) => s.stage.includes(': ') && !s.stage.endsWith('compare'));
const runStageTotal = runStages.reduce((a, s) => a + s.seconds, 0);
const compare = result.stages.filter((s) => s.stage.endsWith('compare')).reduce((a, s) => a + s.seconds, 0);
const other = result.stages.filter((s) => !s.stage.includes(': ')).reduce((a, s) => a + s.seconds, 0);
const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU';
const flags = (() => {
  try {
    const f = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].split(/\s+/) ?? [];
    return ['avx2', 'avx512f', 'amx_tile'].filter((x) => f.includes(x)).join(' ');
  } catch {
    return '';
  }
})();
const pct = (x: number) => `${((100 * x) / wall).toFixed(0)}%`;
const lines = [
  `Command: \`npm run bench:demo\` (runs \`lethe demo\`'s pipeline in a fresh workspace, ${threads} threads). Machine: ${cpu}, ${cpus().length} cores${flags ? ` (${flags})` : ''}; Node ${process.versions.node}. Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; 1-minute load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end.`,
  '',
  `**Total: ${wall.toFixed(0)} s** (${(wall / 60).toFixed(1)} min) for ${unlearn.length} unlearning runs (retrain + 7 methods on each of 2 forget sets) and 2 comparisons.`,
  '',
  '| where the time goes | seconds | share |',
  '| --- | --- | --- |',
  `| dataset import, model, training the original, forget sets | ${other.toFixed(0)} | ${pct(other)} |`,
  `| the methods themselves (incl. retrain; guardrail checks included) | ${method.toFixed(0)} | ${pct(method)} |`,
  `| evaluating every forget/retain/test example of each new model | ${evaluate.toFixed(0)} | ${pct(evaluate)} |`,
  `| data loading, saving (rest of the run stages) | ${(runStageTotal - method - evaluate).toFixed(0)} | ${pct(runStageTotal - method - evaluate)} |`,
  `| comparisons: every model's MIA SVC fit (side by side, one per thread), the original's evaluation, every metric, relearning probes | ${compare.toFixed(0)} | ${pct(compare)} |`,
  '',
  `(data loading ${load.toFixed(1)} s and saving ${save.toFixed(1)} s of the run stages are inside the fourth row.)`,
  '',
  '| stage | seconds |',
  '| --- | --- |',
  ...result.stages.map((s) => `| ${s.stage} | ${s.seconds.toFixed(1)} |`),
];
console.log(lines.join('\n'));
rmSync(root, { recursive: true, force: true });
