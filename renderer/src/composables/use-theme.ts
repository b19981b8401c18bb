import { computed, onScopeDispose, ref, watchEffect } from 'vue';
import type { Theme } from '../../../preload/api';
import { useSettingsStore } from '../stores/settings';

const STORAGE_KEY = 'lethe.theme';
const DARK_QUERY = '(prefers-color-scheme: dark)';

/** The theme to paint before settings arrive (remembered from the last run, so no flash). */
export function rememberedTheme(): Theme {
  try {
    const t = globalThis.localStorage?.getItem(STORAGE_KEY);
    return t === 'light' || t === 'dark' || t === 'system' ? t : 'system';
  } catch {
    return 'system';
  }
}

export function resolveTheme(theme: Theme, systemDark: boolean): 'light' | 'dark' {
  return theme === 'system' ? (systemDark ? 'dark' : 'light') : theme;
}

export function applyTheme(resolved: 'light' | 'dark', root: HTMLElement = document.documentElement): void {
  root.dataset.theme = resolved;
}

/**
 * Keeps <html data-theme> in step with the theme setting; 'system' follows prefers-color-scheme,
 * live. Call once from the root component.
 */
export function useTheme() {
  const settings = useSettingsStore();
  const media = typeof matchMedia === 'function' ? matchMedia(DARK_QUERY) : null;
  const systemDark = ref(media?.matches ?? false);
  const onChange = (e: MediaQueryListEvent) => (systemDark.value = e.matches);
  media?.addEventListener('change', onChange);
  onScopeDispose(() => media?.removeEventListener('change', onChange));

  const fallback = rememberedTheme();
  const theme = computed<Theme>(() => settings.settings?.theme ?? fallback);
  const resolved = computed(() => resolveTheme(theme.value, systemDark.value));

  watchEffect(() => {
    applyTheme(resolved.value);
    try {
      globalThis.localStorage?.setItem(STORAGE_KEY, theme.value);
    } catch {
      // storage disabled: the theme still applies, it is just not remembered before settings load
    }
  });

  return { theme, resolved };
}
