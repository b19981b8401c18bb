// Electron entry of the desktop app: single-instance lock -> app ready -> open the workspace ->
// backend -> IPC -> window. All real work lives in main/backend and main/engine (no Electron there).

import { app, BrowserWindow, dialog, protocol, session, shell, utilityProcess } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBackend } from './backend/service';
import { createJobRunner } from './backend/jobs/runner';
import type { Backend } from './backend/service';
import { defaultWorkspaceRoot } from './backend/workspace';
import { makePickPath } from './electron/dialogs';
import { registerIpc } from './electron/ipc';
import { registerAppProtocol } from './electron/protocol';
import { utilityWorkerSpawner } from './electron/utility-worker';
import {
  APP_SCHEME,
  devRendererUrl,
  hardenWebContents,
  isDevelopmentBuild,
  permissionCheckHandler,
  permissionRequestHandler,
  requestAllowed,
} from './electron/security';
import { createMainWindow, focusMainWindow, ourWebContents } from './electron/windows';

const here = path.dirname(fileURLToPath(import.meta.url));
// Built layout: out/main/index.js, out/preload/index.cjs, out/renderer/index.html
const preloadPath = path.join(here, '../preload/index.cjs');
const rendererDir = path.join(here, '../renderer');
// A development build (electron-vite dev defines import.meta.env.DEV) that is not packaged may load
// the renderer dev server and open DevTools; every other build ignores ELECTRON_RENDERER_URL.
const build = { packaged: app.isPackaged, devBuild: (import.meta as { env?: { DEV?: boolean } }).env?.DEV === true };
const devUrl = devRendererUrl(process.env.ELECTRON_RENDERER_URL, build);
const devOrigins = devUrl ? [new URL(devUrl).origin] : [];
const devTools = isDevelopmentBuild(build);

/** --workspace <dir> or --workspace=<dir> on the command line, then LETHE_WORKSPACE, then the OS default. */
function workspaceFromArgv(argv: string[]): string {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--workspace' && argv[i + 1]) return path.resolve(argv[i + 1]);
    if (argv[i].startsWith('--workspace=')) return path.resolve(argv[i].slice('--workspace='.length));
  }
  return defaultWorkspaceRoot();
}

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
]);

let backend: Backend | null = null;
let disposeIpc: (() => void) | null = null;

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => focusMainWindow());

  // Every webContents (windows, child windows, devtools-opened pages) gets the guards.
  app.on('web-contents-created', (_event, contents) => {
    hardenWebContents(contents, { devOrigins, openExternal: (url) => shell.openExternal(url) });
  });

  app.whenReady()
    .then(async () => {
      const ses = session.defaultSession;
      ses.setPermissionRequestHandler(permissionRequestHandler);
      ses.setPermissionCheckHandler(permissionCheckHandler);
      ses.webRequest.onBeforeRequest((details, callback) => {
        const ok = requestAllowed(details.url, devOrigins);
        if (!ok) console.warn(`lethe: blocked request to ${details.url.slice(0, 200)}`);
        callback({ cancel: !ok });
      });
      registerAppProtocol(protocol, rendererDir);

      backend = await createBackend({
        workspaceRoot: workspaceFromArgv(process.argv),
        shell: 'electron',
        pickPath: makePickPath(dialog, () => BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0] ?? null),
        // job workers as utility processes: with the RunAsNode fuse off, child_process.fork cannot start them
        createJobRunner: (o) => createJobRunner({ ...o, spawnWorker: utilityWorkerSpawner(utilityProcess) }),
      });
      disposeIpc = registerIpc({ backend, windows: ourWebContents, devOrigins });
      createMainWindow({ preloadPath, url: devUrl, devOrigins, devTools });

      app.on('activate', () => {
        if (ourWebContents().length === 0) createMainWindow({ preloadPath, url: devUrl, devOrigins, devTools });
      });
    })
    .catch((e: unknown) => {
      const message = e instanceof Error ? e.message : String(e);
      console.error('lethe: startup failed', e);
      dialog.showErrorBox('Lethe could not start', message);
      app.exit(1);
    });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  let closing = false;
  app.on('before-quit', (event) => {
    if (closing || !backend) return;
    event.preventDefault();
    closing = true;
    disposeIpc?.();
    void backend
      .close()
      .catch((e) => console.error('lethe: shutdown failed', e))
      .finally(() => {
        backend = null;
        app.quit();
      });
  });
}
