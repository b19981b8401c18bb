// The backend object itself (main/backend/service.ts): settings persistence across restarts,
// corrupt settings, validated handlers, and behaviour after close.

import { readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBackend } from '../../main/backend/service';
import { ApiError } from '../../preload/api/common';
import { API_METHODS } from '../../preload/api/index';
import { argSchemas } from '../../main/backend/validation';
import { createFakeRunner } from './fake-runner';
import { tempDir } from './harness';

const roots: string[] = [];
afterEach(async () => {
  for (const r of roots.splice(0)) await rm(r, { recursive: true, force: true });
});
async function open(root: string, logs: string[] = []) {
  return createBackend({ workspaceRoot: root, shell: 'cli', createJobRunner: () => createFakeRunner(), log: (m) => logs.push(m) });
}

describe('backend', () => {
  it('has one argument schema per API method', () => {
    expect(Object.keys(argSchemas).sort()).toEqual([...API_METHODS].sort());
  });

  it('keeps settings across a restart', async () => {
    const root = await tempDir();
    roots.push(root);
    const a = await open(root);
    await a.handlers['settings.update']({ executionProvider: 'webgpu', intraOpThreads: 3 });
    await a.close();
    const b = await open(root);
    expect(await b.handlers['settings.get']({})).toMatchObject({ executionProvider: 'webgpu', intraOpThreads: 3 });
    await b.close();
  });

  it('sets a corrupt settings file aside and starts from defaults; keeps valid fields of a partly bad one', async () => {
    const root = await tempDir();
    roots.push(root);
    const first = await open(root);
    const defaults = await first.handlers['settings.get']({});
    await first.close();
    await writeFile(path.join(root, 'settings.json'), '{"theme": "dark", "jobConc');
    const logs: string[] = [];
    const b = await open(root, logs);
    expect(await b.handlers['settings.get']({})).toEqual(defaults);
    expect(logs.join('\n')).toMatch(/settings\.json was unreadable and was moved to settings\.json\.corrupt-\d+/);
    expect((await readdir(root)).some((f) => f.startsWith('settings.json.corrupt-'))).toBe(true);
    await b.close();
    await writeFile(path.join(root, 'settings.json'), JSON.stringify({ theme: 'dark', jobConcurrency: -4, future: 1 }));
    const c = await open(root);
    expect(await c.handlers['settings.get']({})).toEqual({ ...defaults, theme: 'dark' });
    await c.close();
  });

  it('handlers validate their arguments; after close every call is refused as unavailable', async () => {
    const root = await tempDir();
    roots.push(root);
    const b = await open(root);
    await expect(b.handlers['settings.update']({ theme: 'neon' } as never)).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(b.handlers['settings.update']({ intraOpThreads: 1.5 })).rejects.toBeInstanceOf(ApiError);
    expect(await b.dispatch('app.info', {})).toMatchObject({ ok: true, result: { shell: 'cli' } });
    expect(await b.dispatch('constructor', {})).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    expect(await b.dispatch('__proto__', {})).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    await b.close();
    await b.close(); // idempotent
    expect(await b.dispatch('app.info', {})).toMatchObject({ ok: false, error: { code: 'unavailable' } });
  });

  it('a second backend on the same workspace is refused while the first is open', async () => {
    const root = await tempDir();
    roots.push(root);
    const a = await open(root);
    await expect(open(root)).rejects.toMatchObject({ code: 'conflict' });
    await a.close();
    const b = await open(root);
    await b.close();
  });
});
