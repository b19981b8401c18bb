#!/usr/bin/env node
// `npm test`: the whole suite, in order: typecheck, lint, unit tests (Vitest), end-to-end tests
// (Chromium). Every stage runs even if an earlier one failed, so one run shows everything. Prints a
// per-stage table and, as the LAST line, `N passed, N failed`, where N counts Vitest test cases plus
// e2e tests, with typecheck and lint counted as one test each. Exits non-zero if anything failed.
//
// Usage: node scripts/test.mjs [stage ...]   (stages: typecheck lint unit e2e; default: all)

import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(ROOT, 'test-results');
const VITEST_JSON = path.join(RESULTS, 'vitest.json');
const E2E_JSON = path.join(RESULTS, 'e2e', 'results.json');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const bin = (name) => path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? `${name}.cmd` : name);

const STAGES = {
  typecheck: { cmd: NPM, args: ['run', '--silent', 'typecheck'], count: single },
  lint: { cmd: NPM, args: ['run', '--silent', 'lint'], count: single },
  unit: {
    cmd: bin('vitest'),
    args: ['run', '--reporter=default', '--reporter=json', `--outputFile=${path.relative(ROOT, VITEST_JSON)}`],
    before: () => fs.rm(VITEST_JSON, { force: true }),
    count: countVitest,
  },
  e2e: { cmd: process.execPath, args: [path.join('scripts', 'e2e.mjs')], before: () => fs.rm(E2E_JSON, { force: true }), count: countE2e },
};

function single(code) {
  return { passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, note: code === 0 ? '' : `exit code ${code}` };
}

async function readJson(file) {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8'));
  } catch {
    return null;
  }
}

async function countVitest(code) {
  const report = await readJson(VITEST_JSON);
  if (!report) return { passed: 0, failed: 1, note: `no ${path.relative(ROOT, VITEST_JSON)} (exit code ${code})` };
  const passed = report.numPassedTests ?? 0;
  let failed = report.numFailedTests ?? 0;
  // A test file that fails to load has no test cases; count it as one failure so it is not lost.
  const brokenFiles = (report.testResults ?? []).filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'));
  failed += brokenFiles.length;
  const notes = brokenFiles.map((f) => `${path.relative(ROOT, f.name)} failed to run`);
  // Vitest also fails the run for unhandled errors outside any test.
  if (code !== 0 && failed === 0) {
    failed = 1;
    notes.push(`vitest exited with ${code} (unhandled errors?)`);
  }
  if (passed === 0 && failed === 0) notes.push('no tests ran');
  // Name every failed case (and its first message line) so the summary at the end of the log, which is
  // what a CI excerpt shows, says what failed without scrolling back through the stage's output.
  const failures = [];
  for (const file of report.testResults ?? []) {
    const rel = path.relative(ROOT, file.name);
    for (const a of file.assertionResults ?? []) {
      if (a.status !== 'failed') continue;
      const first = String((a.failureMessages ?? [])[0] ?? '').split('\n')[0].slice(0, 300);
      failures.push(`${rel} > ${a.fullName ?? a.title}${a.duration != null ? ` (${Math.round(a.duration)} ms)` : ''}: ${first}`);
    }
  }
  for (const f of brokenFiles) failures.push(`${path.relative(ROOT, f.name)}: ${String(f.message ?? '').split('\n')[0].slice(0, 300)}`);
  return { passed, failed, note: notes.join('; '), failures };
}

async function countE2e(code) {
  const report = await readJson(E2E_JSON);
  if (!report) return { passed: 0, failed: 1, note: `no ${path.relative(ROOT, E2E_JSON)} (exit code ${code})` };
  let failed = report.failed ?? 0;
  const note = [];
  if (code !== 0 && failed === 0) {
    failed = 1;
    note.push(`e2e exited with ${code}`);
  }
  // scripts/e2e.mjs writes { name, status, error } per test
  const failures = (report.tests ?? []).filter((t) => t.status === 'failed').map((t) => `${t.name}: ${String(t.error ?? '').split('\n')[0].slice(0, 300)}`);
  return { passed: report.passed ?? 0, failed, note: note.join('; '), failures };
}

function runStage(name, { cmd, args }) {
  return new Promise((resolve) => {
    process.stdout.write(`\n=== ${name}: ${[path.basename(cmd), ...args].join(' ')}\n`);
    const child = spawn(cmd, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? '1' } });
    child.on('error', (err) => {
      process.stdout.write(`${name}: could not start ${cmd}: ${err.message}\n`);
      resolve(127);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

async function main() {
  const requested = process.argv.slice(2);
  const unknown = requested.filter((s) => !(s in STAGES));
  if (unknown.length) {
    process.stderr.write(`test.mjs: unknown stage(s) ${unknown.join(', ')}; choose from ${Object.keys(STAGES).join(', ')}\n`);
    process.exit(2);
  }
  const names = requested.length ? requested : Object.keys(STAGES);
  await fs.mkdir(RESULTS, { recursive: true });
  if (!existsSync(path.join(ROOT, 'node_modules'))) {
    process.stderr.write('test.mjs: node_modules is missing; run `npm install` first\n');
    process.exit(2);
  }

  const rows = [];
  for (const name of names) {
    const stage = STAGES[name];
    await stage.before?.();
    const t0 = Date.now();
    const code = await runStage(name, stage);
    const counts = await stage.count(code);
    rows.push({ name, seconds: (Date.now() - t0) / 1000, ...counts });
  }

  const passed = rows.reduce((s, r) => s + r.passed, 0);
  const failed = rows.reduce((s, r) => s + r.failed, 0);
  await fs.writeFile(path.join(RESULTS, 'summary.json'), JSON.stringify({ passed, failed, stages: rows }, null, 2) + '\n');

  process.stdout.write('\n=== summary\n');
  for (const r of rows) {
    const status = r.failed ? 'FAIL' : 'ok';
    process.stdout.write(
      `${status.padEnd(5)}${r.name.padEnd(11)}${String(r.passed).padStart(5)} passed ${String(r.failed).padStart(4)} failed ${r.seconds.toFixed(1).padStart(7)} s${r.note ? `  (${r.note})` : ''}\n`,
    );
  }
  const failures = rows.flatMap((r) => (r.failures ?? []).map((f) => `${r.name}: ${f}`));
  if (failures.length) {
    process.stdout.write('\n=== failed\n');
    for (const f of failures) process.stdout.write(`FAIL ${f}\n`);
  }
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  process.exitCode = failed ? 1 : 0;
}

await main();
