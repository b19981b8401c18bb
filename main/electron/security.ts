// Security baseline of the desktop app as pure functions (unit-tested in test/security without the
// Electron binary). windows.ts and main/index.ts apply them to every window, webContents and session.
// Mapped item by item to Electron's security checklist in test/security/checklist.test.ts.

import type { WebPreferences } from 'electron';
import { CONTENT_SECURITY_POLICY } from './csp';

export { CONTENT_SECURITY_POLICY, CSP_DIRECTIVES } from './csp';

/** The app's pages are served from this privileged custom scheme (not file://: checklist item 18). */
export const APP_SCHEME = 'app';
export const APP_HOST = 'lethe';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * webPreferences of every Lethe window. The preload is the only one: ours. DevTools are off unless
 * the caller says this is a development build (main/index.ts: an unpackaged development build only).
 */
export function secureWebPreferences(preloadPath: string, opts: { devTools?: boolean } = {}): WebPreferences {
  if (typeof preloadPath !== 'string' || !/\.cjs$/.test(preloadPath) || !/^(\/|[A-Za-z]:[\\/])/.test(preloadPath)) {
    throw new Error(`The preload must be an absolute path to a .cjs file, got ${JSON.stringify(preloadPath)}`);
  }
  return {
    preload: preloadPath,
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    enableBlinkFeatures: '',
    webviewTag: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    devTools: opts.devTools === true,
  };
}

/** What kind of build is running: packaged (app.isPackaged) and a development build (electron-vite dev). */
export interface BuildKind {
  packaged: boolean;
  /** true only in a development build (import.meta.env.DEV of electron-vite's dev mode) */
  devBuild: boolean;
}

/** Development tools (DevTools, the renderer dev server) only in an unpackaged development build. */
export function isDevelopmentBuild(b: BuildKind): boolean {
  return b.devBuild === true && b.packaged === false;
}

/**
 * The renderer dev server URL (ELECTRON_RENDERER_URL) to load instead of app://, honoured only in a
 * development build and only for an http(s) server on this machine; anywhere else it is ignored (a
 * packaged or production build never loads pages from an address the environment names).
 */
export function devRendererUrl(envValue: string | undefined, b: BuildKind): string | undefined {
  if (!isDevelopmentBuild(b) || !envValue) return undefined;
  const u = parse(envValue);
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.username || u.password) return undefined;
  if (!['localhost', '127.0.0.1', '[::1]'].includes(u.hostname)) return undefined;
  return u.href;
}

function parse(url: string): URL | null {
  if (typeof url !== 'string' || url.length > 8192) return null;
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/**
 * Is `url` one of our own pages? `app://lethe/...`, or in development the exact origin of the
 * renderer dev server (http://localhost:5173 style) passed in `devOrigins`.
 */
export function isAppUrl(url: string, devOrigins: readonly string[] = []): boolean {
  const u = parse(url);
  if (!u) return false;
  if (u.username || u.password) return false;
  if (u.protocol === `${APP_SCHEME}:`) return u.host === APP_HOST && u.port === '';
  if (u.protocol === 'http:' || u.protocol === 'https:') return devOrigins.includes(u.origin);
  return false;
}

/** will-navigate / will-redirect / will-frame-navigate: only our own pages. */
export function navigationAllowed(url: string, devOrigins: readonly string[] = []): boolean {
  return isAppUrl(url, devOrigins);
}

/** Exact hosts that links in the app may open in the user's browser (docs and project pages). */
export const EXTERNAL_HOSTS: readonly string[] = Object.freeze([
  'github.com',
  'onnx.ai',
  'onnxruntime.ai',
  'pytorch.org',
  'arxiv.org',
  'www.electronjs.org',
]);

/** shell.openExternal allow-list: https only, exact host, default port, no credentials. */
export function externalUrlAllowed(url: string, hosts: readonly string[] = EXTERNAL_HOSTS): boolean {
  const u = parse(url);
  if (!u) return false;
  if (u.protocol !== 'https:') return false;
  if (u.username || u.password || u.port !== '') return false;
  // The URL parser lower-cases and IDNA-encodes hosts: a look-alike in Unicode becomes xn--... and fails here.
  return hosts.includes(u.hostname);
}

export interface WindowOpenDecision {
  action: 'deny';
  /** a URL to hand to shell.openExternal, or null */
  openExternal: string | null;
}

/** setWindowOpenHandler: never a new Electron window; allow-listed https links go to the browser. */
export function decideWindowOpen(url: string, hosts: readonly string[] = EXTERNAL_HOSTS): WindowOpenDecision {
  return { action: 'deny', openExternal: externalUrlAllowed(url, hosts) ? new URL(url).href : null };
}

/** session.setPermissionRequestHandler: Lethe needs no permission (camera, notifications, ...). */
export function permissionRequestHandler(_webContents: unknown, _permission: string, callback: (granted: boolean) => void): void {
  callback(false);
}

/** session.setPermissionCheckHandler */
export function permissionCheckHandler(): boolean {
  return false;
}

/**
 * session.webRequest.onBeforeRequest: the app is offline. Only its own scheme and in-page data
 * (data:, blob:, devtools:) load; everything else is cancelled.
 */
export function requestAllowed(url: string, devOrigins: readonly string[] = []): boolean {
  const u = parse(url);
  if (!u) return false;
  if (u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'devtools:') return true;
  if (u.protocol === 'ws:' || u.protocol === 'wss:') {
    // vite's dev server hot reload socket, dev only
    return devOrigins.some((o) => new URL(o).host === u.host);
  }
  return isAppUrl(url, devOrigins);
}

/** Headers added to every response of the app protocol. */
export const APP_RESPONSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
});

/** Minimal shape of a WebContents that hardenWebContents needs (so tests can pass a fake). */
export interface HardenableContents {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Electron's overloads take differently typed listeners
  on(event: string, listener: (...args: any[]) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' } | { action: 'allow' }): void;
}

export interface HardenOptions {
  devOrigins?: readonly string[];
  openExternal: (url: string) => unknown;
  log?: (message: string) => void;
}

/** Attach navigation, redirect, window-open and webview guards to one webContents (checklist 11-15). */
export function hardenWebContents(contents: HardenableContents, opts: HardenOptions): void {
  const log = opts.log ?? ((m: string) => console.warn(m));
  const devOrigins = opts.devOrigins ?? [];
  const guard = (kind: string) => (event: { preventDefault(): void; url?: string }, maybeUrl?: unknown) => {
    const url = typeof maybeUrl === 'string' ? maybeUrl : (event.url ?? '');
    if (!navigationAllowed(url, devOrigins)) {
      event.preventDefault();
      log(`lethe: blocked ${kind} to ${String(url).slice(0, 200)}`);
    }
  };
  contents.on('will-navigate', guard('navigation'));
  contents.on('will-frame-navigate', guard('frame navigation'));
  contents.on('will-redirect', guard('redirect'));
  contents.on('will-attach-webview', (event: { preventDefault(): void }) => {
    event.preventDefault();
    log('lethe: blocked a <webview>');
  });
  contents.setWindowOpenHandler(({ url }) => {
    const decision = decideWindowOpen(url);
    if (decision.openExternal) void Promise.resolve(opts.openExternal(decision.openExternal)).catch(() => {});
    else log(`lethe: blocked window.open of ${String(url).slice(0, 200)}`);
    return { action: 'deny' };
  });
}
