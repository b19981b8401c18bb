// Disk space: how much a folder's file system has free, byte counts in words, and the one message
// for "the workspace's disk is full" (it names the workspace and how much is needed, never the
// source file that was being read when the write failed).

import { statfs } from 'node:fs/promises';

/** Bytes free for this user on the file system holding `dir` (null if it cannot be asked). */
export async function freeBytes(dir: string): Promise<number | null> {
  try {
    const s = await statfs(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return null;
  }
}

/** 1536 -> '1.5 KB', 2_000_000_000 -> '2.0 GB' (decimal units, one decimal). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let v = Math.max(0, n);
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${Math.round(v)} bytes` : `${v.toFixed(1)} ${units[u]}`;
}

/** An ENOSPC / EDQUOT error (disk full or quota exceeded)? */
export function isNoSpace(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** One line: the workspace's disk cannot take `needed` more bytes (`free` known or not). */
export function noSpaceMessage(workspaceRoot: string, what: string, needed: number | null, free: number | null): string {
  const need = needed !== null ? `${what} needs about ${formatBytes(needed)}` : `${what} needs more space`;
  const has = free !== null ? `, and ${formatBytes(free)} is free` : '';
  return `The disk of the workspace (${workspaceRoot}) is full: ${need}${has}. Free some space there (lethe workspace gc removes data nothing uses) or use a workspace on a larger disk.`;
}
