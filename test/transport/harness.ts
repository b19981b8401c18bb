// Shared set-up of the transport tests: a real backend on a temporary workspace, reached over
// (a) Electron IPC through the real preload and main/electron/ipc.ts on a fake Electron, or
// (b) the real HTTP server through preload/api/web-client.ts.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { apiFromBridge } from '../../preload/api/bridge';
import type { LetheBridge } from '../../preload/api/bridge';
import type { LetheApi } from '../../preload/api/index';
import { createBackend } from '../../main/backend/service';
import type { Backend, BackendOptions } from '../../main/backend/service';
import { startServer } from '../../main/server/server';
import type { RunningServer } from '../../main/server/server';
import { createWebClient } from '../../preload/api/web-client';
import type { WebClient } from '../../preload/api/web-client';
import type { FakeElectron } from './fake-electron';

export interface Rig {
  name: 'ipc' | 'web';
  api: LetheApi;
  backend: Backend;
  root: string;
  server?: RunningServer;
  client?: WebClient;
  close(): Promise<void>;
}

export async function tempDir(prefix = 'lethe-transport-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** A long-running, cancellable built-in job kind (main/backend/jobs/kinds/diagnostics-stress.ts). */
export const LONG_JOB = { kind: 'diagnostics.stress', params: { iterations: 1_000_000, size: 48 } };
/** The same kind, finishing at once. */
export const SHORT_JOB = { kind: 'diagnostics.stress', params: { iterations: 1, size: 8 } };

/** A backend on a fresh temporary workspace with the real job runner (worker processes) unless overridden. */
export async function makeBackend(shell: 'electron' | 'web', extra: Partial<BackendOptions> = {}): Promise<{ backend: Backend; root: string }> {
  const root = await tempDir();
  const backend = await createBackend({
    workspaceRoot: root,
    shell,
    log: () => {},
    ...extra,
  });
  return { backend, root };
}

export async function ipcRig(fake: FakeElectron, extra: Partial<BackendOptions> = {}): Promise<Rig> {
  // imported here, not at the top: main/electron/ipc.ts needs the mocked 'electron'
  const { registerIpc } = await import('../../main/electron/ipc');
  const { backend, root } = await makeBackend('electron', extra);
  const dispose = registerIpc({ backend, windows: () => [fake.webContents as never], log: () => {} });
  const api = apiFromBridge(fake.exposed.lethe as LetheBridge);
  return {
    name: 'ipc',
    api,
    backend,
    root,
    async close() {
      dispose();
      await backend.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

export async function webRig(extra: Partial<BackendOptions> = {}, staticDir?: string): Promise<Rig> {
  const { backend, root } = await makeBackend('web', extra);
  const server = await startServer({ backend, staticDir: staticDir ?? root, log: () => {} });
  const client = createWebClient({ baseUrl: server.origin, token: server.token });
  await client.ready;
  return {
    name: 'web',
    api: client,
    backend,
    root,
    server,
    client,
    async close() {
      client.close();
      await server.close();
      await backend.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Resolve when `predicate` holds for an event seen by `collect`, or fail after `ms`. */
export function waitFor<T>(items: T[], predicate: (item: T) => boolean, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      const hit = items.find(predicate);
      if (hit !== undefined) return resolve(hit);
      if (Date.now() - started > ms) return reject(new Error(`timed out after ${ms} ms; saw ${items.length} items`));
      setTimeout(tick, 5);
    };
    tick();
  });
}
