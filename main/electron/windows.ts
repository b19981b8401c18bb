// Window creation for the desktop app. Every window gets secureWebPreferences (sandboxed, isolated,
// no Node), the app:// entry URL and the navigation/window-open guards (also applied to every other
// webContents by main/index.ts through 'web-contents-created').

import { BrowserWindow, nativeTheme, shell } from 'electron';
import type { WebContents } from 'electron';
import { APP_ENTRY_URL, hardenWebContents, secureWebPreferences } from './security';

const windows = new Set<BrowserWindow>();

export interface MainWindowOptions {
  preloadPath: string;
  /** APP_ENTRY_URL, or the renderer dev server URL in development */
  url?: string;
  devOrigins?: readonly string[];
  /** DevTools: only in an unpackaged development build (security.ts isDevelopmentBuild) */
  devTools?: boolean;
}

export function createMainWindow(opts: MainWindowOptions): BrowserWindow {
  const win = new BrowserWindow({
    width: 1360,
    height: 880,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'Lethe',
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#16181d' : '#ffffff',
    webPreferences: secureWebPreferences(opts.preloadPath, { devTools: opts.devTools === true }),
  });
  windows.add(win);
  hardenWebContents(win.webContents, { devOrigins: opts.devOrigins, openExternal: (url) => shell.openExternal(url) });
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => windows.delete(win));
  void win.loadURL(opts.url ?? APP_ENTRY_URL);
  return win;
}

/** The webContents of our own windows (IPC accepts calls only from these and sends events to them). */
export function ourWebContents(): WebContents[] {
  return [...windows].filter((w) => !w.isDestroyed()).map((w) => w.webContents);
}

export function focusMainWindow(): void {
  const win = [...windows].find((w) => !w.isDestroyed());
  if (!win) return;
  if (win.isMinimized()) win.restore();
  win.focus();
}
