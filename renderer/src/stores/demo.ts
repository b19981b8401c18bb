import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { DemoJobParams, DemoJobResult, JobInfo } from '../../../preload/api';
import { ACTIVE_STATES, useJobsStore } from './jobs';
import { useUiStore } from './ui';

export const DEMO_KIND = 'unlearn.demo';
export const DEMO_TITLE = 'Built-in demo';

/**
 * The quick start: the built-in demo (job kind unlearn.demo, the same pipeline as `lethe demo`) as one
 * job submitted through the jobs store. The demo shown is the one started from this window, else
 * the newest demo job that is still queued or running (e.g. started before a reload).
 */
export const useDemoStore = defineStore('demo', () => {
  const jobs = useJobsStore();
  const jobId = ref<string | null>(null);
  const starting = ref(false);

  const job = computed<JobInfo | null>(() => {
    const own = jobId.value ? jobs.byId[jobId.value] : undefined;
    if (own) return own;
    return jobs.jobs.find((j) => j.kind === DEMO_KIND && ACTIVE_STATES.includes(j.state)) ?? null;
  });
  // a demo found running (e.g. after a reload) stays the one shown when it ends, with its result
  watch(
    job,
    (j) => {
      if (j && !jobId.value) jobId.value = j.id;
    },
    { immediate: true },
  );
  const active = computed(() => !!job.value && ACTIVE_STATES.includes(job.value.state));
  const result = computed<DemoJobResult | null>(() => (job.value?.state === 'succeeded' ? ((job.value.result as DemoJobResult | null) ?? null) : null));

  /** Submits the demo (unless one is already queued or running) and opens the jobs panel. */
  async function start(params: DemoJobParams = {}): Promise<boolean> {
    if (starting.value || active.value) return false;
    starting.value = true;
    try {
      const submitted = await jobs.submit(DEMO_KIND, params, DEMO_TITLE);
      if (!submitted) return false;
      jobId.value = submitted.id;
      useUiStore().openJobsPanel();
      return true;
    } finally {
      starting.value = false;
    }
  }

  async function cancel(): Promise<boolean> {
    return job.value ? jobs.cancel(job.value.id) : false;
  }

  return { jobId, job, active, result, starting, start, cancel };
});
