// 'app.pickPath': the system's open dialog in the desktop app, 'unavailable' everywhere else; the
// Electron adapter (main/electron/dialogs.ts) against a fake of Electron's dialog module.

import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createBackend } from '../../main/backend/service';
import { makePickPath, type OpenDialogPort } from '../../main/electron/dialogs';
import type { PickPathArgs } from '../../preload/api/app';
import { createFakeRunner } from './fake-runner';
import { tempDir } from './harness';

const roots: string[] = [];
afterEach(async () => {
  for (const r of roots.splice(0)) await rm(r, { recursive: true, force: true });
});

describe('app.pickPath', () => {
  it('is unavailable without a dialog (browser build, CLI) and says so in app.info', async () => {
    const root = await tempDir();
    roots.push(root);
    const b = await createBackend({ workspaceRoot: root, shell: 'web', createJobRunner: () => createFakeRunner() });
    try {
      expect((await b.handlers['app.info']({})).canPickPaths).toBe(false);
      await expect(b.handlers['app.pickPath']({ mode: 'file' })).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/no file dialog/) });
    } finally {
      await b.close();
    }
  });

  it('returns what the injected dialog chose, validates its arguments, and keeps a cancel empty', async () => {
    const root = await tempDir();
    roots.push(root);
    const asked: PickPathArgs[] = [];
    let answer: string[] = ['/data/fashion'];
    const b = await createBackend({
      workspaceRoot: root,
      shell: 'electron',
      createJobRunner: () => createFakeRunner(),
      pickPath: async (a) => (asked.push(a), answer),
    });
    try {
      expect((await b.handlers['app.info']({})).canPickPaths).toBe(true);
      expect(await b.handlers['app.pickPath']({ mode: 'folder', title: 'IDX folder' })).toEqual({ paths: ['/data/fashion'] });
      expect(asked).toEqual([{ mode: 'folder', title: 'IDX folder' }]);
      answer = [];
      expect(await b.handlers['app.pickPath']({ mode: 'file', filters: [{ name: 'ONNX', extensions: ['onnx'] }] })).toEqual({ paths: [] });
      await expect(b.handlers['app.pickPath']({ mode: 'anything' } as never)).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(b.handlers['app.pickPath']({ mode: 'file', filters: [{ name: 'x', extensions: ['../../etc'] }] })).rejects.toMatchObject({ code: 'invalid_argument' });
      expect(asked).toHaveLength(2);
    } finally {
      await b.close();
    }
  });
});

describe('the Electron dialog adapter', () => {
  function fake(result: { canceled: boolean; filePaths: string[] }) {
    const calls: unknown[][] = [];
    const dialog: OpenDialogPort<string> = {
      async showOpenDialog(win, options) {
        calls.push([win, options]);
        return result;
      },
    };
    return { dialog, calls };
  }

  it('opens a folder or file dialog on the parent window, with the filters plus "All files"', async () => {
    const f = fake({ canceled: false, filePaths: ['/a/b.onnx', '/ignored'] });
    const pick = makePickPath(f.dialog, () => 'main-window');
    expect(await pick({ mode: 'file', filters: [{ name: 'ONNX models', extensions: ['onnx'] }] })).toEqual(['/a/b.onnx']);
    expect(f.calls[0]).toEqual([
      'main-window',
      { title: 'Choose a file', properties: ['openFile', 'dontAddToRecent'], filters: [{ name: 'ONNX models', extensions: ['onnx'] }, { name: 'All files', extensions: ['*'] }] },
    ]);
    await pick({ mode: 'folder', title: 'Dataset folder' });
    expect(f.calls[1]).toEqual(['main-window', { title: 'Dataset folder', properties: ['openDirectory', 'dontAddToRecent'] }]);
  });

  it('returns nothing when the user cancels or no window is open', async () => {
    const f = fake({ canceled: true, filePaths: ['/should/not/leak'] });
    expect(await makePickPath(f.dialog, () => 'w')({ mode: 'folder' })).toEqual([]);
    expect(await makePickPath(f.dialog, () => null)({ mode: 'folder' })).toEqual([]);
    expect(f.calls).toHaveLength(1);
  });
});
