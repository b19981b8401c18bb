// ONE suite of API behaviours, run over both transports: Electron IPC (real preload + real
// main/electron/ipc.ts on a fake Electron) and the real HTTP server with the web client.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../preload/api/common';
import type { JobEvent } from '../../preload/api/jobs';
import type { FakeElectron } from './fake-electron';
import { createFakeRunner } from './fake-runner';
import { ipcRig, LONG_JOB, SHORT_JOB, waitFor, webRig } from './harness';
import type { Rig } from './harness';

// One fake Electron per test file, shared by the real preload and the real main/electron/ipc.ts.
const mocked = vi.hoisted(() => ({ fake: null as FakeElectron | null }));
vi.mock('electron', async () => {
  const { createFakeElectron } = await import('./fake-electron');
  mocked.fake = createFakeElectron();
  return mocked.fake;
});

let fake: FakeElectron;
beforeAll(async () => {
  await import('../../preload/index'); // the real preload (its 'electron' import creates the fake)
  fake = mocked.fake!;
});

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error('expected the call to fail');
}

describe.each([
  ['ipc', () => ipcRig(fake)],
  ['web', () => webRig()],
] as const)('API contract over %s', (name, makeRig) => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await makeRig();
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('app.info describes the app and this shell', async () => {
    const info = await rig.api.call('app.info', {});
    expect(info.name).toBe('Lethe');
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.shell).toBe(name === 'ipc' ? 'electron' : 'web');
    expect(info.versions.node).toBe(process.versions.node);
    expect(info.versions.onnxruntime).toMatch(/^1\.\d+\.\d+$/);
    expect(info.cpus).toBeGreaterThan(0);
  });

  it('workspace.info counts records of a fresh workspace', async () => {
    const info = await rig.api.call('workspace.info', {});
    expect(path.resolve(info.root)).toBe(path.resolve(rig.root));
    expect(info.counts).toEqual({ datasets: 0, models: 0, forgetSets: 0, runs: 0, reports: 0 });
    expect(info.quarantined).toEqual([]);
  });

  it('settings round trip and persist in the workspace', async () => {
    const before = await rig.api.call('settings.get', {});
    expect(before.theme).toBe('system');
    const after = await rig.api.call('settings.update', { theme: 'dark', jobConcurrency: 2 });
    expect(after).toEqual({ ...before, theme: 'dark', jobConcurrency: 2 });
    expect(await rig.api.call('settings.get', {})).toEqual(after);
    const onDisk = JSON.parse(await readFile(path.join(rig.root, 'settings.json'), 'utf8'));
    expect(onDisk).toEqual(after);
  });

  it('validation errors are typed and name the field', async () => {
    const bad = await rejection(rig.api.call('settings.update', { theme: 'neon' } as never));
    expect(bad.code).toBe('invalid_argument');
    expect(bad.message).toContain("'theme'");
    const extra = await rejection(rig.api.call('settings.update', { theme: 'dark', colour: 'red' } as never));
    expect(extra.code).toBe('invalid_argument');
    expect(extra.message).toContain("'colour'");
    const wrongType = await rejection(rig.api.call('jobs.get', { id: 42 } as never));
    expect(wrongType.message).toMatch(/'id' must be string/);
    const huge = await rejection(rig.api.call('jobs.submit', { kind: 'diagnostics.stress', title: 'x'.repeat(200_000), params: {} }));
    expect(huge.code).toBe('invalid_argument');
    const proto = await rejection(rig.api.call('jobs.submit', JSON.parse('{"kind":"diagnostics.stress","params":{"__proto__":{"polluted":true}}}')));
    expect(proto.code).toBe('invalid_argument');
    expect(proto.message).toContain('__proto__');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const notObject = await rejection(rig.api.call('jobs.list', [1, 2] as never));
    expect(notObject.code).toBe('invalid_argument');
    // the backend still serves after all that
    expect((await rig.api.call('app.info', {})).name).toBe('Lethe');
  });

  it('an unknown method is refused with a typed error', async () => {
    const e = await rejection(rig.api.call('jobs.destroyEverything' as never, {} as never));
    expect(e.code).toBe('invalid_argument');
    expect(e.message).toMatch(/Unknown method/);
  });

  it('jobs.kinds lists the built-in kinds; a bad kind or bad params are refused', async () => {
    const kinds = await rig.api.call('jobs.kinds', {});
    expect(kinds.map((k) => k.kind)).toEqual(expect.arrayContaining(['workspace.verify', 'diagnostics.stress']));
    const e = await rejection(rig.api.call('jobs.submit', { kind: 'no.such-kind', params: {} }));
    expect(e.code).toBe('invalid_argument');
    const p = await rejection(rig.api.call('jobs.submit', { kind: 'diagnostics.stress', params: { size: -1 } }));
    expect(p.code).toBe('invalid_argument');
    expect(p.message).toContain('size');
  });

  it('not_found is typed', async () => {
    const e = await rejection(rig.api.call('jobs.get', { id: 'no-such-job' }));
    expect(e.code).toBe('not_found');
  });

  it('jobs.submit streams events, and cancel stops the job', async () => {
    const events: JobEvent[] = [];
    const off = rig.api.on('jobs.event', (e) => events.push(e));
    const job = await rig.api.call('jobs.submit', { ...LONG_JOB, title: 'contract: long job' });
    expect(['queued', 'running']).toContain(job.state);
    expect(job.title).toBe('contract: long job');
    // a real worker process starts and reports progress
    await waitFor(events, (e) => e.type === 'state' && e.job.id === job.id && e.job.state === 'running', 20_000);
    await waitFor(events, (e) => e.type === 'progress' && e.id === job.id && e.progress.step >= 2, 20_000);
    const t0 = Date.now();
    await rig.api.call('jobs.cancel', { id: job.id });
    await waitFor(events, (e) => e.type === 'state' && e.job.id === job.id && e.job.state === 'cancelled', 5000);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect((await rig.api.call('jobs.get', { id: job.id })).state).toBe('cancelled');
    const listed = await rig.api.call('jobs.list', { states: ['cancelled'] });
    expect(listed.map((j) => j.id)).toContain(job.id);
    // after unsubscribing, no more events arrive
    off();
    const n = events.length;
    const other = await rig.api.call('jobs.submit', SHORT_JOB);
    await rig.api.call('jobs.cancel', { id: other.id });
    await new Promise((r) => setTimeout(r, 100));
    expect(events.length).toBe(n);
    expect(other.id).not.toBe(job.id);
  });

  it('events emitted during a call are received', async () => {
    // With one slot taken by a long job, jobs.submit emits 'queued' and jobs.cancel emits
    // 'cancelled' before each call returns. Repeat to catch races between the reply and the event.
    await rig.api.call('settings.update', { jobConcurrency: 1 });
    const blocker = await rig.api.call('jobs.submit', LONG_JOB);
    try {
      for (let i = 0; i < 25; i++) {
        const events: JobEvent[] = [];
        const off = rig.api.on('jobs.event', (e) => events.push(e));
        const job = await rig.api.call('jobs.submit', SHORT_JOB);
        expect(job.state).toBe('queued');
        await waitFor(events, (e) => e.type === 'state' && e.job.id === job.id && e.job.state === 'queued', 2000);
        const cancelled = await rig.api.call('jobs.cancel', { id: job.id });
        expect(cancelled.state).toBe('cancelled');
        await waitFor(events, (e) => e.type === 'state' && e.job.id === job.id && e.job.state === 'cancelled', 2000);
        off();
      }
    } finally {
      await rig.api.call('jobs.cancel', { id: blocker.id });
    }
  });

  it('unlearning.methods and unlearning.metrics describe the registries as plain data', async () => {
    const methods = await rig.api.call('unlearning.methods', {});
    expect(methods[0].id).toBe('retrain');
    const salun = methods.find((m) => m.id === 'salun')!;
    expect(salun).toMatchObject({ name: 'SalUn', exact: false, scope: 'any' });
    expect(salun.params.map((p) => [p.name, p.type, p.default])).toEqual(
      expect.arrayContaining([
        ['maskFraction', 'number', 0.5],
        ['epochs', 'integer', 10],
        ['lr', 'number', 0.013],
      ]),
    );
    const metrics = await rig.api.call('unlearning.metrics', {});
    expect(metrics.find((m) => m.id === 'mia-efficacy')).toMatchObject({ name: expect.any(String), unit: '%', formula: expect.stringMatching(/SVC/), source: expect.any(String) });
  });

  it('unlearning.plan refuses bad methods, parameters and seeds in one sentence, submitting nothing', async () => {
    const before = (await rig.api.call('jobs.list', {})).length;
    const unknown = await rejection(rig.api.call('unlearning.plan', { model: 'm', forgetSet: 'f', methods: [{ id: 'forget-everything' }] }));
    expect(unknown.code).toBe('invalid_argument');
    expect(unknown.message).toMatch(/Unknown unlearning method 'forget-everything'/);
    const range = await rejection(rig.api.call('unlearning.plan', { model: 'm', forgetSet: 'f', methods: [{ id: 'salun', params: { maskFraction: 2 } }] }));
    expect(range.code).toBe('invalid_argument');
    expect(range.message).toMatch(/^salun: 'maskFraction'/);
    const seeds = await rejection(rig.api.call('unlearning.plan', { model: 'm', forgetSet: 'f', methods: [{ id: 'ft' }], seeds: 50 }));
    expect(seeds.message).toMatch(/seeds must be a whole number from 1 to 20/);
    const schema = await rejection(rig.api.call('unlearning.plan', { model: 'm', forgetSet: 'f', methods: [] }));
    expect(schema.message).toMatch(/'methods'/);
    const missing = await rejection(rig.api.call('unlearning.plan', { model: 'm', forgetSet: 'f', methods: [{ id: 'ft' }] }));
    expect(missing.code).toBe('not_found');
    expect((await rig.api.call('jobs.list', {})).length).toBe(before);
  });

  it('runs.* and comparisons.* on a workspace without runs', async () => {
    expect(await rig.api.call('runs.list', {})).toEqual([]);
    expect(await rig.api.call('comparisons.list', {})).toEqual([]);
    expect((await rejection(rig.api.call('runs.get', { id: 'no-run' }))).code).toBe('not_found');
    expect((await rejection(rig.api.call('comparisons.get', { id: 'no-cmp' }))).code).toBe('not_found');
    const exp = await rejection(rig.api.call('runs.exportOutputs', { id: 'no-run', path: path.join(rig.root, 'out.npz'), format: 'npz' }));
    expect(exp.code).toBe('not_found');
    const rel = await rejection(rig.api.call('runs.exportOutputs', { id: 'no-run', path: 'out.csv', format: 'csv' }));
    expect(rel.message).toMatch(/must be absolute/);
  });

  it('internal errors become ApiError(internal) without details of the failure', async () => {
    const failing = { createJobRunner: () => createFakeRunner({ failList: new Error('EACCES /secret/path at Object.<anonymous>') }) };
    // (ipc: one set of handlers at a time, as in Electron)
    if (name === 'ipc') await rig.close();
    const broken = name === 'ipc' ? await ipcRig(fake, failing) : await webRig(failing);
    try {
      const e = await rejection(broken.api.call('jobs.list', {}));
      expect(e.code).toBe('internal');
      expect(e.message).not.toContain('/secret/path');
      expect(e.message).not.toMatch(/\bat\b.*\(/);
      expect(e.message).toContain('jobs.list');
    } finally {
      await broken.close();
      if (name === 'ipc') rig = await ipcRig(fake);
    }
  });
});
