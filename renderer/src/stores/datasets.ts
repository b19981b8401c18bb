import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { BuiltinDatasetInfo, DatasetSummary, JobInfo } from '../../../preload/api';
import { getApi } from '../api/client';
import { errorMessage } from '../utils/errors';
import { useJobsStore } from './jobs';
import { useToastsStore } from './toasts';

/** The workspace's datasets and the built-in samples that can be imported without a download. */
export const useDatasetsStore = defineStore('datasets', () => {
  const datasets = ref<DatasetSummary[]>([]);
  const builtins = ref<BuiltinDatasetInfo[]>([]);
  const loaded = ref(false);
  const error = ref<string | null>(null);
  /** built-in name -> id of the import job started from this window */
  const importing = ref<Record<string, string>>({});

  async function load(): Promise<void> {
    const api = getApi();
    try {
      const [list, samples] = await Promise.all([api.call('datasets.list', {}), api.call('datasets.builtins', {})]);
      datasets.value = list;
      builtins.value = samples;
      error.value = null;
    } catch (err) {
      error.value = errorMessage(err);
    } finally {
      loaded.value = true;
    }
  }

  /** Queues a 'dataset.import' job for a built-in sample; progress shows in the jobs panel. */
  async function importBuiltin(sample: BuiltinDatasetInfo, name = sample.title): Promise<JobInfo | null> {
    try {
      const job = await getApi().call('datasets.import', { format: 'builtin', source: sample.name, name });
      useJobsStore().track(job);
      importing.value[sample.name] = job.id;
      return job;
    } catch (err) {
      useToastsStore().push('error', `Could not import ${sample.title}: ${errorMessage(err)}`);
      return null;
    }
  }

  return { datasets, builtins, loaded, error, importing, load, importBuiltin };
});
