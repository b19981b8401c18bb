// Electron IPC side of the API: one ipcMain.handle per method on channel 'lethe:<method>', and
// backend events pushed to our windows with webContents.send on 'lethe:event:<event>'. Every call
// checks its sender (one of our windows, and a frame showing our own app URL) before the backend
// validates the arguments. Replies are always CallEnvelopes: {ok, result} or {ok:false, error:{code,message}}.

import { ipcMain } from 'electron';
import type { IpcMainInvokeEvent, WebContents } from 'electron';
import { eventChannel, methodChannel } from '../../preload/api/bridge';
import type { CallEnvelope } from '../../preload/api/bridge';
import { API_EVENTS, API_METHODS } from '../../preload/api/index';
import type { Backend } from '../backend/service';
import { isAppUrl } from './security';

export interface IpcOptions {
  backend: Pick<Backend, 'dispatch' | 'events'>;
  /** the webContents of our own windows (events go to these; calls are accepted only from these) */
  windows: () => WebContents[];
  /** renderer dev-server origins accepted besides app://lethe (development only) */
  devOrigins?: readonly string[];
  log?: (message: string) => void;
}

/** Is this invoke from one of our windows, from a frame that shows our app? */
export function senderAllowed(event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>, opts: Pick<IpcOptions, 'windows' | 'devOrigins'>): boolean {
  const frame = event.senderFrame;
  if (!frame) return false; // navigated away or destroyed
  if (!isAppUrl(frame.url, opts.devOrigins ?? [])) return false;
  return opts.windows().some((wc) => wc === event.sender);
}

const FORBIDDEN: CallEnvelope = { ok: false, error: { code: 'forbidden', message: 'This caller is not allowed to use the Lethe API.' } };

/** Register every channel; returns a function that removes them again. */
export function registerIpc(opts: IpcOptions): () => void {
  const log = opts.log ?? ((m: string) => console.warn(m));
  for (const method of API_METHODS) {
    ipcMain.handle(methodChannel(method), async (event: IpcMainInvokeEvent, args: unknown): Promise<CallEnvelope> => {
      if (!senderAllowed(event, opts)) {
        log(`lethe: refused IPC call ${method} from ${String(event.senderFrame?.url ?? 'a destroyed frame').slice(0, 200)}`);
        return FORBIDDEN;
      }
      return opts.backend.dispatch(method, args);
    });
  }
  const unsubscribes = API_EVENTS.map((name) =>
    opts.backend.events.on(name, (payload) => {
      for (const wc of opts.windows()) {
        if (wc.isDestroyed()) continue;
        try {
          wc.send(eventChannel(name), payload);
        } catch (e) {
          log(`lethe: could not deliver ${name}: ${(e as Error).message}`);
        }
      }
    }),
  );
  return () => {
    for (const method of API_METHODS) ipcMain.removeHandler(methodChannel(method));
    for (const u of unsubscribes) u();
  };
}
