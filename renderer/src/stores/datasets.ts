import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ArgsOf, BuiltinDatasetInfo, DatasetSummary, JobInfo, ResultOf } from '../../../preload/api';
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

  /** Validates a source and reads a sample of it (the import wizard's preview); throws ApiError. */
  function previewImport(args: ArgsOf<'datasets.previewImport'>): Promise<ResultOf<'datasets.previewImport'>> {
    return getApi().call('datasets.previewImport', args);
  }

  /** Queues a 'dataset.import' job and tracks it in the jobs panel; throws ApiError. */
  async function startImport(args: ArgsOf<'datasets.import'>): Promise<JobInfo> {
    const job = await getApi().call('datasets.import', args);
    useJobsStore().track(job);
    return job;
  }

  /** One dataset's manifest summary (classes, splits, metadata columns). */
  function detail(id: string): Promise<ResultOf<'datasets.get'>> {
    return getApi().call('datasets.get', { id });
  }

  /** A page of examples matching a gallery query. */
  function examples(args: ArgsOf<'datasets.examples'>): Promise<ResultOf<'datasets.examples'>> {
    return getApi().call('datasets.examples', args);
  }

  /** Pixels of several examples at once (raw bytes or PNG). */
  function images(args: ArgsOf<'datasets.images'>): Promise<ResultOf<'datasets.images'>> {
    return getApi().call('datasets.images', args);
  }

  /** One example as an enlarged PNG. */
  function thumbnail(args: ArgsOf<'datasets.thumbnail'>): Promise<ResultOf<'datasets.thumbnail'>> {
    return getApi().call('datasets.thumbnail', args);
  }

  return { datasets, builtins, loaded, error, importing, load, importBuiltin, previewImport, startImport, detail, examples, images, thumbnail };
});
