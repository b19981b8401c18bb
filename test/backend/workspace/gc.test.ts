// Issue 9, point 4: deleted data frees its space. Blobs nothing refers to are removed after every
// delete (and by `lethe workspace gc`), except blobs shared with a live record, blobs a quarantined
// record mentions, and blobs younger than the grace period (a write in progress); `workspace info`
// and `workspace verify` report the unreferenced bytes.

import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openWorkspace, type Workspace } from '../../../main/backend/workspace';
import { GC_GRACE_MS, collectGarbage, storageUsage } from '../../../main/backend/workspace/gc';
import { closeReaders, deleteDataset, runDatasetImport } from '../../../main/backend/services/datasets';
import { workspaceInfo } from '../../../main/backend/services/app';
import { workspaceVerify } from '../../../main/backend/jobs/kinds/workspace-verify';
import { datasetManifestSha256 } from '../../../main/engine/data/store';
import { runCli } from '../../../main/cli/index';

const dirs: string[] = [];
const open: Workspace[] = [];
afterEach(async () => {
  for (const ws of open.splice(0)) {
    await closeReaders(ws).catch(() => {});
    await ws.close();
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'lethe-gc-'));
  dirs.push(dir);
  const ws = await openWorkspace(join(dir, 'ws'));
  open.push(ws);
  const csv = (name: string, rows: number, offset = 0) => {
    const f = join(dir, name);
    writeFileSync(f, 'a,b,label\n' + Array.from({ length: rows }, (_, i) => `${i + offset},${(i * 7) % 13},${i % 3}`).join('\n') + '\n');
    return f;
  };
  return { dir, ws, csv };
}

/** make every blob (and cache file) look written long ago, as a dataset imported yesterday */
function age(ws: Workspace, files: string[] = []) {
  const old = new Date(Date.now() - 24 * 3600_000);
  return ws.listBlobs().then((bs) => {
    for (const b of bs) utimesSync(join(ws.root, 'blobs', 'sha256', b.sha256.slice(0, 2), b.sha256.slice(2)), old, old);
    for (const f of files) utimesSync(f, old, old);
  });
}

describe('workspace garbage collection', () => {
  it('dataset delete frees the blobs only it used; shared blobs stay; info and verify report what nothing uses', async () => {
    const { ws, csv } = await setup();
    const a = await runDatasetImport(ws, { format: 'csv', source: csv('a.csv', 3000), name: 'a' });
    await runDatasetImport(ws, { format: 'csv', source: csv('b.csv', 3000, 100_000), name: 'b' }); // other features, same labels and splits: shares those blobs
    const before = await storageUsage(ws);
    expect(before.unreferenced).toEqual({ count: 0, bytes: 0 });
    const aBlobs = Object.values(a.blobs).map((b) => b.sha256);
    await age(ws);
    await deleteDataset(ws, 'a');
    const after = await storageUsage(ws);
    expect(after.unreferenced).toEqual({ count: 0, bytes: 0 });
    expect(after.blobs.bytes).toBeLessThan(before.blobs.bytes);
    const bRec = (await ws.listRecords('datasets'))[0];
    const bBlobs = new Set(Object.values(bRec.blobs).map((b) => b.sha256));
    for (const h of aBlobs) expect(await ws.hasBlob(h), h).toBe(bBlobs.has(h));
    expect(aBlobs.some((h) => bBlobs.has(h))).toBe(true);
    expect(aBlobs.some((h) => !bBlobs.has(h))).toBe(true);

    // a record deleted without the collection (an older Lethe did that): reported, then freed by gc
    const bytesOfB = [...bBlobs].length;
    await ws.deleteRecord('datasets', bRec.id);
    const info = await workspaceInfo(ws);
    expect(info.storage.unreferenced.count).toBe(bytesOfB);
    expect(info.storage.unreferenced.bytes).toBe(Object.values(bRec.blobs).filter((b, i, all) => all.findIndex((x) => x.sha256 === b.sha256) === i).reduce((s, b) => s + b.size, 0));
    const verify = await workspaceVerify.run({}, { workspaceRoot: ws.root, signal: new AbortController().signal, progress() {}, log() {}, checkpoint: null, async saveCheckpoint() {}, jobId: 'v', dependencies: [], settings: { executionProvider: 'cpu', intraOpThreads: 1 } });
    expect(verify.ok).toBe(true);
    expect(verify.unreferenced).toEqual(info.storage.unreferenced);
    const gc = await collectGarbage(ws);
    expect(gc.removed).toEqual({ blobs: bytesOfB, cacheFiles: 0, bytes: info.storage.unreferenced.bytes });
    expect((await storageUsage(ws)).blobs).toEqual({ count: 0, bytes: 0 });
  });

  it('keeps blobs younger than the grace period (a write in progress) and blobs a quarantined record names', async () => {
    const { ws } = await setup();
    const young = await ws.putBlob(new TextEncoder().encode('just written, record to follow'));
    const quarantined = await ws.putBlob(new TextEncoder().encode('named by a corrupt record'));
    mkdirSync(join(ws.root, 'quarantine', 'models'), { recursive: true });
    writeFileSync(join(ws.root, 'quarantine', 'models', 'm.2026.json'), `{"blobs":{"model":{"sha256":"${quarantined.sha256}"`);
    const r1 = await collectGarbage(ws);
    expect(r1.removed.blobs).toBe(0);
    expect(r1.keptYoung.count).toBe(1);
    expect(await ws.hasBlob(young.sha256)).toBe(true);
    const r2 = await collectGarbage(ws, { now: Date.now() + GC_GRACE_MS + 1000 });
    expect(r2.removed.blobs).toBe(1);
    expect(await ws.hasBlob(young.sha256)).toBe(false);
    expect(await ws.hasBlob(quarantined.sha256)).toBe(true);
    // writing the same bytes again makes a blob young again, so a concurrent gc does not take it
    const again = await ws.putBlob(new TextEncoder().encode('named by a corrupt record'));
    expect(again.sha256).toBe(quarantined.sha256);
  });

  it("removes the training-data cache of a deleted dataset, not a live one's", async () => {
    const { ws, csv } = await setup();
    const d = await runDatasetImport(ws, { format: 'csv', source: csv('c.csv', 50), name: 'c' });
    const cache = join(ws.root, 'cache', 'training-data');
    mkdirSync(cache, { recursive: true });
    const live = join(cache, `c-${datasetManifestSha256(d.data).slice(0, 12)}-train.npz`);
    const stale = join(cache, `gone-0123456789ab-train-n10-s0.npz`);
    writeFileSync(live, 'x');
    writeFileSync(stale, 'yy');
    await age(ws, [live, stale]);
    expect((await storageUsage(ws)).staleCache).toEqual({ count: 1, bytes: 2 });
    const r = await collectGarbage(ws);
    expect(r.removed.cacheFiles).toBe(1);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(stale)).toBe(false);
  });

  it('lethe workspace gc and workspace info say what they freed and what nothing uses', async () => {
    const { ws } = await setup();
    const root = ws.root;
    await ws.putBlob(new Uint8Array(2000));
    await age(ws);
    await ws.close();
    open.splice(0);
    const run = async (args: string[]) => {
      let out = '';
      const code = await runCli([...args, '--workspace', root], { stdout: (t) => void (out += t), stderr: () => {}, env: { ...process.env } });
      return { code, out };
    };
    const info = await run(['workspace', 'info']);
    expect(info.out).toContain("Unreferenced 1 blobs (2.0 KB): 'lethe workspace gc' frees them");
    const gc = await run(['workspace', 'gc']);
    expect(gc.code).toBe(0);
    expect(gc.out.trim()).toBe('Removed 1 unreferenced blobs and 0 stale cache files: 2.0 KB freed.');
    const json = JSON.parse((await run(['workspace', 'info', '--json'])).out);
    expect(json.storage).toEqual({ blobs: { count: 0, bytes: 0 }, unreferenced: { count: 0, bytes: 0 }, staleCache: { count: 0, bytes: 0 } });
  });
});
