import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { AppInfo, ArgsOf, ResultOf, WorkspaceInfo } from '../../../preload/api';
import { getApi } from '../api/client';
import { errorMessage } from '../utils/errors';

/** What the backend is (versions, shell) and what the open workspace holds. */
export const useAppStore = defineStore('app', () => {
  const info = ref<AppInfo | null>(null);
  const workspace = ref<WorkspaceInfo | null>(null);
  const loading = ref(false);
  /** set when the backend cannot be reached at all; the shell shows it instead of the pages */
  const error = ref<string | null>(null);

  async function load(): Promise<void> {
    loading.value = true;
    try {
      const api = getApi();
      const [i, w] = await Promise.all([api.call('app.info', {}), api.call('workspace.info', {})]);
      info.value = i;
      workspace.value = w;
      error.value = null;
    } catch (err) {
      error.value = errorMessage(err);
    } finally {
      loading.value = false;
    }
  }

  async function refreshWorkspace(): Promise<void> {
    try {
      workspace.value = await getApi().call('workspace.info', {});
    } catch (err) {
      error.value = errorMessage(err);
    }
  }

  function count(kind: keyof WorkspaceInfo['counts']): number | null {
    return workspace.value ? workspace.value.counts[kind] : null;
  }

  /** The desktop app's open dialog (unavailable in the browser build: check info.canPickPaths); throws ApiError. */
  function pickPath(args: ArgsOf<'app.pickPath'>): Promise<ResultOf<'app.pickPath'>> {
    return getApi().call('app.pickPath', args);
  }

  return { info, workspace, loading, error, load, refreshWorkspace, count, pickPath };
});
