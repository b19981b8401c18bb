// The renderer's only door to the backend. Stores call `getApi()`; it returns the same LetheApi
// whichever transport carries it: the Electron preload's named verbs (window.lethe) in the desktop
// app, or the HTTP + server-sent-events client (preload/api/web-client.ts) in the browser build.

import type { LetheApi, Unsubscribe } from '../../../preload/api';
import { apiFromBridge, type LetheBridge } from '../../../preload/api/bridge';
import { createWebClient, takeTokenFromHash } from '../../../preload/api/web-client';

let instance: LetheApi | null = null;
/** The web transport's access token: taken from the address at startup, kept in memory only. */
let launchToken: string | undefined;
const connectionListeners = new Set<(connected: boolean) => void>();

function bridge(): LetheBridge | null {
  const lethe = (globalThis as { lethe?: unknown }).lethe;
  return typeof lethe === 'object' && lethe !== null ? (lethe as LetheBridge) : null;
}

export function getApi(): LetheApi {
  if (!instance) {
    const b = bridge();
    instance = b
      ? apiFromBridge(b)
      : createWebClient({ token: launchToken, onConnectionChange: (connected) => connectionListeners.forEach((fn) => fn(connected)) });
  }
  return instance;
}

/**
 * Called once at startup, before the router reads the address: takes the access token out of the
 * fragment of the address Lethe printed (`http://127.0.0.1:PORT/#token=...`), keeps it in memory and
 * replaces the address (history.replaceState), so the token is neither shown, nor kept in history,
 * nor sent anywhere but in the X-Lethe-Token header of API requests. Any route in the fragment stays.
 */
export function captureLaunchToken(): void {
  if (bridge() || typeof location === 'undefined') return;
  const { token, hash } = takeTokenFromHash(location.hash);
  if (token === null) return;
  launchToken = token;
  history.replaceState(history.state, '', `${location.pathname}${location.search}${hash || '#/'}`);
}

/** Which transport getApi() uses; shown in Settings. */
export function transportName(): 'electron' | 'web' {
  return bridge() ? 'electron' : 'web';
}

/**
 * Told when the web transport's event stream drops (false) or is back (true). Events sent while it
 * was down are lost, so listeners reload what they show. IPC never drops, so this never fires there.
 */
export function onConnectionChange(listener: (connected: boolean) => void): Unsubscribe {
  connectionListeners.add(listener);
  return () => connectionListeners.delete(listener);
}
