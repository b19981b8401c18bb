import { defineStore } from 'pinia';
import { ref, watch } from 'vue';
import type { JobInfo, ReportFileKind, ReportSummary, ReportVerifyResult } from '../../../preload/api';
import { getApi } from '../api/client';
import { errorMessage } from '../utils/errors';
import { base64Bytes, saveBytes } from '../utils/save-file';
import { useAppStore } from './app';
import { ACTIVE_STATES, useJobsStore } from './jobs';
import type { ActionResult } from './models';

/**
 * Audit reports: the workspace's list (made here or by `lethe report create`), making one for a
 * comparison (a 'report.create' job), verifying one, and saving its files.
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

  /** The job's end state as the jobs store sees it (live events). */
  function ended(id: string): Promise<JobInfo> {
    const jobs = useJobsStore();
    return new Promise((resolve) => {
      const stop = watch(
        () => jobs.byId[id],
        (j) => {
          if (j && !ACTIVE_STATES.includes(j.state)) {
            queueMicrotask(() => stop());
            resolve(j);
          }
        },
        { immediate: true, deep: true },
      );
    });
  }

  /** Makes the report of a comparison (a 'report.create' job, followed in the Jobs panel) and lists it. */
  async function create(comparison: string): Promise<ActionResult<ReportSummary>> {
    if (creating.value[comparison]) return { ok: false, error: 'A report of this comparison is being made.' };
    creating.value = { ...creating.value, [comparison]: true };
    try {
      const job = await getApi().call('reports.create', { comparison });
      useJobsStore().track(job);
      const end = await ended(job.id);
      if (end.state !== 'succeeded') return { ok: false, error: `The report was not made (${end.state}${end.reason ? `: ${end.reason}` : ''}).` };
      const reportId = (end.result as { reportId?: string } | null)?.reportId;
      await load();
      void useAppStore().refreshWorkspace();
      const r = reports.value.find((x) => x.id === reportId);
      return r ? { ok: true, value: r } : { ok: false, error: `Report ${reportId ?? '?'} was made but is not listed.` };
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
