// The quick start on the home screen (Datasets): shown on an empty workspace only, one click submits
// the built-in demo (unlearn.demo through the jobs store), its live stage / percent / ETA show, and when it
// has succeeded a link opens its comparison in Compare (?comparison=<id>).
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createMemoryHistory, createRouter } from 'vue-router';
import type { DatasetSummary, WorkspaceInfo } from '../../../preload/api';
import { createFakeApi, flush, makeJob, type FakeApi } from '../fake-api';

let api: FakeApi;
vi.mock('../../../renderer/src/api/client', () => ({ getApi: () => api, transportName: () => 'web', onConnectionChange: () => () => {} }));

const { default: DatasetsView } = await import('../../../renderer/src/views/DatasetsView.vue');
const { useJobsStore } = await import('../../../renderer/src/stores/jobs');
const { useAppStore } = await import('../../../renderer/src/stores/app');

const demoJob = (over = {}) => makeJob({ id: 'demo-1', kind: 'unlearn.demo', title: 'Built-in demo', params: {}, state: 'queued', progress: null, startedAt: null, ...over });
let datasets: DatasetSummary[] = [];
const DS: DatasetSummary = {
  id: 'ds-1',
  name: 'x',
  kind: 'image',
  count: 70_000,
  classNames: Array.from({ length: 10 }, (_, i) => `c${i}`),
  sampleShape: [28, 28, 1],
  counts: { train: [], test: [], totals: { train: 60_000, test: 10_000, all: 70_000 } },
  splitOrigin: 'stratified',
  format: 'builtin',
  importedAt: '2026-11-24T10:00:00.000Z',
};

async function mountHome(models = 0) {
  const pinia = createPinia();
  setActivePinia(pinia);
  if (models) useAppStore().workspace = { counts: { datasets: datasets.length, models, forgetSets: 0, runs: 0, reports: 0 } } as unknown as WorkspaceInfo;
  await useJobsStore().connect();
  const Empty = { render: () => null };
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', name: 'datasets', component: Empty },
      { path: '/compare', name: 'compare', component: Empty },
    ],
  });
  await router.push('/');
  const w = mount(DatasetsView, { global: { plugins: [pinia, router] } });
  await flush();
  return w;
}

beforeEach(() => {
  datasets = [];
  api = createFakeApi({
    'jobs.list': () => [],
    'datasets.list': () => datasets,
    'datasets.builtins': () => [],
    'jobs.submit': () => demoJob(),
    'jobs.cancel': () => demoJob({ state: 'cancelled', reason: 'Cancelled by the user.' }),
  });
});

describe('quick start (empty workspace)', () => {
  it('offers the built-in demo with what it does and how long it takes', async () => {
    const w = await mountHome();
    const card = w.get('[data-testid="quick-start"]');
    expect(card.get('h2').text()).toBe('Quick start: the built-in demo');
    expect(card.text()).toContain('lethe demo');
    expect(card.text()).toContain('About 10 minutes on a laptop CPU');
    expect(card.text()).toMatch(/FT, GA, RL, SalUn, SSD,\s+SCRUB and NegGrad\+/);
    expect(card.get('[data-testid="quick-start-run"]').text()).toBe('Run the built-in demo');
    expect(card.text()).toContain('lethe demo --short');
  });

  it('offers the short demo (one forget set, FT and SalUn) as a job of the same kind', async () => {
    const w = await mountHome();
    expect(w.get('[data-testid="quick-start-short"]').text()).toBe('Short version (1-2 minutes)');
    await w.get('[data-testid="quick-start-short"]').trigger('click');
    await flush();
    expect(api.call).toHaveBeenCalledWith('jobs.submit', { kind: 'unlearn.demo', params: { preset: 'short' }, title: 'Built-in demo' });
  });

  it('is not offered once the workspace has a dataset or a model', async () => {
    datasets = [DS];
    expect((await mountHome()).find('[data-testid="quick-start"]').exists()).toBe(false);
    datasets = [];
    expect((await mountHome(2)).find('[data-testid="quick-start"]').exists()).toBe(false);
  });

  it('one click submits unlearn.demo, shows its stage, percent and ETA live, and can cancel it', async () => {
    const w = await mountHome();
    await w.get('[data-testid="quick-start-run"]').trigger('click');
    await flush();
    expect(api.call).toHaveBeenCalledWith('jobs.submit', { kind: 'unlearn.demo', params: {}, title: 'Built-in demo' });
    expect(w.get('[data-testid="quick-start-progress"] [data-field="stage"]').text()).toBe('waiting for a free job slot');

    const startedAt = new Date(Date.now() - 60_000).toISOString();
    api.emit('jobs.event', { type: 'state', job: demoJob({ state: 'running', startedAt }) });
    api.emit('jobs.event', { type: 'progress', id: 'demo-1', progress: { step: 250, total: 1000, fraction: 0.25, stage: 'train original', message: 'train original: epoch 1/2, step 40/157, loss 0.612' } });
    await flush();
    const live = w.get('[data-testid="quick-start-progress"]');
    expect(live.get('[data-field="stage"]').text()).toBe('train original');
    expect(live.get('[data-field="percent"]').text()).toBe('25.0%');
    expect(live.get('[data-field="eta"]').text()).toMatch(/^ETA 3m 0s$|^ETA 2m 59s$|^ETA 3m 1s$/);
    expect(live.get('[data-field="detail"]').text()).toBe('epoch 1/2, step 40/157, loss 0.612');
    expect(live.get('[role="progressbar"]').attributes('aria-valuenow')).toBe('25');

    await live.get('[data-testid="quick-start-cancel"]').trigger('click');
    await flush();
    expect(api.call).toHaveBeenCalledWith('jobs.cancel', { id: 'demo-1' });
    expect(w.get('[data-testid="quick-start-ended"]').text()).toBe('The demo was cancelled.');
    expect(w.get('[data-testid="quick-start-run"]').text()).toBe('Continue the built-in demo');
  });

  it('when the demo succeeds, links open its comparisons in Compare', async () => {
    const w = await mountHome();
    await w.get('[data-testid="quick-start-run"]').trigger('click');
    await flush();
    // the demo made a dataset and models meanwhile: the card stays for the demo it ran
    datasets = [{ ...DS, name: 'demo-fashion-mnist' }];
    api.emit('jobs.event', { type: 'state', job: demoJob({ state: 'succeeded', result: { comparisonIds: ['cmp-a', 'cmp-b'], forgetSets: ['demo-class-Bag', 'demo-random-1pct'], seconds: 605 } }) });
    await flush();
    const done = w.get('[data-testid="quick-start-done"]');
    expect(done.text()).toContain('The demo finished in 10m 5s');
    const links = done.findAll('[data-testid="quick-start-open"]');
    expect(links.map((l) => l.attributes('href'))).toEqual(['/compare?comparison=cmp-a', '/compare?comparison=cmp-b']);
    expect(links[0].text()).toBe('Open the comparison of the whole-class forget set (demo-class-Bag)');
  });
});
