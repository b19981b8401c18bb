// The Models page against a scripted API: empty state's one-click CNN, table + details panel,
// the New model, Import ONNX and Train dialogs, and user strings rendered as text.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { ApiError } from '../../preload/api';
import type { ModelSummary } from '../../preload/api';
import { createFakeApi, flush, makeJob, type FakeApi } from './fake-api';
import { TRAINING_RECIPE_DEFAULTS, recipeInfo } from '../../main/engine/train/recipe';
import { ARCHS, dataset, detail, summary } from './models-fixtures';

let api: FakeApi;
vi.mock('../../renderer/src/api/client', () => ({ getApi: () => api, transportName: () => 'web', onConnectionChange: () => () => {} }));

const { default: ModelsView } = await import('../../renderer/src/views/ModelsView.vue');
const { useJobsStore } = await import('../../renderer/src/stores/jobs');
const { useUiStore } = await import('../../renderer/src/stores/ui');

let list: ModelSummary[];

async function mountView() {
  const pinia = createPinia();
  setActivePinia(pinia);
  await useJobsStore().connect();
  const w = mount(ModelsView, { global: { plugins: [pinia], stubs: { RouterLink: true } }, attachTo: document.body });
  await flush();
  return w;
}

beforeEach(() => {
  document.body.innerHTML = '';
  list = [];
  api = createFakeApi({
    'jobs.list': () => [],
    'models.list': () => list,
    'models.architectures': () => ARCHS,
    'models.recipe': (a) => recipeInfo((a as { arch: string | null }).arch),
    'models.get': (a) => detail({ id: (a as { id: string }).id, name: (a as { id: string }).id }),
    'models.create': (a) => {
      const args = a as { name: string; arch: string };
      list = [...list, summary({ id: args.name, name: args.name, arch: args.arch })];
      return detail({ id: args.name, name: args.name });
    },
    'workspace.info': () => ({ root: '/w', counts: { datasets: 1, models: list.length, forgetSets: 0, runs: 0, reports: 0, jobs: 0 } }),
    'datasets.list': () => [dataset(), dataset({ id: 'ds-2', name: 'CIFAR', sampleShape: [32, 32, 3] })],
    'datasets.builtins': () => [],
  });
});

describe('ModelsView', () => {
  it('creates a small CNN for Fashion-MNIST from the empty state and shows its details', async () => {
    const w = await mountView();
    expect(w.get('[data-testid="empty-state"]').text()).toContain('No models yet');
    await w.get('[data-testid="create-sample-cnn"]').trigger('click');
    await flush();
    expect(api.call).toHaveBeenCalledWith('models.create', { arch: 'cnn', name: 'fashion-cnn', classes: 10, inputShape: [1, 28, 28], seed: 0 });
    expect(w.find('[data-model-id="fashion-cnn"]').exists()).toBe(true);
    const d = w.get('[data-testid="model-details"]');
    expect(d.get('[data-testid="model-trainable"]').text()).toContain('conv1.weight');
    expect(d.get('[data-testid="model-trainable"]').text()).toContain('weight of Conv');
    expect(d.get('[data-testid="model-frozen"]').text()).toContain('integer shape tensor');
    expect(d.get('[data-testid="model-provenance"]').text()).toContain('Created from the built-in Small CNN architecture, seed 0');
  });

  it('lists models with short hashes and parameter counts, and shows training metrics of a trained model', async () => {
    list = [summary(), summary({ id: 'fashion-cnn-trained', name: 'fashion-cnn-trained', source: 'trained', sha256: 'cd'.repeat(32) })];
    api.handlers['models.get'] = () =>
      detail({
        id: 'fashion-cnn-trained',
        name: 'fashion-cnn-trained',
        source: 'trained',
        provenance: { kind: 'trained', importedFrom: null, trainedFrom: { name: 'fashion-cnn', sha256: 'ab'.repeat(32) } },
        training: {
          baseModel: { name: 'fashion-cnn', sha256: 'ab'.repeat(32) },
          data: { sha256: 'ef'.repeat(32), n: 2000, file: 'Fashion-MNIST-0123456789ab-train-n2000-s0.npz' },
          optimizer: { kind: 'sgd', momentum: 0.9, nesterov: false, weightDecay: 0 },
          lr: 0.05,
          schedule: { kind: 'cosine', tMax: 1 },
          epochs: 2,
          batchSize: 64,
          seed: 0,
          provider: 'cpu',
          threads: 2,
          fallbackReason: null,
          epochLosses: [1.234, 0.5678],
          testAccuracy: 0.8123,
          seconds: 12,
        },
      });
    const w = await mountView();
    const rows = w.findAll('[data-testid="model-table"] tbody tr');
    expect(rows).toHaveLength(2);
    expect(rows[0].text()).toContain('421.6k');
    expect(rows[0].text()).toContain('abababababab');
    expect(rows[1].text()).toContain('Small CNN (trained)');
    await rows[1].trigger('click');
    await flush();
    const t = w.get('[data-testid="model-training"]');
    expect(t.get('[data-field="test-accuracy"]').text()).toBe('81.23%');
    expect(t.text()).toContain('1.234 → 0.5678');
    expect(t.text()).toContain('sgd, momentum 0.9');
    expect(w.get('[data-testid="model-provenance"]').text()).toContain('Trained from fashion-cnn');
  });

  it('shows state, dataset and test accuracy in the table; the training dataset with its hash apart; per-epoch and live curves (issue 9, point 11)', async () => {
    const trainedSummary = summary({ id: 'cnn-trained', name: 'cnn-trained', source: 'trained', trained: true, testAccuracy: 0.8734, dataset: { id: 'ds-1', name: 'Fashion-MNIST' } });
    list = [summary(), trainedSummary, summary({ id: 'onnx', name: 'onnx', source: 'imported', arch: null, trained: null })];
    const training = {
      baseModel: { name: 'fashion-cnn', sha256: 'ab'.repeat(32) },
      data: { sha256: 'ef'.repeat(32), n: 6000, file: 'x.npz', dataset: { id: 'ds-1', name: 'Fashion-MNIST', manifestSha256: '9a76e052fad2'.padEnd(64, '0') } },
      optimizer: { kind: 'sgd' },
      lr: 0.05,
      schedule: null,
      epochs: 3,
      batchSize: 64,
      seed: 0,
      provider: 'cpu',
      threads: 2,
      fallbackReason: null,
      epochLosses: [1.2, 0.7, 0.5],
      epochTestAccuracies: [0.71, 0.82, 0.8734],
      testAccuracy: 0.8734,
      seconds: 12,
    };
    api.handlers['models.get'] = (a) => {
      const id = (a as { id: string }).id;
      return id === 'cnn-trained' ? detail({ ...trainedSummary, source: 'trained', provenance: { kind: 'trained', importedFrom: null, trainedFrom: training.baseModel }, training }) : detail({ id, name: id });
    };
    api.handlers['jobs.list'] = () => [makeJob({ id: 'tj', kind: 'model.train', title: 'Train fashion-cnn', params: { model: 'fashion-cnn' } as never, state: 'running' })];
    const w = await mountView();
    const cells = (id: string, f: string) => w.get(`[data-model-id="${id}"] [data-field="${f}"]`).text();
    expect(w.findAll('[data-testid="model-table"] th').map((t) => t.text())).toEqual(expect.arrayContaining(['State', 'Dataset', 'Test accuracy']));
    expect([cells('fashion-cnn', 'state'), cells('cnn-trained', 'state'), cells('onnx', 'state')]).toEqual(['untrained', 'trained', 'imported']);
    expect(cells('cnn-trained', 'dataset')).toBe('Fashion-MNIST');
    expect(cells('cnn-trained', 'accuracy')).toBe('87.3%');
    expect(cells('fashion-cnn', 'accuracy')).toBe('—');

    await w.get('[data-model-id="cnn-trained"]').trigger('click');
    await flush();
    const t = w.get('[data-testid="model-training"]');
    // the dataset's name and its manifest hash are apart (it read 'Fashion-MNIST9a76e052fad2')
    expect(t.text()).not.toContain('Fashion-MNIST9a76');
    expect(t.text().replace(/\s+/g, ' ')).toContain('of Fashion-MNIST, manifest SHA-256 9a76e052fad2');
    expect(t.get('[data-field="epoch-accuracy"]').text()).toBe('71.0% → 82.0% → 87.3%');
    const fig = t.get('[data-testid="job-curves"]');
    expect(fig.get('[role="img"]').attributes('aria-label')).toBe(
      'Training loss and test accuracy per epoch: loss from 1.200 to 0.500 over 3 points; test accuracy from 71.0% to 87.3% over 3 points.',
    );

    // the untrained model being trained: its details show the job's live curves, loss and test accuracy
    await w.get('[data-model-id="fashion-cnn"]').trigger('click');
    await flush();
    expect(w.find('[data-testid="model-live-training"]').exists()).toBe(false);
    api.emit('jobs.event', { type: 'progress', id: 'tj', progress: { step: 10, total: 100, fraction: 0.1, loss: 2.2 } });
    api.emit('jobs.event', { type: 'progress', id: 'tj', progress: { step: 50, total: 100, fraction: 0.5, loss: 0.9, testAccuracy: 80.5 } });
    await flush();
    const live = w.get('[data-testid="model-live-training"] [data-testid="job-curves"]');
    expect(live.get('[role="img"]').attributes('aria-label')).toBe('Loss and accuracy during the job: loss from 2.200 to 0.900 over 2 points; test accuracy 80.5%.');
  });

  it('creates a model from the New model dialog with the chosen architecture', async () => {
    list = [summary()];
    const w = await mountView();
    await w.get('[data-action="new-model"]').trigger('click');
    const dlg = w.get('[data-testid="model-create-dialog"]');
    expect(dlg.text()).toContain('Two conv stages.');
    await dlg.get('[data-arch="resnet18"]').setValue();
    expect((dlg.get('[data-field="input-shape"]').element as HTMLInputElement).value).toBe('3, 32, 32');
    await dlg.get('[data-field="name"]').setValue('r18');
    await dlg.get('[data-field="classes"]').setValue('100');
    await dlg.get('[data-field="seed"]').setValue('7');
    await dlg.get('form').trigger('submit');
    await flush();
    expect(api.call).toHaveBeenCalledWith('models.create', { arch: 'resnet18', name: 'r18', classes: 100, inputShape: [3, 32, 32], seed: 7 });
    expect(w.find('[data-testid="model-create-dialog"]').exists()).toBe(false);
  });

  it('keeps the New model dialog open with the reason when the backend refuses', async () => {
    list = [summary()];
    api.handlers['models.create'] = () => {
      throw new ApiError('invalid_argument', 'cnn input 27x27 must be divisible by 4 (one 2x2 max-pool per conv stage)');
    };
    const w = await mountView();
    await w.get('[data-action="new-model"]').trigger('click');
    const dlg = w.get('[data-testid="model-create-dialog"]');
    await dlg.get('[data-field="input-shape"]').setValue('1, 27, 27');
    await dlg.get('form').trigger('submit');
    await flush();
    expect(w.get('[data-testid="create-error"]').text()).toBe('cnn input 27x27 must be divisible by 4 (one 2x2 max-pool per conv stage)');
  });

  it('Export asks before replacing an existing file and sends overwrite: true only after Replace', async () => {
    list = [summary()];
    const existing = new Set(['/tmp/out.onnx']);
    api.handlers['models.export'] = (a) => {
      const args = a as { id: string; path: string; overwrite?: boolean };
      if (existing.has(args.path) && args.overwrite !== true) throw new ApiError('conflict', `${args.path} already exists; confirm replacing it (overwrite: true) or give another file name.`);
      return { id: args.id, path: args.path, sha256: 'ab'.repeat(32), sizeBytes: 10 };
    };
    const w = await mountView();
    await w.findAll('[data-testid="model-table"] tbody tr')[0].trigger('click');
    await flush();
    const d = () => w.get('[data-testid="model-details"]');
    await d().get('input[aria-label="Export path"]').setValue('/tmp/out.onnx');
    await d().get('[data-action="export"]').trigger('submit');
    await flush();
    expect(api.call).toHaveBeenLastCalledWith('models.export', { id: 'fashion-cnn', path: '/tmp/out.onnx' });
    expect(d().get('[data-testid="export-exists"]').text()).toContain('/tmp/out.onnx already exists. Replace it?');
    // Keep it: nothing more is sent
    const calls = api.call.mock.calls.length;
    await d().get('[data-action="cancel-overwrite"]').trigger('click');
    await flush();
    expect(w.find('[data-testid="export-exists"]').exists()).toBe(false);
    expect(api.call.mock.calls.length).toBe(calls);
    // ask again, then Replace
    await d().get('form').trigger('submit');
    await flush();
    await d().get('[data-action="confirm-overwrite"]').trigger('click');
    await flush();
    expect(api.call).toHaveBeenLastCalledWith('models.export', { id: 'fashion-cnn', path: '/tmp/out.onnx', overwrite: true });
    expect(w.find('[data-testid="export-exists"]').exists()).toBe(false);
    // a new file is written without asking
    await d().get('input[aria-label="Export path"]').setValue('/tmp/new.onnx');
    await d().get('form').trigger('submit');
    await flush();
    expect(api.call).toHaveBeenLastCalledWith('models.export', { id: 'fashion-cnn', path: '/tmp/new.onnx' });
    expect(w.find('[data-testid="export-exists"]').exists()).toBe(false);
  });

  it('shows an import validation error in plain words', async () => {
    api.handlers['models.import'] = () => {
      throw new ApiError('invalid_argument', 'junk.onnx is not a usable ONNX model: truncated protobuf.');
    };
    const w = await mountView();
    await w.findAll('button').find((b) => b.text() === 'Import ONNX…')!.trigger('click');
    const dlg = w.get('[data-testid="model-import-dialog"]');
    expect(dlg.get('[data-action="import"]').attributes('disabled')).toBeDefined();
    await dlg.get('[data-field="path"]').setValue('/tmp/junk.onnx');
    await dlg.get('form').trigger('submit');
    await flush();
    expect(api.call).toHaveBeenCalledWith('models.import', { path: '/tmp/junk.onnx' });
    expect(dlg.get('[data-testid="import-error"]').text()).toBe('junk.onnx is not a usable ONNX model: truncated protobuf.');
  });

  it('trains on a fitting dataset with the architecture recipe and opens the jobs panel', async () => {
    list = [summary()];
    api.handlers['models.train'] = () => makeJob({ id: 'tr', kind: 'model.train', title: "Train 'fashion-cnn'", state: 'queued', progress: null });
    const w = await mountView();
    await w.get('[data-model-id="fashion-cnn"]').trigger('click');
    await flush();
    await w.get('[data-action="train"]').trigger('click');
    await flush();
    const dlg = w.get('[data-testid="model-train-dialog"]');
    const options = dlg.findAll('[data-field="dataset"] option');
    expect(options.map((o) => o.attributes('disabled') !== undefined)).toEqual([false, true]);
    expect(options[1].text()).toContain('model expects 1 × 28 × 28');
    // the form is the recipe schema's: its fields, in order, with its defaults (the CLI's too; issue 9, point 12)
    expect(api.call).toHaveBeenCalledWith('models.recipe', { arch: 'cnn' });
    const d = TRAINING_RECIPE_DEFAULTS;
    expect((dlg.get('[data-field="epochs"]').element as HTMLInputElement).value).toBe(String(d.epochs));
    expect((dlg.get('[data-field="batch-size"]').element as HTMLInputElement).value).toBe(String(d.batchSize));
    expect((dlg.get('[data-field="lr"]').element as HTMLInputElement).value).toBe(String(d.lr));
    expect((dlg.get('[data-field="momentum"]').element as HTMLInputElement).value).toBe(String(d.momentum));
    // fields that apply only to another choice are hidden until it is made
    expect(dlg.find('[data-field="step-size"]').exists()).toBe(false);
    await dlg.get('[data-field="schedule"]').setValue('step');
    expect(dlg.find('[data-field="step-size"]').exists()).toBe(true);
    await dlg.get('[data-field="schedule"]').setValue('cosine');
    await dlg.get('[data-field="optimizer"]').setValue('adam');
    expect(dlg.find('[data-field="momentum"]').exists()).toBe(false);
    await dlg.get('[data-field="optimizer"]').setValue('sgd');
    await dlg.get('[data-field="epochs"]').setValue('0');
    expect(dlg.get('.hint').text()).toBe('Epochs: must be at least 1.');
    await dlg.get('[data-field="epochs"]').setValue(String(d.epochs));
    await dlg.get('[data-field="max-train"]').setValue('2000');
    await dlg.get('form').trigger('submit');
    await flush();
    const { stepSize: _s, gamma: _g, ...sgdCosine } = d;
    expect(api.call).toHaveBeenCalledWith('models.train', { modelId: 'fashion-cnn', datasetId: 'ds-1', maxTrainExamples: 2000, ...sgdCosine });
    expect(useUiStore().jobsPanelOpen).toBe(true);
    expect(useJobsStore().byId.tr).toBeDefined();
    expect(w.find('[data-testid="model-train-dialog"]').exists()).toBe(false);
    expect(w.get('[data-testid="training-state"]').text()).toContain('queued');
  });

  it('renders model and initializer names as text', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    list = [summary({ id: 'm', name: evil })];
    api.handlers['models.get'] = () => detail({ id: 'm', name: evil, trainable: [{ name: evil, dtype: 'float32', dims: [1], elements: 1, reason: evil }] });
    const w = await mountView();
    await w.get('[data-model-id="m"]').trigger('click');
    await flush();
    expect(w.find('img').exists()).toBe(false);
    expect(w.get('[data-model-id="m"] .name').text()).toBe(evil);
    expect(w.get('[data-testid="model-trainable"]').text()).toContain(evil);
  });
});
