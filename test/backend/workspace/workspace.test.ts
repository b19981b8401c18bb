import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { ApiError } from '../../../preload/api/common';
import { canonicalJson, defaultWorkspaceRoot, openWorkspace, type Workspace } from '../../../main/backend/workspace';
import { renameWithRetry } from '../../../main/backend/workspace/atomic';

const roots: string[] = [];
const open: Workspace[] = [];
function newRoot(): string {
  const r = mkdtempSync(join(tmpdir(), 'lethe-ws-'));
  roots.push(r);
  return r;
}
async function openWs(root: string) {
  const ws = await openWorkspace(root);
  open.push(ws);
  return ws;
}
afterEach(async () => {
  for (const ws of open.splice(0)) await ws.close();
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});
const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
async function rejectsWith(p: Promise<unknown> | (() => unknown), code: string, msg: RegExp) {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(code);
    expect((err as ApiError).message).toMatch(msg);
    return;
  }
  throw new Error('expected an error');
}

describe('layout and round trip', () => {
  test('creates the layout with a format marker', async () => {
    const root = newRoot();
    await openWs(root);
    for (const d of ['blobs/sha256', 'records/datasets', 'records/jobs', 'quarantine', 'tmp', 'lock', 'workspace.json']) {
      expect(existsSync(join(root, d)), d).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(root, 'workspace.json'), 'utf8'))).toMatchObject({ format: 'lethe-workspace', version: 1 });
    expect(JSON.parse(readFileSync(join(root, 'lock'), 'utf8')).pid).toBe(process.pid);
  });

  test('blobs are content-addressed, idempotent and verified', async () => {
    const root = newRoot();
    const ws = await openWs(root);
    const bytes = new TextEncoder().encode('hello lethe');
    const ref = await ws.putBlob(bytes);
    expect(ref).toEqual({ sha256: sha(bytes), size: bytes.length });
    expect(await ws.putBlob(bytes)).toEqual(ref);
    const file = join(root, 'blobs/sha256', ref.sha256.slice(0, 2), ref.sha256.slice(2));
    expect(readFileSync(file, 'utf8')).toBe('hello lethe');
    expect(Buffer.from(await ws.getBlob(ref.sha256)).toString()).toBe('hello lethe');
    expect(await ws.blobPath(ref.sha256)).toBe(file);
    expect(await ws.hasBlob(ref.sha256)).toBe(true);
    expect(await ws.hasBlob('0'.repeat(64))).toBe(false);
    await rejectsWith(ws.getBlob('0'.repeat(64)), 'not_found', /not in the workspace/);
    await rejectsWith(ws.getBlob('../../etc/passwd'), 'invalid_argument', /64 lowercase hex/);
    await rejectsWith(ws.blobPath('ZZ'), 'invalid_argument', /64 lowercase hex/);
    const empty = await ws.putBlob(new Uint8Array(0));
    expect(empty.size).toBe(0);
    expect((await ws.getBlob(empty.sha256)).length).toBe(0);
    expect((await ws.listBlobs()).map((b) => b.sha256).sort()).toEqual([ref.sha256, empty.sha256].sort());
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
  });

  test('a corrupt blob is detected on read and replaced by a fresh put of the same bytes', async () => {
    const root = newRoot();
    const ws = await openWs(root);
    const bytes = Buffer.from('x'.repeat(1000));
    const ref = await ws.putBlob(bytes);
    const file = join(root, 'blobs/sha256', ref.sha256.slice(0, 2), ref.sha256.slice(2));
    rmSync(file);
    writeFileSync(file, 'y'.repeat(1000));
    await ws.close();
    const ws2 = await openWs(root);
    await rejectsWith(ws2.getBlob(ref.sha256), 'internal', /corrupt/);
    await rejectsWith(ws2.blobPath(ref.sha256), 'internal', /corrupt/);
    await rejectsWith(ws2.blobPath('0'.repeat(64)), 'not_found', /not in the workspace/);
    expect(await ws2.verifyBlob(ref.sha256)).toBe(false);
    await ws2.putBlob(bytes);
    expect(await ws2.verifyBlob(ref.sha256)).toBe(true);
    expect(Buffer.from(await ws2.getBlob(ref.sha256)).equals(bytes)).toBe(true);
  });

  test('putBlobFromFile streams a large file and hashes what it stored', async () => {
    const root = newRoot();
    const ws = await openWs(root);
    const src = join(newRoot(), 'big.bin');
    const big = Buffer.alloc(5 * 1024 * 1024 + 123);
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
    writeFileSync(src, big);
    const ref = await ws.putBlobFromFile(src);
    expect(ref).toEqual({ sha256: sha(big), size: big.length });
    expect(await ws.verifyBlob(ref.sha256)).toBe(true);
    await rejectsWith(ws.putBlobFromFile(join(root, 'nope.bin')), 'not_found', /File not found/);
    await rejectsWith(ws.putBlobFromFile(root), 'invalid_argument', /is a folder/);
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
  });

  test('records round-trip with revisions, blobs and a verifiable manifest', async () => {
    const root = newRoot();
    const ws = await openWs(root);
    const blob = await ws.putBlob(new Uint8Array([1, 2, 3]));
    const data = { name: 'Fashion-MNIST', classes: ['T-shirt', 'Trouser'], n: 70000, nested: { z: 1, a: [true, null] } };
    const env = await ws.putRecord('datasets', 'fmnist', data, { images: blob });
    expect(env).toMatchObject({ kind: 'datasets', id: 'fmnist', revision: 1, blobs: { images: blob }, data });
    const { manifestSha256, ...rest } = env;
    expect(manifestSha256).toBe(sha(canonicalJson(rest)));
    expect(await ws.getRecord('datasets', 'fmnist')).toEqual(env);
    const env2 = await ws.putRecord('datasets', 'fmnist', { ...data, n: 1 });
    expect(env2.revision).toBe(2);
    expect(env2.createdAt).toBe(env.createdAt);
    expect(env2.blobs).toEqual({});
    await ws.putRecord('datasets', 'other', { x: 1 });
    expect((await ws.listRecords('datasets')).map((r) => r.id)).toEqual(['fmnist', 'other']);
    expect(await ws.listRecordIds('datasets')).toEqual(['fmnist', 'other']);
    await ws.close();
    const ws2 = await openWs(root);
    expect(await ws2.getRecord('datasets', 'fmnist')).toEqual(env2);
    await ws2.deleteRecord('datasets', 'fmnist');
    expect(await ws2.getRecord('datasets', 'fmnist')).toBeNull();
    expect(await ws2.getRecord('models', 'never')).toBeNull();
    expect(ws2.quarantined()).toEqual([]);
  });

  test('concurrent writes to one record are serialized (no lost revision)', async () => {
    const ws = await openWs(newRoot());
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => ws.putRecord('runs', 'r1', { i })));
    expect(results.map((r) => r.revision)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await ws.getRecord<{ i: number }>('runs', 'r1'))?.data.i).toBe(19);
  });

  test('refuses data JSON cannot hold and blobs that are not stored', async () => {
    const ws = await openWs(newRoot());
    await rejectsWith(ws.putRecord('runs', 'a', { loss: NaN }), 'invalid_argument', /\$\.loss is NaN/);
    await rejectsWith(ws.putRecord('runs', 'a', { big: 1n }), 'invalid_argument', /bigint/);
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    await rejectsWith(ws.putRecord('runs', 'a', cyc), 'invalid_argument', /cycle/);
    await rejectsWith(ws.putRecord('runs', 'a', {}, { m: { sha256: 'a'.repeat(64), size: 1 } }), 'invalid_argument', /not in the workspace/);
    await rejectsWith(ws.putRecord('bogus' as 'runs', 'a', {}), 'invalid_argument', /Unknown record kind/);
    expect(await ws.listRecordIds('runs')).toEqual([]);
  });
});

describe('ids cannot escape the root', () => {
  const bad = ['', '..', '../x', 'a/b', 'a\\b', '/etc/passwd', 'C:\\x', 'a..b', '.hidden', 'x.', 'CON', 'nul.json', 'com1', 'a b', 'é', 'a\0b', 'x'.repeat(129), '-a', 'a:b', '%2e%2e'];
  test.each(bad)('rejects %j', async (id) => {
    const root = newRoot();
    const ws = await openWs(root);
    await rejectsWith(ws.putRecord('runs', id, {}), 'invalid_argument', /record id/);
    await rejectsWith(ws.getRecord('runs', id), 'invalid_argument', /record id/);
    await rejectsWith(ws.deleteRecord('runs', id), 'invalid_argument', /record id/);
    expect(readdirSync(join(root, 'records/runs'))).toEqual([]);
  });
  test('accepts ordinary ids', async () => {
    const ws = await openWs(newRoot());
    for (const id of ['a', 'A9', 'job-lx3k2-9f8e', 'model_v1.2', 'x'.repeat(128)]) await ws.putRecord('runs', id, {});
    expect((await ws.listRecordIds('runs')).length).toBe(5);
  });
});

describe('corruption found at open', () => {
  async function seeded() {
    const root = newRoot();
    const ws = await openWorkspace(root);
    const blob = await ws.putBlob(Buffer.from('weights'));
    for (let i = 0; i < 6; i++) await ws.putRecord('models', `m${i}`, { i, name: `model ${i}`, acc: 0.9 }, i === 4 ? { w: blob } : {});
    await ws.close();
    return { root, blob, file: (i: number) => join(root, 'records/models', `m${i}.json`) };
  }

  test('byte flip, truncation, garbage and missing blob are quarantined; the rest stays readable', async () => {
    const { root, blob, file } = await seeded();
    const flip = readFileSync(file(0));
    const pos = flip.indexOf('model 0') + 6;
    flip[pos] = flip[pos]! ^ 0x01; // "model 0" -> "model 1": still valid JSON, wrong hash
    writeFileSync(file(0), flip);
    const t = readFileSync(file(1));
    writeFileSync(file(1), t.subarray(0, Math.floor(t.length / 2)));
    writeFileSync(file(2), Buffer.from([0xff, 0x00, 0x13, 0x37, 0x42]));
    rmSync(join(root, 'blobs/sha256', blob.sha256.slice(0, 2), blob.sha256.slice(2)));
    writeFileSync(file(5), readFileSync(file(3))); // valid record under the wrong id
    const ws = await openWs(root);
    const q = ws.quarantined();
    expect(q.map((e) => e.id).sort()).toEqual(['m0', 'm1', 'm2', 'm4', 'm5']);
    expect(q.find((e) => e.id === 'm0')!.reason).toMatch(/manifest hash mismatch/);
    expect(q.find((e) => e.id === 'm1')!.reason).toMatch(/not valid JSON/);
    expect(q.find((e) => e.id === 'm2')!.reason).toMatch(/not valid JSON/);
    expect(q.find((e) => e.id === 'm4')!.reason).toMatch(/blob "w" .* is missing/);
    expect(q.find((e) => e.id === 'm5')!.reason).toMatch(/its id is "m3"/);
    expect((await ws.listRecords('models')).map((r) => r.id)).toEqual(['m3']);
    const qfiles = readdirSync(join(root, 'quarantine/models'));
    expect(qfiles.filter((f) => f.endsWith('.json')).length).toBe(5);
    expect(qfiles.filter((f) => f.endsWith('.reason.txt')).length).toBe(5);
    await ws.close();
    const again = await openWs(root);
    expect(again.quarantined()).toEqual([]);
  });

  test('every single-byte flip of a record is caught (sampled offsets)', async () => {
    const { root, file } = await seeded();
    const orig = readFileSync(file(3));
    let caught = 0;
    let harmless = 0;
    for (let off = 0; off < orig.length; off += Math.max(1, Math.floor(orig.length / 40))) {
      const bad = Buffer.from(orig);
      bad[off] = bad[off]! ^ 0x20;
      writeFileSync(file(3), bad);
      const ws = await openWorkspace(root);
      const q = ws.quarantined();
      // a flip that only changes whitespace, or the case of a hex digit's letter that JSON ignores, is not corruption of content
      if (q.length === 0) {
        harmless++;
        expect((await ws.getRecord('models', 'm3'))?.data).toEqual({ i: 3, name: 'model 3', acc: 0.9 });
      } else {
        caught++;
        expect(q[0]!.id).toBe('m3');
        writeFileSync(file(3), orig); // put it back for the next round
      }
      await ws.close();
    }
    expect(caught).toBeGreaterThan(30);
    expect(harmless).toBeLessThan(8);
  });

  test('stale temp files are removed at open', async () => {
    const root = newRoot();
    await (await openWorkspace(root)).close();
    writeFileSync(join(root, 'records/runs/.r1.json.tmp-123-abc'), '{"half');
    writeFileSync(join(root, 'tmp/blob-123-abc'), 'partial');
    const ws = await openWs(root);
    expect(readdirSync(join(root, 'records/runs'))).toEqual([]);
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
    expect(ws.quarantined()).toEqual([]);
  });

  test('an unreadable workspace.json is set aside and a newer format is refused', async () => {
    const root = newRoot();
    await (await openWorkspace(root)).close();
    writeFileSync(join(root, 'workspace.json'), '\u0000garbage');
    const ws = await openWorkspace(root);
    expect(ws.quarantined()[0]!.reason).toMatch(/workspace.json unreadable/);
    await ws.close();
    writeFileSync(join(root, 'workspace.json'), JSON.stringify({ format: 'lethe-workspace', version: 99 }));
    await rejectsWith(openWorkspace(root), 'unavailable', /format version 99, newer/);
    expect(existsSync(join(root, 'lock'))).toBe(false);
  });
});

describe('single writer', () => {
  test('a second open in this process is refused; close releases the lock', async () => {
    const root = newRoot();
    const ws = await openWorkspace(root);
    await rejectsWith(openWorkspace(root), 'conflict', /already open in this process/);
    await ws.close();
    expect(existsSync(join(root, 'lock'))).toBe(false);
    await rejectsWith(() => ws.putRecord('runs', 'a', {}), 'unavailable', /closed/);
    await (await openWorkspace(root)).close();
  });

  test('a live other process holding the lock gives a clear error; a dead one is taken over', async () => {
    const root = newRoot();
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    const { hostname } = await import('node:os');
    writeFileSync(join(root, 'lock'), JSON.stringify({ pid: child.pid, host: hostname(), startedAt: 'x' }));
    await rejectsWith(openWorkspace(root), 'conflict', new RegExp(`in use by another Lethe process \\(pid ${child.pid}\\)`));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const ws = await openWs(root);
    expect(JSON.parse(readFileSync(join(root, 'lock'), 'utf8')).pid).toBe(process.pid);
    await ws.close();
    writeFileSync(join(root, 'lock'), JSON.stringify({ pid: 1, host: 'other-host', startedAt: 'x' }));
    await rejectsWith(openWorkspace(root), 'conflict', /on host other-host/);
  });

  test('worker mode shares the owner lock and does not quarantine', async () => {
    const root = newRoot();
    const owner = await openWs(root);
    await owner.putRecord('runs', 'r', { a: 1 });
    const worker = await openWorkspace(root, { mode: 'worker' });
    const ref = await worker.putBlob(Buffer.from('ckpt'));
    expect(await owner.hasBlob(ref.sha256)).toBe(true);
    writeFileSync(join(root, 'records/runs/r.json'), 'garbage');
    await rejectsWith(worker.getRecord('runs', 'r'), 'internal', /is corrupt/);
    expect(existsSync(join(root, 'records/runs/r.json'))).toBe(true);
    await worker.close();
    expect(existsSync(join(root, 'lock'))).toBe(true);
    await rejectsWith(openWorkspace(join(root, 'missing'), { mode: 'worker' }), 'not_found', /No workspace/);
  });

  test('a file as root is refused', async () => {
    const f = join(newRoot(), 'file');
    writeFileSync(f, 'x');
    await rejectsWith(openWorkspace(f), 'invalid_argument', /is a file, not a folder/);
  });
});

describe('atomic rename', () => {
  test('retries transient EPERM and gives up on a persistent one', async () => {
    const { promises: fsp } = await import('node:fs');
    const root = newRoot();
    writeFileSync(join(root, 'a'), '1');
    const real = fsp.rename;
    let fails = 2;
    fsp.rename = (async (a: string, b: string) => {
      if (fails-- > 0) throw Object.assign(new Error('EPERM'), { code: 'EPERM' });
      return real(a, b);
    }) as typeof fsp.rename;
    try {
      await renameWithRetry(join(root, 'a'), join(root, 'b'));
      expect(readFileSync(join(root, 'b'), 'utf8')).toBe('1');
      fails = 100;
      await expect(renameWithRetry(join(root, 'b'), join(root, 'c'), 3)).rejects.toThrow('EPERM');
      expect(existsSync(join(root, 'b'))).toBe(true);
    } finally {
      fsp.rename = real;
    }
  });
});

describe('file-system faults', () => {
  test('a persistent rename failure rejects the write, keeps the previous version and leaves no temp file', async () => {
    const { promises: fsp } = await import('node:fs');
    const root = newRoot();
    const ws = await openWs(root);
    const v1 = await ws.putRecord('runs', 'r', { v: 1 });
    const real = fsp.rename;
    let calls = 0;
    fsp.rename = (async () => {
      calls++;
      throw Object.assign(new Error('EBUSY: resource busy'), { code: 'EBUSY' });
    }) as typeof fsp.rename;
    try {
      await expect(ws.putRecord('runs', 'r', { v: 2 })).rejects.toThrow('EBUSY');
    } finally {
      fsp.rename = real;
    }
    expect(calls).toBeGreaterThan(1); // retried before giving up
    expect(await ws.getRecord('runs', 'r')).toEqual(v1);
    expect(readdirSync(join(root, 'records/runs'))).toEqual(['r.json']);
    // and the store keeps working once the fault is gone
    expect((await ws.putRecord('runs', 'r', { v: 3 })).revision).toBe(2);
  });
});

describe('defaultWorkspaceRoot', () => {
  test('LETHE_WORKSPACE wins, then the OS app-data folder', () => {
    expect(defaultWorkspaceRoot({ LETHE_WORKSPACE: '/data/ws' }, 'linux', '/home/u')).toBe('/data/ws');
    expect(defaultWorkspaceRoot({}, 'linux', '/home/u')).toBe('/home/u/.local/share/Lethe/workspace');
    expect(defaultWorkspaceRoot({ XDG_DATA_HOME: '/xdg' }, 'linux', '/home/u')).toBe('/xdg/Lethe/workspace');
    expect(defaultWorkspaceRoot({ XDG_DATA_HOME: 'relative' }, 'linux', '/home/u')).toBe('/home/u/.local/share/Lethe/workspace');
    expect(defaultWorkspaceRoot({}, 'darwin', '/Users/u')).toBe('/Users/u/Library/Application Support/Lethe/workspace');
    expect(defaultWorkspaceRoot({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32', 'C:\\Users\\u')).toMatch(/Roaming[\\/]Lethe[\\/]workspace$/);
  });
});
