// Issue 9, point 5: one line each, naming the real cause. A list of 100,000 archive entries is cut to
// the first few and how many more (it once made a 788,940-byte stderr line); /dev/zero is a device,
// not "a folder" or "empty". (A full disk blaming the workspace: test/engine/data/disk-space.test.ts.)

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeNpz, type Npz } from '../../../main/engine/io/npz';
import { previewImport } from '../../../main/engine/data/import';
import { listText } from '../../../main/engine/util/list-text';
import { runCli } from '../../../main/cli/index';
import { openWorkspace } from '../../../main/backend/workspace';
import { modelHandlers } from '../../../main/backend/services/models-api';
import { ApiError } from '../../../preload/api/common';

const dir = mkdtempSync(join(tmpdir(), 'lethe-messages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const code = await runCli([...args, '--workspace', join(dir, 'ws')], { stdout: (t) => void (out += t), stderr: (t) => void (err += t), env: { ...process.env } });
  return { code, out, err };
}

describe('long lists in messages', () => {
  it('listText: the first few, then how many more', () => {
    expect(listText([])).toBe('none');
    expect(listText(['a', 'b'])).toBe('a, b');
    expect(listText(Array.from({ length: 100_000 }, (_, i) => `k${i}`), 3)).toBe('k0, k1, k2 and 99,997 more');
  });

  it('an NPZ of 60,000 entries without x (a 900 KB line before): one short line naming the count, the first entries and how many more', { timeout: 120_000 }, async () => {
    const arrays: Npz = {};
    // 60,000: more would need ZIP64, which the test's NPZ writer (fflate) does not write
    for (let i = 0; i < 60_000; i++) arrays[`entry_${i}`] = { dtype: 'uint8', shape: [1], data: new Uint8Array(1) };
    const file = join(dir, 'many.npz');
    writeFileSync(file, writeNpz(arrays));
    const p = await previewImport({ format: 'npz', source: file });
    expect(p.ok).toBe(false);
    expect(p.error!.message).toBe(
      "many.npz has no array 'x' (60,000 arrays: 'entry_0', 'entry_1', 'entry_2', 'entry_3', 'entry_4', 'entry_5', 'entry_6', 'entry_7', 'entry_8', 'entry_9' and 59,990 more).",
    );
    const r = await cli(['dataset', 'import', '--format', 'npz', '--source', file, '--name', 'many']);
    expect(r.code).not.toBe(0);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err.length).toBeLessThan(400);
  });
});

describe('what a path really is', () => {
  it.each(['csv', 'npz', 'cifar', 'idx', 'folder'])('dataset import --format %s --source /dev/zero: a device, in one line', async (format) => {
    const r = await cli(['dataset', 'import', '--format', format, '--source', '/dev/zero', '--name', 'z']);
    expect(r.code).not.toBe(0);
    expect(r.err.trim()).toBe('lethe: /dev/zero is a device, not a file or folder to import.');
  });

  it('a named pipe is called one (and never read, which would block)', async () => {
    const fifo = join(dir, 'pipe.csv');
    execFileSync('mkfifo', [fifo]);
    const p = await previewImport({ format: 'csv', source: fifo });
    expect(p.error?.message).toBe(`${fifo} is a named pipe (FIFO), not a file or folder to import.`);
  });

  it('models.import of /dev/zero: a device, not "a folder"', async () => {
    const ws = await openWorkspace(join(dir, 'ws-models'));
    try {
      const h = modelHandlers({ workspace: ws, submitJob: async () => ({}) as never } as never);
      const e = await h['models.import']({ path: '/dev/zero' }).then(
        () => null,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).message).toBe('/dev/zero is a device, not an ONNX file.');
      const d = await h['models.import']({ path: dir }).catch((x: ApiError) => x);
      expect((d as ApiError).message).toBe(`${dir} is a folder, not an ONNX file.`);
    } finally {
      await ws.close();
    }
  });
});
