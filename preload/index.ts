// The sandboxed preload: exposes one global, `window.lethe`, made of named verbs generated from the
// API contract (`lethe.jobs.list(args)`, `lethe.jobs.onEvent(cb)` -> unsubscribe). The page never
// sees ipcRenderer, channel names or Electron objects. Built to CommonJS (out/preload/index.cjs)
// because a sandboxed preload cannot be an ES module.

import { contextBridge, ipcRenderer } from 'electron';
import type { IpcRendererEvent } from 'electron';
import { buildBridge, eventChannel, methodChannel } from './api/bridge';
import type { CallEnvelope } from './api/bridge';

const bridge = buildBridge(
  async (method, args) => {
    try {
      return (await ipcRenderer.invoke(methodChannel(method), args)) as CallEnvelope;
    } catch {
      // Only reached when the main process has no handler or the reply cannot be cloned.
      return { ok: false, error: { code: 'internal', message: `The call '${method}' could not reach the backend.` } };
    }
  },
  (event, listener) => {
    const channel = eventChannel(event);
    // Drop the IpcRendererEvent: it carries `sender` (the ipcRenderer itself).
    const handler = (_e: IpcRendererEvent, payload: unknown) => listener(payload);
    ipcRenderer.on(channel, handler);
    return () => {
      ipcRenderer.removeListener(channel, handler);
    };
  },
);

contextBridge.exposeInMainWorld('lethe', bridge);
