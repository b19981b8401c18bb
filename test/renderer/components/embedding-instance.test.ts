// The embedding view and the instance drill-down against a scripted API (the ECharts component is
// replaced by a stub that records its option and can emit pointer events): while the projections are
// computed the panel says so and follows the job; hovering a point in one model's chart rings the same
// example in both and names it; clicking it opens it in the drill-down (the unlearning store), which
// shows the example's image, label, chart and per-model loss and attack scores; the list of most
// changed forget examples and typing an id open examples too.
/* eslint-disable vue/one-component-per-file -- a chart stub and a host component for the two panels */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { defineComponent, h } from 'vue';
import type { ChartSpec, ComparisonEmbeddingResult, ComparisonExample, EmbeddingData } from '../../../preload/api';
import { ApiError } from '../../../preload/api';
import { createFakeApi, flush, makeJob, type FakeApi } from '../fake-api';

let api: FakeApi;
vi.mock('../../../renderer/src/api/client', () => ({ getApi: () => api, transportName: () => 'web', onConnectionChange: () => () => {} }));

interface StubChart {
  option: Record<string, unknown>;
  emit: (event: string, payload: unknown) => void;
  actions: Record<string, unknown>[];
}
const charts: StubChart[] = [];
vi.mock('../../../renderer/src/charts/echarts', async (orig) => {
  const real = (await orig()) as Record<string, unknown>;
  const VChart = defineComponent({
    name: 'VChartStub',
    props: { option: { type: Object, required: true }, initOptions: { type: Object, default: null }, updateOptions: { type: Object, default: null }, autoresize: Boolean },
    emits: ['mouseover', 'click', 'globalout'],
    setup(props, { emit, expose }) {
      const entry: StubChart = { option: props.option as Record<string, unknown>, emit: (e, p) => emit(e as 'click', p), actions: [] };
      charts.push(entry);
      expose({ dispatchAction: (a: Record<string, unknown>) => void entry.actions.push(a) });
      return () => {
        entry.option = props.option as Record<string, unknown>;
        return h('div', { class: 'vchart-stub' });
      };
    },
  });
  return { ...real, VChart };
});

const { default: EmbeddingPanel } = await import('../../../renderer/src/components/dashboard/EmbeddingPanel.vue');
const { default: InstancePanel } = await import('../../../renderer/src/components/dashboard/InstancePanel.vue');
const { useJobsStore } = await import('../../../renderer/src/stores/jobs');
const { useUnlearningStore } = await import('../../../renderer/src/stores/unlearning');

const CLASSES = ['T-shirt', 'Bag', 'Boot'];
const IDS = ['train-1', 'train-2', 'train-7', 'test-3'];
const LABELS = [1, 0, 2, 1];
const data = (computed: boolean): EmbeddingData => ({
  comparisonId: 'cmp-1',
  projection: 'pca',
  classNames: CLASSES,
  sample: { ids: IDS, split: ['forget', 'retain', 'retain', 'test'], labels: [1, 0, 2, 1], idsSha256: 'a'.repeat(64), seed: 0, sizes: { forget: 500, retain: 1000, test: 500 } },
  models: [
    { key: 'original', label: 'Original (cnn)', role: 'original', model: { id: 'cnn', sha256: 'b'.repeat(64) }, points: null, explainedVarianceRatio: computed ? [0.4, 0.2] : null, dim: computed ? 64 : null, computed },
    { key: 'retrain', label: 'Retrain (reference)', role: 'reference', model: { id: 'cnn-re', sha256: 'c'.repeat(64) }, points: computed ? [[1, 2], [3, 4], [5, 6], [7, 8]] : null, explainedVarianceRatio: computed ? [0.5, 0.1] : null, dim: computed ? 64 : null, computed },
    { key: 'salun', label: 'SalUn', role: 'unlearned', model: { id: 'cnn-salun', sha256: 'd'.repeat(64) }, points: computed ? [[-1, -2], [-3, -4], [-5, -6], [-7, -8]] : null, explainedVarianceRatio: computed ? [0.3, 0.2] : null, dim: computed ? 64 : null, computed },
  ],
});
const chart = (key: string, empty?: string): ChartSpec => ({
  id: `embedding-${key}`,
  title: `Penultimate features (PCA): ${key}`,
  option: {
    title: { text: key, subtext: '4 examples' },
    xAxis: { name: 'PC 1' },
    yAxis: { name: 'PC 2' },
    legend: {},
    // one series per class; items { name, value: [x, y, sample index] } as the engine builds them
    series: CLASSES.map((c, k) => ({ type: 'scatter', name: c, data: LABELS.flatMap((y, i) => (y === k ? [{ name: IDS[i], value: [i, i, i] }] : [])) })),
  },
  table: { columns: ['example', 'split', 'class', 'PC 1', 'PC 2'], rows: empty ? [] : IDS.map((id, i) => [id, 'x', 'y', i, i]) },
  ...(empty ? { empty } : {}),
});
const job = makeJob({ id: 'emb-1', kind: 'comparison.embedding', title: 'Embedding view', state: 'running', progress: { step: 1, total: 3, fraction: 1 / 3 } });
const computing: ComparisonEmbeddingResult = { status: 'computing', job, data: data(false), a: 'retrain', b: 'salun', charts: [chart('retrain', 'the projection is being computed'), chart('salun', 'the projection is being computed')] };
const ready: ComparisonEmbeddingResult = { status: 'ready', job: null, data: data(true), a: 'retrain', b: 'salun', charts: [chart('retrain'), chart('salun')] };

function example(id: string): ComparisonExample {
  const models = data(true).models.map((m, i) => ({
    key: m.key,
    label: m.label,
    role: m.role,
    probabilities: i === 2 ? [0.7, 0.2, 0.1] : [0.05, 0.9, 0.05],
    predicted: i === 2 ? 0 : 1,
    loss: i === 2 ? 1.609 : 0.105,
    scores: { confidence: i === 2 ? 0.2 : 0.9, entropy: 0.4, mEntropy: 0.5, logitConfidence: i === 2 ? -1.39 : 2.2 },
  }));
  return {
    comparisonId: 'cmp-1',
    exampleId: id,
    datasetId: 'fmnist',
    split: 'forget',
    label: 1,
    className: 'Bag',
    classNames: CLASSES,
    models,
    definitions: { loss: 'cross-entropy', confidence: 'p_y', entropy: 'H', mEntropy: 'm', logitConfidence: 'φ' },
    chart: { id: `instance-${id}`, title: `Predicted probabilities of ${id} (true class: Bag)`, option: { series: [] }, table: { columns: ['model'], rows: [['SalUn']] } },
  };
}

let embeddingCalls: unknown[] = [];
let exampleCalls: string[] = [];
beforeEach(() => {
  charts.length = 0;
  embeddingCalls = [];
  exampleCalls = [];
  document.body.innerHTML = '';
  let n = 0;
  api = createFakeApi({
    'jobs.list': () => [job],
    'comparisons.embedding': (a) => (embeddingCalls.push(a), n++ === 0 ? computing : ready),
    'comparisons.example': (a) => {
      const id = (a as { exampleId: string }).exampleId;
      exampleCalls.push(id);
      if (!IDS.includes(id)) throw new ApiError('not_found', `Example '${id}' is not among the forget, retain and test examples of comparison 'cmp-1'.`);
      return example(id);
    },
    'comparisons.changedExamples': () => ({
      comparisonId: 'cmp-1',
      key: 'salun',
      label: 'SalUn',
      examples: [
        { exampleId: 'train-1', label: 1, className: 'Bag', original: 0.98, model: 0.2, change: -0.78 },
        { exampleId: 'train-7', label: 1, className: 'Bag', original: 0.9, model: 0.5, change: -0.4 },
      ],
    }),
    'datasets.thumbnail': (a) => ({ id: (a as { exampleId: string }).exampleId, png: 'data:image/png;base64,iVBORw0KGgo=' }),
  });
});

async function mountBoth() {
  const pinia = createPinia();
  setActivePinia(pinia);
  await useJobsStore().connect();
  const host = defineComponent({
    components: { EmbeddingPanel, InstancePanel },
    template: '<div><EmbeddingPanel comparison-id="cmp-1" /><InstancePanel comparison-id="cmp-1" /></div>',
  });
  const w = mount(host, { global: { plugins: [pinia] }, attachTo: document.body });
  await flush();
  return w;
}

type Series = { id?: string; data: unknown[] }[];
const ring = (c: StubChart, id: string) => (c.option.series as Series).find((s) => s.id === id)!.data;

describe('EmbeddingPanel', () => {
  it('says the projections are being computed, follows the job, then draws both models with their data tables', async () => {
    const w = await mountBoth();
    expect(w.get('[data-testid="embedding-status"]').text()).toContain('Computing the projections in the background (job emb-1');
    expect(w.findAll('[data-testid="embedding-panel"] [data-testid="chart-empty"]')).toHaveLength(2);
    expect(embeddingCalls[0]).toEqual({ id: 'cmp-1' });
    // the job ends: the panel asks again (for the same two models) and draws them
    api.emit('jobs.event', { type: 'state', job: { ...job, state: 'succeeded', endedAt: '2026-11-24T10:01:00.000Z' } });
    await flush();
    expect(embeddingCalls[1]).toEqual({ id: 'cmp-1', a: 'retrain', b: 'salun' });
    expect(w.find('[data-testid="embedding-status"]').exists()).toBe(false);
    const drawings = w.findAll('[data-testid="embedding-panel"] .drawing[role="img"]');
    expect(drawings.map((d) => d.attributes('data-chart'))).toEqual(['embedding-retrain', 'embedding-salun']);
    expect(drawings[0].attributes('aria-label')).toContain('Penultimate features (PCA): retrain');
    expect((w.get('[data-field="model-a"]').element as HTMLSelectElement).value).toBe('retrain');
    const embeddingCharts = charts.filter((c) => Array.isArray(c.option.series) && (c.option.series as Series).some((s) => s.id === 'selected-example'));
    expect(embeddingCharts).toHaveLength(2);
    // theme applied, the ring is not in the legend
    expect(embeddingCharts[0].option.animation).toBe(false);
    expect((embeddingCharts[0].option.legend as { data: string[] }).data).toEqual(CLASSES);
    // the text alternative: the data table, built when opened
    const details = w.get('[data-testid="embedding-panel"] details');
    (details.element as HTMLDetailsElement).open = true;
    await details.trigger('toggle');
    expect(details.findAll('tbody tr')).toHaveLength(4);
    // each example id in the table opens it in the drill-down (the keyboard's way to the link)
    await details.get('tbody tr:nth-child(3) button[data-example-id="train-7"]').trigger('click');
    await flush();
    expect(useUnlearningStore().selectedExampleId).toBe('train-7');
    expect(w.get('[data-testid="instance-detail"]').attributes('data-example-id')).toBe('train-7');
    // choosing another model asks for it
    await w.get('[data-field="model-a"]').setValue('original');
    await flush();
    expect(embeddingCalls.at(-1)).toEqual({ id: 'cmp-1', a: 'original', b: 'salun' });
  });

  it('when the projection job fails it says why, asks again without submitting another job, and offers to try again', async () => {
    const incomplete: ComparisonEmbeddingResult = { ...computing, status: 'incomplete', job: null };
    api.handlers['comparisons.embedding'] = (a) => {
      embeddingCalls.push(a);
      return embeddingCalls.length === 1 ? computing : (a as { compute?: boolean }).compute === false ? incomplete : computing;
    };
    const w = await mountBoth();
    api.emit('jobs.event', { type: 'state', job: { ...job, state: 'failed', reason: 'the worker ran out of memory', endedAt: '2026-11-24T10:01:00.000Z' } });
    await flush();
    expect(embeddingCalls[1]).toEqual({ id: 'cmp-1', a: 'retrain', b: 'salun', compute: false });
    const problem = w.get('[data-testid="embedding-job-problem"]');
    expect(problem.text()).toContain('The job computing the projections failed (the worker ran out of memory).');
    expect(problem.attributes('role')).toBe('alert');
    await w.get('[data-action="retry-embedding"]').trigger('click');
    await flush();
    expect(embeddingCalls[2]).toEqual({ id: 'cmp-1', a: 'retrain', b: 'salun' });
    expect(w.find('[data-testid="embedding-job-problem"]').exists()).toBe(false);
    expect(w.get('[data-testid="embedding-status"]').text()).toContain('Computing the projections');
  });

  it('hovering an example in one chart highlights it in the other and names it; clicking opens it in the instance drill-down', async () => {
    const w = await mountBoth();
    api.emit('jobs.event', { type: 'state', job: { ...job, state: 'succeeded', endedAt: '2026-11-24T10:01:00.000Z' } });
    await flush();
    const live = () => charts.filter((c) => (c.option.series as Series).some((s) => s.id === 'selected-example')).slice(-2);
    const [a, b] = live();
    // nothing hovered: the link names the selected example (the drill-down opened the most changed one)
    expect(w.get('[data-testid="embedding-link"]').text()).toContain('Linked example train-1 (forget, Bag): (1.00, 2.00) under Retrain (reference)');
    const optionBefore = b.option;
    a.emit('mouseover', { seriesId: undefined, value: [5, 6, 2] });
    await flush();
    const link = w.get('[data-testid="embedding-link"]');
    expect(link.attributes('data-index')).toBe('2');
    expect(link.text()).toBe('Linked example train-7 (retain, Boot): (5.00, 6.00) under Retrain (reference); (-5.00, -6.00) under SalUn');
    // chart B highlights the same example (class Boot = series 2, its first item), without a new option
    expect(b.actions).toEqual([{ type: 'highlight', seriesIndex: 2, dataIndex: 0 }]);
    expect(a.actions).toEqual([]);
    expect(b.option).toBe(optionBefore);
    const drawings = w.findAll('[data-testid="embedding-panel"] .drawing');
    expect(drawings.map((d) => d.attributes('data-highlighted'))).toEqual(['', '2']);
    // moving to another example in chart B: chart A follows, B's own highlight is ECharts' hover
    b.emit('mouseover', { seriesId: undefined, data: { name: 'test-3', value: [-7, -8, 3] } });
    await flush();
    expect(a.actions).toEqual([{ type: 'highlight', seriesIndex: 1, dataIndex: 1 }]);
    b.emit('globalout', {});
    await flush();
    expect(a.actions.at(-1)).toEqual({ type: 'downplay', seriesIndex: 1, dataIndex: 1 });
    expect(w.get('[data-testid="embedding-link"]').attributes('data-index')).toBe('0'); // back to the selected example
    // the selected-example ring itself is not an example
    a.emit('mouseover', { seriesId: 'selected-example', value: [1, 2, 0] });
    await flush();
    expect(b.actions).toHaveLength(1);

    // click a forget example (an object data item) in chart B: the drill-down opens it, both charts ring it
    b.emit('click', { seriesId: undefined, data: { value: [-7, -8, 3], symbol: 'diamond' } });
    await flush();
    expect(useUnlearningStore().selectedExampleId).toBe('test-3');
    expect(exampleCalls.at(-1)).toBe('test-3');
    const detail = w.get('[data-testid="instance-detail"]');
    expect(detail.attributes('data-example-id')).toBe('test-3');
    const [a2, b2] = live();
    expect(ring(a2, 'selected-example')).toEqual([[7, 8, 3]]);
    expect(ring(b2, 'selected-example')).toEqual([[-7, -8, 3]]);
  });
});

describe('InstancePanel', () => {
  it('opens the most changed forget example first and shows its image, label, chart and per-model scores', async () => {
    const w = await mountBoth();
    expect(exampleCalls[0]).toBe('train-1');
    const detail = w.get('[data-testid="instance-detail"]');
    expect(detail.get('[data-field="label"]').text()).toBe('Bag (1)');
    expect(detail.get('[data-field="split"]').text()).toBe('forget');
    expect(detail.get('[data-testid="instance-image"]').attributes('src')).toBe('data:image/png;base64,iVBORw0KGgo=');
    expect(detail.get('[data-testid="chart-frame"]').attributes('data-chart')).toBe('instance-train-1');
    const rows = detail.findAll('[data-testid="instance-table"] tbody tr');
    expect(rows.map((r) => r.attributes('data-entry'))).toEqual(['original', 'retrain', 'salun']);
    expect(rows[2].get('[data-field="confidence"]').text()).toBe('0.200');
    expect(rows[2].get('[data-field="loss"]').text()).toBe('1.609');
    expect(rows[2].findAll('td')[1].classes()).toContain('wrong'); // SalUn predicts T-shirt
    expect(rows[1].findAll('td')[1].classes()).not.toContain('wrong');
    expect(detail.get('[data-testid="instance-table"] th[title="φ"]').text()).toBe('φ (nats)');
    // the list of most changed examples, and an id typed in
    expect(w.findAll('[data-testid="changed-examples"] button').map((b) => b.attributes('data-example-id'))).toEqual(['train-1', 'train-7']);
    await w.get('[data-testid="changed-examples"] [data-example-id="train-7"]').trigger('click');
    await flush();
    expect(w.get('[data-testid="instance-detail"]').attributes('data-example-id')).toBe('train-7');
    await w.get('[data-field="example-id"]').setValue('nope');
    await w.get('.by-id').trigger('submit');
    await flush();
    expect(w.get('[data-testid="instance-error"]').text()).toContain("Example 'nope' is not among");
    expect(w.get('[data-testid="instance-error"]').attributes('role')).toBe('alert');
  });
});
