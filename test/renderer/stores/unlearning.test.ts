// The unlearning store against a scripted API (catalogue fetched once, plan results and refusals,
// runs, comparison selection races), and the pure helpers the form and the table use.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { ApiError } from '../../../preload/api';
import { createFakeApi, deferred, makeJob, type FakeApi } from '../fake-api';
import { COMPARISON, METHODS, METRICS, run } from '../unlearning-fixtures';

let api: FakeApi;
vi.mock('../../../renderer/src/api/client', () => ({ getApi: () => api, transportName: () => 'web', onConnectionChange: () => () => {} }));

const { useUnlearningStore } = await import('../../../renderer/src/stores/unlearning');
const { useJobsStore } = await import('../../../renderer/src/stores/jobs');
const { defaultParams, formatGap, formatMetric, paramProblem, rangeText, inputStep } = await import('../../../renderer/src/utils/unlearning');

beforeEach(() => {
  setActivePinia(createPinia());
  api = createFakeApi({
    'unlearning.methods': () => METHODS,
    'unlearning.metrics': () => METRICS,
    'runs.list': () => [run()],
    'comparisons.list': () => [{ id: 'cmp-1', name: 'n', model: 'm', forgetSet: 'fs-1', forgetSetName: 'f', datasetName: 'd', seeds: 2, entries: ['Retrain', 'SalUn'], createdAt: '2026-11-24T10:00:00.000Z' }],
    'comparisons.get': () => COMPARISON,
    'workspace.info': () => ({ root: '/w', counts: { datasets: 0, models: 0, forgetSets: 0, runs: 1, reports: 0, jobs: 0 } }),
  });
});

describe('unlearning store', () => {
  it('loads the method and metric catalogues once; retrain is not among the choosable methods', async () => {
    const s = useUnlearningStore();
    await s.loadCatalogue();
    await s.loadCatalogue();
    expect(s.methods.map((m) => m.id)).toEqual(['retrain', 'salun', 'toy']);
    expect(s.choosableMethods.map((m) => m.id)).toEqual(['salun', 'toy']);
    expect(api.call.mock.calls.filter(([m]) => m === 'unlearning.methods')).toHaveLength(1);
  });

  it('keeps a catalogue failure as a plain message', async () => {
    api.handlers['unlearning.methods'] = () => {
      throw new ApiError('unavailable', 'The Lethe backend is shutting down.');
    };
    const s = useUnlearningStore();
    await s.loadCatalogue();
    expect(s.catalogueError).toBe('The Lethe backend is shutting down.');
  });

  it('plan: tracks every submitted job; a refusal comes back as the backend sentence', async () => {
    const jobs = [makeJob({ id: 'r0', kind: 'unlearn.run', state: 'queued' }), makeJob({ id: 'c', kind: 'unlearn.compare', state: 'queued', dependsOn: ['r0'] })];
    api.handlers['unlearning.plan'] = () => ({ jobs, compareJobId: 'c' });
    const s = useUnlearningStore();
    const args = { model: 'm', forgetSet: 'f', methods: [{ id: 'salun', params: { maskFraction: 0.3 } }] };
    const ok = await s.plan(args);
    expect(ok).toEqual({ ok: true, value: { jobs, compareJobId: 'c' } });
    expect(api.call).toHaveBeenCalledWith('unlearning.plan', args);
    expect(Object.keys(useJobsStore().byId).sort()).toEqual(['c', 'r0']);
    api.handlers['unlearning.plan'] = () => {
      throw new ApiError('invalid_argument', "salun: 'maskFraction': number must be less than or equal to 1.");
    };
    expect(await s.plan(args)).toEqual({ ok: false, error: "salun: 'maskFraction': number must be less than or equal to 1." });
    expect(s.planning).toBe(false);
  });

  it('loads runs and comparisons; the last selected comparison wins when replies arrive out of order', async () => {
    const s = useUnlearningStore();
    await Promise.all([s.loadRuns(), s.loadComparisons()]);
    expect(s.runs).toEqual([run()]);
    expect(s.comparisons.map((c) => c.id)).toEqual(['cmp-1']);
    const slow = deferred<unknown>();
    api.handlers['comparisons.get'] = (a) => ((a as { id: string }).id === 'old' ? slow.promise : COMPARISON);
    const first = s.selectComparison('old');
    await s.selectComparison('cmp-1');
    slow.resolve({ ...COMPARISON, id: 'old' });
    await first;
    expect(s.comparison?.id).toBe('cmp-1');
    api.handlers['comparisons.get'] = () => {
      throw new ApiError('not_found', "There is no comparison 'gone'.");
    };
    await s.selectComparison('gone');
    expect(s.comparisonError).toBe("There is no comparison 'gone'.");
    expect(s.comparison).toBeNull();
  });
});

describe('unlearning helpers', () => {
  const [, salun, toy] = METHODS;
  it('prefills every parameter with its default', () => {
    expect(defaultParams(salun.params)).toEqual({ maskFraction: 0.5, epochs: 10, lr: 0.013 });
    expect(defaultParams(toy.params)).toEqual({ project: false, mode: 'soft' });
  });

  it('describes ranges and finds out-of-range values like the backend schema', () => {
    const [mask, epochs] = salun.params;
    expect(rangeText(mask)).toBe('number, above 0, at most 1');
    expect(rangeText(epochs)).toBe('whole number, at least 1, at most 1000');
    expect(rangeText(toy.params[1])).toBe('one of soft, hard');
    expect(inputStep(epochs)).toBe('1');
    expect(inputStep(mask)).toBe('any');
    expect(paramProblem(mask, 0.5)).toBeNull();
    expect(paramProblem(mask, 1)).toBeNull();
    expect(paramProblem(mask, 0)).toBe('maskFraction must be above 0.');
    expect(paramProblem(mask, 1.5)).toBe('maskFraction must be at most 1.');
    expect(paramProblem(mask, '')).toBe('maskFraction must be a number.');
    expect(paramProblem(epochs, 2.5)).toBe('epochs must be a whole number.');
    expect(paramProblem(toy.params[1], 'medium')).toBe('mode must be one of soft, hard.');
    expect(paramProblem(toy.params[0], true)).toBeNull();
  });

  it('formats mean ± CI half-width for n >= 2, the single value otherwise, and the gap to retrain', () => {
    const [retrain, sal] = COMPARISON.entries;
    const pct = { unit: '%' };
    expect(formatMetric(sal.metrics['forget-accuracy'], pct)).toBe('3.50 ± 1.25%');
    expect(formatGap(sal.metrics['forget-accuracy'], pct)).toBe('Δ 3.50');
    expect(formatMetric(sal.metrics.tow, { unit: 'ratio' })).toBe('0.912 ± 0.010');
    expect(formatMetric(sal.metrics['run-time'], { unit: 's' })).toBe('12.50 s');
    expect(formatMetric(retrain.metrics.tow, { unit: 'ratio' })).toBe('—');
    expect(formatMetric(undefined, pct)).toBe('—');
    expect(formatGap(retrain.metrics['forget-accuracy'], pct)).toBe('');
  });
});
