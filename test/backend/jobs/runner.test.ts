import { afterEach, describe, expect, test } from 'vitest';
import { ApiError } from '../../../preload/api/common';
import type { JobEvent } from '../../../preload/api/jobs';
import { harness, pidAlive, type Harness } from './helpers';

const live: Harness[] = [];
async function make(...args: Parameters<typeof harness>) {
  const h = await harness(...args);
  live.push(h);
  return h;
}
afterEach(async () => {
  for (const h of live.splice(0)) await h.dispose();
});

async function rejectsWith(p: Promise<unknown>, code: string, msg: RegExp) {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  expect((err as ApiError).code).toBe(code);
  expect((err as ApiError).message).toMatch(msg);
}

const progressOf = (events: JobEvent[], id: string) =>
  events.flatMap((e) => (e.type === 'progress' && e.id === id ? [e.progress] : []));

describe('submit and progress', () => {
  test('kinds, validation and unknown kinds', async () => {
    const h = await make();
    const kinds = h.runner.kinds().map((k) => k.kind);
    expect(kinds).toEqual(expect.arrayContaining(['workspace.verify', 'diagnostics.stress', 'test.steps']));
    expect(h.runner.kinds().find((k) => k.kind === 'diagnostics.stress')).toMatchObject({ resumable: true });
    await rejectsWith(h.runner.submit({ kind: 'nope', params: {} }), 'invalid_argument', /Unknown job kind "nope"; known kinds: .*workspace.verify/);
    await rejectsWith(h.runner.submit({ kind: 'diagnostics.stress', params: { size: 5 } }), 'invalid_argument', /size must be a whole number from 8 to 2048, got 5/);
    await rejectsWith(h.runner.submit({ kind: 'diagnostics.stress', params: { iterations: 1.5 } }), 'invalid_argument', /iterations must be a whole number/);
    await rejectsWith(h.runner.submit({ kind: 'diagnostics.stress', params: { sizes: 5 } }), 'invalid_argument', /unknown parameter "sizes"/);
    await rejectsWith(h.runner.submit({ kind: 'workspace.verify', params: { x: 1 } }), 'invalid_argument', /takes no parameters/);
    await rejectsWith(h.runner.cancel('job-missing'), 'not_found', /No job with id/);
    expect(await h.runner.list()).toEqual([]);
    expect(await h.runner.get('job-missing')).toBeNull();
  });

  test('progress, logs, ETA and result stream from the worker; state is persisted', async () => {
    const h = await make();
    const job = await h.runner.submit({ kind: 'test.steps', params: { steps: 8, ms: 120 }, title: 'eight steps' });
    expect(job).toMatchObject({ state: 'queued', title: 'eight steps', attempt: 0 });
    const done = await h.until(job.id, ['succeeded', 'failed']);
    expect(done.state).toBe('succeeded');
    expect(done.result).toEqual({ stepsRun: [0, 1, 2, 3, 4, 5, 6, 7] });
    expect(done.attempt).toBe(1);
    const prog = progressOf(h.events, job.id);
    expect(prog.length).toBeGreaterThanOrEqual(6);
    expect(prog.map((p) => p.step)).toEqual([...prog.map((p) => p.step)].sort((a, b) => a - b));
    expect(prog.at(-1)).toMatchObject({ step: 8, total: 8, fraction: 1, message: 'step 8' });
    const etas = prog.map((p) => p.etaSeconds).filter((x): x is number => typeof x === 'number');
    expect(etas.length).toBeGreaterThan(3);
    // ETA from the step rate: ~0.12 s per step
    const mid = prog.find((p) => p.step === 4)!;
    expect(mid.etaSeconds!).toBeGreaterThan(0.2);
    expect(mid.etaSeconds!).toBeLessThan(2.5);
    const logs = h.events.filter((e) => e.type === 'log' && e.id === job.id);
    expect(logs.length).toBe(8);
    const states = h.events.flatMap((e) => (e.type === 'state' && e.job.id === job.id ? [e.job.state] : []));
    expect(states).toEqual(['queued', 'running', 'succeeded']);
    const rec = await h.ws.getRecord<{ state: string; result: unknown }>('jobs', job.id);
    expect(rec?.data).toMatchObject({ state: 'succeeded', result: { stepsRun: [0, 1, 2, 3, 4, 5, 6, 7] } });
    expect(rec?.blobs.checkpoint).toBeDefined();
  });

  test('diagnostics.stress measures GFLOP/s and throttles progress to ~10 per second', async () => {
    const h = await make();
    const t0 = Date.now();
    const job = await h.runner.submit({ kind: 'diagnostics.stress', params: { iterations: 400, size: 48 } });
    const done = await h.until(job.id, ['succeeded', 'failed']);
    const secs = (Date.now() - t0) / 1000;
    expect(done.state).toBe('succeeded');
    const r = done.result as { gflops: { mean: number; best: number; median: number }; perIteration: number[]; flopPerIteration: number; checksum: number };
    expect(r.perIteration.length).toBe(400);
    expect(r.flopPerIteration).toBe(2 * 48 ** 3);
    expect(r.gflops.mean).toBeGreaterThan(0.01);
    expect(r.gflops.best).toBeGreaterThanOrEqual(r.gflops.median);
    expect(Number.isFinite(r.checksum)).toBe(true);
    const prog = progressOf(h.events, job.id);
    expect(prog.at(-1)?.step).toBe(400);
    expect(prog.at(-1)?.message).toMatch(/iteration 400\/400: [\d.]+ GFLOP\/s/);
    // 400 progress calls, but at most ~10 messages/s reach the runner
    expect(prog.length).toBeLessThanOrEqual(Math.ceil(secs * 10) + 3);
    console.log(`diagnostics.stress 48x48: ${r.gflops.median.toFixed(2)} GFLOP/s median, ${prog.length} progress events for 400 steps in ${secs.toFixed(1)} s`);
  });

  test('workspace.verify finds a corrupt blob and a corrupt record by name', async () => {
    const h = await make();
    const good = await h.ws.putBlob(Buffer.from('good bytes'));
    const bad = await h.ws.putBlob(Buffer.from('bad bytes!'));
    await h.ws.putRecord('models', 'm1', { a: 1 }, { w: good });
    await h.ws.putRecord('models', 'm2', { a: 2 });
    const { writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const bp = join(h.root, 'blobs/sha256', bad.sha256.slice(0, 2), bad.sha256.slice(2));
    rmSync(bp);
    writeFileSync(bp, 'bad bytes?');
    writeFileSync(join(h.root, 'records/models/m2.json'), '{"kind":"models"');
    const job = await h.runner.submit({ kind: 'workspace.verify', params: {} });
    const done = await h.until(job.id, ['succeeded', 'failed']);
    expect(done.state).toBe('succeeded');
    const r = done.result as { ok: boolean; records: number; blobs: number; mismatches: { item: string; problem: string }[] };
    expect(r.ok).toBe(false);
    expect(r.blobs).toBe(2);
    expect(r.records).toBeGreaterThanOrEqual(3); // m1, m2 and the jobs record itself
    expect(r.mismatches.map((m) => m.item).sort()).toEqual([`blob ${bad.sha256}`, 'record models/m2'].sort());
    expect(r.mismatches.find((m) => m.item === 'record models/m2')!.problem).toMatch(/not valid JSON/);
    expect(progressOf(h.events, job.id).at(-1)).toMatchObject({ step: r.records + r.blobs, total: r.records + r.blobs });
  });
});

describe('cancel', () => {
  test('a running job ends cancelled within 5 s and its process is gone; queued ones cancel at once', async () => {
    const h = await make({ concurrency: 1 });
    const long = await h.runner.submit({ kind: 'diagnostics.stress', params: { iterations: 100000, size: 320 } });
    const queued = await h.runner.submit({ kind: 'test.steps', params: { steps: 1, ms: 1 } });
    await h.untilProgress(long.id, 1);
    const pid = h.runner.workerPids()[long.id]!;
    expect(pidAlive(pid)).toBe(true);
    const qc = await h.runner.cancel(queued.id);
    expect(qc).toMatchObject({ state: 'cancelled', reason: 'Cancelled by the user before it started.', attempt: 0 });
    const t0 = Date.now();
    const c = await h.runner.cancel(long.id);
    const ms = Date.now() - t0;
    expect(c.state).toBe('cancelled');
    expect(c.reason).toBe('Cancelled by the user.');
    expect(ms).toBeLessThan(5000);
    expect(pidAlive(pid)).toBe(false);
    console.log(`cancel of a running stress job took ${ms} ms`);
    await rejectsWith(h.runner.cancel(long.id), 'conflict', /already ended \(cancelled\)/);
    expect((await h.ws.getRecord<{ state: string }>('jobs', long.id))?.data.state).toBe('cancelled');
  });

  test('a worker that ignores cancel is terminated by signal within 5 s', async () => {
    const h = await make({ concurrency: 1 });
    const job = await h.runner.submit({ kind: 'test.stubborn', params: {} });
    await h.untilProgress(job.id, 1);
    const pid = h.runner.workerPids()[job.id]!;
    const t0 = Date.now();
    const c = await h.runner.cancel(job.id);
    const ms = Date.now() - t0;
    expect(c.state).toBe('cancelled');
    expect(c.reason).toMatch(/did not stop by itself and was ended with SIG(TERM|KILL)/);
    expect(ms).toBeGreaterThanOrEqual(1900);
    expect(ms).toBeLessThan(5000);
    expect(pidAlive(pid)).toBe(false);
  });
});

describe('crashes', () => {
  test('SIGKILL of a worker fails that job with a plain reason while another job completes', async () => {
    const h = await make({ concurrency: 2 });
    const victim = await h.runner.submit({ kind: 'diagnostics.stress', params: { iterations: 100000, size: 256 } });
    const other = await h.runner.submit({ kind: 'test.steps', params: { steps: 6, ms: 150 } });
    await h.untilProgress(victim.id, 1);
    await h.untilProgress(other.id, 1);
    const pid = h.runner.workerPids()[victim.id]!;
    const t0 = Date.now();
    process.kill(pid, 'SIGKILL');
    const failed = await h.until(victim.id, ['failed', 'succeeded', 'cancelled']);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(failed.state).toBe('failed');
    expect(failed.reason).toBe('The worker process was killed by SIGKILL.');
    const ok = await h.until(other.id, ['succeeded', 'failed']);
    expect(ok.state).toBe('succeeded');
    // and the runner keeps serving
    const next = await h.runner.submit({ kind: 'test.steps', params: { steps: 1, ms: 1 } });
    expect((await h.until(next.id, ['succeeded', 'failed'])).state).toBe('succeeded');
  });

  test('a thrown error, an abrupt exit and running out of memory each give their reason', async () => {
    const h = await make({ concurrency: 2, workerMaxHeapMb: 64 });
    const a = await h.runner.submit({ kind: 'test.fail', params: {} });
    const b = await h.runner.submit({ kind: 'test.exit', params: {} });
    const c = await h.runner.submit({ kind: 'test.oom', params: {} });
    expect(await h.until(a.id, ['failed', 'succeeded'])).toMatchObject({ state: 'failed', reason: 'The input file is not a valid dataset.', resumable: false });
    expect(await h.until(b.id, ['failed', 'succeeded'])).toMatchObject({ state: 'failed', reason: 'The worker process exited unexpectedly with code 7: about to exit.' });
    expect(await h.until(c.id, ['failed', 'succeeded'], 60_000)).toMatchObject({ state: 'failed', reason: 'The job ran out of memory (its heap limit is 64 MiB).' });
  });
});

describe('job logs', () => {
  test('every log line is persisted in the workspace, survives a restart, and a torn last line is skipped', async () => {
    const h = await make({ concurrency: 1 });
    const a = await h.runner.submit({ kind: 'test.steps', params: { steps: 4, ms: 10 } });
    await h.until(a.id, ['succeeded']);
    const live = h.events.filter((e) => e.type === 'log' && e.id === a.id).map((e) => (e.type === 'log' ? e.message : ''));
    expect(live).toEqual(expect.arrayContaining(['step 1 done', 'step 4 done']));
    const got = await h.runner.logs(a.id);
    expect(got.truncated).toBe(false);
    expect(got.lines.map((l) => l.message)).toEqual(live);
    for (const l of got.lines) expect(l).toMatchObject({ level: 'info', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect((await h.runner.logs(a.id, 2)).lines.map((l) => l.message)).toEqual(live.slice(-2));
    expect((await h.runner.logs(a.id, 2)).truncated).toBe(true);
    // after a restart (the backend was stopped) the log is read back from disk
    await h.restart({ concurrency: 1 });
    expect((await h.runner.logs(a.id)).lines.map((l) => l.message)).toEqual(live);
    // a crash mid-append leaves a torn last line: it is skipped, the rest is kept
    const { appendFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    appendFileSync(join(h.root, 'logs', 'jobs', `${a.id}.jsonl`), '{"time":"2026-11-24T10:00:00.000Z","level":"in');
    expect((await h.runner.logs(a.id)).lines.map((l) => l.message)).toEqual(live);
    await expect(h.runner.logs('job-nope')).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('restart', () => {
  test('close() interrupts running jobs (resumable from their checkpoint) and keeps queued ones queued', async () => {
    const h = await make({ concurrency: 1 });
    const a = await h.runner.submit({ kind: 'test.steps', params: { steps: 12, ms: 100 } });
    const b = await h.runner.submit({ kind: 'test.steps', params: { steps: 2, ms: 10 } });
    await h.untilProgress(a.id, 3);
    const pid = h.runner.workerPids()[a.id]!;
    await h.restart({ concurrency: 1 });
    expect(pidAlive(pid)).toBe(false);
    const ia = (await h.runner.get(a.id))!;
    expect(ia).toMatchObject({ state: 'interrupted', reason: 'Lethe stopped while this job was running.', resumable: true, attempt: 1 });
    // b was queued and starts by itself on the new runner
    expect((await h.until(b.id, ['succeeded'])).attempt).toBe(1);
    await h.runner.resume(a.id);
    const done = await h.until(a.id, ['succeeded', 'failed']);
    expect(done).toMatchObject({ state: 'succeeded', attempt: 2 });
    // continued from its checkpoint: each step exactly once, and the first step after resume was not 1
    expect((done.result as { stepsRun: number[] }).stepsRun).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    await rejectsWith(h.runner.resume(a.id), 'conflict', /only interrupted or failed jobs can be resumed/);
  });

  test('non-resumable jobs say why they cannot be resumed', async () => {
    const h = await make();
    const f = await h.runner.submit({ kind: 'test.fail', params: {} });
    await h.until(f.id, ['failed']);
    await rejectsWith(h.runner.resume(f.id), 'conflict', /test.fail jobs do not support resuming/);
  });
});

describe('workers and concurrency', () => {
  test('concurrency is respected; a worker is reused after a success, never after a failure; close leaves no process', async () => {
    const h = await make({ concurrency: 2 });
    const jobs = [];
    for (let i = 0; i < 5; i++) jobs.push(await h.runner.submit({ kind: 'test.steps', params: { steps: 2, ms: 80 } }));
    const pids = new Set<number>();
    let maxRunning = 0;
    const seen = setInterval(() => {
      const p = Object.values(h.runner.workerPids());
      maxRunning = Math.max(maxRunning, p.length);
      for (const x of p) pids.add(x);
    }, 5);
    for (const j of jobs) expect((await h.until(j.id, ['succeeded', 'failed'])).state).toBe('succeeded');
    const states = h.events.filter((e) => e.type === 'state');
    // never more than 2 running at once, judged from the ordered state events too
    let running = 0;
    let peak = 0;
    for (const e of states) {
      if (e.type !== 'state') continue;
      if (e.job.state === 'running') running++;
      else if (e.job.state === 'succeeded') running--;
      peak = Math.max(peak, running);
    }
    expect(peak).toBeLessThanOrEqual(2);
    expect(maxRunning).toBeLessThanOrEqual(2);
    // 5 jobs on at most 2 warm processes (a worker that succeeded takes the next job)
    expect(pids.size).toBeLessThanOrEqual(2);
    clearInterval(seen);
    const f = await h.runner.submit({ kind: 'test.fail', params: { ms: 1500 } }); // long enough to be seen running on a loaded machine
    await h.until(f.id, ['running']);
    const failPid = h.runner.workerPids()[f.id]!;
    expect(pids.has(failPid)).toBe(true); // it ran on a warm worker
    await h.until(f.id, ['failed']);
    expect(pidAlive(failPid)).toBe(false); // and that worker was not kept
    const after = await h.runner.submit({ kind: 'test.steps', params: { steps: 5, ms: 300 } }); // idem
    await h.until(after.id, ['running']);
    pids.add(h.runner.workerPids()[after.id]!);
    await h.until(after.id, ['succeeded']);
    h.runner.setConcurrency(1);
    expect(() => h.runner.setConcurrency(0)).toThrow(/concurrency must be a whole number from 1 to 64/);
    await h.runner.close();
    for (const pid of pids) expect(pidAlive(pid), `worker ${pid} still alive`).toBe(false);
  });
});

describe('diagnostics.stress with large matrices', () => {
  test('reports progress inside a long iteration, with an ETA from the progress rate', async () => {
    const h = await make({ concurrency: 1 });
    const job = await h.runner.submit({ kind: 'diagnostics.stress', params: { iterations: 2, size: 640 } });
    const t0 = Date.now();
    while (progressOf(h.events, job.id).filter((p) => p.step === 0).length < 4) {
      if (Date.now() - t0 > 60_000) throw new Error('no progress inside the first iteration');
      await new Promise((r) => setTimeout(r, 20));
    }
    const inner = progressOf(h.events, job.id).filter((p) => p.step === 0);
    expect(inner.at(-1)!.message).toMatch(/^iteration 1\/2: \d+% done$/);
    expect(inner.at(-1)!.fraction!).toBeGreaterThan(inner[0]!.fraction!);
    expect(inner.at(-1)!.fraction!).toBeLessThan(0.5);
    expect(inner.some((p) => typeof p.etaSeconds === 'number' && p.etaSeconds > 0)).toBe(true);
    expect((await h.runner.cancel(job.id)).state).toBe('cancelled');
  });
});
