import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { ApiError } from '../../../preload/api';
import { createFakeApi, deferred, flush, makeJob, type FakeApi } from '../fake-api';

let api: FakeApi;
vi.mock('../../../renderer/src/api/client', () => ({ getApi: () => api, transportName: () => 'web', onConnectionChange: () => () => {} }));

const { useJobsStore } = await import('../../../renderer/src/stores/jobs');
const { useToastsStore } = await import('../../../renderer/src/stores/toasts');

beforeEach(() => {
  setActivePinia(createPinia());
  api = createFakeApi({ 'jobs.list': () => [] });
});

describe('jobs store', () => {
  it('loads the list newest first', async () => {
    api.handlers['jobs.list'] = () => [
      makeJob({ id: 'a', createdAt: '2026-11-24T10:00:00.000Z' }),
      makeJob({ id: 'b', createdAt: '2026-11-24T11:00:00.000Z' }),
    ];
    const store = useJobsStore();
    await store.connect();
    expect(store.jobs.map((j) => j.id)).toEqual(['b', 'a']);
    expect(store.loaded).toBe(true);
  });

  it('subscribes before listing and replays events that arrive while the list loads', async () => {
    const list = deferred<unknown>();
    api.handlers['jobs.list'] = () => list.promise;
    const store = useJobsStore();
    const connecting = store.connect();
    expect(api.listenerCount('jobs.event')).toBe(1);
    // the list was computed before this progress event, so it holds step 0
    api.emit('jobs.event', { type: 'progress', id: 'job-1', progress: { step: 40, total: 100, fraction: 0.4 } });
    list.resolve([makeJob()]);
    await connecting;
    expect(store.byId['job-1'].progress?.step).toBe(40);
  });

  it('applies state, progress and log events', async () => {
    const store = useJobsStore();
    await store.connect();
    api.emit('jobs.event', { type: 'state', job: makeJob({ state: 'queued', progress: null }) });
    expect(store.queuedCount).toBe(1);
    api.emit('jobs.event', { type: 'progress', id: 'job-1', progress: { step: 5, total: 10, fraction: 0.5, loss: 0.25 } });
    expect(store.byId['job-1'].progress?.loss).toBe(0.25);
    expect(store.byId['job-1'].state).toBe('running');
    api.emit('jobs.event', { type: 'log', id: 'job-1', level: 'warn', message: 'slow disk' });
    expect(store.logs['job-1']).toEqual([{ level: 'warn', message: 'slow disk', time: expect.stringMatching(/^\d{4}-/) }]);
    api.emit('jobs.event', { type: 'state', job: makeJob({ state: 'failed', reason: 'The worker ran out of memory.' }) });
    expect(store.byId['job-1'].reason).toBe('The worker ran out of memory.');
    expect(store.runningCount).toBe(0);
    expect(store.endedCount).toBe(1);
    // a repeated end state (e.g. after a reconnect) is not a new ending
    api.emit('jobs.event', { type: 'state', job: makeJob({ state: 'failed', reason: 'The worker ran out of memory.' }) });
    expect(store.endedCount).toBe(1);
  });

  it('fetches a job it hears about only through a progress event', async () => {
    api.handlers['jobs.get'] = (args) => makeJob({ id: (args as { id: string }).id, title: 'Fetched' });
    const store = useJobsStore();
    await store.connect();
    api.emit('jobs.event', { type: 'progress', id: 'late', progress: { step: 1, total: 2, fraction: 0.5 } });
    await flush();
    expect(store.byId.late.title).toBe('Fetched');
  });

  it('cancel calls jobs.cancel with the id and never moves an ended job back', async () => {
    const reply = deferred<unknown>();
    api.handlers['jobs.list'] = () => [makeJob()];
    api.handlers['jobs.cancel'] = () => reply.promise;
    const store = useJobsStore();
    await store.connect();
    const cancelling = store.cancel('job-1');
    expect(store.pending['job-1']).toBe('cancel');
    expect(api.call).toHaveBeenCalledWith('jobs.cancel', { id: 'job-1' });
    // the cancelled state event overtakes the reply, which still says running
    api.emit('jobs.event', { type: 'state', job: makeJob({ state: 'cancelled', reason: 'Cancelled by the user.' }) });
    reply.resolve(makeJob({ state: 'running' }));
    expect(await cancelling).toBe(true);
    expect(store.byId['job-1'].state).toBe('cancelled');
    expect(store.pending['job-1']).toBeUndefined();
  });

  it('a second cancel while one is in flight is ignored', async () => {
    api.handlers['jobs.list'] = () => [makeJob()];
    const reply = deferred<unknown>();
    api.handlers['jobs.cancel'] = () => reply.promise;
    const store = useJobsStore();
    await store.connect();
    void store.cancel('job-1');
    expect(await store.cancel('job-1')).toBe(false);
    expect(api.call.mock.calls.filter((c) => c[0] === 'jobs.cancel')).toHaveLength(1);
    reply.resolve(makeJob({ state: 'cancelled' }));
  });

  it('resume upserts the queued job and offers resume only for resumable ended jobs', async () => {
    const interrupted = makeJob({ state: 'interrupted', resumable: true, reason: 'The app was closed while it ran.' });
    api.handlers['jobs.list'] = () => [interrupted];
    api.handlers['jobs.resume'] = () => makeJob({ state: 'queued', resumable: true, attempt: 2 });
    const store = useJobsStore();
    await store.connect();
    expect(store.canResume(store.byId['job-1'])).toBe(true);
    expect(store.canCancel(store.byId['job-1'])).toBe(false);
    await store.resume('job-1');
    expect(api.call).toHaveBeenCalledWith('jobs.resume', { id: 'job-1' });
    expect(store.byId['job-1'].state).toBe('queued');
    expect(store.byId['job-1'].attempt).toBe(2);
    expect(store.canResume(makeJob({ state: 'failed', resumable: false }))).toBe(false);
  });

  it('submit sends kind, params and title; failures become a toast with the reason', async () => {
    api.handlers['jobs.submit'] = () => makeJob({ id: 'new', state: 'queued' });
    const store = useJobsStore();
    await store.connect();
    const job = await store.submit('diagnostics.stress', { iterations: 10, size: 64 }, 'Bench');
    expect(api.call).toHaveBeenCalledWith('jobs.submit', { kind: 'diagnostics.stress', params: { iterations: 10, size: 64 }, title: 'Bench' });
    expect(job?.id).toBe('new');
    expect(store.byId.new.state).toBe('queued');

    api.handlers['jobs.submit'] = () => {
      throw new ApiError('invalid_argument', 'iterations must be at most 100000.');
    };
    expect(await store.submit('diagnostics.stress', { iterations: 1e9, size: 64 })).toBeNull();
    expect(useToastsStore().toasts.at(-1)?.message).toBe('Could not start the job: iterations must be at most 100000.');
  });

  it('reports a list failure and unsubscribes on disconnect', async () => {
    api.handlers['jobs.list'] = () => {
      throw new ApiError('unavailable', 'The Lethe backend is not reachable; is the server still running?');
    };
    const store = useJobsStore();
    await store.connect();
    expect(store.error).toMatch(/not reachable/);
    store.disconnect();
    expect(api.listenerCount('jobs.event')).toBe(0);
  });
});
