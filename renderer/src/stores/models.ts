import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type {
  ArchitectureInfo,
  JobInfo,
  ModelCreateArgs,
  ModelDetail,
  ModelImportArgs,
  ModelSummary,
  ModelTrainArgs,
  TrainingRecipeInfo,
} from '../../../preload/api';
import { getApi } from '../api/client';
import { errorCode, errorMessage } from '../utils/errors';
import { useAppStore } from './app';
import { useJobsStore } from './jobs';
import { useToastsStore } from './toasts';

/** What a dialog shows after an action: done, or the backend's reason in plain words. */
export type ActionResult<T> = { ok: true; value: T } | { ok: false; error: string; code?: string };

/** The workspace's models, the built-in architectures, and the selected model's details. */
export const useModelsStore = defineStore('models', () => {
  const models = ref<ModelSummary[]>([]);
  const architectures = ref<ArchitectureInfo[]>([]);
  const loaded = ref(false);
  const error = ref<string | null>(null);
  const selectedId = ref<string | null>(null);
  const detail = ref<ModelDetail | null>(null);
  const detailError = ref<string | null>(null);
  const detailLoading = ref(false);
  /** model id -> id of the training job started from this window */
  const training = ref<Record<string, string>>({});

  const selected = computed(() => models.value.find((m) => m.id === selectedId.value) ?? null);

  async function load(): Promise<void> {
    const api = getApi();
    try {
      const [list, archs] = await Promise.all([api.call('models.list', {}), architectures.value.length ? Promise.resolve(architectures.value) : api.call('models.architectures', {})]);
      models.value = list;
      architectures.value = archs;
      error.value = null;
      if (selectedId.value && !list.some((m) => m.id === selectedId.value)) {
        selectedId.value = null;
        detail.value = null;
      }
    } catch (err) {
      error.value = errorMessage(err);
    } finally {
      loaded.value = true;
    }
  }

  /** Reloads only the model list (pickers need no architectures); throws ApiError. */
  async function refreshList(): Promise<ModelSummary[]> {
    const list = await getApi().call('models.list', {});
    models.value = list;
    return list;
  }

  let detailSeq = 0;
  async function select(id: string | null): Promise<void> {
    selectedId.value = id;
    detailError.value = null;
    if (id === null) {
      detail.value = null;
      return;
    }
    if (detail.value?.id !== id) detail.value = null;
    const seq = ++detailSeq;
    detailLoading.value = true;
    try {
      const d = await getApi().call('models.get', { id });
      if (seq === detailSeq) detail.value = d;
    } catch (err) {
      if (seq === detailSeq) detailError.value = errorMessage(err);
    } finally {
      if (seq === detailSeq) detailLoading.value = false;
    }
  }

  async function afterAdd(d: ModelDetail): Promise<void> {
    await load();
    void useAppStore().refreshWorkspace();
    selectedId.value = d.id;
    detail.value = d;
    detailError.value = null;
  }

  async function create(args: ModelCreateArgs): Promise<ActionResult<ModelDetail>> {
    try {
      const d = await getApi().call('models.create', args);
      await afterAdd(d);
      useToastsStore().push('success', `Created model ${d.name}.`);
      return { ok: true, value: d };
    } catch (err) {
      return { ok: false, error: errorMessage(err) };
    }
  }

  async function importOnnx(args: ModelImportArgs): Promise<ActionResult<ModelDetail>> {
    try {
      const d = await getApi().call('models.import', args);
      await afterAdd(d);
      useToastsStore().push('success', `Imported ${d.name}.`);
      return { ok: true, value: d };
    } catch (err) {
      return { ok: false, error: errorMessage(err) };
    }
  }

  /** Queues a 'model.train' job; progress, loss and ETA show in the jobs panel. */
  async function train(args: ModelTrainArgs): Promise<ActionResult<JobInfo>> {
    try {
      const job = await getApi().call('models.train', args);
      useJobsStore().track(job);
      training.value[args.modelId] = job.id;
      return { ok: true, value: job };
    } catch (err) {
      return { ok: false, error: errorMessage(err) };
    }
  }

  /**
   * Writes the model's ONNX to `path`. An existing file comes back as `{ ok: false, code: 'conflict' }`;
   * pass `overwrite` only after the user confirmed replacing it.
   */
  async function exportTo(id: string, path: string, overwrite = false): Promise<ActionResult<{ path: string; sha256: string }>> {
    try {
      const r = await getApi().call('models.export', overwrite ? { id, path, overwrite: true } : { id, path });
      useToastsStore().push('success', `Exported ${id} to ${r.path}.`);
      return { ok: true, value: r };
    } catch (err) {
      return { ok: false, error: errorMessage(err), code: errorCode(err) };
    }
  }

  async function remove(id: string): Promise<boolean> {
    try {
      await getApi().call('models.delete', { id });
      if (selectedId.value === id) await select(null);
      await load();
      void useAppStore().refreshWorkspace();
      useToastsStore().push('success', `Deleted model ${id}.`);
      return true;
    } catch (err) {
      useToastsStore().push('error', `Could not delete ${id}: ${errorMessage(err)}`);
      return false;
    }
  }

  /** The recipe the train dialog starts from: the architecture's, or a fine-tuning one for imports. */
  /**
   * The training recipe's defaults and field specs for a model of this architecture, from the backend
   * (the one recipe schema; the CLI's defaults are the same). Cached per architecture.
   */
  const recipes = new Map<string, Promise<TrainingRecipeInfo>>();
  function recipeInfo(arch: string | null): Promise<TrainingRecipeInfo> {
    const key = arch ?? '';
    let p = recipes.get(key);
    if (!p) {
      p = getApi().call('models.recipe', { arch });
      recipes.set(key, p);
      p.catch(() => recipes.delete(key));
    }
    return p.then((info) => structuredClone(info));
  }

  return {
    models,
    architectures,
    loaded,
    error,
    selectedId,
    selected,
    detail,
    detailError,
    detailLoading,
    training,
    load,
    refreshList,
    select,
    create,
    importOnnx,
    train,
    exportTo,
    remove,
    recipeInfo,
  };
});
