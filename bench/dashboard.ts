// npm run bench:dashboard — the evaluation dashboard with 70,000 examples per model, measured in
// Chromium. Writes a temporary workspace holding a comparison of six models (original, retrain
// reference and four unlearned models) whose stored outputs cover 6,000 forget, 54,000 retain and
// 10,000 test rows (the size of Fashion-MNIST), builds the web renderer, serves both with
// main/server/serve.ts and, in /usr/bin/chromium (playwright-core), measures:
//   - first render: click on the comparison -> the table and every chart of the page drawn (SVG paths
//     present), cold (the backend computes the attack simulation from 6 × 70,000 rows) and warm;
//   - the attack-threshold slider: input event -> rates and threshold marker updated in the DOM, and
//     -> the next painted frame (median and p95 over 40 moves);
//   - release of the slider: change -> the engine's histogram at that threshold drawn (a backend call).
// Prints a markdown section for docs/benchmarks.md. Not a test: it measures this machine.
//
// Flags: --no-build (serve out/renderer), --keep (keep the temporary folder).

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { openWorkspace } from '../main/backend/workspace';
import { computeMetrics, METRICS } from '../main/engine/eval';
import { mulberry32 } from '../main/engine/eval/util';
import { encodeOutputs, type StoredOutputs } from '../main/engine/runs/outputs';
import type { ComparisonEntry, ComparisonManifest, MetricSummary, RunManifest, TypedRef } from '../main/engine/runs/contract-types';

const ROOT = resolve(import.meta.dirname, '..');
const CHROMIUM = process.env.LETHE_CHROMIUM || '/usr/bin/chromium';
const noBuild = process.argv.includes('--no-build');
const keep = process.argv.includes('--keep');
const COUNTS = { forget: 6000, retain: 54000, test: 10000 };
const N = COUNTS.forget + COUNTS.retain + COUNTS.test;
const C = 10;
const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** How sure a model is of the true class per split (mean true-class logit margin): members above non-members. */
const MODELS: { key: string; label: string; role: ComparisonEntry['role']; method: string | null; sure: [number, number, number]; seconds: number | null }[] = [
  { key: 'original', label: 'Original (bench-cnn)', role: 'original', method: null, sure: [5.5, 5.5, 3.6], seconds: null },
  { key: 'retrain', label: 'Retrain (reference)', role: 'reference', method: 'retrain', sure: [3.5, 5.6, 3.6], seconds: 120 },
  { key: 'ft', label: 'FT (fine-tune)', role: 'unlearned', method: 'ft', sure: [4.6, 5.7, 3.7], seconds: 31 },
  { key: 'ga', label: 'GA (gradient ascent)', role: 'unlearned', method: 'ga', sure: [5.0, 5.4, 3.5], seconds: 4 },
  { key: 'rl', label: 'RL (random labels)', role: 'unlearned', method: 'rl', sure: [2.4, 5.3, 3.4], seconds: 36 },
  { key: 'salun', label: 'SalUn', role: 'unlearned', method: 'salun', sure: [3.3, 5.5, 3.6], seconds: 40 },
];

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

function outputsOf(sure: [number, number, number], seed: number): StoredOutputs {
  const r = mulberry32(seed);
  const split = new Uint8Array(N);
  const labels = new Int32Array(N);
  const logits = new Float32Array(N * C);
  const ids: string[] = [];
  for (let i = 0; i < N; i++) {
    const s = i < COUNTS.forget ? 0 : i < COUNTS.forget + COUNTS.retain ? 1 : 2;
    split[i] = s;
    const y = s === 0 ? 8 : i % C; // the forget set: class Bag
    labels[i] = y;
    for (let k = 0; k < C; k++) logits[i * C + k] = gauss(r);
    logits[i * C + y] += sure[s] + 1.6 * gauss(r);
    ids.push(`${s === 2 ? 'test' : 'train'}-${i}`);
  }
  // layer activations on a seeded sample of 200 rows per split (3 layers), for CKA
  const sample = Int32Array.from([...Array(200).keys()].flatMap((k) => [k * 29, COUNTS.forget + k * 269, COUNTS.forget + COUNTS.retain + k * 49]).sort((a, b) => a - b));
  const base = mulberry32(7);
  const activations = [32, 16, 10].map((dim, layer) => {
    const data = new Float32Array(sample.length * dim);
    for (let j = 0; j < data.length; j++) data[j] = gauss(base) + (0.15 + 0.2 * layer) * gauss(r);
    return { layer: ['relu1', 'features', 'logits'][layer], dim, data };
  });
  return { ids, split, labels, logits, numClasses: C, n: N, sample, activations };
}

const ref = (kind: TypedRef['kind'], id: string): TypedRef => ({ kind, id, sha256: 'b'.repeat(64) });
const summary = (v: number | null, missing?: string): MetricSummary => ({ values: [v], mean: v, sd: null, lo: v, hi: v, n: v === null ? 0 : 1, gapToRetrain: null, ...(missing ? { missing } : {}) });

async function writeWorkspace(dir: string): Promise<string> {
  const ws = await openWorkspace(dir);
  const t0 = performance.now();
  const outs = MODELS.map((m, i) => outputsOf(m.sure, 1000 + i));
  const counts = { train: 60000, forget: COUNTS.forget, retain: COUNTS.retain, heldOut: 1000, test: COUNTS.test, notTrained: 0 };
  const entries: ComparisonEntry[] = [];
  const ids = ['forget-accuracy', 'retain-accuracy', 'test-accuracy', 'unlearning-accuracy', 'per-class-accuracy', 'confusion', 'logit-confidence', 'tow', 'kl-to-retrain', 'js-to-retrain', 'layer-cka', 'run-time'];
  for (const [i, m] of MODELS.entries()) {
    const blob = await ws.putBlob(encodeOutputs(outs[i]));
    const runId = `run-bench-${m.key}`;
    const guardrail =
      m.role === 'unlearned'
        ? { settings: { maxDropPoints: 5, action: 'stop' as const, sliceSize: 1000 }, sliceSize: 1000, baseline: 88, lowest: 86, tripped: false, trippedAtStep: null, stopped: false, checks: [...Array(12).keys()].map((k) => ({ step: (k + 1) * 50, accuracy: 88 - 2 * Math.sin(k / 3) })) }
        : null;
    const manifest: RunManifest = {
      format: 'lethe.run/1',
      type: m.method ? 'unlearn' : 'evaluate',
      cacheKey: runId,
      refs: { original: ref('models', 'bench-cnn'), forgetSet: ref('forgetSets', 'bench-bag'), dataset: ref('datasets', 'bench-fmnist'), outputs: ref('runs', runId), ...(m.method ? { output: ref('models', `bench-cnn-${m.key}`) } : {}) },
      method: m.method ? { id: m.method, name: m.label, exact: m.method === 'retrain', params: {} } : null,
      seed: 0,
      guardrail,
      seconds: m.seconds,
      steps: 600,
      timings: m.seconds === null ? undefined : { load: 2, method: m.seconds, evaluate: 9, save: 0.3 },
      stats: {},
      notes: [],
      counts,
      summary: { forgetAccuracy: 0, retainAccuracy: 0, testAccuracy: 0 },
      environment: { provider: 'cpu', threads: 2, app: 'bench', onnxruntime: '-', node: process.version, os: process.platform, cpu: cpus()[0]?.model ?? '' },
      startedAt: '2026-12-03T00:00:00.000Z',
      endedAt: '2026-12-03T00:01:00.000Z',
    };
    await ws.putRecord<RunManifest>('runs', runId, manifest, { outputs: blob });
    const values = computeMetrics(
      {
        model: outs[i],
        original: outs[0],
        reference: m.key === 'retrain' ? undefined : outs[1],
        activations: { model: outs[i].activations, original: outs[0].activations, ...(m.key === 'retrain' ? {} : { reference: outs[1].activations }), sampleSplit: Uint8Array.from(outs[i].sample, (row) => outs[i].split[row]) },
        ...(m.seconds !== null ? { runSeconds: m.seconds } : {}),
      },
      ids,
    );
    const metrics: Record<string, MetricSummary> = {};
    const extras: Record<string, Record<string, unknown>> = {};
    for (const d of METRICS) {
      const v = values[d.id];
      metrics[d.id] = summary(v?.value ?? null, v ? v.missing : 'not computed in the benchmark');
      if (v?.extra) extras[d.id] = v.extra;
    }
    entries.push({ key: m.key, label: m.label, role: m.role, method: m.method ? { id: m.method, name: m.label, exact: m.method === 'retrain', params: {} } : null, runs: [{ seed: 0, run: ref('runs', runId), model: ref('models', `bench-cnn-${m.key}`), seconds: m.seconds, guardrail: null, notes: [] }], metrics, extras });
  }
  const r = entries.find((e) => e.role === 'reference')!;
  for (const e of entries) if (e !== r) for (const [id, s] of Object.entries(e.metrics)) if (s.mean !== null && r.metrics[id]?.mean !== null && r.metrics[id]?.mean !== undefined) s.gapToRetrain = Math.abs(s.mean - r.metrics[id].mean!);
  const cmp: ComparisonManifest = {
    format: 'lethe.comparison/1',
    name: 'bench: 70,000 examples, 6 models',
    refs: { forgetSet: ref('forgetSets', 'bench-bag'), dataset: ref('datasets', 'bench-fmnist'), original: ref('models', 'bench-cnn') },
    forgetSetName: 'bench-bag',
    datasetName: 'bench-fmnist',
    classNames: CLASSES,
    counts,
    seeds: 1,
    metrics: METRICS.map((d) => ({ id: d.id, name: d.name, unit: d.unit, formula: d.formula, source: d.source, better: d.better })),
    entries,
    createdAt: new Date().toISOString(),
  };
  await ws.putRecord<ComparisonManifest>('comparisons', 'cmp-bench-70k', cmp);
  await ws.close();
  process.stderr.write(`workspace written in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return 'cmp-bench-70k';
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((ok, fail) => {
    const c = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    c.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`${cmd} ${args.join(' ')} exited with ${code}`))));
  });
}

function serve(workspace: string, staticDir: string): Promise<{ url: string; child: ChildProcess }> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'main/server/serve.ts'), '--workspace', workspace], { cwd: ROOT, env: { ...process.env, LETHE_WORKSPACE: workspace, LETHE_STATIC_DIR: staticDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const on = (d: Buffer) => {
      out += d;
      const m = /Lethe is running at (http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]+)/.exec(out);
      if (m) ok({ url: m[1], child });
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.on('exit', (code) => fail(new Error(`serve exited with ${code}: ${out}`)));
  });
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p95: q(0.95), max: s[s.length - 1] };
};
const ms = (v: number) => `${v.toFixed(1)} ms`;

const tmp = mkdtempSync(join(tmpdir(), 'lethe-bench-dashboard-'));
const load0 = loadavg()[0];
let server: ChildProcess | null = null;
try {
  const wsDir = join(tmp, 'ws');
  const id = await writeWorkspace(wsDir);
  let staticDir = join(ROOT, 'out', 'renderer');
  if (!noBuild) {
    staticDir = join(tmp, 'renderer');
    await run(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '-c', 'vite.web.config.ts', '--outDir', staticDir, '--emptyOutDir', '--logLevel', 'warn']);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}`);
  const s = await serve(wsDir, staticDir);
  server = s.child;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  await page.goto(s.url, { waitUntil: 'load' });
  await page.click('nav [data-nav="compare"]');
  await page.waitForSelector(`[data-comparison-id="${id}"]`, { timeout: 20_000 }).catch(async (e) => {
    await page.screenshot({ path: join(tmpdir(), 'lethe-bench-dashboard-failed.png') });
    throw e;
  });

  const CHARTS = ['chart-tradeoff', 'chart-gaps', 'chart-per-class', 'chart-confusion', 'attack-histogram', 'attack-roc', 'chart-cka', 'chart-unlearning', 'chart-run-times'];
  async function firstRender(): Promise<{ table: number; all: number }> {
    const t0 = Date.now();
    await page.click(`[data-comparison-id="${id}"]`);
    await page.waitForSelector('[data-testid="comparison-table"] tbody tr', { timeout: 120_000 });
    const table = Date.now() - t0;
    for (const c of CHARTS) await page.waitForSelector(`[data-testid="${c}"] svg path, [data-testid="${c}"] [data-testid="chart-empty"]`, { state: 'attached', timeout: 120_000 });
    await page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))");
    return { table, all: Date.now() - t0 };
  }
  const cold = await firstRender();
  const attackMs = await page.$eval('[data-testid="attack-panel"] .note', (e) => e.textContent ?? '');
  // warm: the same comparison again from a fresh page (backend caches warm, renderer caches empty)
  // (the token lives in the page's memory only: a fresh document from the printed address)
  await page.goto('about:blank');
  await page.goto(s.url, { waitUntil: 'load' });
  await page.click('nav [data-nav="compare"]');
  await page.waitForSelector(`[data-comparison-id="${id}"]`);
  const warm = await firstRender();

  await page.$eval('[data-testid="attack-threshold"]', (e) => e.scrollIntoView());
  // in-page code as text: tsx would wrap named functions in a helper the page does not have
  const slider = (await page.evaluate(`(async () => {
    const el = document.querySelector('[data-testid="attack-threshold"]'); 
    const rates = document.querySelector('[data-testid="attack-rates"]'); 
    const svg = () => document.querySelector('[data-testid="attack-histogram"] svg'); 
    const dom = [];
    const frame = [];
    const max = Number(el.max);
    for (let i = 0; i < 40; i++) {
      const v = i % 2 === 0 ? Math.round(max * 0.2) + i : Math.round(max * 0.8) - i;
      const before = rates.textContent;
      const svgBefore = svg().innerHTML.length + svg().innerHTML.slice(-2000);
      const t0 = performance.now();
      el.value = String(v);
      if (Number(el.value) !== v) throw new Error('slider value ' + v + ' refused');
      el.dispatchEvent(new Event('input', { bubbles: true }));
      // Vue updates the DOM and vue-echarts redraws in the same task's microtasks
      await Promise.resolve();
      await new Promise((r) => setTimeout(r, 0));
      const t1 = performance.now();
      if (rates.textContent === before) throw new Error('the rates did not change');
      if (svg().innerHTML.length + svg().innerHTML.slice(-2000) === svgBefore) throw new Error('the chart did not change');
      dom.push(t1 - t0);
      await new Promise((r) => requestAnimationFrame(() => r(null)));
      frame.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 30));
    }
    // release: the engine's histogram at that threshold (a backend call) replaces the patched one
    const t0 = performance.now();
    el.dispatchEvent(new Event('change', { bubbles: true }));
    const sub = () => svg().textContent ?? '';
    const start = sub();
    while (sub() === start && performance.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 2));
    return { dom, frame, release: performance.now() - t0 };
})()`)) as { dom: number[]; frame: number[]; release: number };
  // another score: the backend scores every row again from the decoded outputs it keeps
  const tf = Date.now();
  await page.selectOption('[data-field="attack-feature"]', 'entropy');
  // polled from here: the page's CSP forbids the eval that waitForFunction uses
  while (!String(await page.evaluate(`document.querySelector('[data-testid="attack-histogram"] svg')?.textContent ?? ''`)).includes('Entropy of the output')) {
    if (Date.now() - tf > 120_000) throw new Error('the entropy histogram was not drawn');
    await new Promise((r) => setTimeout(r, 5));
  }
  const switchMs = Date.now() - tf;
  const d = stats(slider.dom);
  const f = stats(slider.frame);
  await browser.close();
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const lines = [
    '## Evaluation dashboard with 70,000 examples',
    '',
    `\`npm run bench:dashboard\` (bench/dashboard.ts), ${new Date().toISOString().slice(0, 10)}, ${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GB, load average ${load0.toFixed(2)} at the start, Chromium headless (SVG renderer), window 1440 × 900.`,
    `A comparison of 6 models (original, retrain reference, 4 unlearned), each with stored outputs on 70,000 rows (6,000 forget, 54,000 retain, 10,000 test; 10 classes): the attack simulation reads every row of every model in the backend; only binned counts, member rates at each bin edge and ROC curves sampled to ~240 points evenly in log FPR reach the page.`,
    '',
    '| measure | time |',
    '| --- | --- |',
    `| first render, cold (click on the comparison → table and ${CHARTS.length} charts drawn; backend computes the attack) | ${cold.all} ms (table ${cold.table} ms) |`,
    `| first render, warm (backend caches warm, new page) | ${warm.all} ms (table ${warm.table} ms) |`,
    `| attack simulation in the backend (6 × 70,000 rows, confidence) | ${/(\d+) ms/.exec(attackMs)?.[1] ?? '?'} ms |`,
    `| threshold slider, input → rates and marker updated in the DOM (40 moves) | median ${ms(d.median)}, p95 ${ms(d.p95)}, max ${ms(d.max)} |`,
    `| threshold slider, input → next frame | median ${ms(f.median)}, p95 ${ms(f.p95)} |`,
    `| slider release → the engine's histogram at that threshold drawn (API call) | ${ms(slider.release)} |`,
    `| another score (entropy) → its histogram drawn (backend scores 6 × 70,000 rows from kept outputs) | ${switchMs} ms |`,
    '',
    problems.length ? `Console errors: ${problems.join('; ')}` : 'No console errors or CSP violations.',
  ];
  process.stdout.write(lines.join('\n') + '\n');
} finally {
  if (server) server.kill('SIGTERM');
  if (!keep) rmSync(tmp, { recursive: true, force: true });
  else process.stderr.write(`kept ${tmp}\n`);
}
