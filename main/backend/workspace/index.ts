// Workspace entry point: open a workspace folder (taking the single-writer lock) or find the default one.

import { FsWorkspace, type OpenWorkspaceOptions } from './fs-store';
import type { Workspace } from './types';

export { defaultWorkspaceRoot, assertValidId, assertValidKind, assertValidSha256 } from './paths';
export { canonicalJson } from '../../engine/util/canonical-json';
export { WORKSPACE_FORMAT, WORKSPACE_VERSION, manifestHashOf, type OpenWorkspaceOptions, type QuarantineEntry } from './fs-store';
export * from './types';

/**
 * Open (creating if needed) the workspace at `root`. In the default 'owner' mode this takes the
 * single-writer lock (a second live instance gets ApiError 'conflict'), removes stale temp files
 * and moves corrupt records to quarantine/ (see quarantined()). Job workers pass { mode: 'worker' }.
 */
export async function openWorkspace(root: string, opts: OpenWorkspaceOptions = {}): Promise<Workspace> {
  return new FsWorkspace(root, opts).open();
}
