import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildBridge } from '../../preload/api/bridge';
import type { JobEvent } from '../../preload/api';

const webClient = { call: vi.fn(), on: vi.fn(), ready: Promise.resolve(), close: vi.fn() };
vi.mock('../../preload/api/web-client', () => ({ createWebClient: vi.fn(() => webClient) }));

async function freshClient() {
  vi.resetModules();
  return import('../../renderer/src/api/client');
}

afterEach(() => {
  delete (globalThis as { lethe?: unknown }).lethe;
});

describe('getApi', () => {
  it('uses the Electron bridge (window.lethe) when the preload exposed it', async () => {
    const listeners: ((p: unknown) => void)[] = [];
    (globalThis as { lethe?: unknown }).lethe = buildBridge(
      async (method, args) =>
        method === 'jobs.get' ? { ok: false, error: { code: 'not_found', message: 'No job with id "x".' } } : { ok: true, result: { method, args } },
      (_event, listener) => {
        listeners.push(listener);
        return () => listeners.splice(listeners.indexOf(listener), 1);
      },
    );
    const { getApi, transportName } = await freshClient();
    const api = getApi();
    expect(transportName()).toBe('electron');
    expect(getApi()).toBe(api);
    expect(await api.call('jobs.list', {})).toEqual({ method: 'jobs.list', args: {} });
    const err = await api.call('jobs.get', { id: 'x' }).catch((e: unknown) => e);
    // resetModules gives the client its own copy of the ApiError class, so compare by shape
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: 'ApiError', code: 'not_found', message: 'No job with id "x".' });

    const seen: JobEvent[] = [];
    const off = api.on('jobs.event', (e) => seen.push(e));
    listeners[0]({ type: 'log', id: 'a', level: 'info', message: 'hi' });
    off();
    expect(listeners).toHaveLength(0);
    expect(seen).toEqual([{ type: 'log', id: 'a', level: 'info', message: 'hi' }]);
    expect(webClient.call).not.toHaveBeenCalled();
  });

  it('falls back to the web client in a plain browser', async () => {
    const { getApi, transportName } = await freshClient();
    const { createWebClient } = await import('../../preload/api/web-client');
    expect(transportName()).toBe('web');
    expect(getApi()).toBe(webClient);
    expect(createWebClient).toHaveBeenCalledTimes(1);
  });
});
