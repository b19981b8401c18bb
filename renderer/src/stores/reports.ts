import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ReportFileKind, ReportSummary, ReportVerifyResult } from '../../../preload/api';
import { getApi } from '../api/client';
import { errorMessage } from '../utils/errors';
import { base64Bytes, saveBytes } from '../utils/save-file';
import { useAppStore } from './app';
import type { ActionResult } from './models';

/**
 * Audit reports: the workspace's list (made here or by `lethe report create`), making one for a
 * comparison, verifying one, and saving its files.
 */
export const useReportsStore = defineStore('reports', () => {
  const reports = ref<ReportSummary[]>([]);
  const loaded = ref(false);
  const error = ref<string | null>(null);
  /** comparison ids with a report being made */
  const creating = ref<Record<string, boolean>>({});
  /** report id -> the last verification */
  const verified = ref<Record<string, ReportVerifyResult | { error: string }>>({});
  const verifying = ref<Record<string, boolean>>({});

  async function load(): Promise<void> {
    try {
      reports.value = await getApi().call('reports.list', {});
      error.value = null;
    } catch (err) {
      error.value = errorMessage(err);
    } finally {
      loaded.value = true;
    }
  }

  async function create(comparison: string): Promise<ActionResult<ReportSummary>> {
    if (creating.value[comparison]) return { ok: false, error: 'A report of this comparison is being made.' };
    creating.value = { ...creating.value, [comparison]: true };
    try {
      const r = await getApi().call('reports.create', { comparison });
      reports.value = [r, ...reports.value.filter((x) => x.id !== r.id)];
      void useAppStore().refreshWorkspace();
      return { ok: true, value: r };
    } catch (err) {
      return { ok: false, error: errorMessage(err) };
    } finally {
      const { [comparison]: _, ...rest } = creating.value;
      creating.value = rest;
    }
  }

  async function verify(id: string): Promise<void> {
    verifying.value = { ...verifying.value, [id]: true };
    try {
      verified.value = { ...verified.value, [id]: await getApi().call('reports.verify', { id }) };
    } catch (err) {
      verified.value = { ...verified.value, [id]: { error: errorMessage(err) } };
    } finally {
      const { [id]: _, ...rest } = verifying.value;
      verifying.value = rest;
    }
  }

  /** Hands one of the report's files to the browser (or the desktop app's save dialog). */
  async function save(id: string, file: ReportFileKind = 'pdf'): Promise<ActionResult<string>> {
    try {
      const f = await getApi().call('reports.file', { id, file });
      saveBytes(f.name, f.mime, base64Bytes(f.base64));
      return { ok: true, value: f.name };
    } catch (err) {
      return { ok: false, error: errorMessage(err) };
    }
  }

  return { reports, loaded, error, creating, verified, verifying, load, create, verify, save };
});
