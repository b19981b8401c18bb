import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { defineComponent, h } from 'vue';
import type { Settings } from '../../../preload/api';
import { createFakeApi, DEFAULT_SETTINGS, flush, type FakeApi } from '../fake-api';

let api: FakeApi;
vi.mock('../../../renderer/src/api/client', () => ({ getApi: () => api, transportName: () => 'web', onConnectionChange: () => () => {} }));

const { useTheme, resolveTheme } = await import('../../../renderer/src/composables/use-theme');
const { useSettingsStore } = await import('../../../renderer/src/stores/settings');
const { default: SettingsView } = await import('../../../renderer/src/views/SettingsView.vue');

/** A controllable prefers-color-scheme. */
function installMatchMedia(dark: boolean) {
  const listeners = new Set<(e: MediaQueryListEvent) => void>();
  const mql = {
    matches: dark,
    media: '(prefers-color-scheme: dark)',
    addEventListener: (_: string, l: (e: MediaQueryListEvent) => void) => listeners.add(l),
    removeEventListener: (_: string, l: (e: MediaQueryListEvent) => void) => listeners.delete(l),
  };
  vi.stubGlobal('matchMedia', () => mql);
  return {
    set(next: boolean) {
      mql.matches = next;
      for (const l of listeners) l({ matches: next } as MediaQueryListEvent);
    },
  };
}

const Host = defineComponent({
  setup() {
    useTheme();
    return () => h(SettingsView);
  },
});

async function mountSettings(initial: Partial<Settings> = {}) {
  let stored: Settings = { ...DEFAULT_SETTINGS, ...initial };
  api = createFakeApi({
    'settings.get': () => stored,
    'settings.update': (patch) => (stored = { ...stored, ...(patch as Partial<Settings>) }),
    'jobs.submit': () => {
      throw new Error('not used');
    },
  });
  const pinia = createPinia();
  setActivePinia(pinia);
  await useSettingsStore().load();
  const w = mount(Host, { global: { plugins: [pinia], stubs: { RouterLink: true } } });
  await flush();
  return w;
}

beforeEach(() => {
  localStorage.clear();
  delete document.documentElement.dataset.theme;
});

describe('theme', () => {
  it('resolves system to the OS preference', () => {
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
  });

  it('Settings switches the theme, paints <html data-theme> and persists through settings.update', async () => {
    installMatchMedia(false);
    const w = await mountSettings({ theme: 'light' });
    expect(document.documentElement.dataset.theme).toBe('light');
    expect(w.get('[data-theme-option="light"]').attributes('aria-checked')).toBe('true');

    await w.get('[data-theme-option="dark"]').trigger('click');
    await flush();
    expect(api.call).toHaveBeenCalledWith('settings.update', { theme: 'dark' });
    expect(document.documentElement.dataset.theme).toBe('dark');
    expect(w.get('[data-theme-option="dark"]').attributes('aria-checked')).toBe('true');
    expect(localStorage.getItem('lethe.theme')).toBe('dark');
  });

  it("'system' follows prefers-color-scheme live", async () => {
    const media = installMatchMedia(true);
    await mountSettings({ theme: 'system' });
    expect(document.documentElement.dataset.theme).toBe('dark');
    media.set(false);
    await flush();
    expect(document.documentElement.dataset.theme).toBe('light');
  });

  it('a refused theme change rolls the page back to the stored theme', async () => {
    installMatchMedia(false);
    const w = await mountSettings({ theme: 'light' });
    api.handlers['settings.update'] = () => {
      throw new Error('disk full');
    };
    await w.get('[data-theme-option="dark"]').trigger('click');
    await flush();
    expect(document.documentElement.dataset.theme).toBe('light');
  });

  it('settings inputs refuse out-of-range values with a message and send valid ones', async () => {
    installMatchMedia(false);
    const w = await mountSettings();
    const input = w.get('[data-setting="jobConcurrency"] input');
    await input.setValue('0');
    await input.trigger('change');
    expect(w.get('[data-setting="jobConcurrency"] [role="alert"]').text()).toMatch(/between 1 and/);
    expect(api.call).not.toHaveBeenCalledWith('settings.update', expect.objectContaining({ jobConcurrency: 0 }));
    await input.setValue('2');
    await input.trigger('change');
    expect(api.call).toHaveBeenCalledWith('settings.update', { jobConcurrency: 2 });
    await w.get('[data-setting="executionProvider"]').setValue('cuda');
    expect(api.call).toHaveBeenCalledWith('settings.update', { executionProvider: 'cuda' });
  });
});
