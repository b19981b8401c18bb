// The quick-start store: submits unlearn.demo through the jobs store (jobs.submit), follows its job,
// exposes its result, cancels it, and never submits a second demo while one runs.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { ApiError } from '../../../preload/api';
import { createFakeApi, flush, makeJob, type FakeApi } from '../fake-api';

let api: FakeApi;
vi.mock('../../../renderer/src/api/client', () => ({ getApi: () => api, transportName: () => 'web', onConnectionChange: () => () => {} }));

const { useDemoStore, DEMO_KIND } = await import('../../../renderer/src/stores/demo');
const { useJobsStore } = await import('../../../renderer/src/stores/jobs');
const { useUiStore } = await import('../../../renderer/src/stores/ui');
const { useToastsStore } = await import('../../../renderer/src/stores/toasts');

const demoJob = (over = {}) => makeJob({ id: 'demo-1', kind: 'unlearn.demo', title: 'Built-in demo', params: {}, state: 'queued', progress: null, ...over });

beforeEach(() => {
  setActivePinia(createPinia());
  api = createFakeApi({
    'jobs.list': () => [],
    'jobs.submit': () => demoJob(),
    'jobs.cancel': () => demoJob({ state: 'cancelled', reason: 'Cancelled by the user.' }),
  });
});

describe('demo (quick start) store', () => {
  it('submits unlearn.demo via jobs.submit, follows the job and opens the jobs panel', async () => {
    await useJobsStore().connect();
    const demo = useDemoStore();
    expect(demo.job).toBeNull();
    expect(await demo.start()).toBe(true);
    expect(api.call).toHaveBeenCalledWith('jobs.submit', { kind: DEMO_KIND, params: {}, title: 'Built-in demo' });
    expect(demo.jobId).toBe('demo-1');
    expect(demo.active).toBe(true);
    expect(useUiStore().jobsPanelOpen).toBe(true);

    api.emit('jobs.event', { type: 'progress', id: 'demo-1', progress: { step: 250, total: 1000, fraction: 0.25, stage: 'train original', message: 'train original: epoch 1/2' } });
    expect(demo.job?.state).toBe('running');
    expect(demo.job?.progress?.stage).toBe('train original');
    expect(demo.result).toBeNull();

    const result = { comparisonIds: ['cmp-a', 'cmp-b'], forgetSets: ['demo-class-Bag', 'demo-random-1pct'], seconds: 612 };
    api.emit('jobs.event', { type: 'state', job: demoJob({ state: 'succeeded', result }) });
    expect(demo.active).toBe(false);
    expect(demo.result).toEqual(result);
  });

  it('does not submit a second demo while one is queued or running (also one found in the list)', async () => {
    api.handlers['jobs.list'] = () => [demoJob({ id: 'older', state: 'running' })];
    await useJobsStore().connect();
    const demo = useDemoStore();
    expect(demo.job?.id).toBe('older');
    expect(await demo.start()).toBe(false);
    expect(api.call).not.toHaveBeenCalledWith('jobs.submit', expect.anything());
    // it stays the demo shown when it ends (e.g. after a reload), with its result
    await flush();
    api.emit('jobs.event', { type: 'state', job: demoJob({ id: 'older', state: 'succeeded', result: { comparisonIds: ['c'], forgetSets: ['f'], seconds: 1 } }) });
    expect(demo.job?.id).toBe('older');
    expect(demo.result?.comparisonIds).toEqual(['c']);
  });

  it('cancels through jobs.cancel', async () => {
    await useJobsStore().connect();
    const demo = useDemoStore();
    await demo.start();
    expect(await demo.cancel()).toBe(true);
    expect(api.call).toHaveBeenCalledWith('jobs.cancel', { id: 'demo-1' });
    expect(demo.job?.state).toBe('cancelled');
    expect(demo.active).toBe(false);
  });

  it('a refused submission is a toast, and nothing is followed', async () => {
    api.handlers['jobs.submit'] = () => {
      throw new ApiError('invalid_argument', "unlearn.demo: 'seeds' too small.");
    };
    await useJobsStore().connect();
    const demo = useDemoStore();
    expect(await demo.start({ seeds: 0 })).toBe(false);
    await flush();
    expect(demo.jobId).toBeNull();
    expect(demo.starting).toBe(false);
    expect(useToastsStore().toasts.at(-1)?.message).toMatch(/seeds/);
  });
});
