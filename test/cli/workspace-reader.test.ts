// The CLI beside the running app: the app (here: this test process) holds the workspace lock; commands
// that only read still work (opened as a reader, with a note on stderr), commands that change the
// workspace are refused in one line naming the holder. The reader mode itself refuses every write.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWorkspace } from '../../main/backend/workspace';
import type { Workspace } from '../../main/backend/workspace/types';

const ROOT = join(__dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'lethe-cli-reader-'));
const wsDir = join(tmp, 'ws');

function lethe(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'main/cli/index.ts'), '--workspace', wsDir, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 90_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('CLI while another Lethe process holds the workspace', () => {
  let owner: Workspace | null = null;
  beforeAll(async () => {
    const a = lethe(['dataset', 'import', '--format', 'builtin', '--source', 'mnist-sample', '--name', 'mnist']);
    expect(a.code, a.stderr).toBe(0);
    const b = lethe(['forget-set', 'create', '--dataset', 'mnist', '--kind', 'class', '--classes', '3', '--name', 'threes']);
    expect(b.code, b.stderr).toBe(0);
    owner = await openWorkspace(wsDir); // the "app": takes the single-writer lock
  }, 120_000);
  afterAll(async () => {
    await owner?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('read-only commands work and say they read without the lock', () => {
    const note = new RegExp(`^note: the workspace is in use by another Lethe process \\(pid ${process.pid}\\); reading it without the lock\\.$`, 'm');
    const list = lethe(['--json', 'dataset', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).map((d: { name: string }) => d.name)).toEqual(['mnist']);
    expect(list.stderr).toMatch(note);
    const show = lethe(['--json', 'forget-set', 'show', 'threes']);
    expect(show.code, show.stderr).toBe(0);
    const fs = JSON.parse(show.stdout);
    const out = join(tmp, 'export');
    const exp = lethe(['forget-set', 'export', 'threes', '--out', out]);
    expect(exp.code, exp.stderr).toBe(0);
    expect(createHash('sha256').update(readFileSync(join(out, 'ids.txt'))).digest('hex')).toBe(fs.idsSha256);
    for (const args of [['dataset', 'show', 'mnist'], ['forget-set', 'list'], ['model', 'list'], ['workspace', 'info']]) {
      const r = lethe(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stderr).toMatch(note);
    }
  }, 180_000);

  it('commands that change the workspace are refused in one line naming the holder', () => {
    for (const args of [
      ['forget-set', 'create', '--dataset', 'mnist', '--kind', 'class', '--classes', '4', '--name', 'fours'],
      ['forget-set', 'delete', 'threes'],
      ['dataset', 'import', '--format', 'builtin', '--source', 'mnist-sample', '--name', 'again'],
    ]) {
      const r = lethe(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`in use by another Lethe process \\(pid ${process.pid}\\)`));
    }
  }, 180_000);

  it("the reader mode refuses every write and sees the owner's new records", async () => {
    const reader = await openWorkspace(wsDir, { mode: 'reader', readOnlyReason: 'read-only for this test' });
    try {
      await expect(reader.putBlob(new Uint8Array([1, 2, 3]))).rejects.toThrow('read-only for this test');
      await expect(reader.putRecord('models', 'm-x', { a: 1 })).rejects.toThrow('read-only for this test');
      await expect(reader.deleteRecord('forgetSets', 'whatever')).rejects.toThrow('read-only for this test');
      await expect(reader.putBlobFromFile(join(tmp, 'export', 'ids.txt'))).rejects.toThrow('read-only for this test');
      await owner!.putRecord('models', 'm-new', { name: 'written by the owner' });
      expect((await reader.getRecord<{ name: string }>('models', 'm-new'))?.data.name).toBe('written by the owner');
      await owner!.deleteRecord('models', 'm-new');
    } finally {
      await reader.close();
    }
    // a reader never takes the lock: the owner still holds it
    await expect(openWorkspace(wsDir)).rejects.toThrow(/already open in this process/);
  });
});
