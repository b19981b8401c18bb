// Space held by data nothing uses. Blobs are content-addressed and shared, so deleting a record
// cannot remove its blobs blindly; a blob is garbage when no record names it (in its `blobs`), no
// quarantined record mentions its hash (kept for repair), and it is older than a grace period (a
// blob just written may belong to a record about to be written: an import puts its blobs first).
// The training-data cache (cache/training-data/<name>-<manifest hash>-...) of a dataset that no
// longer exists is garbage too.
//
// usage() is reported by `workspace info` and `workspace verify`; collectGarbage() runs after every
// delete (datasets, models, forget sets) and as `lethe workspace gc`.

import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { datasetManifestSha256, type DatasetManifest } from '../../engine/data/store';
import { RECORD_KINDS, type Workspace } from './types';
import type { WorkspaceStorage } from '../../../preload/api/app';

/** Blobs (and cache files) younger than this are never collected: they may belong to a write in progress. */
export const GC_GRACE_MS = 60_000;

const HASH_RE = /[0-9a-f]{64}/g;
const TRAINING_CACHE_RE = /-([0-9a-f]{12})-(?:train|test)[^/]*\.npz$/;

// the contract (preload/api/app.ts) defines what workspace info reports
export type StorageUsage = WorkspaceStorage;

export interface GcResult {
  removed: { blobs: number; cacheFiles: number; bytes: number };
  /** unreferenced, but younger than the grace period: left for the next run */
  keptYoung: { count: number; bytes: number };
}

interface Candidate {
  path: string;
  size: number;
  mtimeMs: number;
}

/** Every hash any record names as a blob, plus every hash written in a quarantined record. */
async function referencedHashes(ws: Workspace): Promise<Set<string>> {
  const refs = new Set<string>();
  for (const kind of RECORD_KINDS) {
    for (const rec of await ws.listRecords(kind)) for (const b of Object.values(rec.blobs)) refs.add(b.sha256);
  }
  const q = join(ws.root, 'quarantine');
  for (const kind of await fsp.readdir(q).catch(() => [] as string[])) {
    for (const f of await fsp.readdir(join(q, kind)).catch(() => [] as string[])) {
      if (!f.endsWith('.json')) continue;
      const text = await fsp.readFile(join(q, kind, f), 'utf8').catch(() => '');
      for (const m of text.matchAll(HASH_RE)) refs.add(m[0]);
    }
  }
  return refs;
}

async function candidates(ws: Workspace): Promise<{ blobs: { count: number; bytes: number }; unreferenced: Candidate[]; staleCache: Candidate[] }> {
  const refs = await referencedHashes(ws);
  const unreferenced: Candidate[] = [];
  let count = 0;
  let bytes = 0;
  for (const b of await ws.listBlobs()) {
    count++;
    bytes += b.size;
    if (refs.has(b.sha256)) continue;
    const path = join(ws.root, 'blobs', 'sha256', b.sha256.slice(0, 2), b.sha256.slice(2));
    const st = await fsp.stat(path).catch(() => null);
    if (st) unreferenced.push({ path, size: st.size, mtimeMs: st.mtimeMs });
  }
  const live = new Set((await ws.listRecords<DatasetManifest>('datasets')).map((r) => datasetManifestSha256(r.data).slice(0, 12)));
  const staleCache: Candidate[] = [];
  const cacheDir = join(ws.root, 'cache', 'training-data');
  for (const f of await fsp.readdir(cacheDir).catch(() => [] as string[])) {
    const m = TRAINING_CACHE_RE.exec(f);
    if (!m || live.has(m[1])) continue;
    const st = await fsp.stat(join(cacheDir, f)).catch(() => null);
    if (st?.isFile()) staleCache.push({ path: join(cacheDir, f), size: st.size, mtimeMs: st.mtimeMs });
  }
  return { blobs: { count, bytes }, unreferenced, staleCache };
}

const total = (c: Candidate[]) => ({ count: c.length, bytes: c.reduce((a, x) => a + x.size, 0) });

/** What the blob store holds and how much of it nothing uses. */
export async function storageUsage(ws: Workspace): Promise<StorageUsage> {
  const c = await candidates(ws);
  return { blobs: c.blobs, unreferenced: total(c.unreferenced), staleCache: total(c.staleCache) };
}

/** Remove unreferenced blobs and stale training-data cache files older than `graceMs`. Needs a writable workspace. */
export async function collectGarbage(ws: Workspace, opts: { graceMs?: number; now?: number } = {}): Promise<GcResult> {
  const grace = opts.graceMs ?? GC_GRACE_MS;
  const now = opts.now ?? Date.now();
  const c = await candidates(ws);
  const result: GcResult = { removed: { blobs: 0, cacheFiles: 0, bytes: 0 }, keptYoung: { count: 0, bytes: 0 } };
  for (const [list, key] of [
    [c.unreferenced, 'blobs'],
    [c.staleCache, 'cacheFiles'],
  ] as const) {
    for (const x of list) {
      if (now - x.mtimeMs < grace) {
        result.keptYoung.count++;
        result.keptYoung.bytes += x.size;
        continue;
      }
      // blob files are read-only (0o444); Windows refuses to unlink those
      await fsp.chmod(x.path, 0o644).catch(() => {});
      await fsp.rm(x.path, { force: true });
      result.removed[key]++;
      result.removed.bytes += x.size;
    }
  }
  return result;
}

/** After a delete: free what the deleted record held (a failure is logged, never fails the delete). */
export async function collectAfterDelete(ws: Workspace, log: (m: string) => void = (m) => console.warn(m)): Promise<GcResult | null> {
  try {
    return await collectGarbage(ws);
  } catch (e) {
    log(`lethe: could not free the space of deleted data (${e instanceof Error ? e.message : String(e)}); run 'lethe workspace gc'`);
    return null;
  }
}
