// Single-writer lock: <root>/lock holds the owner's pid and host. A second live instance gets a
// clear error; a lock left by a dead process on this host is taken over.

import { promises as fsp } from 'node:fs';
import { hostname } from 'node:os';
import { ApiError } from '../../../preload/api/common';
import { fsyncDir } from './atomic';
import { dirname } from 'node:path';

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
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
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
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const fh = await fsp.open(path, 'wx', 0o644);
        try {
          await fh.writeFile(token);
          await fh.sync();
        } finally {
          await fh.close();
        }
        await fsyncDir(dirname(path));
        // Two processes taking over the same stale lock at once: only the one whose content stays wins.
        const check = await readLock(path);
        if (check !== null && check !== 'unreadable' && JSON.stringify(check) === token) {
          return new WorkspaceLock(path, token);
        }
        continue;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = await readLock(path);
      if (holder === null) continue; // released meanwhile
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
      } else {
        // A lock file that is not valid JSON can only come from a crash mid-create (it is written
        // with O_EXCL then filled): wait briefly in case its writer is still filling it.
        await new Promise((r) => setTimeout(r, 50));
        const again = await readLock(path);
        if (again !== 'unreadable') continue;
      }
      // Stale lock (dead pid or unreadable): take it over.
      await fsp.rm(path, { force: true });
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
