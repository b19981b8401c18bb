// An in-process job runner for transport tests: same surface as main/backend/jobs (JobRunnerPort),
// one kind 'test.ticker' that reports progress every `intervalMs` for `steps` steps, cancellable.
// Used where a test needs exact control (fault injection); the contract suite otherwise runs on
// the real runner.

import { EventEmitter } from 'node:events';
import { ApiError } from '../../preload/api/common';
import type { JobEvent, JobInfo, JobState, JobSubmit } from '../../preload/api/jobs';
import type { JobRunnerPort } from '../../main/backend/service';

export function createFakeRunner(opts: { failList?: Error } = {}): JobRunnerPort & { emitter: EventEmitter } {
  const emitter = new EventEmitter();
  const jobs = new Map<string, JobInfo>();
  const timers = new Map<string, NodeJS.Timeout>();
  let n = 0;
  const emit = (e: JobEvent) => emitter.emit('event', e);
  const finish = (job: JobInfo, state: JobState, reason: string | null) => {
    clearInterval(timers.get(job.id));
    timers.delete(job.id);
    Object.assign(job, { state, reason, endedAt: new Date().toISOString() });
    emit({ type: 'state', job: { ...job } });
  };
  return {
    emitter,
    async submit(s: JobSubmit) {
      if (s.kind !== 'test.ticker') throw new ApiError('invalid_argument', `Unknown job kind '${s.kind}'.`);
      const p = (s.params ?? {}) as { steps?: number; intervalMs?: number };
      const steps = p.steps ?? 1000;
      const job: JobInfo = {
        id: `job-${++n}`,
        kind: s.kind,
        title: s.title ?? 'ticker',
        params: s.params,
        state: 'queued',
        createdAt: new Date().toISOString(),
        startedAt: null,
        endedAt: null,
        progress: null,
        reason: null,
        result: null,
        resumable: false,
        attempt: 1,
        dependsOn: [],
      };
      jobs.set(job.id, job);
      emit({ type: 'state', job: { ...job } });
      setTimeout(() => {
        if (job.state !== 'queued') return;
        Object.assign(job, { state: 'running', startedAt: new Date().toISOString() });
        emit({ type: 'state', job: { ...job } });
        let step = 0;
        timers.set(
          job.id,
          setInterval(() => {
            step++;
            job.progress = { step, total: steps, fraction: step / steps };
            emit({ type: 'progress', id: job.id, progress: job.progress });
            if (step >= steps) finish(job, 'succeeded', null);
          }, p.intervalMs ?? 10),
        );
      }, 5);
      return { ...job };
    },
    async cancel(id) {
      const job = jobs.get(id);
      if (!job) throw new ApiError('not_found', `There is no job with id '${id}'.`);
      if (job.state === 'queued' || job.state === 'running') finish(job, 'cancelled', 'Cancelled by the user.');
      return { ...job };
    },
    async resume(id) {
      throw new ApiError('conflict', `Job '${id}' cannot be resumed.`);
    },
    async list(filter) {
      if (opts.failList) throw opts.failList;
      return [...jobs.values()].filter((j) => !filter?.states || filter.states.includes(j.state)).map((j) => ({ ...j }));
    },
    async get(id) {
      const j = jobs.get(id);
      return j ? { ...j } : null;
    },
    kinds: () => [{ kind: 'test.ticker', description: 'ticks', resumable: false }],
    on: (e, l) => emitter.on(e, l),
    off: (e, l) => emitter.off(e, l),
    async close() {
      for (const t of timers.values()) clearInterval(t);
      timers.clear();
    },
  };
}
