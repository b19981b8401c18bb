import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import type { DatasetSummary, ForgetSetCreateArgs, ForgetSetDetail, ForgetSetPreview, ForgetSetSummary } from '../../preload/api';
import { ApiError } from '../../preload/api';
import { createFakeApi, deferred, flush, makeJob, type FakeApi } from './fake-api';

let api: FakeApi;
// jsdom has no 2D canvas; say so quietly (the gallery then asks the backend for PNGs)
HTMLCanvasElement.prototype.getContext = (() => null) as never;
vi.mock('../../renderer/src/api/client', () => ({ getApi: () => api, transportName: () => 'web', onConnectionChange: () => () => {} }));

const { useForgetSetsStore, parseIdList, parseCountOrPercent } = await import('../../renderer/src/stores/forget-sets');
const { useJobsStore } = await import('../../renderer/src/stores/jobs');
const { default: ForgetSetWizard } = await import('../../renderer/src/components/ForgetSetWizard.vue');
const { default: ForgetSetTable } = await import('../../renderer/src/components/ForgetSetTable.vue');
const { default: ForgetSetDetails } = await import('../../renderer/src/components/ForgetSetDetails.vue');

const CLASSES = ['T-shirt', 'Trouser', 'Pullover'];
const DS: DatasetSummary = {
  id: 'ds-1',
  name: 'FMNIST',
  kind: 'image',
  count: 70,
  classNames: CLASSES,
  sampleShape: [28, 28, 1],
  counts: { train: [20, 20, 20], test: [4, 3, 3], totals: { train: 60, test: 10, all: 70 } },
  splitOrigin: 'source',
  format: 'idx',
  importedAt: '2026-11-24T10:00:00.000Z',
};
const HASH = 'ab'.repeat(32);

function preview(over: Partial<ForgetSetPreview> = {}): ForgetSetPreview {
  return {
    count: 3,
    idsSha256: HASH,
    classNames: CLASSES,
    forgetCounts: [1, 1, 1],
    retainCounts: [19, 19, 19],
    retainCount: 57,
    sampleIds: ['train-1', 'train-5', 'train-9'],
    report: { requested: 4, missing: ['nope'], missingCount: 1, duplicates: [], duplicateCount: 0, notInTrain: [], notInTrainCount: 0 },
    ...over,
  };
}

function detailOf(args: ForgetSetCreateArgs): ForgetSetDetail {
  const p = preview();
  return {
    id: 'fs-1',
    name: args.name,
    kind: args.rule.kind,
    datasetId: args.datasetId,
    datasetName: 'FMNIST',
    count: p.count,
    idsSha256: HASH,
    locked: false,
    createdAt: '2026-11-24T10:00:00.000Z',
    manifest: {
      format: 'lethe.forget-set/1',
      name: args.name,
      kind: args.rule.kind,
      params: args.rule as unknown as Record<string, unknown>,
      seed: null,
      dataset: { id: 'ds-1', name: 'FMNIST', manifestSha256: 'cd'.repeat(32), trainCount: 60 },
      count: 3,
      idsSha256: HASH,
      canonicalForm: 'ids sorted, joined by \\n',
      classNames: CLASSES,
      forgetCounts: p.forgetCounts,
      retainCounts: p.retainCounts,
      retain: { count: 57, idsSha256: 'ef'.repeat(32), encoding: 'bitmap-lsb', bitmapSha256: '01'.repeat(32), description: '' },
      report: p.report,
      lockedBy: [],
    },
    sampleIds: p.sampleIds,
  };
}

beforeEach(() => {
  setActivePinia(createPinia());
  api = createFakeApi({
    'forgetSets.list': () => [],
    'datasets.get': () => ({ ...DS, manifest: { metadata: [{ name: 'mean_intensity', type: 'number', min: 0, max: 255 }] } }),
    'forgetSets.preview': () => preview(),
    'forgetSets.create': (a) => detailOf(a as ForgetSetCreateArgs),
    'datasets.images': (a) =>
      (a as { ids: string[] }).ids.map((id, index) => ({ id, index, width: 28, height: 28, channels: 1, png: 'data:image/png;base64,AAAA' })),
  });
});

describe('forget-set helpers', () => {
  it('reads pasted deletion requests one per line, like the backend and the CLI', () => {
    expect(parseIdList('\ufefftrain-1\ntrain-5\r\n  train-9 \r# a comment\n\ncat/img 001, a.png\ntrain-1')).toEqual([
      'train-1',
      'train-5',
      'train-9',
      'cat/img 001, a.png',
      'train-1',
    ]);
    expect(parseIdList('  \n # only a comment\n')).toEqual([]);
  });

  it('reads a count or a percentage and explains bad input', () => {
    expect(parseCountOrPercent('500')).toEqual({ count: 500 });
    expect(parseCountOrPercent(' 1.5 % ')).toEqual({ fraction: 0.015 });
    expect(() => parseCountOrPercent('0')).toThrow(/whole number of at least 1/);
    expect(() => parseCountOrPercent('150%')).toThrow(/at most 100%/);
    expect(() => parseCountOrPercent('abc')).toThrow(/'abc' is not a count/);
  });
});

describe('forget-sets store', () => {
  it('keeps only the newest of overlapping previews', async () => {
    const first = deferred<ForgetSetPreview>();
    const second = deferred<ForgetSetPreview>();
    const queue = [first, second];
    api.handlers['forgetSets.preview'] = () => queue.shift()!.promise;
    const store = useForgetSetsStore();
    const a = store.runPreview('ds-1', { kind: 'class', classes: [0] });
    const b = store.runPreview('ds-1', { kind: 'class', classes: [1] });
    second.resolve(preview({ count: 20 }));
    await b;
    first.resolve(preview({ count: 99 }));
    expect(await a).toBeNull();
    expect(store.preview?.count).toBe(20);
    expect(store.previewing).toBe(false);
  });

  it('shows a refused preview in plain words and clears the old preview', async () => {
    const store = useForgetSetsStore();
    await store.runPreview('ds-1', { kind: 'class', classes: [0] });
    api.handlers['forgetSets.preview'] = () => {
      throw new ApiError('invalid_argument', '1 ID(s) do not exist in the dataset (first: nope).');
    };
    await store.runPreview('ds-1', { kind: 'ids', text: 'nope', onMissing: 'fail' });
    expect(store.preview).toBeNull();
    expect(store.previewError).toBe('1 ID(s) do not exist in the dataset (first: nope).');
  });

  it('lists a created set without a reload and passes the seed only when given', async () => {
    const store = useForgetSetsStore();
    await store.load();
    const d = await store.create({ datasetId: 'ds-1', name: 'req', rule: { kind: 'ids', text: 'train-1' } });
    expect(api.call).toHaveBeenLastCalledWith('forgetSets.create', { datasetId: 'ds-1', name: 'req', rule: { kind: 'ids', text: 'train-1' } });
    expect(store.sets.map((s) => s.name)).toEqual(['req']);
    expect(store.sets[0]).not.toHaveProperty('manifest');
    expect(store.details[d.id].idsSha256).toBe(HASH);
    await store.runPreview('ds-1', { kind: 'random', count: 5 }, 7);
    expect(api.call).toHaveBeenLastCalledWith('forgetSets.preview', { datasetId: 'ds-1', rule: { kind: 'random', count: 5 }, seed: 7 });
  });

  it('reports a refused delete as a toast and keeps the set', async () => {
    api.handlers['forgetSets.list'] = () => [{ id: 'fs-1', name: 'used', kind: 'class', datasetId: 'ds-1', datasetName: 'FMNIST', count: 3, idsSha256: HASH, locked: true, createdAt: '' }];
    api.handlers['forgetSets.delete'] = () => {
      throw new ApiError('conflict', "Forget set 'used' is used by run r-1.");
    };
    const store = useForgetSetsStore();
    await store.load();
    expect(await store.remove('fs-1')).toBe(false);
    expect(store.sets).toHaveLength(1);
    const { useToastsStore } = await import('../../renderer/src/stores/toasts');
    expect(useToastsStore().toasts[0].message).toContain("is used by run r-1");
  });
});

describe('ForgetSetWizard', () => {
  it('previews a pasted ID list, shows the missing ID and saves with onMissing skip', async () => {
    const w = mount(ForgetSetWizard, { props: { datasets: [DS] }, attachTo: document.body });
    await flush();
    await w.get('[data-kind="ids"] input').setValue(true);
    await w.get('[data-testid="fs-next"]').trigger('click');
    const preview = w.get('[data-testid="fs-preview-button"]');
    expect(preview.attributes('disabled')).toBeDefined();
    expect(w.get('[data-testid="fs-rule-error"]').text()).toContain('Paste at least one example ID');
    await w.get('[data-testid="fs-ids"]').setValue('train-1\ntrain-5\ntrain-9\nnope');
    await preview.trigger('click');
    await flush();
    expect(api.call).toHaveBeenCalledWith('forgetSets.preview', { datasetId: 'ds-1', rule: { kind: 'ids', text: 'train-1\ntrain-5\ntrain-9\nnope', onMissing: 'skip' } });
    expect(w.get('[data-testid="fs-missing"]').text().replace(/\s+/g, ' ')).toBe('1 ID does not exist in the dataset: nope');
    expect(w.get('[data-testid="fs-count"]').text()).toBe('3');
    expect(w.get('[data-testid="fs-histogram"] [data-class-index="1"] [data-series="forget"]').text()).toBe('1');
    await w.get('[data-testid="fs-name"]').setValue('gdpr-1');
    await w.get('[data-testid="fs-save"]').trigger('click');
    await flush();
    expect(api.call).toHaveBeenCalledWith('forgetSets.create', {
      datasetId: 'ds-1',
      name: 'gdpr-1',
      rule: { kind: 'ids', text: 'train-1\ntrain-5\ntrain-9\nnope', onMissing: 'skip' },
    });
    expect(w.emitted('created')?.[0][0]).toMatchObject({ name: 'gdpr-1', idsSha256: HASH });
    w.unmount();
  });

  it('takes deletion requests from a CSV file with its ID column', async () => {
    const w = mount(ForgetSetWizard, { props: { datasets: [DS] } });
    await flush();
    await w.get('[data-kind="ids"] input').setValue(true);
    await w.get('[data-testid="fs-next"]').trigger('click');
    const input = w.get('[data-testid="fs-ids-file"]');
    const csv = 'request,example\nr1,train-3\nr2,train-4\n';
    Object.defineProperty(input.element, 'files', { value: [new File([csv], 'requests.csv', { type: 'text/csv' })] });
    await input.trigger('change');
    await flush();
    expect(w.get('[data-testid="fs-ids-count"]').text()).toBe('from requests.csv');
    expect(w.get('[data-testid="fs-ids"]').attributes('disabled')).toBeDefined();
    await w.get('input[placeholder^="id"]').setValue('example');
    await w.get('[data-testid="fs-preview-button"]').trigger('click');
    await flush();
    expect(api.call).toHaveBeenCalledWith('forgetSets.preview', { datasetId: 'ds-1', rule: { kind: 'ids', csv, column: 'example', onMissing: 'skip' } });
  });

  it('builds a seeded, stratified random rule and refuses a bad amount', async () => {
    const w = mount(ForgetSetWizard, { props: { datasets: [DS] } });
    await flush();
    await w.get('[data-testid="fs-next"]').trigger('click');
    await w.get('[data-testid="fs-amount"]').setValue('-3');
    expect(w.get('[data-testid="fs-rule-error"]').text()).toContain("'-3' is not a count");
    await w.get('[data-testid="fs-amount"]').setValue('10%');
    await w.get('[data-class-index="2"]').trigger('click');
    await w.get('[data-testid="fs-preview-button"]').trigger('click');
    await flush();
    expect(api.call).toHaveBeenCalledWith('forgetSets.preview', { datasetId: 'ds-1', rule: { kind: 'random', fraction: 0.1, stratify: true, classes: [2] }, seed: 0 });
  });

  it('asks the worst-case kind for the original model from models.list', async () => {
    api.handlers['models.list'] = () => [{ id: 'm-1', name: 'cnn-orig', source: 'created', arch: 'cnn', inputShape: [1, 28, 28], classes: 3, parameterCount: 1, sha256: '', sizeBytes: 1, createdAt: '', trained: true, testAccuracy: 0.9, dataset: null }];
    api.handlers['forgetSets.preview'] = () =>
      preview({
        report: {},
        scores: { metric: 'loss', definition: 'cross-entropy of the true class.', model: {}, scored: 60, poolMin: 0.01, poolMax: 5.5, poolMean: 0.4, chosen: [{ id: 'train-7', score: 5.5 }] },
      });
    api.handlers['forgetSets.score'] = () => ({ cached: true, count: 60, job: null });
    const w = mount(ForgetSetWizard, { props: { datasets: [DS] } });
    await flush();
    await w.get('[data-kind="worst-case"] input').setValue(true);
    await flush();
    await w.get('[data-testid="fs-next"]').trigger('click');
    expect((w.get('[data-testid="fs-model"]').element as HTMLSelectElement).value).toBe('m-1');
    await w.get('[data-testid="fs-amount"]').setValue('5');
    await w.get('[data-testid="fs-preview-button"]').trigger('click');
    await flush();
    expect(api.call).toHaveBeenCalledWith('forgetSets.score', { datasetId: 'ds-1', model: { modelId: 'm-1' }, metric: 'loss' });
    expect(api.call).toHaveBeenCalledWith('forgetSets.preview', { datasetId: 'ds-1', rule: { kind: 'worst-case', metric: 'loss', count: 5, model: { modelId: 'm-1' } } });
    expect(w.get('[data-testid="fs-scores"]').text()).toContain('train-7');
    expect(w.findAll('[data-testid="fs-scores"] .bin')).toHaveLength(12);
  });

  it('worst-case: waits for the scoring job, shows its progress, previews when it succeeds, reports a failure', async () => {
    api.handlers['models.list'] = () => [{ id: 'm-1', name: 'cnn-orig', source: 'created', arch: 'cnn', inputShape: [1, 28, 28], classes: 3, parameterCount: 1, sha256: '', sizeBytes: 1, createdAt: '', trained: true, testAccuracy: 0.9, dataset: null }];
    const job = makeJob({ id: 'job-s', kind: 'forgetSet.score', title: 'Score', state: 'queued', startedAt: null, progress: null });
    api.handlers['forgetSets.score'] = () => ({ cached: false, count: 60, job });
    api.handlers['jobs.get'] = () => useJobsStore().byId['job-s'];
    api.handlers['forgetSets.preview'] = () => preview();
    const w = mount(ForgetSetWizard, { props: { datasets: [DS] } });
    await flush();
    await w.get('[data-kind="worst-case"] input').setValue(true);
    await flush();
    await w.get('[data-testid="fs-next"]').trigger('click');
    await w.get('[data-testid="fs-amount"]').setValue('5');
    await w.get('[data-testid="fs-preview-button"]').trigger('click');
    await flush();
    expect(w.find('[data-testid="fs-scoring"]').exists()).toBe(true);
    expect(api.call).not.toHaveBeenCalledWith('forgetSets.preview', expect.anything());
    const jobs = useJobsStore();
    jobs.byId['job-s'] = { ...job, state: 'running', progress: { step: 30, total: 60, fraction: 0.5, message: 'scored 30 of 60 examples' } };
    await flush();
    expect(w.get('[data-testid="fs-scoring"]').text()).toContain('50%');
    expect(w.get('[data-testid="fs-scoring"]').text()).toContain('scored 30 of 60 examples');
    jobs.byId['job-s'] = { ...job, state: 'succeeded', progress: { step: 60, total: 60, fraction: 1 } };
    await new Promise((r) => setTimeout(r, 400));
    await flush();
    expect(api.call).toHaveBeenCalledWith('forgetSets.preview', expect.objectContaining({ rule: expect.objectContaining({ kind: 'worst-case' }) }));
    expect(w.find('[data-testid="fs-scoring"]').exists()).toBe(false);
    expect(w.find('[data-testid="fs-preview-error"]').exists()).toBe(false);

    // a failed scoring job: its reason, in plain words, instead of a preview
    const job2 = { ...job, id: 'job-f' };
    api.handlers['forgetSets.score'] = () => ({ cached: false, count: 60, job: job2 });
    await w.get('[data-testid="fs-back"]').trigger('click');
    await w.get('[data-testid="fs-preview-button"]').trigger('click');
    await flush();
    jobs.byId['job-f'] = { ...job2, state: 'failed', reason: 'the model predicts 2 classes but the dataset has 3' };
    await new Promise((r) => setTimeout(r, 400));
    await flush();
    expect(w.get('[data-testid="fs-preview-error"]').text()).toBe('Scoring failed: the model predicts 2 classes but the dataset has 3');
  });
});

describe('ForgetSetWizard: metadata conditions and sequential times', () => {
  const META = [
    { name: 'mean_intensity', type: 'number', min: 0, max: 255 },
    { name: 'color', type: 'category', categories: ['red', '<i>green</i>'] },
  ];
  /** the arguments of the latest call of a method (the preview gallery's image calls come in between) */
  const lastArgs = (method: string) => api.call.mock.calls.filter((c) => c[0] === method).at(-1)?.[1];
  const predicatesOf = () => (lastArgs('forgetSets.preview') as { rule: { predicates: unknown[] } }).rule.predicates;

  it('filter: conditions can be added and removed; the rule holds all of them and the preview lists them', async () => {
    api.handlers['datasets.get'] = () => ({ ...DS, manifest: { metadata: META } });
    const w = mount(ForgetSetWizard, { props: { datasets: [DS] } });
    await flush();
    await w.get('[data-kind="filter"] input').setValue(true);
    await w.get('[data-testid="fs-next"]').trigger('click');
    expect(w.findAll('[data-testid="fs-condition"]')).toHaveLength(1);
    expect(w.get('[data-testid="fs-remove-condition"]').attributes('disabled')).toBeDefined();
    await w.get('[data-testid="fs-column"]').setValue('color');
    await w.get('[data-testid="fs-value"]').setValue('<i>green</i>');
    await w.get('[data-testid="fs-add-condition"]').trigger('click');
    expect(w.findAll('[data-testid="fs-condition"]')).toHaveLength(2);
    // the new row is incomplete: the rule names the row and the reason
    expect(w.get('[data-testid="fs-rule-error"]').text()).toBe('Condition 2: Choose a metadata column.');
    const row2 = () => w.findAll('[data-testid="fs-condition"]')[1];
    await row2().get('[data-testid="fs-column"]').setValue('mean_intensity');
    expect(w.get('[data-testid="fs-rule-error"]').text()).toBe('Condition 2: Give a minimum, a maximum or both for mean_intensity.');
    await row2().get('[data-testid="fs-min"]').setValue('100');
    await row2().get('[data-testid="fs-max"]').setValue('20');
    expect(w.get('[data-testid="fs-rule-error"]').text()).toBe('Condition 2: The minimum of mean_intensity is above its maximum.');
    await row2().get('[data-testid="fs-max"]').setValue('');
    await w.get('[data-class-index="1"]').trigger('click');
    await w.get('[data-testid="fs-preview-button"]').trigger('click');
    await flush();
    expect(predicatesOf()).toEqual([
      { column: 'color', op: 'eq', value: '<i>green</i>' },
      { column: 'mean_intensity', op: 'range', min: 100 },
      { column: 'class', op: 'in', values: [1] },
    ]);
    const shown = w.findAll('[data-testid="fs-conditions"] li').map((li) => li.text());
    expect(shown).toEqual(['color = <i>green</i>', 'mean_intensity ≥ 100', 'class is one of Trouser']);
    expect(w.find('[data-testid="fs-conditions"] i').exists()).toBe(false);
    // back: remove the first condition; the rule keeps the other one only
    await w.get('[data-testid="fs-back"]').trigger('click');
    await w.findAll('[data-testid="fs-remove-condition"]')[0].trigger('click');
    expect(w.findAll('[data-testid="fs-condition"]')).toHaveLength(1);
    expect((w.get('[data-testid="fs-column"]').element as HTMLSelectElement).value).toBe('mean_intensity');
    await w.get('[data-testid="fs-preview-button"]').trigger('click');
    await flush();
    expect(predicatesOf()).toEqual([
      { column: 'mean_intensity', op: 'range', min: 100 },
      { column: 'class', op: 'in', values: [1] },
    ]);
    expect(w.findAll('[data-testid="fs-conditions"] li').map((li) => li.text())).toEqual(['mean_intensity ≥ 100', 'class is one of Trouser']);
  });

  it('subclass: one condition with the class, shown in the preview', async () => {
    api.handlers['datasets.get'] = () => ({ ...DS, manifest: { metadata: META } });
    const w = mount(ForgetSetWizard, { props: { datasets: [DS] } });
    await flush();
    await w.get('[data-kind="subclass"] input').setValue(true);
    await w.get('[data-testid="fs-next"]').trigger('click');
    expect(w.find('[data-testid="fs-add-condition"]').exists()).toBe(false);
    await w.get('select.select').setValue('2');
    await w.get('[data-testid="fs-column"]').setValue('mean_intensity');
    await w.get('[data-testid="fs-min"]').setValue('10');
    await w.get('[data-testid="fs-max"]').setValue('19.5');
    await w.get('[data-testid="fs-preview-button"]').trigger('click');
    await flush();
    expect(api.call).toHaveBeenCalledWith('forgetSets.preview', { datasetId: 'ds-1', rule: { kind: 'subclass', class: 2, column: 'mean_intensity', min: 10, max: 19.5 } });
    expect(w.findAll('[data-testid="fs-conditions"] li').map((li) => li.text())).toEqual(['class = Pullover', '10 ≤ mean_intensity ≤ 19.5']);
  });

  it('sequential: steps in the clicked order, each with an optional time; blank times are left to the backend', async () => {
    const set = (id: string, name: string, createdAt: string): ForgetSetSummary => ({ id, name, kind: 'ids', datasetId: 'ds-1', datasetName: 'FMNIST', count: 2, idsSha256: HASH, locked: false, createdAt });
    api.handlers['forgetSets.list'] = () => [set('fs-a', 'req-a', '2026-01-05T10:00:00.000Z'), set('fs-b', 'req-b', '2026-01-02T10:00:00.000Z'), set('fs-other', 'other', '2026-01-01T00:00:00.000Z')];
    const t1 = new Date('2025-12-01T09:30').toISOString();
    api.handlers['forgetSets.preview'] = () =>
      preview({
        report: {},
        sequence: {
          steps: [
            { order: 1, forgetSetId: 'fs-b', name: 'req-b', at: t1, count: 2, idsSha256: HASH, newCount: 2, cumulativeCount: 2, retainCount: 58, retainIdsSha256: HASH, retainBitmapBlob: 'retain:1' },
            { order: 2, forgetSetId: 'fs-a', name: 'req-a', at: '2026-01-05T10:00:00.000Z', count: 2, idsSha256: HASH, newCount: 1, cumulativeCount: 3, retainCount: 57, retainIdsSha256: HASH, retainBitmapBlob: 'retain:2' },
          ],
        },
      });
    const w = mount(ForgetSetWizard, { props: { datasets: [DS] } });
    await flush();
    await w.get('[data-kind="sequential"] input').setValue(true);
    await w.get('[data-testid="fs-next"]').trigger('click');
    const box = (name: string) => w.findAll('.seq li').find((li) => li.text().includes(name))!.get('input');
    await box('req-b').setValue(true);
    await box('req-a').setValue(true);
    const chosen = w.findAll('[data-testid="fs-seq-steps"] li');
    expect(chosen.map((li) => [li.attributes('data-step'), li.get('.step-name').text()])).toEqual([
      ['1', 'req-b'],
      ['2', 'req-a'],
    ]);
    expect(chosen[1].text()).toContain(`created ${new Date('2026-01-05T10:00:00.000Z').toLocaleString()}`);
    // no time given: the rule has no `at` (each step is dated by its creation)
    await w.get('[data-testid="fs-preview-button"]').trigger('click');
    await flush();
    expect(lastArgs('forgetSets.preview')).toEqual({ datasetId: 'ds-1', rule: { kind: 'sequential', steps: ['fs-b', 'fs-a'] } });
    await w.get('[data-testid="fs-back"]').trigger('click');
    // a time for the first step only: sent as UTC ISO, the other entry blank
    await w.findAll('[data-testid="fs-step-at"]')[0].setValue('2025-12-01T09:30');
    await w.get('[data-testid="fs-preview-button"]').trigger('click');
    await flush();
    expect(lastArgs('forgetSets.preview')).toEqual({ datasetId: 'ds-1', rule: { kind: 'sequential', steps: ['fs-b', 'fs-a'], at: [t1, ''] } });
    const rows = w.findAll('[data-testid="fs-sequence"] tbody tr');
    expect(rows.map((r) => [r.attributes('data-step'), r.findAll('td')[1].text(), r.get('[data-field="at"]').text()])).toEqual([
      ['1', 'req-b', t1],
      ['2', 'req-a', '2026-01-05T10:00:00.000Z'],
    ]);
    // saving passes the same times
    await w.get('[data-testid="fs-name"]').setValue('requests');
    await w.get('[data-testid="fs-save"]').trigger('click');
    await flush();
    expect(lastArgs('forgetSets.create')).toEqual({ datasetId: 'ds-1', name: 'requests', rule: { kind: 'sequential', steps: ['fs-b', 'fs-a'], at: [t1, ''] } });
  });
});

describe('ForgetSetTable', () => {
  it('shows kind, count, a short hash with the full one copyable, and the locked state; names as text', async () => {
    const sets: ForgetSetSummary[] = [
      { id: 'fs-1', name: '<b>x</b>', kind: 'ids', datasetId: 'ds-1', datasetName: 'FMNIST', count: 1234, idsSha256: HASH, locked: true, createdAt: '2026-11-24T10:00:00.000Z' },
    ];
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const w = mount(ForgetSetTable, { props: { sets } });
    const row = w.get('[data-forget-set-id="fs-1"]');
    expect(row.get('.name').text()).toBe('<b>x</b>');
    expect(w.find('b').exists()).toBe(false);
    expect(row.get('[data-field="count"]').text()).toBe((1234).toLocaleString());
    expect(row.get('[data-field="hash"]').text()).toBe(HASH.slice(0, 12));
    expect(row.get('[data-field="locked"]').text()).toContain('locked');
    await row.get('button').trigger('click');
    expect(writeText).toHaveBeenCalledWith(HASH);
    expect(w.emitted('select')).toBeUndefined();
    await row.trigger('click');
    expect(w.emitted('select')?.[0]).toEqual(['fs-1']);
  });
});

describe('forget sets for a new user (issue 9, point 10)', () => {
  const model = (id: string, over: Record<string, unknown>) => ({ id, name: id, source: 'builtin', arch: 'cnn', inputShape: [1, 28, 28], classes: 3, parameterCount: 1, sha256: '', sizeBytes: 1, createdAt: '2026-12-01T10:00:00.000Z', trained: false, testAccuracy: null, dataset: null, ...over });

  it('worst-case: the most recent trained model is preselected, not an untrained one; choosing an untrained one warns', async () => {
    api.handlers['models.list'] = () => [
      model('a-new-cnn', { createdAt: '2026-12-03T09:00:00.000Z' }),
      model('cnn-trained-old', { source: 'trained', trained: true, createdAt: '2026-12-01T09:00:00.000Z' }),
      model('cnn-trained-new', { source: 'trained', trained: true, createdAt: '2026-12-02T09:00:00.000Z' }),
      model('cnn-unlearned', { source: 'unlearned', trained: true, createdAt: '2026-12-02T12:00:00.000Z' }),
    ];
    const w = mount(ForgetSetWizard, { props: { datasets: [DS] } });
    await flush();
    await w.get('[data-kind="worst-case"] input').setValue(true);
    await flush();
    await w.get('[data-testid="fs-next"]').trigger('click');
    const select = w.get('[data-testid="fs-model"]');
    expect((select.element as HTMLSelectElement).value).toBe('cnn-trained-new');
    expect(w.find('[data-testid="fs-model-untrained"]').exists()).toBe(false);
    expect(select.findAll('option').map((o) => o.text())).toContain('a-new-cnn (cnn, untrained)');
    await select.setValue('a-new-cnn');
    expect(w.get('[data-testid="fs-model-untrained"]').text()).toContain('a-new-cnn has never been trained');
  });

  it('manual selection shows training examples only (no test images to be refused at preview)', async () => {
    const queries: Record<string, unknown>[] = [];
    api.handlers['datasets.examples'] = (a) => {
      queries.push(a as Record<string, unknown>);
      return { total: 0, rows: [] };
    };
    const w = mount(ForgetSetWizard, { props: { datasets: [DS] } });
    await flush();
    await w.get('[data-kind="manual"] input').setValue(true);
    await w.get('[data-testid="fs-next"]').trigger('click');
    await flush();
    expect(queries.length).toBeGreaterThan(0);
    expect(queries.every((q) => q.split === 'train')).toBe(true);
    expect(w.find('[data-testid="filter-split"]').exists()).toBe(false);
  });

  it('details: the rule in words with class names, and a sample of the set across its classes', async () => {
    const d = detailOf({ datasetId: 'ds-1', name: 'one-percent', rule: { kind: 'random', fraction: 0.01, stratify: true, classes: [0, 2] }, seed: 4 });
    d.manifest.params = { count: undefined, fraction: 0.01, stratify: true, classes: [0, 2] };
    d.manifest.kind = 'random';
    d.manifest.count = 120;
    d.manifest.forgetCounts = [60, 0, 60];
    d.sampleIds = ['c0-1', 'c2-1', 'c0-7', 'c2-9'];
    const w = mount(ForgetSetDetails, { props: { detail: d, dataset: DS } });
    await flush();
    const rule = w.get('[data-field="rule"]');
    expect(rule.find('.rule-line').text()).toBe('A random 1% of the training examples of the classes T-shirt and Pullover, stratified by class (each class in its proportion).');
    expect(rule.text()).not.toMatch(/^\{/);
    expect(rule.get('details code').text()).toBe('{"kind":"random","fraction":0.01,"stratify":true,"classes":[0,2]}');
    const sample = w.get('[data-testid="fs-detail-sample"]');
    expect(sample.get('h3').text().replace(/\s+/g, ' ')).toBe('Sample of the forget set (4 of 120, across 2 classes)');
    const gallery = w.findComponent({ name: 'DatasetGallery' });
    expect(gallery.props('ids')).toEqual(['c0-1', 'c2-1', 'c0-7', 'c2-9']);
    expect(gallery.props('forgetSet')).toBeNull();
    // the whole set stays browsable
    await w.get('[data-action="browse-all"]').trigger('click');
    expect(w.findComponent({ name: 'DatasetGallery' }).props('forgetSet')).toEqual({ id: 'fs-1', part: 'forget' });
  });

  it('every rule kind reads in words, with class names', async () => {
    const { describeRule } = await import('../../renderer/src/utils/forget-rule');
    const ctx = { classNames: CLASSES, forgetSetName: (id: string) => (id === 'fs-9' ? 'requests-2026' : undefined) };
    expect(describeRule('class', { classes: [1] }, ctx)).toEqual(['Every training example of the class Trouser.']);
    expect(describeRule('subclass', { class: 2, column: 'brightness', min: 0.2, max: 0.8 }, ctx)).toEqual(['The training examples of the class Pullover where 0.2 ≤ brightness ≤ 0.8.']);
    expect(describeRule('filter', { predicates: [{ column: 'color', op: 'eq', value: 'red' }, { column: 'class', op: 'in', values: [0, 1] }] }, ctx)).toEqual([
      'The training examples matching all of:',
      'color = red',
      'class is one of T-shirt and Trouser',
    ]);
    expect(describeRule('ids', { textSha256: 'x', textLength: 40, onMissing: 'skip' }, ctx)).toEqual(['Deletion requests: the examples named in a text of IDs, one per line; IDs not in the dataset are reported and skipped.']);
    expect(describeRule('manual', { idsSha256: 'x', idCount: 3 }, ctx)).toEqual(['Chosen by hand in the gallery: 3 examples.']);
    expect(describeRule('worst-case', { metric: 'loss', count: 500, model: { modelId: 'cnn-trained' } }, ctx)).toEqual([
      'The 500 examples of the training examples hardest to unlearn, by loss (cross-entropy on the true label), scored on the model cnn-trained.',
    ]);
    expect(describeRule('coreset', { source: 'fs-9', fraction: 0.1 }, ctx)).toEqual(['A random 10% of the forget set requests-2026 (a coreset).']);
    expect(describeRule('sequential', { steps: ['fs-9', 'fs-8'] }, ctx)).toEqual(['2 deletion requests in the order they arrived:', '1. requests-2026', '2. fs-8']);
  });
});
