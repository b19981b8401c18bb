// Electron entry of the desktop app: single-instance lock -> app ready -> open the workspace ->
// backend -> IPC -> window. All real work lives in main/backend and main/engine (no Electron there).

import { app, BrowserWindow, dialog, net, protocol, session, shell } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBackend } from './backend/service';
import type { Backend } from './backend/service';
import { defaultWorkspaceRoot } from './backend/workspace';
import { makePickPath } from './electron/dialogs';
import { registerIpc } from './electron/ipc';
import { registerAppProtocol } from './electron/protocol';
import {
  APP_SCHEME,
  hardenWebContents,
  permissionCheckHandler,
  permissionRequestHandler,
  requestAllowed,
} from './electron/security';
import { createMainWindow, focusMainWindow, ourWebContents } from './electron/windows';

const here = path.dirname(fileURLToPath(import.meta.url));
// Built layout: out/main/index.js, out/preload/index.cjs, out/renderer/index.html
const preloadPath = path.join(here, '../preload/index.cjs');
const rendererDir = path.join(here, '../renderer');
const devUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
const devOrigins = devUrl ? [new URL(devUrl).origin] : [];

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
      registerAppProtocol(protocol, net, rendererDir);

      backend = await createBackend({
        workspaceRoot: workspaceFromArgv(process.argv),
        shell: 'electron',
        pickPath: makePickPath(dialog, () => BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0] ?? null),
      });
      disposeIpc = registerIpc({ backend, windows: ourWebContents, devOrigins });
      createMainWindow({ preloadPath, url: devUrl, devOrigins });

      app.on('activate', () => {
        if (ourWebContents().length === 0) createMainWindow({ preloadPath, url: devUrl, devOrigins });
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
