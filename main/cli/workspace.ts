// Opening the workspace for a CLI command. Commands that change the workspace take its single-writer
// lock. Commands that only read ('read') also work while the desktop app or `lethe serve` holds the
// lock: they open it as a reader (no lock; every write refused), which is safe because records and
// blobs are replaced atomically and blobs never change. A one-line note on stderr says so.

import { ApiError } from '../../preload/api/common';
import { openWorkspace } from '../backend/workspace';
import type { Workspace } from '../backend/workspace/types';
import type { CliContext } from './types';

export type WorkspaceAccess = 'read' | 'write';

export async function openForCli(ctx: CliContext, access: WorkspaceAccess): Promise<Workspace> {
  try {
    return await openWorkspace(ctx.workspaceRoot);
  } catch (e) {
    const held = e instanceof ApiError && e.code === 'conflict' && (e.details as { locked?: boolean; pid?: number } | undefined)?.locked === true;
    if (access !== 'read' || !held) throw e;
    const pid = (e.details as { pid?: number }).pid;
    const ws = await openWorkspace(ctx.workspaceRoot, {
      mode: 'reader',
      readOnlyReason: `The workspace at ${ctx.workspaceRoot} is in use by another Lethe process (pid ${pid}); this command may only read it. Close that process to change the workspace.`,
    });
    process.stderr.write(`note: the workspace is in use by another Lethe process (pid ${pid}); reading it without the lock.\n`);
    return ws;
  }
}

/** Run `fn` with the workspace open for `access`, closing it (and any cached dataset readers) afterwards. */
export async function withWorkspace<T>(ctx: CliContext, fn: (ws: Workspace) => Promise<T>, access: WorkspaceAccess = 'write'): Promise<T> {
  const ws = await openForCli(ctx, access);
  const { closeReaders } = await import('../backend/services/datasets');
  try {
    return await fn(ws);
  } finally {
    await closeReaders(ws).catch(() => {});
    await ws.close();
  }
}
