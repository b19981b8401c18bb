// An in-process stand-in for the parts of Electron that the preload and main/electron/ipc.ts use:
// ipcMain.handle/removeHandler, ipcRenderer.invoke/on/removeListener, contextBridge and one
// webContents. Arguments and replies go through structuredClone, as Electron's IPC does, so
// anything that would not survive the real transport fails here too.

type Handler = (event: unknown, ...args: unknown[]) => unknown;
type RendererListener = (event: unknown, ...args: unknown[]) => void;

export interface FakeElectron {
  ipcMain: { handle(channel: string, fn: Handler): void; removeHandler(channel: string): void };
  ipcRenderer: {
    invoke(channel: string, ...args: unknown[]): Promise<unknown>;
    on(channel: string, fn: RendererListener): unknown;
    removeListener(channel: string, fn: RendererListener): unknown;
  };
  contextBridge: { exposeInMainWorld(key: string, api: unknown): void };
  /** the webContents of "our" window */
  webContents: { id: number; isDestroyed(): boolean; send(channel: string, ...args: unknown[]): void };
  /** a webContents that is not one of ours */
  foreignWebContents: { id: number; isDestroyed(): boolean; send(channel: string, ...args: unknown[]): void };
  /** what the preload exposed, by key */
  exposed: Record<string, unknown>;
  /** URL of the frame that calls (default app://lethe/index.html); null = destroyed frame */
  state: { frameUrl: string | null; sender: 'ours' | 'foreign' };
  handlerChannels(): string[];
  rendererListenerCount(channel?: string): number;
  reset(): void;
}

export function createFakeElectron(): FakeElectron {
  const handlers = new Map<string, Handler>();
  const listeners = new Map<string, Set<RendererListener>>();
  const exposed: Record<string, unknown> = {};
  const state: FakeElectron['state'] = { frameUrl: 'app://lethe/index.html', sender: 'ours' };
  const rendererEvent = { sender: 'ipcRenderer (must never reach the page)' };

  const makeContents = (id: number) => ({
    id,
    isDestroyed: () => false,
    send(channel: string, ...args: unknown[]) {
      const cloned = structuredClone(args);
      for (const fn of [...(listeners.get(channel) ?? [])]) fn(rendererEvent, ...cloned);
    },
  });
  const webContents = makeContents(1);
  const foreignWebContents = makeContents(2);

  return {
    ipcMain: {
      handle(channel, fn) {
        if (handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
        handlers.set(channel, fn);
      },
      removeHandler(channel) {
        handlers.delete(channel);
      },
    },
    ipcRenderer: {
      async invoke(channel, ...args) {
        const cloned = structuredClone(args);
        const fn = handlers.get(channel);
        if (!fn) throw new Error(`Error invoking remote method '${channel}': Error: No handler registered for '${channel}'`);
        const event = {
          sender: state.sender === 'ours' ? webContents : foreignWebContents,
          senderFrame: state.frameUrl === null ? null : { url: state.frameUrl },
        };
        return structuredClone(await fn(event, ...cloned));
      },
      on(channel, fn) {
        let set = listeners.get(channel);
        if (!set) listeners.set(channel, (set = new Set()));
        set.add(fn);
      },
      removeListener(channel, fn) {
        listeners.get(channel)?.delete(fn);
      },
    },
    contextBridge: {
      exposeInMainWorld(key, api) {
        exposed[key] = api;
      },
    },
    webContents,
    foreignWebContents,
    exposed,
    state,
    handlerChannels: () => [...handlers.keys()].sort(),
    rendererListenerCount: (channel) =>
      channel ? (listeners.get(channel)?.size ?? 0) : [...listeners.values()].reduce((n, s) => n + s.size, 0),
    reset() {
      handlers.clear();
      listeners.clear();
      for (const k of Object.keys(exposed)) delete exposed[k];
      state.frameUrl = 'app://lethe/index.html';
      state.sender = 'ours';
    },
  };
}
