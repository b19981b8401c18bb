// The renderer's only door to the backend. Stores call `getApi()`; it returns the same LetheApi
// whichever transport carries it: the Electron preload's named verbs (window.lethe) in the desktop
// app, or the HTTP + server-sent-events client (preload/api/web-client.ts) in the browser build.

import type { LetheApi } from '../../../preload/api';
import { apiFromBridge, type LetheBridge } from '../../../preload/api/bridge';
import { createWebClient } from '../../../preload/api/web-client';

let instance: LetheApi | null = null;

function bridge(): LetheBridge | null {
  const lethe = (globalThis as { lethe?: unknown }).lethe;
  return typeof lethe === 'object' && lethe !== null ? (lethe as LetheBridge) : null;
}

export function getApi(): LetheApi {
  if (!instance) {
    const b = bridge();
    instance = b ? apiFromBridge(b) : createWebClient();
  }
  return instance;
}

/** Which transport getApi() uses; shown in Settings. */
export function transportName(): 'electron' | 'web' {
  return bridge() ? 'electron' : 'web';
}
