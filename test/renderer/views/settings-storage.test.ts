// Issue 9, point 4: Settings shows what the workspace stores and how much of it nothing uses (the
// same numbers as `lethe workspace info`), and says how to free it.
import { describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import type { WorkspaceInfo } from '../../../preload/api';
import { createFakeApi, DEFAULT_SETTINGS, flush, type FakeApi } from '../fake-api';

let api: FakeApi;
vi.mock('../../../renderer/src/api/client', () => ({ getApi: () => api, transportName: () => 'web', onConnectionChange: () => () => {} }));

const { default: SettingsView } = await import('../../../renderer/src/views/SettingsView.vue');
const { useAppStore } = await import('../../../renderer/src/stores/app');
const { useSettingsStore } = await import('../../../renderer/src/stores/settings');

async function mountWith(storage: WorkspaceInfo['storage']) {
  api = createFakeApi({ 'settings.get': () => DEFAULT_SETTINGS });
  const pinia = createPinia();
  setActivePinia(pinia);
  await useSettingsStore().load();
  useAppStore().workspace = { root: '/w', counts: { datasets: 1, models: 0, forgetSets: 0, runs: 0, reports: 0 }, quarantined: [], storage };
  const w = mount(SettingsView, { global: { plugins: [pinia], stubs: { RouterLink: true, MachineTest: true } } });
  await flush();
  return w;
}

describe('Settings: workspace storage', () => {
  it('says how much nothing uses and how to free it', async () => {
    const w = await mountWith({ blobs: { count: 12, bytes: 2_500_000_000 }, unreferenced: { count: 3, bytes: 2_000_000_000 }, staleCache: { count: 1, bytes: 1_000_000 } });
    expect(w.get('[data-testid="workspace-storage"] > div:last-child').text().replace(/\s+/g, ' ')).toBe(
      '12 stored arrays and files, 2.50 GB. 2.00 GB of it is used by nothing: freed after the next delete, or now with lethe workspace gc.',
    );
  });

  it('says when nothing is left over', async () => {
    const w = await mountWith({ blobs: { count: 2, bytes: 2000 }, unreferenced: { count: 0, bytes: 0 }, staleCache: { count: 0, bytes: 0 } });
    expect(w.get('[data-testid="workspace-storage"]').text()).toContain('Nothing is left over from deleted data.');
  });
});
