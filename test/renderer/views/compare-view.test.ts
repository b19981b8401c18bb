// The Compare page's dashboard against a scripted API: the comparison table (every metric with a
// value, definitions on headings and in a list, CI, gap colour, sorting by value and by gap), charts
// asked of comparisons.charts with their data tables and an 'empty' reason, and the attack panel's
// threshold slider updating TPR / FPR from the attack data without another call.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import type { AttackData, ChartSpec, ComparisonChartRequest } from '../../../preload/api';
import { createFakeApi, flush, type FakeApi } from '../fake-api';
import { COMPARISON, METHODS, METRICS } from '../unlearning-fixtures';

let api: FakeApi;
vi.mock('../../../renderer/src/api/client', () => ({ getApi: () => api, transportName: () => 'web', onConnectionChange: () => () => {} }));

const { default: CompareView } = await import('../../../renderer/src/views/CompareView.vue');
const { useJobsStore } = await import('../../../renderer/src/stores/jobs');
const { sortEntries, gapLevel, tableMetrics } = await import('../../../renderer/src/components/dashboard/comparison-table');
const { tableCsv, fileStem } = await import('../../../renderer/src/components/dashboard/chart-export');
const { themedOption, patchSeries } = await import('../../../renderer/src/components/dashboard/chart-theme');

const s = (mean: number | null, half: number, n: number, gap: number | null) => ({ values: Array(n).fill(mean), mean, sd: null, lo: mean === null ? null : mean - half, hi: mean === null ? null : mean + half, n, gapToRetrain: gap });
const CMP = {
  ...COMPARISON,
  entries: [
    ...COMPARISON.entries,
    { key: 'ga', label: 'GA', role: 'unlearned' as const, method: null, runs: [], extras: {}, metrics: { 'forget-accuracy': s(40, 0, 1, 40), klom: s(0.4, 0, 1, null), 'run-time': s(2, 0, 1, null) } },
  ],
};
const ATTACK: AttackData = {
  comparisonId: 'cmp-1',
  feature: 'confidence',
  featureName: 'Confidence p_y',
  definition: 'p_y',
  unit: 'probability',
  memberWhen: 'higher',
  edges: [0, 0.25, 0.5, 0.75, 1],
  clipped: false,
  computeMs: 3,
  models: ['retrain', 'salun', 'ga'].map((key, i) => ({
    key,
    label: key,
    role: key === 'retrain' ? ('reference' as const) : ('unlearned' as const),
    totals: { forget: 10, retain: 10, test: 10 },
    counts: { forget: [1, 2, 3, 4], retain: [1, 2, 3, 4], test: [4, 3, 2, 1] },
    memberRate: { forget: [1, 0.9, 0.7 - i / 10, 0.4, 0], retain: [1, 0.9, 0.7, 0.4, 0], test: [1, 0.6, 0.3, 0.1, 0] },
    roc: { 'retain-vs-test': { fpr: [0, 1], tpr: [0, 1], auc: 0.5, tprAt1pct: 0, tprAt01pct: 0 }, 'forget-vs-test': { fpr: [0, 1], tpr: [0, 1], auc: 0.5, tprAt1pct: 0, tprAt01pct: 0 } },
  })),
};
const spec = (r: ComparisonChartRequest): ChartSpec => ({
  id: `${r.kind}${'threshold' in r ? `-t${r.threshold}` : ''}`,
  title: `Chart ${r.kind}`,
  option: { title: { text: `Chart ${r.kind}`, subtext: 'sub' }, xAxis: { type: 'value', name: 'x (%)' }, yAxis: { type: 'value', name: 'y (%)' }, series: [{ id: 'retain', type: 'line', data: [[0, 1], [1, 2]] }] },
  table: { columns: ['x', 'y'], rows: [[0, 1], [1, 2]] },
  ...(r.kind === 'epsilon' ? { empty: 'needs N ≥ 3 seeds' } : {}),
});

beforeEach(() => {
  document.body.innerHTML = '';
  api = createFakeApi({
    'jobs.list': () => [],
    'unlearning.methods': () => METHODS,
    'unlearning.metrics': () => METRICS,
    'comparisons.list': () => [{ id: 'cmp-1', name: 'class 0 <script>', model: 'cnn-trained', forgetSet: 'fs-1', forgetSetName: 'class 0', datasetName: 'Fashion-MNIST', seeds: 2, entries: ['Retrain', 'SalUn', 'GA'], createdAt: '2026-11-24T10:00:00.000Z' }],
    'comparisons.get': () => CMP,
    'comparisons.charts': (a) => (a as { charts: ComparisonChartRequest[] }).charts.map(spec),
    'comparisons.attack': () => ATTACK,
  });
});

async function open() {
  const pinia = createPinia();
  setActivePinia(pinia);
  await useJobsStore().connect();
  const w = mount(CompareView, { global: { plugins: [pinia], stubs: { RouterLink: true } }, attachTo: document.body });
  await flush();
  await w.get('[data-comparison-id="cmp-1"]').trigger('keydown', { key: 'Enter' });
  await flush();
  await flush();
  return w;
}
const rowOrder = (w: Awaited<ReturnType<typeof open>>) => w.findAll('[data-testid="comparison-table"] tbody tr').map((r) => r.attributes('data-entry'));

describe('Compare dashboard', () => {
  it('table: every metric with a value (headline first), definitions, CI, coloured gaps; user strings stay text', async () => {
    const w = await open();
    const table = w.get('[data-testid="comparison-table"]');
    const heads = table.findAll('thead th').slice(1);
    expect(heads.map((h) => h.attributes('data-metric'))).toEqual(['forget-accuracy', 'retain-accuracy', 'test-accuracy', 'mia-efficacy', 'avg-gap', 'tow', 'run-time', 'klom']);
    expect(heads[0].attributes('title')).toBe('Forget acc.: FA = 100 · mean[argmax f(x) = y] over D_f\nSource: SalUn\ncloser to the retrain reference is better');
    const salun = table.get('[data-entry="salun"] td[data-metric="forget-accuracy"]');
    expect(salun.get('.value').text()).toBe('3.50 ± 1.25%');
    expect(salun.get('.gap').attributes('data-gap')).toBe('off'); // 3.5 points: within 5
    expect(salun.attributes('title')).toContain('95% CI [2.25, 4.75] over 2 seeds');
    expect(table.get('[data-entry="ga"] td[data-metric="forget-accuracy"] .gap').attributes('data-gap')).toBe('far');
    expect(table.get('[data-entry="retrain"] td[data-metric="tow"]').attributes('title')).toBe('needs the retrain reference');
    expect(w.get('[data-testid="metric-definitions"]').text()).toContain('KL of margins');
    expect(document.querySelector('[data-testid="comparison-detail"] script')).toBeNull();
    expect(w.get('[data-testid="comparison-detail"] h2').text()).toBe('class 0 <script>');
  });

  it('sorts by a metric (again: reversed), by its gap, and by model; models without a value go last', async () => {
    const w = await open();
    expect(rowOrder(w)).toEqual(['retrain', 'salun', 'ga']);
    await w.get('[data-sort="forget-accuracy"]').trigger('click');
    expect(rowOrder(w)).toEqual(['retrain', 'salun', 'ga']);
    expect(w.get('th[data-metric="forget-accuracy"]').attributes('aria-sort')).toBe('ascending');
    await w.get('[data-sort="forget-accuracy"]').trigger('click');
    expect(rowOrder(w)).toEqual(['ga', 'salun', 'retrain']);
    expect(w.get('th[data-metric="forget-accuracy"]').attributes('aria-sort')).toBe('descending');
    await w.get('[data-sort="klom"]').trigger('click');
    expect(rowOrder(w)).toEqual(['ga', 'retrain', 'salun']);
    await w.get('[data-sort-gap="forget-accuracy"]').trigger('click');
    expect(rowOrder(w)).toEqual(['salun', 'ga', 'retrain']);
    await w.get('[data-sort="model"] button').trigger('click');
    expect(rowOrder(w)).toEqual(['ga', 'retrain', 'salun']);
  });

  it('charts come from comparisons.charts with their data table and save buttons; an empty chart says why', async () => {
    const w = await open();
    const kinds = api.call.mock.calls.filter((c) => c[0] === 'comparisons.charts').map((c) => (c[1] as { charts: ComparisonChartRequest[] }).charts[0].kind);
    for (const k of ['tradeoff', 'gaps', 'per-class', 'confusion', 'attack-histogram', 'attack-roc', 'epsilon', 'cka', 'training-curve', 'unlearning-curves', 'run-times']) expect(kinds).toContain(k);
    const perClass = api.call.mock.calls.find((c) => c[0] === 'comparisons.charts' && (c[1] as { charts: ComparisonChartRequest[] }).charts[0].kind === 'per-class')!;
    expect((perClass[1] as { charts: ComparisonChartRequest[] }).charts[0]).toEqual({ kind: 'per-class', a: 'salun', b: 'retrain', split: 'test' });
    const gaps = w.get('[data-testid="chart-gaps"]');
    expect(gaps.get('[role="img"]').attributes('aria-label')).toContain('Chart gaps. sub. The data table below');
    await gaps.get('details').trigger('toggle');
    (gaps.get('details').element as HTMLDetailsElement).open = true;
    await gaps.get('details').trigger('toggle');
    expect(gaps.findAll('tbody tr')).toHaveLength(2);
    expect(gaps.findAll('[data-action^="save-"]').map((b) => b.text())).toEqual(['PNG', 'SVG', 'CSV']);
    expect(w.get('[data-testid="attack-epsilon"] [data-testid="chart-empty"]').text()).toContain('needs N ≥ 3 seeds');
    // another model for per-class A asks again with it
    await w.get('[data-field="per-class-a"]').setValue('ga');
    await flush();
    expect(api.call).toHaveBeenLastCalledWith('comparisons.charts', { id: 'cmp-1', charts: [{ kind: 'per-class', a: 'ga', b: 'retrain', split: 'test' }] });
    expect(w.find('[data-testid="examples-panels"]').exists()).toBe(true);
  });

  it('attack threshold slider: TPR/FPR/forget share update live from the attack data; release asks for the chart at that threshold', async () => {
    const w = await open();
    const rates = () => w.findAll('[data-testid="attack-rates"] span').map((x) => x.text()).join(' ');
    expect(rates()).toBe('TPR 70.0% FPR 30.0% forget called member 60.0%');
    const calls = api.call.mock.calls.length;
    const slider = w.get('[data-testid="attack-threshold"]');
    expect(slider.attributes('max')).toBe('4');
    (slider.element as HTMLInputElement).value = '1';
    await slider.trigger('input');
    expect(rates()).toBe('TPR 90.0% FPR 60.0% forget called member 90.0%');
    expect(slider.attributes('aria-valuetext')).toBe('threshold 0.250: TPR 90.0%, FPR 60.0%, forget called member 90.0%');
    expect(api.call.mock.calls.length).toBe(calls);
    expect(w.get('[data-testid="attack-rates-table"] [data-entry="retrain"]').text()).toContain('90.0%');
    await slider.trigger('change');
    await flush();
    expect(api.call).toHaveBeenLastCalledWith('comparisons.charts', { id: 'cmp-1', charts: [{ kind: 'attack-histogram', model: 'salun', feature: 'confidence', threshold: 1 }] });
  });
});

describe('attack panel, another score', () => {
  it('keeps the last histogram and slider while the backend computes the new score, saying so', async () => {
    const w = await open();
    api.handlers['comparisons.attack'] = () => new Promise(() => {});
    await w.get('[data-field="attack-feature"]').setValue('entropy');
    await flush();
    expect(w.get('[data-testid="attack-status"]').text()).toBe('Computing the Entropy scores of every model from its stored outputs…');
    expect(w.find('[data-testid="attack-threshold"]').exists()).toBe(true);
    expect(w.findAll('[data-testid="attack-rates"] span').map((x) => x.text())[0]).toBe('TPR 70.0%');
  });
});

describe('comparison table rules', () => {
  it('columns, gap levels and sort are pure functions of the record', () => {
    expect(tableMetrics(CMP).map((m) => m.id)).toContain('klom');
    const [ref, salun, ga] = CMP.entries;
    const fa = METRICS[0];
    expect([gapLevel(fa, ref, ref), gapLevel(fa, salun, ref), gapLevel(fa, ga, ref)]).toEqual([null, 'off', 'far']);
    expect(sortEntries(CMP.entries, { by: 'metric', id: 'klom', what: 'value' }, 'descending').map((e) => e.key)).toEqual(['ga', 'retrain', 'salun']);
    expect(tableCsv({ columns: ['a', 'b'], rows: [['=cmd', 1.5], ['x,"y"', null]] })).toBe('a,b\r\n\'=cmd,1.5\r\n"x,""y""",\r\n');
  });

  it('the theme colours text and axes without touching data; a patch merges into the series with that id', () => {
    const colors = { text: '#eee', muted: '#aaa', border: '#333', series: ['#7b8cff'] };
    const option = { title: { text: 'T' }, legend: { itemGap: 40 }, xAxis: { name: 'x (%)', axisLabel: { rotate: 30 } }, yAxis: [{ name: 'y (s)' }], series: [{ id: 'retain', data: [[1, 2]], markLine: { symbol: 'none', data: [{ xAxis: 0.5 }] } }, { id: 'test', data: [[3, 4]] }] };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- reading into a nested ECharts option
    const t = themedOption(option, colors) as Record<string, any>;
    expect(t.title).toMatchObject({ text: 'T', textStyle: { color: '#eee' } });
    expect(t.legend.itemGap).toBe(18);
    expect(t.xAxis).toMatchObject({ name: 'x (%)', axisLabel: { rotate: 30, color: '#aaa' } });
    expect(t.yAxis[0]).toMatchObject({ name: 'y (s)', nameTextStyle: { color: '#aaa' } });
    expect(t.series).toBe(option.series);
    expect(t.animation).toBe(false);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- reading into a nested ECharts option
    const p = patchSeries(t, [{ id: 'retain', markLine: { data: [{ xAxis: 0.75 }] } }]) as Record<string, any>;
    expect(p.series[0].markLine).toEqual({ symbol: 'none', data: [{ xAxis: 0.75 }] });
    expect(p.series[0].data).toEqual([[1, 2]]);
    expect(p.series[1]).toBe(option.series[1]);
    expect(option.series[0].markLine!.data[0].xAxis).toBe(0.5); // the engine's option is not mutated
    expect(fileStem('attack-roc/confidence forget')).toBe('attack-roc-confidence-forget');
  });

  it('opened at /compare?comparison=<id>: the comparison shown before is cleared at once, not shown (nor charted) under the new selection while the new one loads', async () => {
    const { routeLocationKey } = await import('vue-router');
    const { useUnlearningStore } = await import('../../../renderer/src/stores/unlearning');
    const CMP2 = { ...CMP, id: 'cmp-2', name: 'the second comparison' };
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    api.handlers['comparisons.list'] = () => [
      { id: 'cmp-1', name: 'class 0', model: 'cnn-trained', forgetSet: 'fs-1', forgetSetName: 'class 0', datasetName: 'Fashion-MNIST', seeds: 2, entries: ['Retrain', 'SalUn', 'GA'], createdAt: '2026-11-24T10:00:00.000Z' },
      { id: 'cmp-2', name: 'the second comparison', model: 'cnn-trained', forgetSet: 'fs-1', forgetSetName: 'class 0', datasetName: 'Fashion-MNIST', seeds: 2, entries: ['Retrain', 'SalUn', 'GA'], createdAt: '2026-11-24T11:00:00.000Z' },
    ];
    api.handlers['comparisons.get'] = async (a) => ((a as { id: string }).id === 'cmp-2' ? (await gate, CMP2) : CMP);
    const pinia = createPinia();
    setActivePinia(pinia);
    await useJobsStore().connect();
    const store = useUnlearningStore();
    await store.selectComparison('cmp-1'); // what the page showed on an earlier visit
    expect(store.comparison?.id).toBe('cmp-1');
    api.call.mockClear();
    const w = mount(CompareView, {
      global: { plugins: [pinia], stubs: { RouterLink: true }, provide: { [routeLocationKey as symbol]: { query: { comparison: 'cmp-2' } } } },
      attachTo: document.body,
    });
    await flush();
    await flush();
    expect(w.find('[data-testid="comparison-detail"]').exists()).toBe(false);
    expect(w.text()).not.toContain('class 0 <');
    const charted = api.call.mock.calls.filter(([m]) => m === 'comparisons.charts' || m === 'comparisons.attack').map(([, a]) => (a as { id: string }).id);
    expect(charted).not.toContain('cmp-1');
    release();
    await flush();
    await flush();
    expect(w.get('[data-testid="comparison-detail"] h2').text()).toBe('the second comparison');
    expect(w.get('[data-comparison-id="cmp-2"]').classes()).toContain('selected');
    w.unmount();
  });
});
