// Issue 9, point 4: a training run checks the workspace's free space before it writes its training
// data (a dataset is written once as float32 NPZ), and a full disk names the workspace and the size.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../../preload/api/common';

import type * as DiskModule from '../../../main/engine/util/disk';

const disk = vi.hoisted(() => ({ free: null as number | null }));
vi.mock('../../../main/engine/util/disk', async (orig) => {
  const real = await orig<typeof DiskModule>();
  return { ...real, freeBytes: async (dir: string) => (disk.free !== null ? disk.free : real.freeBytes(dir)) };
});
const { openWorkspace } = await import('../../../main/backend/workspace');
const { closeReaders, runDatasetImport } = await import('../../../main/backend/services/datasets');
const { datasetTrainingFiles } = await import('../../../main/backend/services/models-api');

const dir = mkdtempSync(join(tmpdir(), 'lethe-train-space-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('training data and the disk', () => {
  it('refuses before writing when the workspace disk cannot hold the training data, naming the workspace and the size', async () => {
    const ws = await openWorkspace(join(dir, 'ws'));
    try {
      const csv = join(dir, 't.csv');
      writeFileSync(csv, 'a,b,label\n' + Array.from({ length: 400 }, (_, i) => `${i},${i % 7},${i % 2}`).join('\n') + '\n');
      const ds = await runDatasetImport(ws, { format: 'csv', source: csv, name: 't' });
      disk.free = 10_000_000;
      const e = await datasetTrainingFiles(ws, ds, { seed: 0 }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).code).toBe('unavailable');
      expect((e as ApiError).message).toBe(
        `The disk of the workspace (${ws.root}) is full: the training data of 't' needs about 67.1 MB, and 10.0 MB is free. Free some space there (lethe workspace gc removes data nothing uses) or use a workspace on a larger disk.`,
      );
      disk.free = null;
      const files = await datasetTrainingFiles(ws, ds, { seed: 0 });
      expect(files.trainCount).toBe(320);
    } finally {
      disk.free = null;
      await closeReaders(ws);
      await ws.close();
    }
  });
});
