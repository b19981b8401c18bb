// The Runs page (its runs table and the button that opens the unlearning wizard, tested in
// test/renderer/components/unlearning-wizard.test.ts), against a scripted API. The Compare page's
// dashboard is tested in compare-view.test.ts.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { createFakeApi, flush, type FakeApi } from '../fake-api';
import { summary } from '../models-fixtures';
import { COMPARISON, METHODS, METRICS, run } from '../unlearning-fixtures';

let api: FakeApi;
vi.mock('../../../renderer/src/api/client', () => ({ getApi: () => api, transportName: () => 'web', onConnectionChange: () => () => {} }));

const { default: RunsView } = await import('../../../renderer/src/views/RunsView.vue');
const { useJobsStore } = await import('../../../renderer/src/stores/jobs');

const FS = { id: 'fs-1', name: 'class 0', kind: 'class', datasetId: 'd', datasetName: 'Fashion-MNIST', count: 6000, idsSha256: 'a'.repeat(64), locked: false, createdAt: '2026-11-24T10:00:00.000Z' };

beforeEach(() => {
  document.body.innerHTML = '';
  api = createFakeApi({
    'jobs.list': () => [],
    'unlearning.methods': () => METHODS,
    'unlearning.metrics': () => METRICS,
    'runs.list': () => [run(), run({ id: 'ga-1', method: { id: 'ga', name: 'GA', exact: false }, guardrailTripped: true, seconds: null })],
    'models.list': () => [summary({ id: 'cnn', name: 'cnn', source: 'builtin' }), summary({ id: 'cnn-trained', name: 'cnn-trained', source: 'trained' })],
    'forgetSets.list': () => [FS],
    'comparisons.list': () => [{ id: 'cmp-1', name: 'class 0 <script>', model: 'cnn-trained', forgetSet: 'fs-1', forgetSetName: 'class 0', datasetName: 'Fashion-MNIST', seeds: 2, entries: ['Retrain', 'SalUn'], createdAt: '2026-11-24T10:00:00.000Z' }],
    'comparisons.get': () => COMPARISON,
    'workspace.info': () => ({ root: '/w', counts: { datasets: 1, models: 2, forgetSets: 1, runs: 2, reports: 0, jobs: 0 } }),
  });
});

async function mountView(view: typeof RunsView) {
  const pinia = createPinia();
  setActivePinia(pinia);
  await useJobsStore().connect();
  const w = mount(view, { global: { plugins: [pinia], stubs: { RouterLink: true } }, attachTo: document.body });
  await flush();
  return w;
}

describe('Runs page', () => {
  it('opens the unlearning wizard from "New unlearning…" and closes it', async () => {
    const w = await mountView(RunsView);
    expect(document.querySelector('[data-testid="unlearning-wizard"]')).toBeNull();
    await w.get('[data-action="open-wizard"]').trigger('click');
    await flush();
    expect(document.querySelector('[data-testid="unlearning-wizard"]')).not.toBeNull();
    (document.querySelector('[data-testid="unlearning-wizard"] button.close') as HTMLButtonElement).click();
    await flush();
    expect(document.querySelector('[data-testid="unlearning-wizard"]')).toBeNull();
  });

  it('shows the runs table with accuracies, time and guardrail', async () => {
    const w = await mountView(RunsView);
    const rows = w.findAll('[data-testid="run-table"] tbody tr');
    expect(rows).toHaveLength(2);
    const cells = rows[0].findAll('td').map((c) => c.text());
    expect(cells.slice(0, 10)).toEqual(['SalUn', '0', 'cnn-trained', 'class 0', 'cnn-trained-salun-s0', '3.50%', '91.25%', '89.00%', '12.5 s', 'ok']);
    expect(rows[1].findAll('td')[9].text()).toBe('tripped');
    expect(rows[1].findAll('td')[8].text()).toBe('—');
  });
});
