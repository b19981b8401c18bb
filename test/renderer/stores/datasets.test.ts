import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { ApiError } from '../../../preload/api';
import { createFakeApi, makeJob, type FakeApi } from '../fake-api';

let api: FakeApi;
vi.mock('../../../renderer/src/api/client', () => ({ getApi: () => api, transportName: () => 'web', onConnectionChange: () => () => {} }));

const { useDatasetsStore } = await import('../../../renderer/src/stores/datasets');
const { useJobsStore } = await import('../../../renderer/src/stores/jobs');
const { useToastsStore } = await import('../../../renderer/src/stores/toasts');
const { useAppStore } = await import('../../../renderer/src/stores/app');
const { useModelsStore } = await import('../../../renderer/src/stores/models');

beforeEach(() => {
  setActivePinia(createPinia());
  api = createFakeApi();
});

describe('datasets store', () => {
  it('loads datasets and built-in samples together; a failure is kept as the error', async () => {
    api.handlers['datasets.list'] = () => [{ id: 'ds-1', name: 'fm' }];
    api.handlers['datasets.builtins'] = () => [{ name: 'fashion-mnist-sample', title: 'Fashion-MNIST' }];
    const s = useDatasetsStore();
    await s.load();
    expect(s.datasets.map((d) => d.id)).toEqual(['ds-1']);
    expect(s.builtins).toHaveLength(1);
    expect(s.error).toBeNull();
    api.handlers['datasets.list'] = () => {
      throw new ApiError('internal', 'disk gone');
    };
    await s.load();
    expect(s.error).toMatch(/disk gone/);
    expect(s.loaded).toBe(true);
  });

  it('startImport queues the job and tracks it in the jobs panel; a refused import throws', async () => {
    const job = makeJob({ id: 'job-7', kind: 'dataset.import' });
    api.handlers['datasets.import'] = () => job;
    const s = useDatasetsStore();
    const got = await s.startImport({ format: 'idx', source: '/data/fm', name: 'fm' });
    expect(got.id).toBe('job-7');
    expect(api.call).toHaveBeenCalledWith('datasets.import', { format: 'idx', source: '/data/fm', name: 'fm' });
    expect(useJobsStore().byId['job-7']).toBeDefined();
    api.handlers['datasets.import'] = () => {
      throw new ApiError('conflict', "A dataset named 'fm' already exists.");
    };
    await expect(s.startImport({ format: 'idx', source: '/data/fm', name: 'fm' })).rejects.toThrow(/already exists/);
  });

  it('importBuiltin reports a failure as a toast and returns null', async () => {
    api.handlers['datasets.import'] = () => {
      throw new ApiError('invalid_argument', 'no such sample');
    };
    const s = useDatasetsStore();
    expect(await s.importBuiltin({ name: 'x', title: 'X' } as never)).toBeNull();
    expect(useToastsStore().toasts.at(-1)?.message).toMatch(/Could not import X: no such sample/);
  });

  it('gallery and wizard reads go to the matching API methods with their arguments', async () => {
    api.handlers['datasets.previewImport'] = (a) => ({ ok: true, args: a });
    api.handlers['datasets.get'] = (a) => ({ got: a });
    api.handlers['datasets.examples'] = (a) => ({ rows: [], args: a });
    api.handlers['datasets.images'] = (a) => ({ images: [], args: a });
    api.handlers['datasets.thumbnail'] = (a) => ({ png: '', args: a });
    const s = useDatasetsStore();
    expect(await s.previewImport({ format: 'npz', source: '/a.npz', maxSamples: 48 })).toMatchObject({ args: { maxSamples: 48 } });
    expect(await s.detail('ds-1')).toEqual({ got: { id: 'ds-1' } });
    expect(await s.examples({ id: 'ds-1', offset: 200, limit: 200 })).toMatchObject({ args: { offset: 200 } });
    expect(await s.images({ id: 'ds-1', ids: ['a'], encoding: 'raw' })).toMatchObject({ args: { encoding: 'raw' } });
    expect(await s.thumbnail({ id: 'ds-1', exampleId: 'a', scale: 8 })).toMatchObject({ args: { scale: 8 } });
  });
});

describe('app and models stores: the pickers the wizards use', () => {
  it('pickPath passes the dialog request through; unavailable in the browser build is an error', async () => {
    api.handlers['app.pickPath'] = (a) => ({ paths: ['/home/u/x.npz'], args: a });
    expect(await useAppStore().pickPath({ mode: 'file', title: 'Import NPZ' })).toMatchObject({ paths: ['/home/u/x.npz'] });
    api.handlers['app.pickPath'] = () => {
      throw new ApiError('unavailable', 'No file dialog in the browser build.');
    };
    await expect(useAppStore().pickPath({ mode: 'folder', title: 't' })).rejects.toThrow(/No file dialog/);
  });

  it('refreshList reloads only the model list and updates the store', async () => {
    api.handlers['models.list'] = () => [{ id: 'm-1', name: 'cnn' }];
    const m = useModelsStore();
    expect((await m.refreshList()).map((x) => x.id)).toEqual(['m-1']);
    expect(m.models.map((x) => x.id)).toEqual(['m-1']);
    expect(api.call).not.toHaveBeenCalledWith('models.architectures', expect.anything());
  });
});
