// A scriptable LetheApi for renderer tests. Tests mock the api module (renderer/src/api/client) to
// return this, never the stores, so the stores' real logic runs.
import { vi } from 'vitest';
import type { ApiEvents, EventName, JobInfo, LetheApi, MethodName, Settings } from '../../preload/api';

type Handler = (args: unknown) => unknown;

export interface FakeApi extends LetheApi {
  call: ReturnType<typeof vi.fn> & LetheApi['call'];
  handlers: Partial<Record<MethodName, Handler>>;
  emit<E extends EventName>(event: E, payload: ApiEvents[E]): void;
  listenerCount(event: EventName): number;
}

export function createFakeApi(handlers: Partial<Record<MethodName, Handler>> = {}): FakeApi {
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const api = {
    handlers,
    call: vi.fn(async (method: MethodName, args: unknown) => {
      const h = api.handlers[method];
      if (!h) throw new Error(`fake api: no handler for ${method}`);
      return h(args);
    }),
    on(event: EventName, listener: (p: unknown) => void) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
    emit(event: EventName, payload: unknown) {
      for (const l of listeners.get(event) ?? []) l(payload);
    },
    listenerCount(event: EventName) {
      return listeners.get(event)?.size ?? 0;
    },
  };
  return api as unknown as FakeApi;
}

export function makeJob(over: Partial<JobInfo> = {}): JobInfo {
  return {
    id: 'job-1',
    kind: 'diagnostics.stress',
    title: 'Test this machine',
    params: { iterations: 100, size: 128 },
    state: 'running',
    createdAt: '2026-11-24T10:00:00.000Z',
    startedAt: '2026-11-24T10:00:01.000Z',
    endedAt: null,
    progress: { step: 0, total: 100, fraction: 0 },
    reason: null,
    result: null,
    resumable: false,
    attempt: 1,
    dependsOn: [],
    ...over,
  };
}

export const DEFAULT_SETTINGS: Settings = { theme: 'light', executionProvider: 'cpu', intraOpThreads: 0, jobConcurrency: 1 };

/** Resolve pending promises and Vue updates. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
}

export function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
