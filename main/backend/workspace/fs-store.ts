// The workspace store on plain files (no SQLite: it must run unchanged under Node 20 and inside
// Electron). Layout under the root:
//   workspace.json                     format marker and version
//   blobs/sha256/<2 hex>/<62 hex>      content-addressed, immutable bytes
//   records/<kind>/<id>.json           RecordEnvelope, manifestSha256 over its canonical JSON
//   quarantine/<kind>/<id>.<time>.json corrupt records moved aside (+ .reason.txt)
//   tmp/                               blob temp files (records use temp files beside the target)
//   lock                               single-writer lock (pid, host)

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { ApiError } from '../../../preload/api/common';
import { canonicalJson } from '../../engine/util/canonical-json';
import { ensureDirDurable, fsyncDir, isTempName, renameWithRetry, writeFileAtomic } from './atomic';
import { WorkspaceLock } from './lock';
import { assertValidId, assertValidKind, assertValidSha256 } from './paths';
import { RECORD_KINDS, type BlobRef, type RecordEnvelope, type RecordKind, type TypedRef, type Workspace } from './types';

export const WORKSPACE_FORMAT = 'lethe-workspace';
export const WORKSPACE_VERSION = 1;

export interface OpenWorkspaceOptions {
  /**
   * 'owner' (default): takes the single-writer lock, removes stale temp files and quarantines
   * corrupt records. 'worker': a job worker process of the lock holder; it shares the holder's
   * lock, so it neither locks, cleans nor quarantines (corrupt records only raise errors). 'reader':
   * like 'worker', for a process that only reads while another owns the workspace (the CLI beside the
   * running app); every write is refused with `readOnlyReason`. Reads are safe alongside the owner:
   * records and blobs are replaced atomically and blobs never change.
   */
  mode?: 'owner' | 'worker' | 'reader';
  /** the message a write gets in 'reader' mode */
  readOnlyReason?: string;
}

export interface QuarantineEntry {
  kind: string;
  id: string;
  reason: string;
}

function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function manifestHashOf(env: Omit<RecordEnvelope, 'manifestSha256'>): string {
  const { kind, id, revision, createdAt, updatedAt, blobs, refs, data } = env;
  // refs are hashed when present (records written before typed references existed keep their hash)
  return sha256Hex(canonicalJson(refs === undefined ? { kind, id, revision, createdAt, updatedAt, blobs, data } : { kind, id, revision, createdAt, updatedAt, blobs, refs, data }));
}

const REF_KINDS = new Set(['datasets', 'models', 'forgetSets', 'runs', 'comparisons', 'reports', 'sweeps', 'jobs']);

/** A typed reference's problem in one phrase, or null when it is well formed. */
function refProblem(r: unknown): string | null {
  const x = r as TypedRef | null;
  if (!x || typeof x !== 'object') return 'is not an object';
  if (typeof x.kind !== 'string' || !REF_KINDS.has(x.kind)) return `has an unknown kind ${JSON.stringify(String(x.kind).slice(0, 20))}`;
  if (typeof x.id !== 'string' || x.id.length === 0 || x.id.length > 200) return 'has no valid id';
  if (typeof x.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(x.sha256)) return 'has no valid sha256';
  return null;
}

class CorruptRecord extends Error {}

/** Parse and fully check one record file's text; throws CorruptRecord with a plain reason. */
export function parseRecordText(text: string, kind: string, id: string): RecordEnvelope {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new CorruptRecord(`not valid JSON (${(err as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CorruptRecord('not a JSON object');
  const e = v as Record<string, unknown>;
  if (e.kind !== kind) throw new CorruptRecord(`its kind is ${JSON.stringify(e.kind)}, expected ${kind}`);
  if (e.id !== id) throw new CorruptRecord(`its id is ${JSON.stringify(e.id)}, expected ${id}`);
  if (!Number.isInteger(e.revision) || (e.revision as number) < 1) throw new CorruptRecord('revision is missing or invalid');
  if (typeof e.createdAt !== 'string' || typeof e.updatedAt !== 'string') throw new CorruptRecord('timestamps are missing');
  if (typeof e.blobs !== 'object' || e.blobs === null || Array.isArray(e.blobs)) throw new CorruptRecord('blobs map is missing');
  for (const [name, ref] of Object.entries(e.blobs as Record<string, unknown>)) {
    const r = ref as BlobRef | null;
    if (!r || typeof r !== 'object' || typeof r.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(r.sha256) || !Number.isInteger(r.size)) {
      throw new CorruptRecord(`blob reference ${JSON.stringify(name)} is malformed`);
    }
  }
  if (e.refs !== undefined) {
    if (typeof e.refs !== 'object' || e.refs === null || Array.isArray(e.refs)) throw new CorruptRecord('refs map is malformed');
    for (const [role, r] of Object.entries(e.refs as Record<string, unknown>)) {
      const p = refProblem(r);
      if (p) throw new CorruptRecord(`reference ${JSON.stringify(role)} ${p}`);
    }
  }
  if (!('data' in e)) throw new CorruptRecord('data is missing');
  if (typeof e.manifestSha256 !== 'string') throw new CorruptRecord('manifestSha256 is missing');
  const expect = manifestHashOf(e as unknown as RecordEnvelope);
  if (expect !== e.manifestSha256) throw new CorruptRecord(`manifest hash mismatch (stored ${String(e.manifestSha256).slice(0, 12)}…, computed ${expect.slice(0, 12)}…)`);
  return e as unknown as RecordEnvelope;
}

export class FsWorkspace implements Workspace {
  readonly root: string;
  private readonly mode: 'owner' | 'worker' | 'reader';
  private readonly readOnlyReason: string;
  private lock: WorkspaceLock | null = null;
  private readonly quarantineList: QuarantineEntry[] = [];
  /** per-record promise chains: writes to one record run in call order */
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly verifiedBlobs = new Set<string>();
  /** blobPath verifications in flight, shared by concurrent callers */
  private readonly verifyingBlobs = new Map<string, Promise<void>>();
  private closed = false;

  constructor(root: string, opts: OpenWorkspaceOptions = {}) {
    this.root = resolve(root);
    this.mode = opts.mode ?? 'owner';
    this.readOnlyReason = opts.readOnlyReason ?? `The workspace at ${root} is open read-only.`;
  }

  // ---------- opening ----------

  async open(): Promise<this> {
    try {
      const st = await fsp.stat(this.root);
      if (!st.isDirectory()) throw new ApiError('invalid_argument', `The workspace path ${this.root} is a file, not a folder.`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (this.mode !== 'owner') throw new ApiError('not_found', `No workspace at ${this.root}.`);
    }
    await ensureDirDurable(this.root);
    if (this.mode === 'owner') this.lock = await WorkspaceLock.acquire(join(this.root, 'lock'));
    try {
      for (const d of ['blobs/sha256', 'records', 'quarantine', 'tmp']) await ensureDirDurable(join(this.root, d));
      for (const k of RECORD_KINDS) await ensureDirDurable(join(this.root, 'records', k));
      if (this.mode === 'owner') {
        await this.checkFormat();
        await this.removeStaleTemps();
        await this.verifyAllRecords();
      }
    } catch (err) {
      await this.lock?.release();
      this.lock = null;
      throw err;
    }
    return this;
  }

  private async checkFormat(): Promise<void> {
    const p = join(this.root, 'workspace.json');
    let text: string | null = null;
    try {
      text = await fsp.readFile(p, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text !== null) {
      try {
        const v = JSON.parse(text) as { format?: unknown; version?: unknown };
        if (v.format !== WORKSPACE_FORMAT) throw new Error('not a Lethe workspace marker');
        if (typeof v.version !== 'number') throw new Error('no version');
        if (v.version > WORKSPACE_VERSION) {
          throw new ApiError(
            'unavailable',
            `The workspace at ${this.root} has format version ${v.version}, newer than this Lethe supports (${WORKSPACE_VERSION}); update Lethe.`,
          );
        }
        return;
      } catch (err) {
        if (err instanceof ApiError) throw err;
        // Unreadable marker: keep it aside for inspection and write a fresh one.
        await this.moveToQuarantine(p, 'workspace', 'workspace.json', `workspace.json unreadable: ${(err as Error).message}`);
      }
    }
    await writeFileAtomic(
      p,
      JSON.stringify({ format: WORKSPACE_FORMAT, version: WORKSPACE_VERSION, createdAt: new Date().toISOString() }, null, 2) + '\n',
    );
  }

  private async removeStaleTemps(): Promise<void> {
    const tmp = join(this.root, 'tmp');
    for (const name of await fsp.readdir(tmp)) await fsp.rm(join(tmp, name), { force: true, recursive: true });
    for (const k of RECORD_KINDS) {
      const dir = join(this.root, 'records', k);
      for (const name of await fsp.readdir(dir)) if (isTempName(name)) await fsp.rm(join(dir, name), { force: true });
    }
    await fsyncDir(tmp);
  }

  private async verifyAllRecords(): Promise<void> {
    for (const kind of RECORD_KINDS) {
      for (const id of await this.listRecordIds(kind)) {
        const file = this.recordPath(kind, id);
        try {
          const env = parseRecordText(await fsp.readFile(file, 'utf8'), kind, id);
          for (const [name, ref] of Object.entries(env.blobs)) {
            if (!(await this.blobSizeOnDisk(ref.sha256))) throw new CorruptRecord(`blob ${JSON.stringify(name)} (${ref.sha256.slice(0, 12)}…) is missing`);
          }
        } catch (err) {
          if (!(err instanceof CorruptRecord)) throw err;
          await this.moveToQuarantine(file, kind, id, err.message);
        }
      }
    }
  }

  private async moveToQuarantine(file: string, kind: string, id: string, reason: string): Promise<void> {
    const dir = join(this.root, 'quarantine', kind);
    await ensureDirDurable(dir);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const base = `${id}.${stamp}.${randomBytes(3).toString('hex')}`;
    await writeFileAtomic(join(dir, `${base}.reason.txt`), `${kind}/${id}: ${reason}\n`);
    await renameWithRetry(file, join(dir, `${base}.json`));
    await fsyncDir(dir);
    await fsyncDir(join(file, '..'));
    this.quarantineList.push({ kind, id, reason });
  }

  // ---------- blobs ----------

  private blobFile(sha: string): string {
    return join(this.root, 'blobs', 'sha256', sha.slice(0, 2), sha.slice(2));
  }

  private async blobSizeOnDisk(sha: string): Promise<number | null> {
    try {
      return (await fsp.stat(this.blobFile(sha))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  private async hashFile(path: string): Promise<{ sha256: string; size: number }> {
    const h = createHash('sha256');
    let size = 0;
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
      h.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    return { sha256: h.digest('hex'), size };
  }

  /** true when a blob file exists and its bytes hash to its name (a corrupt one is replaced by the caller) */
  private async existingBlobValid(sha: string): Promise<boolean> {
    if ((await this.blobSizeOnDisk(sha)) === null) return false;
    if (this.verifiedBlobs.has(sha)) return true;
    const got = await this.hashFile(this.blobFile(sha));
    if (got.sha256 !== sha) return false;
    this.verifiedBlobs.add(sha);
    return true;
  }

  /**
   * A blob written again (same bytes) is about to be referenced anew: mark it fresh, so a concurrent
   * garbage collection (gc.ts keeps blobs younger than its grace period) does not take it meanwhile.
   */
  private async touchBlob(sha: string): Promise<void> {
    const now = new Date();
    await fsp.utimes(this.blobFile(sha), now, now).catch(() => {});
  }

  private async installBlob(tmp: string, sha: string): Promise<void> {
    const target = this.blobFile(sha);
    if (await this.existingBlobValid(sha)) {
      await fsp.rm(tmp, { force: true });
      await this.touchBlob(sha);
      return;
    }
    await ensureDirDurable(join(target, '..'));
    await renameWithRetry(tmp, target);
    await fsyncDir(join(target, '..'));
    this.verifiedBlobs.add(sha);
  }

  private tmpPath(): string {
    return join(this.root, 'tmp', `blob-${process.pid}-${randomBytes(8).toString('hex')}`);
  }

  /** 'reader' mode refuses every write */
  private assertWritable(): void {
    if (this.mode === 'reader') throw new ApiError('conflict', this.readOnlyReason);
  }

  async putBlob(bytes: Uint8Array): Promise<BlobRef> {
    this.assertWritable();
    this.assertOpen();
    if (!(bytes instanceof Uint8Array)) throw new ApiError('invalid_argument', 'putBlob needs a Uint8Array.');
    return this.track(async () => {
      const sha256 = sha256Hex(bytes);
      if (await this.existingBlobValid(sha256)) {
        await this.touchBlob(sha256);
        return { sha256, size: bytes.byteLength };
      }
      const tmp = this.tmpPath();
      const fh = await fsp.open(tmp, 'wx', 0o444);
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      try {
        await this.installBlob(tmp, sha256);
      } finally {
        await fsp.rm(tmp, { force: true });
      }
      return { sha256, size: bytes.byteLength };
    });
  }

  async putBlobFromFile(path: string): Promise<BlobRef> {
    this.assertWritable();
    this.assertOpen();
    return this.track(async () => {
      const tmp = this.tmpPath();
      const h = createHash('sha256');
      let size = 0;
      const fh = await fsp.open(tmp, 'wx', 0o444);
      try {
        let src;
        try {
          src = createReadStream(path, { highWaterMark: 1 << 20 });
          // Hash exactly the bytes that go into the temp file, chunk by chunk, never the whole file in memory.
          for await (const chunk of src) {
            const buf = chunk as Buffer;
            h.update(buf);
            size += buf.length;
            let off = 0;
            while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
          }
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') throw new ApiError('not_found', `File not found: ${path}`);
          if (code === 'EISDIR') throw new ApiError('invalid_argument', `${path} is a folder, not a file.`);
          throw err;
        }
        await fh.sync();
      } catch (err) {
        await fh.close().catch(() => {});
        await fsp.rm(tmp, { force: true });
        throw err;
      }
      await fh.close();
      const sha256 = h.digest('hex');
      try {
        await this.installBlob(tmp, sha256);
      } finally {
        await fsp.rm(tmp, { force: true });
      }
      return { sha256, size };
    });
  }

  async getBlob(sha256: string): Promise<Uint8Array> {
    this.assertOpen();
    assertValidSha256(sha256);
    let bytes: Buffer;
    try {
      bytes = await fsp.readFile(this.blobFile(sha256));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ApiError('not_found', `Blob ${sha256} is not in the workspace.`);
      throw err;
    }
    if (sha256Hex(bytes) !== sha256) {
      throw new ApiError('internal', `Blob ${sha256} is corrupt on disk: its bytes no longer match their hash.`);
    }
    this.verifiedBlobs.add(sha256);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Verified once per open workspace, by a streamed hash (the event loop keeps running meanwhile). */
  async blobPath(sha256: string): Promise<string> {
    this.assertOpen();
    assertValidSha256(sha256);
    const p = this.blobFile(sha256);
    if (this.verifiedBlobs.has(sha256)) return p;
    let pending = this.verifyingBlobs.get(sha256);
    if (!pending) {
      pending = (async () => {
        let got: string;
        try {
          got = (await this.hashFile(p)).sha256;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ApiError('not_found', `Blob ${sha256} is not in the workspace.`);
          throw err;
        }
        if (got !== sha256) throw new ApiError('internal', `Blob ${sha256} is corrupt on disk: its bytes no longer match their hash.`);
        this.verifiedBlobs.add(sha256);
      })().finally(() => this.verifyingBlobs.delete(sha256));
      this.verifyingBlobs.set(sha256, pending);
    }
    await pending;
    return p;
  }

  async hasBlob(sha256: string): Promise<boolean> {
    this.assertOpen();
    assertValidSha256(sha256);
    return (await this.blobSizeOnDisk(sha256)) !== null;
  }

  async listBlobs(): Promise<BlobRef[]> {
    this.assertOpen();
    const base = join(this.root, 'blobs', 'sha256');
    const out: BlobRef[] = [];
    for (const pre of (await fsp.readdir(base)).sort()) {
      if (!/^[0-9a-f]{2}$/.test(pre)) continue;
      for (const rest of (await fsp.readdir(join(base, pre))).sort()) {
        if (!/^[0-9a-f]{62}$/.test(rest)) continue;
        const st = await fsp.stat(join(base, pre, rest)).catch(() => null);
        if (st?.isFile()) out.push({ sha256: pre + rest, size: st.size });
      }
    }
    return out;
  }

  async verifyBlob(sha256: string): Promise<boolean> {
    this.assertOpen();
    assertValidSha256(sha256);
    if ((await this.blobSizeOnDisk(sha256)) === null) return false;
    const ok = (await this.hashFile(this.blobFile(sha256))).sha256 === sha256;
    if (ok) this.verifiedBlobs.add(sha256);
    else this.verifiedBlobs.delete(sha256);
    return ok;
  }

  // ---------- records ----------

  private recordPath(kind: RecordKind, id: string): string {
    return join(this.root, 'records', kind, `${id}.json`);
  }

  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => {});
    this.chains.set(key, settled);
    void settled.then(() => {
      if (this.chains.get(key) === settled) this.chains.delete(key);
    });
    return this.track(() => next);
  }

  async putRecord<T>(kind: RecordKind, id: string, data: T, blobs: Record<string, BlobRef> = {}, refs?: Record<string, TypedRef>): Promise<RecordEnvelope<T>> {
    this.assertWritable();
    this.assertOpen();
    assertValidKind(kind);
    assertValidId(id);
    if (typeof blobs !== 'object' || blobs === null) throw new ApiError('invalid_argument', 'blobs must be an object of named blob references.');
    for (const [name, ref] of Object.entries(blobs)) {
      if (!ref || typeof ref !== 'object') throw new ApiError('invalid_argument', `Blob reference ${JSON.stringify(name)} is not an object.`);
      assertValidSha256(ref.sha256);
      if (!Number.isInteger(ref.size) || ref.size < 0) throw new ApiError('invalid_argument', `Blob reference ${JSON.stringify(name)} has an invalid size.`);
    }
    // Normalise through canonical JSON now: refuses NaN/Infinity/cycles with a clear message and
    // makes the stored data exactly what a reader gets back.
    let normalised: T;
    try {
      normalised = JSON.parse(canonicalJson(data)) as T;
    } catch (err) {
      throw new ApiError('invalid_argument', `Record ${kind}/${id} cannot be stored: ${(err as Error).message}.`);
    }
    const blobCopy: Record<string, BlobRef> = {};
    for (const [name, ref] of Object.entries(blobs)) blobCopy[name] = { sha256: ref.sha256, size: ref.size };
    let refCopy: Record<string, TypedRef> | undefined;
    if (refs !== undefined) {
      if (typeof refs !== 'object' || refs === null) throw new ApiError('invalid_argument', 'refs must be an object of named typed references.');
      refCopy = {};
      for (const [role, r] of Object.entries(refs)) {
        const p = refProblem(r);
        if (p) throw new ApiError('invalid_argument', `Reference ${JSON.stringify(role)} of record ${kind}/${id} ${p}.`);
        refCopy[role] = { kind: r.kind, id: r.id, sha256: r.sha256 };
      }
    }
    return this.serial(`${kind}/${id}`, async () => {
      for (const [name, ref] of Object.entries(blobCopy)) {
        const size = await this.blobSizeOnDisk(ref.sha256);
        if (size === null) throw new ApiError('invalid_argument', `Record ${kind}/${id} refers to blob ${JSON.stringify(name)} (${ref.sha256}) which is not in the workspace.`);
        if (size !== ref.size) throw new ApiError('invalid_argument', `Blob ${JSON.stringify(name)} of record ${kind}/${id} has size ${size} on disk, not ${ref.size}.`);
      }
      const prev = await this.readRecord(kind, id, { quarantineCorrupt: false }).catch(() => null);
      const now = new Date().toISOString();
      const base = {
        kind,
        id,
        revision: (prev?.revision ?? 0) + 1,
        createdAt: prev?.createdAt ?? now,
        updatedAt: now,
        blobs: blobCopy,
        ...(refCopy ? { refs: refCopy } : {}),
        data: normalised,
      };
      const env: RecordEnvelope<T> = { ...base, manifestSha256: manifestHashOf(base) };
      await writeFileAtomic(this.recordPath(kind, id), JSON.stringify(env, null, 1) + '\n');
      return env;
    });
  }

  private async readRecord<T>(kind: RecordKind, id: string, opt: { quarantineCorrupt: boolean }): Promise<RecordEnvelope<T> | null> {
    const file = this.recordPath(kind, id);
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      return parseRecordText(text, kind, id) as RecordEnvelope<T>;
    } catch (err) {
      if (!(err instanceof CorruptRecord)) throw err;
      if (opt.quarantineCorrupt && this.mode === 'owner') {
        await this.moveToQuarantine(file, kind, id, err.message);
        throw new ApiError('internal', `Record ${kind}/${id} was corrupt (${err.message}) and has been moved to quarantine.`);
      }
      throw new ApiError('internal', `Record ${kind}/${id} is corrupt: ${err.message}.`);
    }
  }

  async getRecord<T>(kind: RecordKind, id: string): Promise<RecordEnvelope<T> | null> {
    this.assertOpen();
    assertValidKind(kind);
    assertValidId(id);
    return this.serial(`${kind}/${id}`, () => this.readRecord<T>(kind, id, { quarantineCorrupt: true }));
  }

  async listRecordIds(kind: RecordKind): Promise<string[]> {
    this.assertOpen();
    assertValidKind(kind);
    const names = await fsp.readdir(join(this.root, 'records', kind));
    const ids: string[] = [];
    for (const n of names) {
      if (!n.endsWith('.json') || isTempName(n) || n.startsWith('.')) continue;
      const id = n.slice(0, -5);
      try {
        assertValidId(id);
      } catch {
        continue; // a stray file someone put there by hand; never ours
      }
      ids.push(id);
    }
    return ids.sort();
  }

  async listRecords<T>(kind: RecordKind): Promise<RecordEnvelope<T>[]> {
    const out: RecordEnvelope<T>[] = [];
    for (const id of await this.listRecordIds(kind)) {
      try {
        const r = await this.getRecord<T>(kind, id);
        if (r) out.push(r);
      } catch (err) {
        // A record that went corrupt while open is quarantined (owner) and left out of the list.
        if (!(err instanceof ApiError && err.code === 'internal')) throw err;
      }
    }
    return out.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async deleteRecord(kind: RecordKind, id: string): Promise<void> {
    this.assertWritable();
    this.assertOpen();
    assertValidKind(kind);
    assertValidId(id);
    await this.serial(`${kind}/${id}`, async () => {
      await fsp.rm(this.recordPath(kind, id), { force: true });
      await fsyncDir(join(this.root, 'records', kind));
    });
  }

  quarantined(): QuarantineEntry[] {
    return this.quarantineList.map((q) => ({ ...q }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.pending.size) await Promise.allSettled([...this.pending]);
    await this.lock?.release();
    this.lock = null;
  }

  private assertOpen(): void {
    if (this.closed) throw new ApiError('unavailable', `The workspace at ${this.root} is closed.`);
  }

  private track<T>(fn: () => Promise<T>): Promise<T> {
    const p = fn();
    this.pending.add(p);
    const done = () => this.pending.delete(p);
    p.then(done, done);
    return p;
  }
}
