// The renderer's only door to the backend. Stores call `getApi()`; it returns the same LetheApi
// whichever transport carries it: the Electron preload's named verbs (window.lethe) in the desktop
// app, or the HTTP + server-sent-events client (preload/api/web-client.ts) in the browser build.

import type { LetheApi, Unsubscribe } from '../../../preload/api';
import { apiFromBridge, type LetheBridge } from '../../../preload/api/bridge';
import { createWebClient } from '../../../preload/api/web-client';

let instance: LetheApi | null = null;
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
      : createWebClient({ onConnectionChange: (connected) => connectionListeners.forEach((fn) => fn(connected)) });
  }
  return instance;
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
