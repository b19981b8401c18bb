// LetheApi over the web transport (main/server/): POST /api/call/<method> for requests and ONE
// server-sent-events stream (GET /api/events) for pushed events. Pure module: only fetch,
// ReadableStream, TextDecoder and AbortController, so it runs in the browser build of the renderer
// and in Node 20 tests alike. SSE is read over fetch streaming (not EventSource) so it works in Node
// and so a 403 is seen as a status, not an endless reconnect loop, and because it is the only way to
// send the access token as a header on the stream (EventSource cannot send headers).
//
// The per-launch token goes in the `X-Lethe-Token` header of every request, and nowhere else: no
// cookie (requests use `credentials: 'omit'`, so even a cookie another local page planted for
// 127.0.0.1 is never sent), never the URL.
//
// Events emitted during a call must never be lost: the client opens its stream when created, and
// every call waits until the server has sent `event: ready` on that stream.

import { ApiError } from './common';
import type { ApiEvents, EventName, LetheApi, Unsubscribe } from './index';
import { toApiError } from './bridge';

export interface WebClientOptions {
  /** '' (default) in the browser: same origin. In Node: 'http://127.0.0.1:<port>'. */
  baseUrl?: string;
  /** the per-launch token, sent as the `X-Lethe-Token` header on every call and on the event stream */
  token?: string;
  fetch?: typeof fetch;
  /** first reconnect delay after the event stream drops; doubles up to maxReconnectDelayMs */
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
  /** told when the event stream connects (true) or drops (false) */
  onConnectionChange?: (connected: boolean) => void;
}

export interface WebClient extends LetheApi {
  /** resolves when the event stream is open; rejects if the first connection is refused */
  readonly ready: Promise<void>;
  close(): void;
}

export interface SseMessage {
  event: string;
  data: string;
}

/** Incremental parser of a text/event-stream body (WHATWG HTML §9.2, without id/retry handling). */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];

  feed(chunk: string): SseMessage[] {
    this.buffer += chunk;
    const out: SseMessage[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      // A lone '\r' at the end of the buffer may be the first half of '\r\n': wait for more.
      if (m[0] === '\r' && m.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      if (line === '') {
        if (this.data.length > 0) out.push({ event: this.event || 'message', data: this.data.join('\n') });
        this.event = '';
        this.data = [];
        continue;
      }
      if (line.startsWith(':')) continue; // comment (heartbeat)
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') this.event = value;
      else if (field === 'data') this.data.push(value);
    }
    return out;
  }
}

/** The header that carries the access token (main/server/security.ts checks it). */
export const TOKEN_HEADER = 'X-Lethe-Token';

/**
 * Take the access token out of a location hash: `#token=<t>` (the printed address) or a route whose
 * query carries it (`#/settings?token=<t>`). Returns the token (or null) and the hash without it, so
 * the caller can replace the address and keep the route.
 */
export function takeTokenFromHash(hash: string): { token: string | null; hash: string } {
  const body = hash.startsWith('#') ? hash.slice(1) : hash;
  const q = body.indexOf('?');
  const [head, query] = body.startsWith('/') ? [q === -1 ? body : body.slice(0, q), q === -1 ? null : body.slice(q + 1)] : ['', body];
  if (query === null) return { token: null, hash };
  let token: string | null = null;
  const kept: string[] = [];
  for (const part of query.split('&')) {
    if (part.startsWith('token=')) token = part.slice('token='.length);
    else if (part !== '') kept.push(part);
  }
  if (token === null) return { token: null, hash };
  const rest = head + (kept.length ? `${head ? '?' : ''}${kept.join('&')}` : '');
  return { token, hash: rest ? `#${rest}` : '' };
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // rejections are observed by callers that await it
  return { promise, resolve, reject };
}

export function createWebClient(options: WebClientOptions = {}): WebClient {
  const base = (options.baseUrl ?? '').replace(/\/+$/, '');
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const baseDelay = options.reconnectDelayMs ?? 500;
  const maxDelay = options.maxReconnectDelayMs ?? 10_000;
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const headers = (extra: Record<string, string>): Record<string, string> =>
    options.token ? { ...extra, [TOKEN_HEADER]: options.token } : extra;

  let closed = false;
  let abort: AbortController | null = null;
  let current = deferred<void>();
  const first = current.promise;
  let delay = baseDelay;

  const dispatch = (msg: SseMessage) => {
    if (msg.event === 'ready') {
      delay = baseDelay;
      current.resolve();
      options.onConnectionChange?.(true);
      return;
    }
    const set = listeners.get(msg.event);
    if (!set || set.size === 0) return;
    let payload: unknown;
    try {
      payload = JSON.parse(msg.data);
    } catch {
      return; // not ours
    }
    for (const fn of [...set]) {
      try {
        fn(payload);
      } catch (e) {
        // A failing listener must not stop the others or the stream.
        setTimeout(() => {
          throw e;
        });
      }
    }
  };

  const connect = async () => {
    abort = new AbortController();
    let connected = false;
    try {
      const res = await doFetch(`${base}/api/events`, {
        headers: headers({ Accept: 'text/event-stream', 'X-Lethe-Client': '1' }),
        credentials: 'omit',
        signal: abort.signal,
      });
      if (res.status === 403) {
        throw new ApiError(
          'forbidden',
          'The Lethe server refused this page: open the address that `npm start` or `lethe serve` printed (it carries the access token after #; reloading the page forgets it).',
        );
      }
      if (!res.ok || !res.body) throw new ApiError('unavailable', `The Lethe event stream failed (HTTP ${res.status}).`);
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      const parser = new SseParser();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const msg of parser.feed(decoder.decode(value, { stream: true }))) {
          if (msg.event === 'ready') connected = true;
          dispatch(msg);
        }
      }
      if (!connected) throw new ApiError('unavailable', 'The Lethe event stream closed before it was ready.');
    } catch (e) {
      if (closed) return;
      const err = e instanceof ApiError ? e : new ApiError('unavailable', 'The Lethe backend is not reachable; is the server still running?');
      current.reject(err);
      if (err.code === 'forbidden') return; // retrying will not help
    }
    if (closed) return;
    if (connected) options.onConnectionChange?.(false);
    // Reconnect; calls made meanwhile wait for the new stream.
    current = deferred<void>();
    const wait = delay;
    delay = Math.min(delay * 2, maxDelay);
    setTimeout(() => {
      if (!closed) void connect();
    }, wait);
  };
  void connect();

  return {
    ready: first,
    async call(method, args) {
      if (closed) throw new ApiError('unavailable', 'This API client was closed.');
      await current.promise;
      let res: Response;
      try {
        res = await doFetch(`${base}/api/call/${encodeURIComponent(method)}`, {
          method: 'POST',
          headers: headers({ 'Content-Type': 'application/json', 'X-Lethe-Client': '1' }),
          credentials: 'omit',
          body: JSON.stringify(args ?? {}),
        });
      } catch {
        throw new ApiError('unavailable', 'The Lethe backend is not reachable; is the server still running?');
      }
      let body: unknown;
      try {
        body = await res.json();
      } catch {
        throw new ApiError(res.status === 403 ? 'forbidden' : 'internal', `The backend sent a non-JSON reply (HTTP ${res.status}).`);
      }
      const env = body as { ok?: boolean; result?: unknown; error?: unknown };
      if (env && env.ok === true && res.ok) return env.result as never;
      throw toApiError(env?.error ?? { code: 'internal', message: `HTTP ${res.status}` });
    },
    on<E extends EventName>(event: E, listener: (payload: ApiEvents[E]) => void): Unsubscribe {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      // A wrapper per subscription, so subscribing the same function twice gives two independent subscriptions.
      const fn = (payload: unknown) => (listener as (p: unknown) => void)(payload);
      set.add(fn);
      return () => {
        set.delete(fn);
      };
    },
    close() {
      closed = true;
      abort?.abort();
      current.reject(new ApiError('unavailable', 'This API client was closed.'));
    },
  };
}
