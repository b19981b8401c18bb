// Where an export may be written: one set of checks for every command and API method that writes a
// file or a folder outside the workspace (model export, model train --out, forget-set export).
//   - the path must be absolute and its parent folder must exist;
//   - an existing file is never replaced unless the caller says so explicitly (CLI --force, API
//     `overwrite: true` after the UI asked the user);
//   - a target that is not a regular file (a folder, a device such as /dev/null, a FIFO, a socket) or
//     that lies in a kernel file system (/proc, /sys, /dev) is refused, whatever the caller says;
//   - an export folder must be new or empty, so that no file in it is overwritten.
// Each refusal is one ApiError with one plain sentence: 'conflict' for "exists", 'invalid_argument'
// for everything else.

import type { Stats } from 'node:fs';
import { mkdir, readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, sep } from 'node:path';
import { ApiError } from '../../../preload/api/common';

// What a non-regular file is, in words ('a folder', 'a device', ...): defined once, in the engine.
import { specialFileKind } from '../../engine/util/file-kind';
export { specialFileKind };

/** Kernel file systems: their "files" are views of the running system, never export targets. */
const VIRTUAL_ROOTS = ['/proc', '/sys', '/dev'];

function inVirtualFs(p: string): boolean {
  if (process.platform === 'win32') return false;
  return VIRTUAL_ROOTS.some((r) => p === r || p.startsWith(r + sep));
}

async function statOrNull(p: string): Promise<Stats | null> {
  try {
    return await stat(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new ApiError('invalid_argument', `${p} cannot be examined (${code ?? (e as Error).message}).`);
  }
}

/** The parent folder must exist; returns its real path (symlinks resolved). */
async function existingParent(p: string): Promise<string> {
  const parent = dirname(p);
  const pst = await statOrNull(parent);
  if (!pst?.isDirectory()) throw new ApiError('invalid_argument', `The folder ${parent} does not exist.`);
  return realpath(parent).catch(() => parent);
}

export interface OutputFileOptions {
  /** replace an existing regular file (CLI --force, API overwrite: true) */
  overwrite?: boolean;
  /** how this caller confirms an overwrite, for the refusal message, e.g. 'add --force to replace it' */
  overwriteHint?: string;
  /** what the path is called in messages (default 'The export path') */
  what?: string;
}

/**
 * Check that `p` may be written as a new file (or, with `overwrite`, replace a regular file). Throws one
 * ApiError: 'conflict' if a regular file is there and `overwrite` is not set; 'invalid_argument' for a
 * relative path, a missing parent folder, a special file or a kernel file system.
 */
export async function checkOutputFile(p: string, opts: OutputFileOptions = {}): Promise<void> {
  const what = opts.what ?? 'The export path';
  if (!isAbsolute(p)) throw new ApiError('invalid_argument', `${what} must be absolute (it is '${p}').`);
  const realParent = await existingParent(p);
  const st = await statOrNull(p);
  const real = st ? await realpath(p).catch(() => p) : join(realParent, basename(p));
  if (inVirtualFs(real) || inVirtualFs(p)) {
    throw new ApiError('invalid_argument', `${p} is in a kernel file system (/proc, /sys or /dev), not a place to write a file; give a path on a disk.`);
  }
  if (!st) return;
  const kind = specialFileKind(st);
  if (kind) throw new ApiError('invalid_argument', `${p} is ${kind}, not a regular file; give the path of a new file.`);
  if (!opts.overwrite) throw new ApiError('conflict', `${p} already exists; ${opts.overwriteHint ?? 'confirm replacing it'} or give another file name.`);
}

/**
 * Make sure `dir` is a new or empty folder for an export (creating it if its parent exists), so that no
 * file is overwritten. Same refusals as checkOutputFile for relative paths, missing parents, special
 * files and kernel file systems; a non-empty folder is a 'conflict'.
 */
export async function prepareExportFolder(dir: string): Promise<void> {
  if (!isAbsolute(dir)) throw new ApiError('invalid_argument', `The export folder must be an absolute path (it is '${dir}').`);
  const st = await statOrNull(dir);
  const real = st ? await realpath(dir).catch(() => dir) : dir;
  if (inVirtualFs(real) || inVirtualFs(dir)) {
    throw new ApiError('invalid_argument', `${dir} is in a kernel file system (/proc, /sys or /dev), not a place to export to; give a folder on a disk.`);
  }
  if (st) {
    if (!st.isDirectory()) throw new ApiError('invalid_argument', `${dir} is ${specialFileKind(st) ?? 'a file'}; give a new or empty folder.`);
    if ((await readdir(dir)).length > 0) throw new ApiError('conflict', `The folder ${dir} is not empty; give a new or empty folder so no file is overwritten.`);
    return;
  }
  const parentReal = await existingParent(dir.replace(/[\\/]+$/, '') || dir);
  if (inVirtualFs(parentReal)) throw new ApiError('invalid_argument', `${dir} is in a kernel file system (/proc, /sys or /dev), not a place to export to; give a folder on a disk.`);
  await mkdir(dir);
}
