// Electron-IPC-only behaviour: the exact surface of `window.lethe`, sender validation, unsubscribe,
// and a fast-check fuzz of every channel through the real preload and main/electron/ipc.ts.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { API_METHODS } from '../../preload/api/index';
import { apiFromBridge, bridgeKeys, eventChannel, methodChannel } from '../../preload/api/bridge';
import type { LetheBridge } from '../../preload/api/bridge';
import { ApiError } from '../../preload/api/common';
import type { FakeElectron } from './fake-electron';
import { ipcRig } from './harness';
import type { Rig } from './harness';
import { propertyParams } from '../property';

// One fake Electron per test file, shared by the real preload and the real main/electron/ipc.ts.
const mocked = vi.hoisted(() => ({ fake: null as FakeElectron | null }));
vi.mock('electron', async () => {
  const { createFakeElectron } = await import('./fake-electron');
  mocked.fake = createFakeElectron();
  return mocked.fake;
});

let fake: FakeElectron;
let rig: Rig;
beforeAll(async () => {
  await import('../../preload/index'); // the real preload (its 'electron' import creates the fake)
  fake = mocked.fake!;
  rig = await ipcRig(fake);
});
afterAll(async () => {
  await rig?.close();
});

/** Every key path of an object of objects, e.g. 'jobs.list'. */
function keyPaths(obj: object): string[] {
  return Object.keys(obj).flatMap((d) => Object.keys((obj as Record<string, object>)[d]).map((v) => `${d}.${v}`)).sort();
}

describe('the preload surface', () => {
  it('exposes exactly one global, lethe, with exactly these verbs', () => {
    expect(Object.keys(fake.exposed)).toEqual(['lethe']);
    expect(Object.keys(fake.exposed.lethe as object).sort()).toEqual(['app', 'comparisons', 'datasets', 'forgetSets', 'jobs', 'models', 'reports', 'runs', 'settings', 'sweeps', 'unlearning', 'workspace']);
    const lethe = fake.exposed.lethe as LetheBridge;
    // Pinned: adding a method to the contract must update this list on purpose.
    expect(keyPaths(lethe)).toEqual([
      'app.info',
      'app.pickPath',
      'comparisons.attack',
      'comparisons.changedExamples',
      'comparisons.charts',
      'comparisons.embedding',
      'comparisons.example',
      'comparisons.get',
      'comparisons.list',
      'datasets.builtins',
      'datasets.delete',
      'datasets.examples',
      'datasets.get',
      'datasets.images',
      'datasets.import',
      'datasets.list',
      'datasets.previewImport',
      'datasets.thumbnail',
      'forgetSets.create',
      'forgetSets.delete',
      'forgetSets.export',
      'forgetSets.get',
      'forgetSets.list',
      'forgetSets.preview',
      'forgetSets.score',
      'jobs.cancel',
      'jobs.get',
      'jobs.kinds',
      'jobs.list',
      'jobs.logs',
      'jobs.onEvent',
      'jobs.resume',
      'jobs.submit',
      'models.architectures',
      'models.create',
      'models.delete',
      'models.export',
      'models.get',
      'models.import',
      'models.list',
      'models.recipe',
      'models.train',
      'reports.create',
      'reports.file',
      'reports.list',
      'reports.verify',
      'runs.exportOutputs',
      'runs.get',
      'runs.list',
      'settings.get',
      'settings.update',
      'sweeps.get',
      'sweeps.list',
      'unlearning.estimate',
      'unlearning.methods',
      'unlearning.metrics',
      'unlearning.plan',
      'unlearning.sweep',
      'workspace.info',
    ]);
    expect(keyPaths(lethe)).toEqual(bridgeKeys());
    for (const d of Object.values(lethe)) for (const v of Object.values(d)) expect(typeof v).toBe('function');
    expect(Object.isFrozen(lethe)).toBe(true);
    expect(Object.isFrozen(lethe.jobs)).toBe(true);
  });

  it('never hands the page ipcRenderer, channels or the IPC event', async () => {
    const lethe = fake.exposed.lethe as LetheBridge;
    const seen: unknown[][] = [];
    const off = lethe.jobs.onEvent((...args: unknown[]) => seen.push(args)) as () => void;
    fake.webContents.send(eventChannel('jobs.event'), { type: 'log', id: 'x', level: 'info', message: 'hi' });
    off();
    expect(seen).toEqual([[{ type: 'log', id: 'x', level: 'info', message: 'hi' }]]);
    const text = JSON.stringify(Object.keys(lethe)) + String(lethe.app.info);
    expect(text).not.toMatch(/ipcRenderer|lethe:/);
  });

  it('registers one handler per method, and unsubscribe removes the renderer listener', () => {
    expect(fake.handlerChannels()).toEqual(API_METHODS.map(methodChannel).sort());
    const lethe = fake.exposed.lethe as LetheBridge;
    const before = fake.rendererListenerCount(eventChannel('jobs.event'));
    const off = lethe.jobs.onEvent(() => {}) as () => void;
    expect(fake.rendererListenerCount(eventChannel('jobs.event'))).toBe(before + 1);
    off();
    off(); // idempotent
    expect(fake.rendererListenerCount(eventChannel('jobs.event'))).toBe(before);
    expect(() => lethe.jobs.onEvent('not a function')).toThrow(TypeError);
  });
});

describe('sender validation', () => {
  const api = () => apiFromBridge(fake.exposed.lethe as LetheBridge);
  afterAll(() => {
    fake.state.frameUrl = 'app://lethe/index.html';
    fake.state.sender = 'ours';
  });

  it.each([
    ['a foreign webContents', 'foreign', 'app://lethe/index.html'],
    ['a frame on another origin', 'ours', 'https://evil.example/'],
    ['a file:// frame', 'ours', 'file:///etc/passwd'],
    ['a look-alike app host', 'ours', 'app://lethe.evil/index.html'],
    ['app URL with credentials', 'ours', 'app://user@lethe/index.html'],
    ['a data: frame', 'ours', 'data:text/html,<script>1</script>'],
    ['a destroyed frame', 'ours', null],
  ] as const)('refuses calls from %s', async (_label, sender, frameUrl) => {
    fake.state.sender = sender;
    fake.state.frameUrl = frameUrl;
    const err = await api()
      .call('settings.update', { theme: 'dark' })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('forbidden');
    fake.state.sender = 'ours';
    fake.state.frameUrl = 'app://lethe/index.html';
    // nothing changed
    expect((await api().call('settings.get', {})).theme).toBe('system');
  });
});

// Per channel: 400 in the normal suite (25 channels: 10,000 payloads); LETHE_FUZZ_RUNS=100000 for a nightly run.
const RUNS = Number(process.env.LETHE_FUZZ_RUNS) || 400;

describe('IPC fuzz (S6)', () => {
  const big = 'x'.repeat(10 * 1024 * 1024);
  const hostile = fc.oneof(
    { weight: 30, arbitrary: fc.anything({ maxDepth: 4, withNullPrototype: true, withObjectString: true, withMap: true, withSet: true, withDate: true, withTypedArray: true, withSparseArray: true, withBigInt: true }) },
    { weight: 10, arbitrary: fc.dictionary(fc.constantFrom('theme', 'id', 'kind', 'params', 'states', 'title', '__proto__', 'constructor', 'jobConcurrency'), fc.anything({ maxDepth: 2 })) },
    { weight: 3, arbitrary: fc.constant(JSON.parse('{"__proto__":{"polluted":1}}')) },
    { weight: 3, arbitrary: fc.constant({ constructor: { prototype: { polluted: 1 } } }) },
    { weight: 3, arbitrary: fc.constant({ intraOpThreads: Number.NaN }) },
    { weight: 3, arbitrary: fc.constant({ jobConcurrency: Number.POSITIVE_INFINITY }) },
    { weight: 1, arbitrary: fc.constant(JSON.parse('['.repeat(2000) + ']'.repeat(2000))) },
    { weight: 1, arbitrary: fc.constant({ kind: 'test.ticker', params: JSON.parse('{"a":'.repeat(500) + '1' + '}'.repeat(500)) }) },
  );

  it(`every channel answers ${RUNS} hostile payloads with typed errors and never crashes`, async () => {
    const rejections: unknown[] = [];
    const onUnhandled = (e: unknown) => rejections.push(e);
    process.on('unhandledRejection', onUnhandled);
    const invalid = new Set(['invalid_argument']);
    try {
      for (const method of API_METHODS) {
        const channel = methodChannel(method);
        await fc.assert(
          fc.asyncProperty(hostile, async (payload) => {
            let reply: unknown;
            try {
              reply = await fake.ipcRenderer.invoke(channel, payload);
            } catch (e) {
              // structuredClone refused the payload before it left the renderer, as Electron would
              expect(String(e)).toMatch(/could not be cloned|DataCloneError|clone/i);
              return;
            }
            const r = reply as { ok: boolean; error?: { code: string; message: string } };
            if (r.ok) return; // e.g. {} is a valid argument object for app.info
            expect(invalid.has(r.error!.code) || r.error!.code === 'not_found' || r.error!.code === 'conflict').toBe(true);
            expect(typeof r.error!.message).toBe('string');
            expect(r.error!.message.length).toBeLessThan(400);
          }),
          propertyParams(`ipc fuzz ${method}`, RUNS),
        );
      }
      // 10 MB strings: once per channel (cloning them is what costs time, not refusing them)
      for (const method of API_METHODS) {
        for (const payload of [{ id: big }, { name: [big] }]) {
          const r = (await fake.ipcRenderer.invoke(methodChannel(method), payload)) as { ok: boolean; error?: { code: string } };
          expect(r.ok).toBe(false);
          expect(r.error!.code).toBe('invalid_argument');
        }
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(rejections).toEqual([]);
      // still healthy
      expect((await apiFromBridge(fake.exposed.lethe as LetheBridge).call('app.info', {})).name).toBe('Lethe');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
