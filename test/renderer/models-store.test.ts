// The models store against a scripted API: listing, selection races, create/import/train results
// (errors come back as plain words for the dialogs), delete refusal as a toast.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { ApiError } from '../../preload/api';
import type { ModelSummary } from '../../preload/api';
import { createFakeApi, deferred, makeJob, type FakeApi } from './fake-api';
import { ARCHS, detail, summary } from './models-fixtures';
import { TRAINING_RECIPE_DEFAULTS, recipeInfo } from '../../main/engine/train/recipe';

let api: FakeApi;
vi.mock('../../renderer/src/api/client', () => ({ getApi: () => api, transportName: () => 'web', onConnectionChange: () => () => {} }));

const { useModelsStore } = await import('../../renderer/src/stores/models');
const { useJobsStore } = await import('../../renderer/src/stores/jobs');
const { useToastsStore } = await import('../../renderer/src/stores/toasts');

let list: ModelSummary[];
beforeEach(() => {
  setActivePinia(createPinia());
  list = [];
  api = createFakeApi({
    'models.list': () => list,
    'models.architectures': () => ARCHS,
    'models.get': (a) => detail({ id: (a as { id: string }).id, name: (a as { id: string }).id }),
    'workspace.info': () => ({ root: '/w', counts: { datasets: 0, models: list.length, forgetSets: 0, runs: 0, reports: 0, jobs: 0 } }),
  });
});

describe('models store', () => {
  it('loads models and architectures, and fetches the architectures only once', async () => {
    list = [summary()];
    const s = useModelsStore();
    await s.load();
    await s.load();
    expect(s.models).toEqual([summary()]);
    expect(s.architectures.map((a) => a.name)).toEqual(['mlp', 'cnn', 'resnet18', 'vit']);
    expect(api.call.mock.calls.filter(([m]) => m === 'models.architectures')).toHaveLength(1);
    expect(s.loaded).toBe(true);
    expect(s.error).toBeNull();
  });

  it('keeps a listing failure as a plain message', async () => {
    api.handlers['models.list'] = () => {
      throw new ApiError('unavailable', 'The Lethe backend is shutting down.');
    };
    const s = useModelsStore();
    await s.load();
    expect(s.error).toBe('The Lethe backend is shutting down.');
    expect(s.loaded).toBe(true);
  });

  it('shows the details of the last selected model even when replies arrive out of order', async () => {
    const slow = deferred<unknown>();
    api.handlers['models.get'] = (a) => ((a as { id: string }).id === 'a' ? slow.promise : detail({ id: 'b', name: 'b' }));
    const s = useModelsStore();
    const first = s.select('a');
    await s.select('b');
    slow.resolve(detail({ id: 'a', name: 'a' }));
    await first;
    expect(s.selectedId).toBe('b');
    expect(s.detail?.id).toBe('b');
    expect(s.detailLoading).toBe(false);
  });

  it('creates a model, reloads the list and selects it', async () => {
    api.handlers['models.create'] = (a) => {
      const args = a as { name: string };
      list = [summary({ id: args.name, name: args.name })];
      return detail({ id: args.name, name: args.name });
    };
    const s = useModelsStore();
    const r = await s.create({ arch: 'cnn', name: 'c1', classes: 10, inputShape: [1, 28, 28], seed: 0 });
    expect(r.ok).toBe(true);
    expect(api.call).toHaveBeenCalledWith('models.create', { arch: 'cnn', name: 'c1', classes: 10, inputShape: [1, 28, 28], seed: 0 });
    expect(s.models.map((m) => m.id)).toEqual(['c1']);
    expect(s.selectedId).toBe('c1');
    expect(s.detail?.name).toBe('c1');
    expect(useToastsStore().toasts[0]).toMatchObject({ kind: 'success', message: 'Created model c1.' });
  });

  it('hands an import validation failure back in plain words and changes nothing', async () => {
    api.handlers['models.import'] = () => {
      throw new ApiError('invalid_argument', 'junk.onnx is not a usable ONNX model: the file is not a protobuf ModelProto.');
    };
    const s = useModelsStore();
    const r = await s.importOnnx({ path: '/tmp/junk.onnx' });
    expect(r).toEqual({ ok: false, error: 'junk.onnx is not a usable ONNX model: the file is not a protobuf ModelProto.' });
    expect(s.selectedId).toBeNull();
    expect(useToastsStore().toasts).toHaveLength(0);
  });

  it('submits training as a job the jobs panel tracks', async () => {
    api.handlers['models.train'] = () => makeJob({ id: 'tr-1', kind: 'model.train', title: "Train 'fashion-cnn'", state: 'queued', progress: null });
    const s = useModelsStore();
    const r = await s.train({ modelId: 'fashion-cnn', datasetId: 'ds-1', epochs: 1 });
    expect(r.ok).toBe(true);
    expect(useJobsStore().byId['tr-1']?.kind).toBe('model.train');
    expect(s.training['fashion-cnn']).toBe('tr-1');

    api.handlers['models.train'] = () => {
      throw new ApiError('invalid_argument', "Model 'fashion-cnn' predicts 10 classes, but dataset 'x' has 3.");
    };
    expect(await s.train({ modelId: 'fashion-cnn', datasetId: 'x' })).toEqual({ ok: false, error: "Model 'fashion-cnn' predicts 10 classes, but dataset 'x' has 3." });
  });

  it('gets the training defaults of an architecture from the backend (the one recipe schema), once per architecture, as copies', async () => {
    api.handlers['models.recipe'] = (a) => recipeInfo((a as { arch: string | null }).arch);
    const s = useModelsStore();
    expect((await s.recipeInfo('cnn')).recipe).toEqual(TRAINING_RECIPE_DEFAULTS);
    expect((await s.recipeInfo(null)).recipe).toEqual(TRAINING_RECIPE_DEFAULTS);
    expect((await s.recipeInfo('vit')).recipe).toMatchObject({ optimizer: 'adamw', lr: 0.001 });
    // a copy: editing the dialog's recipe must not change the cached one
    (await s.recipeInfo('cnn')).recipe.epochs = 99;
    expect((await s.recipeInfo('cnn')).recipe.epochs).toBe(TRAINING_RECIPE_DEFAULTS.epochs);
    expect(api.call.mock.calls.filter(([m]) => m === 'models.recipe')).toHaveLength(3);
  });

  it('deletes a model and clears the selection; a refusal becomes a toast', async () => {
    list = [summary()];
    api.handlers['models.delete'] = () => {
      list = [];
      return { deleted: true };
    };
    const s = useModelsStore();
    await s.load();
    await s.select('fashion-cnn');
    expect(await s.remove('fashion-cnn')).toBe(true);
    expect(s.selectedId).toBeNull();
    expect(s.models).toEqual([]);

    api.handlers['models.delete'] = () => {
      throw new ApiError('conflict', "Model 'm' is used by run 'r1'; delete it first.");
    };
    expect(await s.remove('m')).toBe(false);
    expect(useToastsStore().toasts.at(-1)?.message).toBe("Could not delete m: Model 'm' is used by run 'r1'; delete it first.");
  });
});
