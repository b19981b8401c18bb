// Single-writer lock: <root>/lock holds the owner's pid and host. A second live instance gets a
// clear error; a lock left by a dead process on this host is taken over.
//
// Taking over a stale lock lets exactly one of several simultaneous processes win:
//   1. a lock is only ever created where none exists, whole (written to a unique file, fsynced, then
//      hard-linked to <root>/lock, which fails if the name exists);
//   2. a stale lock (its pid is dead on this host) is removed only by the one process holding the
//      takeover guard (<root>/lock.takeover, made with an exclusive mkdir), and only if it is still the
//      very file judged stale (same device, inode and bytes) - a live process's lock is never removed
//      (an earlier rename-aside-and-put-back scheme could lose a fresh lock to a third process);
//   3. everyone then tries the exclusive create of step 1: one wins, the others find its lock, held by
//      a live process, and get the normal "in use" refusal. A guard left by a process that died while
//      taking over is removed after 5 s.
// Where the file system has no hard links, step 1 falls back to an O_EXCL create, then write.
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { hostname } from 'node:os';
import { ApiError } from '../../../preload/api/common';
import { fsyncDir } from './atomic';
import { basename, dirname, join } from 'node:path';

interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readLock(path: string): Promise<LockInfo | null | 'unreadable'> {
  const snap = await snapshot(path);
  return snap === null ? null : parseLock(snap.text);
}

/** What a lock file was when it was judged: its identity and its bytes. */
interface LockSnapshot {
  dev: number;
  ino: number;
  mtimeMs: number;
  text: string;
}

async function snapshot(path: string): Promise<LockSnapshot | null> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    // stat and read through one descriptor: the identity and the bytes are of the same file
    const st = await fh.stat();
    const text = await fh.readFile('utf8');
    return { dev: st.dev, ino: st.ino, mtimeMs: st.mtimeMs, text };
  } finally {
    await fh.close();
  }
}

function sameFile(a: LockSnapshot, b: LockSnapshot): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.text === b.text;
}

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException)?.code;
}

/** A unique name beside the lock, for a new lock being written or a stale one moved aside. */
function besideName(path: string, what: string): string {
  return `${path}.${what}-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** Remove the half-made and moved-aside lock files that processes which died mid-acquire left beside the lock. */
async function removeLeftovers(path: string): Promise<void> {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^(?:new|stale)-(\d+)-[0-9a-f]{12}$/.exec(name.startsWith(prefix) ? name.slice(prefix.length) : '');
    if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) await fsp.rm(join(dir, name), { force: true }).catch(() => {});
  }
}

/** A takeover guard folder older than this was left by a process that died while taking over. */
const TAKEOVER_STALE_MS = 5000;

/** An unreadable lock younger than this may still be being written (the O_EXCL fallback): not stale yet. */
const UNREADABLE_GRACE_MS = 2000;

/** Create `path` holding `content`, whole, only if it does not exist. False if it exists. */
async function createExclusive(path: string, content: string): Promise<boolean> {
  const temp = besideName(path, 'new');
  const fh = await fsp.open(temp, 'wx', 0o644);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fsp.link(temp, path);
  } catch (err) {
    const code = errCode(err);
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw err;
    return createExclusiveWithoutLinks(path, content);
  } finally {
    await fsp.rm(temp, { force: true });
  }
  await fsyncDir(dirname(path));
  return true;
}

/** For file systems without hard links: O_EXCL create, then write (a reader may briefly see it empty). */
async function createExclusiveWithoutLinks(path: string, content: string): Promise<boolean> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, 'wx', 0o644);
  } catch (err) {
    if (errCode(err) === 'EEXIST') return false;
    throw err;
  }
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsyncDir(dirname(path));
  return true;
}

function parseLock(text: string): LockInfo | 'unreadable' {
  try {
    const v = JSON.parse(text) as LockInfo;
    if (typeof v.pid === 'number' && typeof v.host === 'string') return v;
  } catch {
    /* fall through */
  }
  return 'unreadable';
}

export class WorkspaceLock {
  private constructor(
    readonly path: string,
    private readonly token: string,
  ) {}

  static async acquire(path: string): Promise<WorkspaceLock> {
    const me: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
    const token = JSON.stringify(me);
    for (let attempt = 0; attempt < 50; attempt++) {
      if (await createExclusive(path, token)) {
        await removeLeftovers(path);
        return new WorkspaceLock(path, token);
      }
      const judged = await snapshot(path);
      if (judged === null) continue; // released meanwhile
      const holder = parseLock(judged.text);
      if (holder !== 'unreadable') {
        if (holder.pid === process.pid && holder.host === me.host) {
          throw new ApiError('conflict', `The workspace at ${dirname(path)} is already open in this process.`);
        }
        if (holder.host !== me.host) {
          throw new ApiError(
            'conflict',
            `The workspace at ${dirname(path)} is in use by Lethe on host ${holder.host} (pid ${holder.pid}). If that instance is gone, delete ${path}.`,
            { locked: true, pid: holder.pid, host: holder.host },
          );
        }
        if (pidAlive(holder.pid)) {
          throw new ApiError(
            'conflict',
            `The workspace at ${dirname(path)} is in use by another Lethe process (pid ${holder.pid}); close it or choose another workspace. If no Lethe is running, delete ${path}.`,
            { locked: true, pid: holder.pid, host: holder.host },
          );
        }
      } else if (Date.now() - judged.mtimeMs < UNREADABLE_GRACE_MS) {
        // Not valid JSON: a crash mid-create, or (without hard links) a writer still filling it.
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      // Stale (dead pid, or unreadable and old). Only one process at a time may remove a stale lock:
      // the one that creates the takeover folder (mkdir is atomic and exclusive). Under it, the lock is
      // removed only if it is still the very file judged stale (no one else can replace it meanwhile:
      // a lock is only ever created where none exists, and only a takeover removes someone else's).
      const guard = `${path}.takeover`;
      try {
        await fsp.mkdir(guard);
      } catch (err) {
        if (errCode(err) !== 'EEXIST') throw err;
        // another process is taking over; a guard older than TAKEOVER_STALE_MS was left by one that died
        const st = await fsp.stat(guard).catch(() => null);
        if (st && Date.now() - st.mtimeMs > TAKEOVER_STALE_MS) await fsp.rmdir(guard).catch(() => {});
        else await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
        continue;
      }
      try {
        const now = await snapshot(path);
        if (now !== null && sameFile(now, judged)) {
          await fsp.rm(path, { force: true });
          await fsyncDir(dirname(path));
        }
      } finally {
        await fsp.rmdir(guard).catch(() => {});
      }
      // the exclusive create at the top of the loop decides who takes it
    }
    throw new ApiError('conflict', `Could not take the workspace lock ${path}; another process keeps competing for it.`);
  }

  async release(): Promise<void> {
    const cur = await readLock(this.path).catch(() => null);
    if (cur !== null && cur !== 'unreadable' && JSON.stringify(cur) === this.token) {
      await fsp.rm(this.path, { force: true });
    }
  }
}
