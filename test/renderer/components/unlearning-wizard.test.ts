// The unlearning wizard against a scripted API: model → forget set → methods (every form drawn from the
// method's ParamSpec list by ParamForm, literature defaults prefilled) → guardrail, seeds, retrain
// reference, provider and thresholds → review with the estimate and what it rests on → launch (the plan
// carries the thresholds) → every job listed with Cancel, then the report button. Also: Next held back
// with its reason, the backend's refusal on review, training a model inline with the Models page's dialog.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { ApiError, type UnlearningPlanEstimate } from '../../../preload/api';
import { createFakeApi, DEFAULT_SETTINGS, flush, makeJob, type FakeApi } from '../fake-api';
import { detail, summary } from '../models-fixtures';
import { METHODS, METRICS } from '../unlearning-fixtures';

let api: FakeApi;
vi.mock('../../../renderer/src/api/client', () => ({ getApi: () => api, transportName: () => 'web', onConnectionChange: () => () => {} }));

const { default: UnlearningWizard } = await import('../../../renderer/src/components/UnlearningWizard.vue');
const { default: ModelTrainDialog } = await import('../../../renderer/src/components/ModelTrainDialog.vue');
const { default: ForgetSetWizard } = await import('../../../renderer/src/components/ForgetSetWizard.vue');
const { default: ModelCreateDialog } = await import('../../../renderer/src/components/ModelCreateDialog.vue');
const { useJobsStore } = await import('../../../renderer/src/stores/jobs');

const FS = { id: 'fs-1', name: 'class 0', kind: 'class', datasetId: 'd', datasetName: 'toy', count: 60, idsSha256: 'a'.repeat(64), locked: false, createdAt: '2026-11-24T10:00:00.000Z' };
const OTHER_FS = { ...FS, id: 'fs-2', name: 'other data', datasetId: 'd2', datasetName: 'other' };
const TRAINED = summary({ id: 'mlp-trained', name: 'mlp-trained', source: 'trained', trained: true, testAccuracy: 0.9, dataset: { id: 'd', name: 'toy' } });
const UNTRAINED = summary({ id: 'mlp', name: 'mlp', source: 'builtin', arch: 'mlp', trained: false });

function estimate(over: Partial<UnlearningPlanEstimate> = {}): UnlearningPlanEstimate {
  return {
    runs: [
      { method: 'retrain', methodName: 'Retrain', seed: 0, reusedRun: null, seconds: 30, basis: 'training', detail: "the original's training took 40 s for 400 examples on this machine" },
      { method: 'salun', methodName: 'SalUn', seed: 0, reusedRun: null, seconds: 12, basis: 'run', detail: 'measured: SalUn took 12 s on this model on this machine (run salun-1, 2026-12-03)' },
      { method: 'toy', methodName: 'Toy <b>method</b>', seed: 0, reusedRun: null, seconds: null, basis: 'none', detail: 'not measured' },
    ],
    compare: { seconds: 18, detail: 'measured: a comparison of 4 models × 1 seed took 24 s on this machine (job j-9, 2026-12-03), scaled to 3 models × 1 seed' },
    totalSeconds: 60,
    unknown: 1,
    counts: { forget: 20, retain: 280, test: 100 },
    ...over,
  };
}

beforeEach(() => {
  document.body.innerHTML = '';
  api = createFakeApi({
    'jobs.list': () => [],
    'unlearning.methods': () => METHODS,
    'unlearning.metrics': () => METRICS,
    'models.list': () => [UNTRAINED, TRAINED],
    'forgetSets.list': () => [FS, OTHER_FS],
    'datasets.list': () => [],
    'settings.get': () => DEFAULT_SETTINGS,
    'settings.update': (a) => ({ ...DEFAULT_SETTINGS, ...(a as object) }),
    'unlearning.estimate': () => estimate(),
    'unlearning.plan': () => ({
      jobs: [makeJob({ id: 'r', kind: 'unlearn.run', title: 'Retrain reference', state: 'queued' }), makeJob({ id: 's', kind: 'unlearn.run', title: 'SalUn', state: 'running' }), makeJob({ id: 'c', kind: 'unlearn.compare', title: 'Compare', state: 'queued', dependsOn: ['r', 's'] })],
      compareJobId: 'c',
    }),
    'jobs.cancel': (a) => makeJob({ id: (a as { id: string }).id, state: 'cancelled' }),
    'workspace.info': () => ({ root: '/w', counts: { datasets: 1, models: 2, forgetSets: 2, runs: 0, reports: 0 }, quarantined: [] }),
  });
});

async function mountWizard() {
  const pinia = createPinia();
  setActivePinia(pinia);
  await useJobsStore().connect();
  const w = mount(UnlearningWizard, { global: { plugins: [pinia], stubs: { RouterLink: { template: '<a data-stub="router-link"><slot /></a>' } } }, attachTo: document.body });
  await flush();
  return w;
}

const q = (sel: string) => document.querySelector(sel) as HTMLElement | null;
async function click(w: VueWrapper, sel: string) {
  await w.get(sel).trigger('click');
  await flush();
}
const step = () => q('[data-testid="unlearning-wizard"] section.step')?.getAttribute('data-step');

describe('unlearning wizard', () => {
  it('walks model, forget set, methods, settings and review, launches the plan with its thresholds, and lists every job with Cancel', async () => {
    const w = await mountWizard();
    expect(step()).toBe('model');
    // only trained models are offered as originals; the untrained one is offered for training
    expect(w.findAll('[data-field="model"] option').map((o) => o.attributes('value'))).toEqual(['mlp-trained']);
    expect(w.findAll('[data-field="train-model"] option').map((o) => o.attributes('value'))).toEqual(['', 'mlp']);
    await click(w, '[data-action="next"]');
    expect(step()).toBe('forget-set');
    // only forget sets of the model's dataset
    expect(w.findAll('[data-field="forget-set"] option').map((o) => o.attributes('value'))).toEqual(['fs-1']);
    await click(w, '[data-action="next"]');
    expect(step()).toBe('methods');
    expect(w.get('[data-testid="wizard-blocker"]').text()).toBe('Choose at least one method.');
    expect(w.get('[data-action="next"]').attributes('disabled')).toBeDefined();
    expect(w.findAll('[data-testid="method-list"] [data-method]').map((e) => e.attributes('data-method'))).toEqual(['salun', 'toy']);
    await w.get('[data-method="salun"]').setValue(true);
    await w.get('[data-method="toy"]').setValue(true);
    const form = w.get('[data-testid="params-salun"]');
    const value = (name: string) => (form.get(`#param-salun-${name}`).element as HTMLInputElement).value;
    expect([value('maskFraction'), value('epochs'), value('lr')]).toEqual(['0.5', '10', '0.013']);
    expect(form.get('[data-param="maskFraction"] label').text()).toContain('fraction of weights that may change; number, above 0, at most 1; default 0.5');
    expect(form.get('.source').text()).toBe('Defaults from: Fan et al. 2024');
    // a value out of range holds Next back with the form's sentence; Defaults restores it
    await form.get('#param-salun-maskFraction').setValue('1.5');
    expect(w.get('[data-testid="wizard-blocker"]').text()).toBe('SalUn: maskFraction must be at most 1.');
    await click(w, '[data-action="reset-salun"]');
    expect(value('maskFraction')).toBe('0.5');
    await w.get('#param-salun-epochs').setValue('3');
    // user strings are text
    expect(w.get('[data-testid="params-toy"] legend').text()).toContain('Toy <b>method</b> parameters');
    expect(document.querySelector('legend b')).toBeNull();
    await click(w, '[data-action="next"]');

    expect(step()).toBe('settings');
    await flush();
    expect(api.call).toHaveBeenCalledWith('unlearning.estimate', expect.objectContaining({ model: 'mlp-trained', forgetSet: 'fs-1' }));
    expect(w.get('[data-testid="retrain-status"]').text()).toMatch(/^Not stored yet: retraining costs about 30 s\. Based on: the original's training took 40 s/);
    await w.get('[data-field="seeds"]').setValue('2');
    await w.get('[data-field="guardrail-action"]').setValue('flag');
    await w.get('[data-field="provider"]').setValue('webgpu');
    await click(w, '[data-action="add-threshold"]');
    await w.get('[data-threshold="0"] [data-field="threshold-value"]').setValue('3');
    await click(w, '[data-action="add-threshold"]');
    await w.get('[data-threshold="1"] [data-field="threshold-metric"]').setValue('retain-accuracy');
    await w.get('[data-threshold="1"] [data-field="threshold-op"]').setValue('>=');
    await w.get('[data-threshold="1"] [data-field="threshold-value"]').setValue('80');
    await click(w, '[data-action="next"]');

    expect(step()).toBe('review');
    await flush();
    const rows = w.findAll('[data-testid="plan-table"] tbody tr');
    expect(rows.map((r) => r.attributes('data-basis'))).toEqual(['training', 'run', 'none']);
    expect(rows[1].findAll('td').map((c) => c.text())).toEqual(['SalUn', '0', 'maskFraction=0.5, epochs=3, lr=0.013', '12 s', 'measured: SalUn took 12 s on this model on this machine (run salun-1, 2026-12-03)']);
    expect(rows[2].findAll('td')[3].text()).toBe('not measured');
    expect(w.get('[data-testid="plan-total"]').text()).toMatch(
      /^Estimated total: 1m 0s plus 1 run not measured on this machine yet: the runs 42 s, then the comparison of every model 18 s\. +Based on what this machine measured: .* Comparison: measured: a comparison of 4 models × 1 seed took 24 s/,
    );
    expect(w.get('[data-testid="review-thresholds"]').text()).toContain('Retain acc. at least 80 points');

    await click(w, '[data-action="launch"]');
    expect(api.call).toHaveBeenCalledWith('settings.update', { executionProvider: 'webgpu' });
    expect(api.call).toHaveBeenCalledWith('unlearning.plan', {
      model: 'mlp-trained',
      forgetSet: 'fs-1',
      methods: [
        { id: 'salun', params: { maskFraction: 0.5, epochs: 3, lr: 0.013 } },
        { id: 'toy', params: { project: false, mode: 'soft' } },
      ],
      seeds: 2,
      includeRetrain: true,
      guardrail: { maxDropPoints: 5, action: 'flag' },
      thresholds: [
        { metric: 'forget-accuracy', op: 'gap<=', value: 3 },
        { metric: 'retain-accuracy', op: '>=', value: 80 },
      ],
    });
    expect(step()).toBe('progress');
    expect(w.findAll('[data-testid="plan-jobs"] [data-job-id]').map((e) => e.attributes('data-job-id'))).toEqual(['r', 's', 'c']);
    expect(w.get('[data-testid="progress-summary"]').text()).toBe('0 of 3 jobs done; 3 queued or running.');
    expect(w.find('[data-action="back"]').exists()).toBe(false);
    // the jobs follow the live events; Cancel every job cancels the comparison first
    api.emit('jobs.event', { type: 'state', job: makeJob({ id: 'r', kind: 'unlearn.run', state: 'succeeded' }) });
    await flush();
    expect(w.get('[data-testid="progress-summary"]').text()).toBe('1 of 3 jobs done; 2 queued or running.');
    await click(w, '[data-action="cancel-all"]');
    const cancels = api.call.mock.calls.filter((c) => c[0] === 'jobs.cancel').map((c) => (c[1] as { id: string }).id);
    expect(cancels).toEqual(['c', 's']);
    expect(w.get('[data-testid="progress-summary"]').text()).toBe('1 of 3 jobs done; 2 cancelled.');
    expect(w.find('[data-action="cancel-all"]').exists()).toBe(false);
    // the comparison is ready: open it, or make its report
    api.emit('jobs.event', { type: 'state', job: makeJob({ id: 'c', kind: 'unlearn.compare', state: 'succeeded', result: { comparisonId: 'cmp-9', entries: 3, seeds: 2 } }) });
    await flush();
    expect(w.find('[data-action="open-comparison"]').exists()).toBe(true);
    expect(w.find('[data-action="create-report"]').exists()).toBe(true);
  });

  it('shows the backend refusal of the plan on review, with Launch disabled; a stored retrain reference is shown as reused', async () => {
    api.handlers['unlearning.estimate'] = (a) => {
      const args = a as { guardrail?: { maxDropPoints?: number } };
      if (args.guardrail?.maxDropPoints === 500) throw new ApiError('invalid_argument', 'guardrail.maxDropPoints must be between 0 and 100 percentage points.');
      return estimate({ runs: [{ method: 'retrain', methodName: 'Retrain', seed: 0, reusedRun: 'retrain-7', seconds: 0, basis: 'reused', detail: 'reused' }, ...estimate().runs.slice(1, 2)] });
    };
    const w = await mountWizard();
    await click(w, '[data-action="next"]');
    await click(w, '[data-action="next"]');
    await w.get('[data-method="salun"]').setValue(true);
    await click(w, '[data-action="next"]');
    await flush();
    expect(w.get('[data-testid="retrain-status"]').text()).toBe('Reused: already trained for this model and forget set (run retrain-7); it costs nothing.');
    await w.get('[data-field="guardrail-drop"]').setValue('500');
    await click(w, '[data-action="next"]');
    await flush();
    expect(w.get('[data-testid="estimate-error"]').text()).toBe('guardrail.maxDropPoints must be between 0 and 100 percentage points.');
    expect(w.get('[data-action="launch"]').attributes('disabled')).toBeDefined();
    expect(api.call.mock.calls.some((c) => c[0] === 'unlearning.plan')).toBe(false);
    // back, fix it, and the review clears
    await click(w, '[data-action="back"]');
    await w.get('[data-field="guardrail-drop"]').setValue('5');
    await click(w, '[data-action="next"]');
    await flush();
    expect(w.find('[data-testid="estimate-error"]').exists()).toBe(false);
    expect(w.findAll('[data-testid="plan-table"] tbody tr')[0].findAll('td')[3].text()).toBe('reused');
  });

  it('trains a model inline with the Models page dialog; when its job succeeds the saved model is chosen', async () => {
    api.handlers['models.list'] = () => [UNTRAINED];
    api.handlers['models.get'] = () => detail({ id: 'mlp', name: 'mlp', arch: 'mlp', trained: false });
    api.handlers['models.architectures'] = () => [];
    const w = await mountWizard();
    expect(w.get('[data-testid="wizard-blocker"]').text()).toBe('Choose a trained model, or train one.');
    await click(w, '[data-action="train"]');
    expect(q('[data-testid="model-train-dialog"]')).not.toBeNull();
    // the dialog is the Models page's own (not a copy), given the chosen model; its submission is the training job
    const dialog = w.findComponent(ModelTrainDialog);
    expect(dialog.props('model').id).toBe('mlp');
    dialog.vm.$emit('submitted', makeJob({ id: 't', kind: 'model.train', title: 'Train mlp', state: 'queued' }));
    await flush();
    expect(q('[data-testid="model-train-dialog"]')).toBeNull();
    expect(w.get('[data-testid="wizard-train-job"]').text()).toContain('Train mlp');
    expect(w.get('[data-testid="wizard-blocker"]').text()).toBe('Wait for the training to finish, or choose a trained model.');
    api.handlers['models.list'] = () => [UNTRAINED, summary({ id: 'mlp-trained', name: 'mlp-trained', source: 'trained', trained: true, dataset: { id: 'd', name: 'toy' } })];
    api.emit('jobs.event', { type: 'state', job: makeJob({ id: 't', kind: 'model.train', title: 'Train mlp', state: 'succeeded', result: { model: 'mlp', saved: { name: 'mlp-trained', sha256: 'x' } } }) });
    await flush();
    expect((w.get('[data-field="model"]').element as HTMLSelectElement).value).toBe('mlp-trained');
    expect(w.find('[data-testid="wizard-blocker"]').exists()).toBe(false);
  });

  it('with no model at all: creates one with the Models page dialog, then its train dialog opens on it', async () => {
    api.handlers['models.list'] = () => [];
    api.handlers['models.architectures'] = () => [];
    const w = await mountWizard();
    expect(w.get('[data-action="train"]').attributes('disabled')).toBeDefined();
    await click(w, '[data-action="create-model"]');
    const create = w.findComponent(ModelCreateDialog);
    expect(create.exists()).toBe(true);
    api.handlers['models.list'] = () => [UNTRAINED];
    create.vm.$emit('created', detail({ id: 'mlp', name: 'mlp', arch: 'mlp', trained: false }));
    await flush();
    expect(w.findComponent(ModelCreateDialog).exists()).toBe(false);
    expect(w.findComponent(ModelTrainDialog).props('model').id).toBe('mlp');
  });

  it('builds a forget set inline with the forget-set wizard, on the dataset of the model, and chooses it', async () => {
    api.handlers['datasets.list'] = () => [{ id: 'd', name: 'toy' }];
    api.handlers['datasets.get'] = () => ({ manifest: { metadata: [] } });
    const w = await mountWizard();
    await click(w, '[data-action="next"]');
    await click(w, '[data-action="build-forget-set"]');
    const fsw = w.findComponent(ForgetSetWizard);
    expect(fsw.exists()).toBe(true);
    expect(fsw.props('initialDatasetId')).toBe('d');
    const made = { ...FS, id: 'fs-3', name: 'new set' };
    api.handlers['forgetSets.list'] = () => [FS, OTHER_FS, made];
    fsw.vm.$emit('created', { ...made, manifest: {} });
    await flush();
    expect(w.findComponent(ForgetSetWizard).exists()).toBe(false);
    expect((w.get('[data-field="forget-set"]').element as HTMLSelectElement).value).toBe('fs-3');
  });
});
