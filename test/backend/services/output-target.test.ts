// Export targets (issue 9, point 3): an existing file is never replaced without an explicit overwrite,
// and special files (folders, devices, FIFOs, /proc and /sys) are refused even with it. One helper for
// model export, model train --out and the forget-set export folder.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkOutputFile, prepareExportFolder } from '../../../main/backend/services/output-target';

const dir = mkdtempSync(join(tmpdir(), 'lethe-out-target-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fifo = join(dir, 'pipe');
execFileSync('mkfifo', [fifo]);
const existing = join(dir, 'existing.onnx');
writeFileSync(existing, 'old');
symlinkSync('/dev/null', join(dir, 'to-null.onnx'));
mkdirSync(join(dir, 'full'));
writeFileSync(join(dir, 'full', 'a.txt'), 'a');

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const e = (await p.then(
    () => null,
    (err: unknown) => err,
  )) as { code: string; message: string } | null;
  expect(e, 'expected a refusal').not.toBeNull();
  expect(e!.message).not.toContain('\n');
  return e!;
}

describe('checkOutputFile', () => {
  it('accepts a new file in an existing folder', async () => {
    await expect(checkOutputFile(join(dir, 'new.onnx'))).resolves.toBeUndefined();
  });

  it('refuses an existing file as a conflict unless overwrite is set', async () => {
    const e = await refusal(checkOutputFile(existing, { overwriteHint: 'add --force to replace it' }));
    expect(e).toMatchObject({ code: 'conflict', message: `${existing} already exists; add --force to replace it or give another file name.` });
    await expect(checkOutputFile(existing, { overwrite: true })).resolves.toBeUndefined();
    expect(readFileSync(existing, 'utf8')).toBe('old');
  });

  it.each([
    ['/dev/null', /is a device, not a regular file|kernel file system/],
    ['/dev/zero', /is a device, not a regular file|kernel file system/],
    ['/proc/self/status', /kernel file system/],
    ['/proc/self/new-file', /kernel file system/],
    ['/sys/kernel/new-file', /kernel file system/],
  ])('refuses %s even with overwrite', async (p, message) => {
    const e = await refusal(checkOutputFile(p, { overwrite: true }));
    expect(e.code).toBe('invalid_argument');
    expect(e.message).toMatch(message);
  });

  it('refuses a FIFO, a folder and a symlink to a device even with overwrite', async () => {
    expect(await refusal(checkOutputFile(fifo, { overwrite: true }))).toMatchObject({ code: 'invalid_argument', message: `${fifo} is a named pipe (FIFO), not a regular file; give the path of a new file.` });
    expect(await refusal(checkOutputFile(dir, { overwrite: true }))).toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(/is a folder, not a regular file/) });
    expect((await refusal(checkOutputFile(join(dir, 'to-null.onnx'), { overwrite: true }))).code).toBe('invalid_argument');
  });

  it('refuses a relative path and a missing parent folder', async () => {
    expect(await refusal(checkOutputFile('model.onnx'))).toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(/must be absolute/) });
    expect(await refusal(checkOutputFile(join(dir, 'no', 'x.onnx')))).toMatchObject({ code: 'invalid_argument', message: `The folder ${join(dir, 'no')} does not exist.` });
  });
});

describe('prepareExportFolder (the forget-set export uses the same helper)', () => {
  it('creates a new folder and accepts an empty one', async () => {
    await prepareExportFolder(join(dir, 'fresh'));
    await prepareExportFolder(join(dir, 'fresh'));
  });
  it('refuses a non-empty folder, a file, a FIFO, a device and /proc', async () => {
    expect((await refusal(prepareExportFolder(join(dir, 'full')))).code).toBe('conflict');
    expect(await refusal(prepareExportFolder(existing))).toMatchObject({ code: 'invalid_argument', message: `${existing} is a file; give a new or empty folder.` });
    expect(await refusal(prepareExportFolder(fifo))).toMatchObject({ code: 'invalid_argument', message: `${fifo} is a named pipe (FIFO); give a new or empty folder.` });
    expect((await refusal(prepareExportFolder('/dev/null'))).code).toBe('invalid_argument');
    expect(await refusal(prepareExportFolder('/proc/self/lethe-export'))).toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(/kernel file system/) });
  });
});
