import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildBridge } from '../../../preload/api/bridge';
import type { JobEvent } from '../../../preload/api';

const webClient = { call: vi.fn(), on: vi.fn(), ready: Promise.resolve(), close: vi.fn() };
vi.mock('../../../preload/api/web-client', () => ({ createWebClient: vi.fn(() => webClient) }));

async function freshClient() {
  vi.resetModules();
  return import('../../../renderer/src/api/client');
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
    const { createWebClient } = await import('../../../preload/api/web-client');
    expect(transportName()).toBe('web');
    expect(getApi()).toBe(webClient);
    expect(createWebClient).toHaveBeenCalledTimes(1);
  });
});

describe('connection changes', () => {
  it('forwards the web client stream state to listeners, and useConnection reloads after a drop', async () => {
    const { getApi, onConnectionChange } = await freshClient();
    const { createWebClient } = await import('../../../preload/api/web-client');
    const { useConnection } = await import('../../../renderer/src/composables/use-connection');
    const { effectScope } = await import('vue');
    getApi();
    const options = vi.mocked(createWebClient).mock.calls.at(-1)![0]!;
    const seen: boolean[] = [];
    const off = onConnectionChange((c) => seen.push(c));
    const reload = vi.fn();
    const scope = effectScope();
    const { connected } = scope.run(() => useConnection(reload))!;

    options.onConnectionChange!(true); // first connect: nothing to reload
    expect(reload).not.toHaveBeenCalled();
    options.onConnectionChange!(false);
    expect(connected.value).toBe(false);
    options.onConnectionChange!(true);
    expect(connected.value).toBe(true);
    expect(reload).toHaveBeenCalledTimes(1);
    expect(seen).toEqual([true, false, true]);

    off();
    scope.stop();
    options.onConnectionChange!(false);
    expect(seen).toHaveLength(3);
    expect(connected.value).toBe(true);
  });
});
