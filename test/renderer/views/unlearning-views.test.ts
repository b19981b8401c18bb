// The Runs page's "Run unlearning" form (every method's fields drawn from its ParamSpec list, one
// generic component) and runs table, and the Compare page's metric table, against a scripted API.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { ApiError } from '../../../preload/api';
import { createFakeApi, flush, makeJob, type FakeApi } from '../fake-api';
import { summary } from '../models-fixtures';
import { COMPARISON, METHODS, METRICS, run } from '../unlearning-fixtures';

let api: FakeApi;
vi.mock('../../../renderer/src/api/client', () => ({ getApi: () => api, transportName: () => 'web', onConnectionChange: () => () => {} }));

const { default: RunsView } = await import('../../../renderer/src/views/RunsView.vue');
const { default: CompareView } = await import('../../../renderer/src/views/CompareView.vue');
const { useJobsStore } = await import('../../../renderer/src/stores/jobs');
const { useUiStore } = await import('../../../renderer/src/stores/ui');

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
  it('lists the methods and draws the chosen method parameters from its specs, defaults prefilled', async () => {
    const w = await mountView(RunsView);
    expect(w.findAll('[data-testid="method-list"] [data-method]').map((e) => e.attributes('data-method'))).toEqual(['retrain', 'salun', 'toy']);
    expect((w.get('[data-field="model"]').element as HTMLSelectElement).value).toBe('cnn-trained');
    expect((w.get('[data-field="forget-set"]').element as HTMLSelectElement).value).toBe('fs-1');
    expect(w.find('[data-testid="params-salun"]').exists()).toBe(false);
    await w.get('[data-method="salun"]').setValue(true);
    const form = w.get('[data-testid="params-salun"]');
    const value = (name: string) => (form.get(`#param-salun-${name}`).element as HTMLInputElement).value;
    expect([value('maskFraction'), value('epochs'), value('lr')]).toEqual(['0.5', '10', '0.013']);
    const epochs = form.get('#param-salun-epochs');
    expect([epochs.attributes('min'), epochs.attributes('max'), epochs.attributes('step')]).toEqual(['1', '1000', '1']);
    expect(form.get('#param-salun-lr').attributes('step')).toBe('any');
    expect(form.get('[data-param="maskFraction"] label').text()).toContain('fraction of weights that may change; number, above 0, at most 1; default 0.5');
    // labels point at their inputs (keyboard and screen readers)
    expect(form.get('[data-param="lr"] label').attributes('for')).toBe('param-salun-lr');
    // booleans and enums
    await w.get('[data-method="toy"]').setValue(true);
    const toy = w.get('[data-testid="params-toy"]');
    expect((toy.get('#param-toy-project').element as HTMLInputElement).type).toBe('checkbox');
    expect(toy.findAll('#param-toy-mode option').map((o) => o.text())).toEqual(['soft', 'hard']);
    // user strings are text, never HTML
    expect(toy.get('legend').text()).toContain('Toy <b>method</b> parameters');
    expect(document.querySelector('legend b')).toBeNull();
  });

  it('marks an out-of-range value, submits the plan and shows the backend refusal', async () => {
    api.handlers['unlearning.plan'] = () => {
      throw new ApiError('invalid_argument', "salun: 'maskFraction': number must be less than or equal to 1.");
    };
    const w = await mountView(RunsView);
    await w.get('[data-method="salun"]').setValue(true);
    await w.get('#param-salun-maskFraction').setValue('1.5');
    expect(w.get('[data-param="maskFraction"] [data-testid="param-problem"]').text()).toBe('maskFraction must be at most 1.');
    expect(w.get('#param-salun-maskFraction').attributes('aria-invalid')).toBe('true');
    await w.get('[data-field="seeds"]').setValue('3');
    await w.get('[data-field="guardrail-action"]').setValue('flag');
    await w.get('[data-testid="unlearn-form"]').trigger('submit');
    await flush();
    expect(api.call).toHaveBeenCalledWith('unlearning.plan', {
      model: 'cnn-trained',
      forgetSet: 'fs-1',
      methods: [{ id: 'salun', params: { maskFraction: 1.5, epochs: 10, lr: 0.013 } }],
      seeds: 3,
      includeRetrain: true,
      guardrail: { maxDropPoints: 5, action: 'flag' },
    });
    expect(w.get('[data-testid="plan-error"]').text()).toBe("salun: 'maskFraction': number must be less than or equal to 1.");
    expect(w.get('[data-testid="plan-error"]').attributes('role')).toBe('alert');
  });

  it('a valid plan opens the jobs panel; Defaults restores the literature values', async () => {
    api.handlers['unlearning.plan'] = () => ({ jobs: [makeJob({ id: 'r', kind: 'unlearn.run', state: 'queued' }), makeJob({ id: 'c', kind: 'unlearn.compare', state: 'queued' })], compareJobId: 'c' });
    const w = await mountView(RunsView);
    await w.get('[data-method="salun"]').setValue(true);
    await w.get('#param-salun-epochs').setValue('3');
    await w.get('[data-action="reset-salun"]').trigger('click');
    expect((w.get('#param-salun-epochs').element as HTMLInputElement).value).toBe('10');
    await w.get('[data-testid="unlearn-form"]').trigger('submit');
    await flush();
    expect(w.find('[data-testid="plan-error"]').exists()).toBe(false);
    expect(useUiStore().jobsPanelOpen).toBe(true);
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

describe('Compare page', () => {
  it('lists comparisons; selecting one (also by keyboard) shows entries × headline metrics with formulas as tooltips', async () => {
    const w = await mountView(CompareView);
    const row = w.get('[data-comparison-id="cmp-1"]');
    expect(row.attributes('tabindex')).toBe('0');
    expect(row.text()).toContain('class 0 <script>');
    await row.trigger('keydown', { key: 'Enter' });
    await flush();
    const table = w.get('[data-testid="comparison-table"]');
    const heads = table.findAll('thead th').slice(1);
    expect(heads.map((h) => h.attributes('data-metric'))).toEqual(['forget-accuracy', 'retain-accuracy', 'test-accuracy', 'mia-efficacy', 'avg-gap', 'tow', 'run-time']);
    expect(heads[0].attributes('title')).toContain('FA = 100 · mean[argmax f(x) = y] over D_f');
    expect(heads[0].text()).toBe('Forget acc. (%)');
    const salun = table.get('[data-entry="salun"]');
    expect(salun.get('td[data-metric="forget-accuracy"]').text()).toBe('3.50 ± 1.25%Δ 3.50');
    expect(salun.get('td[data-metric="tow"]').text()).toBe('0.912 ± 0.010');
    expect(salun.get('td[data-metric="run-time"]').text()).toBe('12.50 s');
    const retrain = table.get('[data-entry="retrain"]');
    expect(retrain.text()).toContain('retrain reference');
    expect(retrain.get('td[data-metric="tow"]').attributes('title')).toBe('needs the retrain reference');
    expect(w.get('[data-testid="comparison-detail"] h2').text()).toBe('class 0 <script>');
    expect(document.querySelector('[data-testid="comparison-detail"] script')).toBeNull();
  });
});
