import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ForgetRuleInput, ForgetSetCreateArgs, ForgetSetDetail, ForgetSetPreview, ForgetSetSummary, ForgetSetExportResult } from '../../../preload/api';
import { getApi } from '../api/client';
import { errorMessage } from '../utils/errors';
import { useToastsStore } from './toasts';
import { ACTIVE_STATES, useJobsStore } from './jobs';

/**
 * Text of deletion requests -> IDs, exactly as the backend reads an 'ids' rule's text (and the CLI
 * a --ids-file): one ID per line, trimmed; blank lines and lines starting with '#' ignored. IDs may
 * contain spaces and commas (image-folder IDs are file paths), so nothing else splits them.
 * Duplicates are kept (the backend reports them).
 */
export function parseIdList(text: string): string[] {
  return text
    .replace(/^\ufeff/, '')
    .split(/\r\n|\n|\r/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0 && !s.startsWith('#'));
}

/** Count or percentage: '500' -> { count: 500 }, '1.5%' -> { fraction: 0.015 }; throws a plain sentence. */
export function parseCountOrPercent(raw: string): { count?: number; fraction?: number } {
  const s = raw.trim();
  const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(s);
  if (pct) {
    const f = Number(pct[1]) / 100;
    if (!(f > 0 && f <= 1)) throw new Error('A percentage must be above 0% and at most 100%.');
    return { fraction: f };
  }
  if (!/^\d+$/.test(s) || Number(s) < 1) throw new Error(`'${raw}' is not a count (a whole number of at least 1) or a percentage such as 1%.`);
  return { count: Number(s) };
}

/** The workspace's forget sets, and the preview/create calls the forget-set wizard makes. */
export const useForgetSetsStore = defineStore('forgetSets', () => {
  const sets = ref<ForgetSetSummary[]>([]);
  const loaded = ref(false);
  const error = ref<string | null>(null);
  const details = ref<Record<string, ForgetSetDetail>>({});
  /** preview of the rule the wizard shows; null before the first preview */
  const preview = ref<ForgetSetPreview | null>(null);
  const previewError = ref<string | null>(null);
  const previewing = ref(false);
  const saving = ref(false);
  /** the forgetSet.score job a worst-case preview waits for (its progress is in the jobs store) */
  const scoringJobId = ref<string | null>(null);
  let previewSeq = 0;

  /**
   * Worst-case rules: the backend scores in a job and previews from cached scores. Resolves when the
   * scores exist (true), or false when the request was superseded; throws the job's failure reason.
   */
  async function ensureScores(datasetId: string, rule: Extract<ForgetRuleInput, { kind: 'worst-case' }>, seq: number): Promise<boolean> {
    const r = await getApi().call('forgetSets.score', { datasetId, model: rule.model, metric: rule.metric });
    if (r.cached || !r.job) return true;
    const jobs = useJobsStore();
    jobs.track(r.job);
    scoringJobId.value = r.job.id;
    try {
      let polled = Date.now();
      for (;;) {
        if (seq !== previewSeq) return false;
        let job = jobs.byId[r.job.id] ?? r.job;
        // events drive the store; ask directly now and then in case the stream reconnected
        if (Date.now() - polled > 3000) {
          polled = Date.now();
          job = await getApi().call('jobs.get', { id: r.job.id });
          jobs.track(job);
        }
        if (!ACTIVE_STATES.includes(job.state)) {
          if (job.state === 'succeeded') return true;
          throw new Error(job.state === 'cancelled' ? 'Scoring was cancelled.' : `Scoring failed: ${job.reason ?? job.state}`);
        }
        await new Promise((res) => setTimeout(res, 150));
      }
    } finally {
      if (scoringJobId.value === r.job.id) scoringJobId.value = null;
    }
  }

  async function load(): Promise<void> {
    try {
      sets.value = await getApi().call('forgetSets.list', {});
      error.value = null;
    } catch (err) {
      error.value = errorMessage(err);
    } finally {
      loaded.value = true;
    }
  }

  async function detail(id: string): Promise<ForgetSetDetail | null> {
    try {
      const d = await getApi().call('forgetSets.get', { id, includeIds: true });
      details.value[id] = d;
      return d;
    } catch (err) {
      useToastsStore().push('error', `Could not open the forget set: ${errorMessage(err)}`);
      return null;
    }
  }

  /** Previews a rule; a later call supersedes an earlier one still in flight. */
  async function runPreview(datasetId: string, rule: ForgetRuleInput, seed?: number): Promise<ForgetSetPreview | null> {
    const seq = ++previewSeq;
    previewing.value = true;
    try {
      if (rule.kind === 'worst-case' && !(await ensureScores(datasetId, rule, seq))) return null;
      const p = await getApi().call('forgetSets.preview', seed === undefined ? { datasetId, rule } : { datasetId, rule, seed });
      if (seq !== previewSeq) return null;
      preview.value = p;
      previewError.value = null;
      return p;
    } catch (err) {
      if (seq !== previewSeq) return null;
      preview.value = null;
      previewError.value = errorMessage(err);
      return null;
    } finally {
      if (seq === previewSeq) previewing.value = false;
    }
  }

  function clearPreview(): void {
    previewSeq++;
    scoringJobId.value = null;
    preview.value = null;
    previewError.value = null;
    previewing.value = false;
  }

  /** Saves a forget set; on success it is listed and returned, on failure the reason is thrown. */
  async function create(args: ForgetSetCreateArgs): Promise<ForgetSetDetail> {
    saving.value = true;
    try {
      const d = await getApi().call('forgetSets.create', args);
      details.value[d.id] = d;
      if (!sets.value.some((s) => s.id === d.id)) {
        const { manifest: _m, ids: _i, ...summary } = d;
        void _m;
        void _i;
        sets.value = [...sets.value, summary];
      }
      return d;
    } finally {
      saving.value = false;
    }
  }

  async function remove(id: string): Promise<boolean> {
    try {
      await getApi().call('forgetSets.delete', { id });
      sets.value = sets.value.filter((s) => s.id !== id);
      delete details.value[id];
      return true;
    } catch (err) {
      useToastsStore().push('error', `Could not delete the forget set: ${errorMessage(err)}`);
      return false;
    }
  }

  /** Writes the set as a verifiable folder (forgetSets.export); throws ApiError (e.g. a non-empty folder). */
  function exportTo(id: string, path: string): Promise<ForgetSetExportResult> {
    return getApi().call('forgetSets.export', { id, path });
  }

  return { sets, loaded, error, details, preview, previewError, previewing, saving, scoringJobId, load, detail, runPreview, clearPreview, create, remove, exportTo };
});
