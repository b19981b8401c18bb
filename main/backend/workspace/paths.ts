// Where the workspace lives, and the rules that keep every record id and blob hash inside it.

import { homedir } from 'node:os';
import { join } from 'node:path';
import { ApiError } from '../../../preload/api/common';
import { RECORD_KINDS, type RecordKind } from './types';

/**
 * The workspace folder used when the caller gives none: LETHE_WORKSPACE first, then the OS
 * app-data location (Linux: $XDG_DATA_HOME or ~/.local/share; macOS: ~/Library/Application
 * Support; Windows: %APPDATA%), under Lethe/workspace. A `--workspace` flag is handled by callers
 * passing a root explicitly.
 */
export function defaultWorkspaceRoot(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  const fromEnv = env.LETHE_WORKSPACE?.trim();
  if (fromEnv) return fromEnv;
  if (platform === 'win32') {
    const appData = env.APPDATA?.trim() || join(home, 'AppData', 'Roaming');
    return join(appData, 'Lethe', 'workspace');
  }
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'Lethe', 'workspace');
  const xdg = env.XDG_DATA_HOME?.trim();
  // XDG says relative values are invalid and must be ignored.
  const base = xdg && xdg.startsWith('/') ? xdg : join(home, '.local', 'share');
  return join(base, 'Lethe', 'workspace');
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const WINDOWS_DEVICE_RE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/** Throws ApiError('invalid_argument') unless `id` is a safe file-name stem. */
export function assertValidId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || id.length === 0) {
    throw new ApiError('invalid_argument', 'A record id must be a non-empty string.');
  }
  if (!ID_RE.test(id) || id.includes('..') || id.endsWith('.') || WINDOWS_DEVICE_RE.test(id)) {
    throw new ApiError(
      'invalid_argument',
      `Invalid record id ${JSON.stringify(id.slice(0, 80))}: use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit, no '..', not a Windows device name.`,
    );
  }
}

export function assertValidKind(kind: unknown): asserts kind is RecordKind {
  if (typeof kind !== 'string' || !(RECORD_KINDS as readonly string[]).includes(kind)) {
    throw new ApiError(
      'invalid_argument',
      `Unknown record kind ${JSON.stringify(String(kind).slice(0, 40))}; expected one of ${RECORD_KINDS.join(', ')}.`,
    );
  }
}

const SHA_RE = /^[0-9a-f]{64}$/;

export function assertValidSha256(sha: unknown): asserts sha is string {
  if (typeof sha !== 'string' || !SHA_RE.test(sha)) {
    throw new ApiError('invalid_argument', `Invalid blob hash ${JSON.stringify(String(sha).slice(0, 80))}: expected 64 lowercase hex digits.`);
  }
}
