// Pure name mapping between the flat API contract ('jobs.list', 'jobs.event') and the object of
// named verbs that the preload exposes as `window.lethe` (`lethe.jobs.list(args)`,
// `lethe.jobs.onEvent(cb)`). No Electron import: the preload, the main process tests and the
// renderer all use it. The renderer turns `window.lethe` back into a LetheApi with apiFromBridge().

import { API_EVENTS, API_METHODS, ApiError } from './index';
import type { ApiErrorCode, ApiErrorShape, ApiEvents, EventName, LetheApi, MethodName, Unsubscribe } from './index';

/** IPC channel of a method (ipcMain.handle / ipcRenderer.invoke). */
export const methodChannel = (method: MethodName): string => `lethe:${method}`;
/** IPC channel on which the main process pushes an event (webContents.send / ipcRenderer.on). */
export const eventChannel = (event: EventName): string => `lethe:event:${event}`;

/** What every exposed verb resolves with (the same envelope as the web transport's /api/call). */
export type CallEnvelope<R = unknown> = { ok: true; result: R } | { ok: false; error: ApiErrorShape };

const NAME_PART = /^[a-z][A-Za-z0-9]*$/;

function splitName(name: string): [string, string] {
  const parts = name.split('.');
  if (parts.length !== 2 || !NAME_PART.test(parts[0]) || !NAME_PART.test(parts[1])) {
    throw new Error(`API name '${name}' must be '<domain>.<verb>' in lowerCamelCase`);
  }
  return [parts[0], parts[1]];
}

/** 'jobs.list' -> ['jobs', 'list'] */
export function methodPath(name: string): [string, string] {
  const [domain, verb] = splitName(name);
  if (/^on[A-Z]/.test(verb)) throw new Error(`method '${name}' would clash with an event subscriber name`);
  return [domain, verb];
}

/** 'jobs.event' -> ['jobs', 'onEvent'] */
export function eventPath(name: string): [string, string] {
  const [domain, verb] = splitName(name);
  return [domain, `on${verb[0].toUpperCase()}${verb.slice(1)}`];
}

/** The shape of `window.lethe`: domain -> verb -> function. */
export type LetheBridge = Record<string, Record<string, (arg?: unknown) => unknown>>;

export type BridgeInvoke = (method: MethodName, args: unknown) => Promise<CallEnvelope>;
export type BridgeSubscribe = (event: EventName, listener: (payload: unknown) => void) => Unsubscribe;

/**
 * Build the object of named verbs. Each verb takes one argument object and resolves with a
 * CallEnvelope (errors cross Electron's contextBridge as plain data, never as Error objects, whose
 * extra fields would be lost). Event verbs take a listener and return an unsubscribe function.
 */
export function buildBridge(invoke: BridgeInvoke, subscribe: BridgeSubscribe): LetheBridge {
  const bridge: LetheBridge = Object.create(null);
  const domainOf = (domain: string) => (bridge[domain] ??= Object.create(null) as Record<string, (arg?: unknown) => unknown>);
  for (const method of API_METHODS) {
    const [domain, verb] = methodPath(method);
    domainOf(domain)[verb] = (args?: unknown) => invoke(method, args === undefined ? {} : args);
  }
  for (const event of API_EVENTS) {
    const [domain, verb] = eventPath(event);
    domainOf(domain)[verb] = (listener?: unknown) => {
      if (typeof listener !== 'function') throw new TypeError(`${domain}.${verb} needs a listener function`);
      const unsubscribe = subscribe(event, (payload) => (listener as (p: unknown) => void)(payload));
      let done = false;
      return () => {
        if (done) return;
        done = true;
        unsubscribe();
      };
    };
  }
  // Plain objects only (contextBridge copies them); freeze so the page cannot swap verbs.
  for (const domain of Object.keys(bridge)) Object.freeze(bridge[domain]);
  return Object.freeze(bridge);
}

/** Every key path the bridge exposes, sorted: 'app.info', 'jobs.onEvent', ... (pinned by a test). */
export function bridgeKeys(): string[] {
  return [...API_METHODS.map((m) => methodPath(m).join('.')), ...API_EVENTS.map((e) => eventPath(e).join('.'))].sort();
}

const ERROR_CODES: readonly ApiErrorCode[] = [
  'invalid_argument',
  'not_found',
  'conflict',
  'forbidden',
  'cancelled',
  'unavailable',
  'internal',
];

/** Rebuild an ApiError from whatever shape crossed a transport. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error && typeof error === 'object') {
    const e = error as Partial<ApiErrorShape>;
    const code = ERROR_CODES.includes(e.code as ApiErrorCode) ? (e.code as ApiErrorCode) : 'internal';
    const message = typeof e.message === 'string' && e.message ? e.message : 'The request failed.';
    return new ApiError(code, message, e.details);
  }
  return new ApiError('internal', typeof error === 'string' && error ? error : 'The request failed.');
}

/** Unwrap a CallEnvelope: the result, or a thrown ApiError. */
export function unwrapEnvelope<R>(envelope: unknown): R {
  if (envelope && typeof envelope === 'object' && 'ok' in envelope) {
    const env = envelope as CallEnvelope<R>;
    if (env.ok === true) return env.result;
    if (env.ok === false) throw toApiError(env.error);
  }
  throw new ApiError('internal', 'The backend sent a malformed reply.');
}

/** Turn `window.lethe` (the preload's bridge) back into the transport-neutral LetheApi. */
export function apiFromBridge(bridge: LetheBridge): LetheApi {
  return {
    async call(method, args) {
      const [domain, verb] = methodPath(method);
      const fn = bridge[domain]?.[verb];
      if (typeof fn !== 'function') throw new ApiError('invalid_argument', `Unknown method '${method}'.`);
      return unwrapEnvelope(await fn(args));
    },
    on(event, listener) {
      const [domain, verb] = eventPath(event);
      const fn = bridge[domain]?.[verb];
      if (typeof fn !== 'function') throw new ApiError('invalid_argument', `Unknown event '${event}'.`);
      return fn(listener as (payload: ApiEvents[typeof event]) => void) as Unsubscribe;
    },
  };
}
