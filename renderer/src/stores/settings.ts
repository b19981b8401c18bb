import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { Settings } from '../../../preload/api';
import { getApi } from '../api/client';
import { errorMessage } from '../utils/errors';
import { useToastsStore } from './toasts';

/** The workspace's settings as the backend stores them. Updates are sent as patches. */
export const useSettingsStore = defineStore('settings', () => {
  const settings = ref<Settings | null>(null);
  const saving = ref(false);
  const error = ref<string | null>(null);

  async function load(): Promise<void> {
    try {
      settings.value = await getApi().call('settings.get', {});
      error.value = null;
    } catch (err) {
      error.value = errorMessage(err);
    }
  }

  /**
   * Applies the patch optimistically, then keeps what the backend answers (it may normalise values).
   * On failure the previous settings come back and the reason is shown.
   */
  async function update(patch: Partial<Settings>): Promise<boolean> {
    const before = settings.value;
    if (before) settings.value = { ...before, ...patch };
    saving.value = true;
    try {
      settings.value = await getApi().call('settings.update', patch);
      error.value = null;
      return true;
    } catch (err) {
      settings.value = before;
      error.value = errorMessage(err);
      useToastsStore().push('error', `Settings not saved: ${error.value}`);
      return false;
    } finally {
      saving.value = false;
    }
  }

  return { settings, saving, error, load, update };
});
