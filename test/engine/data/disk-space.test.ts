// Issue 9, points 4 and 5: an import may not expand past a multiple of its source's size unasked (a
// 2 MB archive of zeros must not become a 2 GB dataset), checks the workspace's free space before it
// writes, and a full disk is reported as the workspace's, with the size needed, never as a problem
// of the source file.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { writeNpz } from '../../../main/engine/io/npz';
import { DatasetImportError } from '../../../main/engine/data/errors';
import type { Workspace } from '../../../main/engine/store/workspace-port';
import { tempDir, tempWorkspace } from './helpers';

import type * as DiskModule from '../../../main/engine/util/disk';

const disk = vi.hoisted(() => ({ free: null as number | null }));
vi.mock('../../../main/engine/util/disk', async (orig) => {
  const real = await orig<typeof DiskModule>();
  return { ...real, freeBytes: async (dir: string) => (disk.free !== null ? disk.free : real.freeBytes(dir)) };
});
const { importDataset, previewImport } = await import('../../../main/engine/data/import');
const { formatBytes, noSpaceMessage } = await import('../../../main/engine/util/disk');

afterEach(() => {
  disk.free = null;
});

/** An NPZ of zeros: n images of side×side pixels; deflated, it is tiny. */
function zerosNpz(file: string, n: number, side: number): number {
  const bytes = writeNpz(
    { x: { dtype: 'uint8', shape: [n, side, side], data: new Uint8Array(n * side * side) }, y: { dtype: 'int64', shape: [n], data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 2)) } },
    { compress: true },
  );
  writeFileSync(file, bytes);
  return bytes.length;
}

async function refusal(p: Promise<unknown>): Promise<DatasetImportError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DatasetImportError);
  return e as DatasetImportError;
}

describe('import expansion cap', () => {
  it('refuses a tiny archive that would expand past 100x its size (and past the 256 MB floor), in one line; a larger maxExpansion (--max-expansion) lets it past the cap', async () => {
    const t = tempDir();
    const w = await tempWorkspace();
    try {
      const file = join(t.dir, 'bomb.npz');
      // 300 MB of zero pixels in a few hundred KB
      const size = zerosNpz(file, 1200, 500);
      expect(size).toBeLessThan(2_000_000);
      const e = await refusal(importDataset(w.ws, { format: 'npz', source: file, name: 'bomb' }));
      expect(e.code).toBe('too_large');
      expect(e.message).toMatch(new RegExp(`^The source \\(${formatBytes(size).replace('.', '\\.')}\\) expands to more than 268\\.4 MB of samples, over 100 times its size, the import limit; .* import it again with a larger --max-expansion \\(API: maxExpansion\\)\\.$`));
      expect(e.message.split('\n')).toHaveLength(1);
      expect(await w.ws.listRecords('datasets')).toEqual([]);
      // the preview says so before anything is written
      const p = await previewImport({ format: 'npz', source: file });
      expect(p.ok).toBe(false);
      expect(p.error).toMatchObject({ code: 'too_large', message: e.message });
      expect((await previewImport({ format: 'npz', source: file, maxExpansion: 10_000 })).ok).toBe(true);
      // the override: with a larger maxExpansion the cap lets it through (here the next check, free space, stops it before 300 MB are written)
      disk.free = 1_000_000;
      const lifted = await refusal(importDataset(w.ws, { format: 'npz', source: file, name: 'bomb', maxExpansion: 10_000 }));
      expect(lifted.code).toBe('no_space');
      disk.free = null;
      await expect(importDataset(w.ws, { format: 'npz', source: file, name: 'bomb', maxExpansion: 0.5 })).rejects.toThrow('The maximum expansion must be a number of at least 1');
      // a small import is never refused by the cap, however compressed
      const small = join(t.dir, 'small.npz');
      zerosNpz(small, 100, 28);
      await expect(importDataset(w.ws, { format: 'npz', source: small, name: 'small' })).resolves.toBeTruthy();
    } finally {
      t.cleanup();
      await w.cleanup();
    }
  }, 120_000);
});

describe('free space', () => {
  it('checks the workspace disk before writing, and names the workspace and the size needed', async () => {
    const t = tempDir();
    const w = await tempWorkspace();
    try {
      const file = join(t.dir, 'x.npz');
      zerosNpz(file, 2000, 28); // 1.57 MB of samples
      disk.free = 1_000_000;
      // the preview warns first
      const p = await previewImport({ format: 'npz', source: file }, { workspaceRoot: w.ws.root });
      expect(p.ok).toBe(true);
      expect(p.warnings).toContain(`The workspace's disk has 1.0 MB free, but this import needs about 70.2 MB while it runs (1.6 MB of samples, written twice); it will be refused unless space is freed.`);
      const e = await refusal(importDataset(w.ws, { format: 'npz', source: file, name: 'x' }));
      expect(e.code).toBe('no_space');
      expect(e.message).toMatch(new RegExp(`^The disk of the workspace \\(${w.ws.root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\) is full: this import( \\(so far\\))? needs about [\\d.]+ MB, and 1\\.0 MB is free\\. Free some space there`));
      expect(e.message).not.toContain('x.npz');
      expect(e.file).toBeUndefined();
      disk.free = null;
      await expect(importDataset(w.ws, { format: 'npz', source: file, name: 'x' })).resolves.toBeTruthy();
    } finally {
      t.cleanup();
      await w.cleanup();
    }
  });

  it('a disk that fills while writing (ENOSPC) blames the workspace with the size needed, not the source file', async () => {
    const t = tempDir();
    const w = await tempWorkspace();
    try {
      const file = join(t.dir, 'source.npz');
      zerosNpz(file, 500, 28);
      const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      const ws = new Proxy(w.ws, {
        get: (target, prop, recv) => (prop === 'putBlobFromFile' ? async () => Promise.reject(full) : Reflect.get(target, prop, recv)),
      }) as Workspace;
      const e = await refusal(importDataset(ws, { format: 'npz', source: file, name: 's' }));
      expect(e.code).toBe('no_space');
      expect(e.message).toMatch(/^The disk of the workspace \(.+\) is full: this import needs about [\d.]+ MB, and [\d.]+ [KMGT]?B(ytes)? is free\./);
      expect(e.message).not.toMatch(/source\.npz|Could not read the source/);
      expect(e.message.split('\n')).toHaveLength(1);
    } finally {
      t.cleanup();
      await w.cleanup();
    }
  });

  it('noSpaceMessage and formatBytes read as one plain line', () => {
    expect(formatBytes(999)).toBe('999 bytes');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(2_000_000_000)).toBe('2.0 GB');
    expect(noSpaceMessage('/w', 'this import', 2e9, 5e6)).toBe(
      'The disk of the workspace (/w) is full: this import needs about 2.0 GB, and 5.0 MB is free. Free some space there (lethe workspace gc removes data nothing uses) or use a workspace on a larger disk.',
    );
  });
});
