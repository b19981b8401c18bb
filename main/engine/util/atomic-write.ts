// Durable file primitives. Safe write order: temp file in the same folder, write, fsync the file,
// rename over the target, fsync the folder. A reader never sees a half-written file under the
// target name, and once the promise resolves the data survives a crash or power loss.

import { promises as fsp } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** Marker in the names of temp files; files carrying it are stale leftovers when no writer runs. */
export const TEMP_MARKER = '.tmp-';

export function tempNameFor(target: string): string {
  return join(dirname(target), `.${basename(target)}${TEMP_MARKER}${process.pid}-${randomBytes(6).toString('hex')}`);
}

export function isTempName(name: string): boolean {
  return name.startsWith('.') && name.includes(TEMP_MARKER);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** rename, retrying the transient EPERM/EBUSY/EACCES that Windows antivirus and indexers cause. */
export async function renameWithRetry(from: string, to: string, attempts = 6): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await fsp.rename(from, to);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const transient = code === 'EPERM' || code === 'EBUSY' || code === 'EACCES';
      if (!transient || i >= attempts - 1) throw err;
      await sleep(15 * 2 ** i);
    }
  }
}

/** fsync a directory so a rename or create inside it is durable. Not possible on Windows (ignored there). */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (process.platform === 'win32' || code === 'EISDIR' || code === 'EINVAL' || code === 'EPERM') return;
    throw err;
  } finally {
    await fh?.close();
  }
}

/** Atomically replace `target` with `data`; resolves only when durable. */
export async function writeFileAtomic(target: string, data: Uint8Array | string): Promise<void> {
  const tmp = tempNameFor(target);
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(tmp, 'wx', 0o644);
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await renameWithRetry(tmp, target);
  } catch (err) {
    await fh?.close().catch(() => {});
    await fsp.rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
  await fsyncDir(dirname(target));
}

/** mkdir -p that also fsyncs the parent of every folder it creates. */
export async function ensureDirDurable(dir: string): Promise<void> {
  try {
    await fsp.access(dir);
    return;
  } catch {
    /* create below */
  }
  await ensureDirDurable(dirname(dir));
  try {
    await fsp.mkdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return;
  }
  await fsyncDir(dirname(dir));
}
