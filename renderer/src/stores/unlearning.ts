import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { ComparisonDetail, ComparisonSummary, MethodInfo, MetricInfo, RunSummary, UnlearningPlanArgs, UnlearningPlanEstimate, UnlearningPlanResult } from '../../../preload/api';
import { getApi } from '../api/client';
import { errorMessage } from '../utils/errors';
import { useAppStore } from './app';
import { useJobsStore } from './jobs';
import type { ActionResult } from './models';

/**
 * Unlearning: the method and metric catalogues (from the engine's registries), planning a set of
 * unlearn.run jobs and their comparison, the runs of the workspace, and its comparisons.
 */
export const useUnlearningStore = defineStore('unlearning', () => {
  const methods = ref<MethodInfo[]>([]);
  const metrics = ref<MetricInfo[]>([]);
  const catalogueError = ref<string | null>(null);
  const runs = ref<RunSummary[]>([]);
  const runsLoaded = ref(false);
  const runsError = ref<string | null>(null);
  const comparisons = ref<ComparisonSummary[]>([]);
  const comparisonsLoaded = ref(false);
  const comparisonsError = ref<string | null>(null);
  const selectedComparisonId = ref<string | null>(null);
  const comparison = ref<ComparisonDetail | null>(null);
  const comparisonError = ref<string | null>(null);
  const planning = ref(false);
  /** the example the dashboards' instance drill-down shows (set by a click in the embedding view, the list, or by id) */
  const selectedExampleId = ref<string | null>(null);

  /** the methods a user picks from (the retrain reference is added by the plan's own switch) */
  const choosableMethods = computed(() => methods.value.filter((m) => m.id !== 'retrain'));

  /** Fetches both catalogues once (they only change with the app). */
  async function loadCatalogue(): Promise<void> {
    if (methods.value.length && metrics.value.length) return;
    try {
      const api = getApi();
      const [m, k] = await Promise.all([api.call('unlearning.methods', {}), api.call('unlearning.metrics', {})]);
      methods.value = m;
      metrics.value = k;
      catalogueError.value = null;
    } catch (err) {
      catalogueError.value = errorMessage(err);
    }
  }

  async function loadRuns(): Promise<void> {
    try {
      runs.value = await getApi().call('runs.list', {});
      runsError.value = null;
    } catch (err) {
      runsError.value = errorMessage(err);
    } finally {
      runsLoaded.value = true;
    }
  }

  async function loadComparisons(): Promise<void> {
    try {
      comparisons.value = await getApi().call('comparisons.list', {});
      comparisonsError.value = null;
      if (selectedComparisonId.value && !comparisons.value.some((c) => c.id === selectedComparisonId.value)) {
        selectedComparisonId.value = null;
        comparison.value = null;
      }
    } catch (err) {
      comparisonsError.value = errorMessage(err);
    } finally {
      comparisonsLoaded.value = true;
    }
  }

  let comparisonSeq = 0;
  /** Shows one comparison; the last selection wins when replies arrive out of order. */
  async function selectComparison(id: string | null): Promise<void> {
    selectedComparisonId.value = id;
    comparisonError.value = null;
    const seq = ++comparisonSeq;
    if (id === null) {
      comparison.value = null;
      return;
    }
    if (comparison.value?.id !== id) comparison.value = null;
    try {
      const c = await getApi().call('comparisons.get', { id });
      if (seq === comparisonSeq) comparison.value = c;
    } catch (err) {
      if (seq === comparisonSeq) comparisonError.value = errorMessage(err);
    }
  }

  /** Submits the plan; its jobs appear in the jobs panel. A refusal comes back as the backend's sentence. */
  async function plan(args: UnlearningPlanArgs): Promise<ActionResult<UnlearningPlanResult>> {
    if (planning.value) return { ok: false, error: 'A plan is already being submitted.' };
    planning.value = true;
    try {
      const r = await getApi().call('unlearning.plan', args);
      const jobs = useJobsStore();
      for (const j of r.jobs) jobs.track(j);
      void useAppStore().refreshWorkspace();
      return { ok: true, value: r };
    } catch (err) {
      return { ok: false, error: errorMessage(err) };
    } finally {
      planning.value = false;
    }
  }

  /** The plan's time on this machine, before launching it (the backend validates it like a plan; nothing is submitted). */
  async function estimate(args: UnlearningPlanArgs): Promise<ActionResult<UnlearningPlanEstimate>> {
    try {
      return { ok: true, value: await getApi().call('unlearning.estimate', args) };
    } catch (err) {
      return { ok: false, error: errorMessage(err) };
    }
  }

  /** Opens an example in the instance drill-down (the embedding view's link). */
  function openExample(id: string | null): void {
    selectedExampleId.value = id;
  }

  return {
    methods,
    metrics,
    catalogueError,
    choosableMethods,
    runs,
    runsLoaded,
    runsError,
    comparisons,
    comparisonsLoaded,
    comparisonsError,
    selectedComparisonId,
    comparison,
    comparisonError,
    planning,
    loadCatalogue,
    loadRuns,
    loadComparisons,
    selectComparison,
    selectedExampleId,
    openExample,
    plan,
    estimate,
  };
});
