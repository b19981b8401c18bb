// Crash/restart of the backend with a persisted queue, a 50-job queue restarted halfway, and the
// backend's event-loop responsiveness while two CPU-heavy jobs run.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, expect, test } from 'vitest';
import { harness, pidAlive, type Harness } from './helpers';

const HOST = join(import.meta.dirname, '../fixtures/runner-host.ts');
const live: Harness[] = [];
afterEach(async () => {
  for (const h of live.splice(0)) await h.dispose();
});

test('a crashed backend (SIGKILL): queued jobs stay queued, running ones become interrupted and resume from their checkpoint; no orphan worker', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lethe-jobs-crash-'));
  const specs = [
    { kind: 'test.steps', params: { steps: 10, ms: 120 } },
    { kind: 'test.steps', params: { steps: 3, ms: 10 } },
  ];
  const host = spawn(process.execPath, ['--import', 'tsx', HOST, root, JSON.stringify(specs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const ids: string[] = [];
  let workerPid = 0;
  let stderr = '';
  host.stderr.on('data', (d) => (stderr += d));
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    host.stdout.setEncoding('utf8');
    host.stdout.on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const [what, id, a, b] = buf.slice(0, i).split(' ');
        buf = buf.slice(i + 1);
        if (what === 'SUBMITTED') ids.push(id!);
        if (what === 'STATE' && id === ids[0] && a === 'running' && b !== '-') workerPid = Number(b);
        // crash once the first job has checkpointed a few steps
        if (what === 'PROGRESS' && id === ids[0] && Number(a) >= 3) resolve();
      }
    });
    host.on('exit', () => reject(new Error(`host exited early: ${stderr}`)));
  });
  host.kill('SIGKILL');
  await new Promise((r) => host.once('exit', r));
  expect(workerPid).toBeGreaterThan(0);
  // the worker notices its parent is gone and exits by itself
  const t0 = Date.now();
  while (pidAlive(workerPid) && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
  expect(pidAlive(workerPid)).toBe(false);

  const h = await harness({ concurrency: 1 }, root);
  live.push(h);
  const [a, b] = ids as [string, string];
  const ia = (await h.runner.get(a))!;
  expect(ia).toMatchObject({ state: 'interrupted', reason: 'Lethe stopped while this job was running.', resumable: true, attempt: 1 });
  expect(ia.progress!.step).toBeGreaterThanOrEqual(1);
  // b was still queued: it is started by the new runner without being asked
  const ib = await h.until(b, ['succeeded', 'failed']);
  expect(ib).toMatchObject({ state: 'succeeded', attempt: 1 });
  const resumed = await h.runner.resume(a);
  expect(resumed.state).toBe('queued');
  const done = await h.until(a, ['succeeded', 'failed']);
  expect(done).toMatchObject({ state: 'succeeded', attempt: 2 });
  expect((done.result as { stepsRun: number[] }).stepsRun).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // the resumed attempt started after the checkpoint, not from step 1
  const firstAfterResume = h.events.find((e) => e.type === 'progress' && e.id === a);
  expect(firstAfterResume && firstAfterResume.type === 'progress' && firstAfterResume.progress.step).toBeGreaterThan(1);
});

test('50 queued jobs, concurrency 1, runner restarted halfway: 0 lost, 0 duplicated', async () => {
  const h = await harness({ concurrency: 1 });
  live.push(h);
  const marks = join(h.root, 'marks.txt');
  writeFileSync(marks, '');
  const ids: string[] = [];
  for (let i = 0; i < 50; i++) ids.push((await h.runner.submit({ kind: 'test.mark', params: { file: marks, ms: 60 }, title: `job ${i}` })).id);
  expect(new Set(ids).size).toBe(50);
  while ((await h.runner.list({ states: ['succeeded'] })).length < 25) await new Promise((r) => setTimeout(r, 10));
  // restart while a job is mid-run (it has recorded its checkpoint and not finished)
  for (;;) {
    const running = await h.runner.list({ states: ['running'] });
    const rec = running[0] && (await h.ws.getRecord('jobs', running[0].id));
    if (rec?.blobs.checkpoint && (await h.runner.get(running[0]!.id))?.state === 'running') break;
    await new Promise((r) => setTimeout(r, 5));
  }
  await h.restart({ concurrency: 1 });
  const afterRestart = await h.runner.list();
  expect(afterRestart.map((j) => j.id)).toEqual(ids);
  const interrupted = afterRestart.filter((j) => j.state === 'interrupted');
  expect(interrupted.length).toBe(1);
  expect(interrupted[0]!.resumable).toBe(true);
  for (const j of interrupted) await h.runner.resume(j.id);
  const t0 = Date.now();
  while ((await h.runner.list({ states: ['succeeded'] })).length < 50) {
    const bad = await h.runner.list({ states: ['failed', 'cancelled'] });
    expect(bad).toEqual([]);
    if (Date.now() - t0 > 90_000) throw new Error('queue did not finish');
    await new Promise((r) => setTimeout(r, 50));
  }
  const all = await h.runner.list();
  expect(all.length).toBe(50);
  expect(all.map((j) => j.id).sort()).toEqual([...ids].sort());
  const lines = readFileSync(marks, 'utf8').trim().split('\n');
  const runs = new Map<string, number>();
  for (const l of lines) runs.set(l, (runs.get(l) ?? 0) + 1);
  for (const j of all) {
    expect(j.state).toBe('succeeded');
    expect(j.result).toEqual({ id: j.id });
    // executed exactly once per attempt, and only the interrupted job has a second attempt
    expect(runs.get(j.id) ?? 0).toBeLessThanOrEqual(j.attempt);
    expect(runs.get(j.id)).toBeGreaterThanOrEqual(1);
    expect(j.attempt).toBe(interrupted.some((x) => x.id === j.id) ? 2 : 1);
  }
  expect([...runs.keys()].sort()).toEqual([...ids].sort());
  console.log(`50-job queue: restart after 25, ${interrupted.length} interrupted and resumed, ${lines.length} executions recorded`);
});

test('the runner event loop stays responsive (p99 < 50 ms) while 2 CPU-heavy jobs run', async () => {
  const h = await harness({ concurrency: 2 });
  live.push(h);
  const a = await h.runner.submit({ kind: 'diagnostics.stress', params: { iterations: 100000, size: 256 } });
  const b = await h.runner.submit({ kind: 'diagnostics.stress', params: { iterations: 100000, size: 256 } });
  await h.untilProgress(a.id, 1);
  await h.untilProgress(b.id, 1);
  // The property is about the runner's own work (IPC, events, records), not about other programs
  // loading the machine: measure windows of 3.5 s, up to 3, and require one under budget.
  const measure = async () => {
    const hist = monitorEventLoopDelay({ resolution: 10 });
    hist.enable();
    const t0 = Date.now();
    let calls = 0;
    // meanwhile the runner keeps serving calls
    while (Date.now() - t0 < 3500) {
      await h.runner.list();
      calls++;
      await new Promise((r) => setTimeout(r, 25));
    }
    hist.disable();
    return { p99: hist.percentile(99) / 1e6, max: hist.max / 1e6, mean: hist.mean / 1e6, calls };
  };
  const fmt = (x: Awaited<ReturnType<typeof measure>>) =>
    `p99 ${x.p99.toFixed(1)} ms, max ${x.max.toFixed(1)} ms, mean ${x.mean.toFixed(1)} ms, ${x.calls} list calls`;
  const windows: Awaited<ReturnType<typeof measure>>[] = [];
  for (let w = 0; w < 3; w++) {
    windows.push(await measure());
    console.log(`event-loop delay (resolution 10 ms) with 2 CPU-heavy jobs running, 3.5 s window: ${fmt(windows.at(-1)!)}`);
    if (windows.at(-1)!.p99 < 50) break;
  }
  console.log(`${h.events.filter((e) => e.type === 'progress').length} progress events received`);
  expect((await h.runner.get(a.id))!.state).toBe('running');
  expect((await h.runner.get(b.id))!.state).toBe('running');
  const best = Math.min(...windows.map((x) => x.p99));
  if (best >= 50) {
    // Over budget in every window: find out whether the jobs cause it or the machine is loaded by
    // other programs. Pause both workers (SIGSTOP) and measure the same process without them.
    const pids = Object.values(h.runner.workerPids());
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    let baseline;
    try {
      baseline = await measure();
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    }
    console.log(`baseline with the workers paused: ${fmt(baseline)}`);
    // A runner whose own loop is fine shows the same delays with and without its jobs; only an
    // overloaded machine (baseline itself over budget) excuses missing the 50 ms budget.
    expect(baseline.p99, 'the jobs, not the machine, slow the event loop').toBeGreaterThanOrEqual(50);
    expect(best).toBeLessThan(baseline.p99 * 1.5 + 10);
  }
  await h.runner.cancel(a.id);
  await h.runner.cancel(b.id);
});
