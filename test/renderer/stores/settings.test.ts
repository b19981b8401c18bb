import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { ApiError, type Settings } from '../../../preload/api';
import { createFakeApi, DEFAULT_SETTINGS, type FakeApi } from '../fake-api';

let api: FakeApi;
vi.mock('../../../renderer/src/api/client', () => ({ getApi: () => api, transportName: () => 'web', onConnectionChange: () => () => {} }));

const { useSettingsStore } = await import('../../../renderer/src/stores/settings');
const { useAppStore } = await import('../../../renderer/src/stores/app');
const { useToastsStore } = await import('../../../renderer/src/stores/toasts');

beforeEach(() => {
  setActivePinia(createPinia());
  let stored: Settings = { ...DEFAULT_SETTINGS };
  api = createFakeApi({
    'settings.get': () => stored,
    'settings.update': (patch) => (stored = { ...stored, ...(patch as Partial<Settings>) }),
  });
});

describe('settings store', () => {
  it('loads and sends updates as patches', async () => {
    const store = useSettingsStore();
    await store.load();
    expect(store.settings).toEqual(DEFAULT_SETTINGS);
    expect(await store.update({ theme: 'dark' })).toBe(true);
    expect(api.call).toHaveBeenLastCalledWith('settings.update', { theme: 'dark' });
    expect(store.settings?.theme).toBe('dark');
  });

  it('keeps what the backend answers (it may normalise the value)', async () => {
    api.handlers['settings.update'] = () => ({ ...DEFAULT_SETTINGS, jobConcurrency: 2 });
    const store = useSettingsStore();
    await store.load();
    await store.update({ jobConcurrency: 99 });
    expect(store.settings?.jobConcurrency).toBe(2);
  });

  it('rolls back and explains when the backend refuses', async () => {
    api.handlers['settings.update'] = () => {
      throw new ApiError('invalid_argument', 'jobConcurrency must be between 1 and 16.');
    };
    const store = useSettingsStore();
    await store.load();
    expect(await store.update({ jobConcurrency: 0 })).toBe(false);
    expect(store.settings?.jobConcurrency).toBe(1);
    expect(store.error).toBe('jobConcurrency must be between 1 and 16.');
    expect(useToastsStore().toasts[0].message).toBe('Settings not saved: jobConcurrency must be between 1 and 16.');
  });

  it('records a load failure', async () => {
    api.handlers['settings.get'] = () => {
      throw new ApiError('internal', 'The settings file is unreadable.');
    };
    const store = useSettingsStore();
    await store.load();
    expect(store.settings).toBeNull();
    expect(store.error).toBe('The settings file is unreadable.');
  });
});

describe('app store', () => {
  const info = {
    name: 'Lethe' as const,
    version: '0.1.0',
    shell: 'web' as const,
    versions: { node: '20.20.2', electron: null, onnxruntime: '1.30.0', chrome: null },
    platform: 'linux',
    arch: 'x64',
    cpus: 2,
  };
  const ws = { root: '/tmp/ws', counts: { datasets: 0, models: 2, forgetSets: 0, runs: 0, reports: 0 }, quarantined: [] };

  it('loads app and workspace info and exposes counts', async () => {
    api.handlers['app.info'] = () => info;
    api.handlers['workspace.info'] = () => ws;
    const store = useAppStore();
    expect(store.count('models')).toBeNull();
    await store.load();
    expect(store.info?.version).toBe('0.1.0');
    expect(store.count('models')).toBe(2);
    expect(store.error).toBeNull();
  });

  it('sets error when the backend cannot be reached', async () => {
    api.handlers['app.info'] = () => {
      throw new ApiError('unavailable', 'The Lethe backend is not reachable; is the server still running?');
    };
    api.handlers['workspace.info'] = () => ws;
    const store = useAppStore();
    await store.load();
    expect(store.error).toMatch(/not reachable/);
    expect(store.loading).toBe(false);
  });
});
