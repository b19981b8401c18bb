import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { JobEvent, JobInfo, JobProgress, JobState, Unsubscribe } from '../../../preload/api';
import { getApi } from '../api/client';
import { errorMessage } from '../utils/errors';
import { useToastsStore } from './toasts';

export const ACTIVE_STATES: readonly JobState[] = ['queued', 'running'];
export const RESUMABLE_STATES: readonly JobState[] = ['interrupted', 'failed', 'cancelled'];
const LOG_LINES_KEPT = 500;
/** points of a job's live curves kept in memory (the oldest are dropped beyond this) */
export const CURVE_POINTS_KEPT = 2_000;

/** One point of a job's live curves, from one progress event that carried a loss or an accuracy. */
export interface JobCurvePoint {
  /** the job's progress in % when it reports a fraction, else its step */
  x: number;
  step: number;
  loss?: number;
  /** held-out retain accuracy, % */
  retainAccuracy?: number;
  /** forget-set accuracy, % */
  forgetAccuracy?: number;
  /** test-split accuracy, % (training jobs, after each epoch) */
  testAccuracy?: number;
}

function curvePoint(p: JobProgress): JobCurvePoint | null {
  const fin = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (!fin(p.loss) && !fin(p.retainAccuracy) && !fin(p.forgetAccuracy) && !fin(p.testAccuracy)) return null;
  const pt: JobCurvePoint = { x: fin(p.fraction) ? p.fraction * 100 : p.step, step: p.step };
  if (fin(p.loss)) pt.loss = p.loss;
  if (fin(p.retainAccuracy)) pt.retainAccuracy = p.retainAccuracy;
  if (fin(p.forgetAccuracy)) pt.forgetAccuracy = p.forgetAccuracy;
  if (fin(p.testAccuracy)) pt.testAccuracy = p.testAccuracy;
  return pt;
}

export interface JobLogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  /** ISO time (lines read back from the workspace have it; live ones get the time they arrived) */
  time?: string;
}

/**
 * The job queue as the UI sees it: the list from `jobs.list`, kept live by `jobs.event`.
 * The subscription opens before the list is fetched and events received meanwhile are replayed on
 * top of the list, so nothing that happens during loading is lost or overwritten by stale data.
 */
export const useJobsStore = defineStore('jobs', () => {
  const byId = ref<Record<string, JobInfo>>({});
  const logs = ref<Record<string, JobLogLine[]>>({});
  /**
   * Live curves (loss, held-out retain, forget and test accuracy) per job, from the progress events seen
   * since the window opened (not persisted); at most CURVE_POINTS_KEPT points each.
   */
  const curves = ref<Record<string, JobCurvePoint[]>>({});
  /** ids with a cancel or resume request in flight (buttons disabled meanwhile) */
  const pending = ref<Record<string, 'cancel' | 'resume'>>({});
  const loaded = ref(false);
  /** increases each time a job reaches an end state; pages watch it to refresh what jobs produce */
  const endedCount = ref(0);
  const error = ref<string | null>(null);
  let unsubscribe: Unsubscribe | null = null;
  let buffer: JobEvent[] | null = null;

  /** newest first */
  const jobs = computed(() =>
    Object.values(byId.value).sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0)),
  );
  const active = computed(() => jobs.value.filter((j) => ACTIVE_STATES.includes(j.state)));
  const runningCount = computed(() => jobs.value.filter((j) => j.state === 'running').length);
  const queuedCount = computed(() => jobs.value.filter((j) => j.state === 'queued').length);

  function upsert(job: JobInfo): void {
    byId.value[job.id] = job;
  }

  function apply(event: JobEvent): void {
    if (event.type === 'state') {
      const before = byId.value[event.job.id]?.state;
      upsert(event.job);
      if (!ACTIVE_STATES.includes(event.job.state) && (before === undefined || ACTIVE_STATES.includes(before))) endedCount.value++;
    } else if (event.type === 'progress') {
      const job = byId.value[event.id];
      if (job) {
        job.progress = event.progress;
        const pt = curvePoint(event.progress);
        if (pt) {
          const list = curves.value[event.id] ?? (curves.value[event.id] = []);
          list.push(pt);
          if (list.length > CURVE_POINTS_KEPT) list.splice(0, list.length - CURVE_POINTS_KEPT);
        }
        // a progress report means it runs, even if its 'running' state event is still in flight
        if (job.state === 'queued') job.state = 'running';
      } else {
        void fetchOne(event.id);
      }
    } else if (event.type === 'log') {
      const lines = logs.value[event.id] ?? (logs.value[event.id] = []);
      lines.push({ level: event.level, message: event.message, time: new Date().toISOString() });
      if (lines.length > LOG_LINES_KEPT) lines.splice(0, lines.length - LOG_LINES_KEPT);
    }
  }

  /** Read a job's persisted log (it survives restarts); live lines keep appending after it. */
  async function loadLog(id: string): Promise<void> {
    try {
      const r = await getApi().call('jobs.logs', { id, limit: LOG_LINES_KEPT });
      logs.value[id] = r.lines.map((l) => ({ level: l.level, message: l.message, time: l.time }));
    } catch (err) {
      useToastsStore().push('error', `Could not read the job's log: ${errorMessage(err)}`);
    }
  }

  function onEvent(event: JobEvent): void {
    if (buffer) buffer.push(event);
    else apply(event);
  }

  async function fetchOne(id: string): Promise<void> {
    try {
      const job = await getApi().call('jobs.get', { id });
      if (!byId.value[id]) upsert(job);
    } catch {
      // the job vanished between the event and the fetch; nothing to show
    }
  }

  /** Subscribes to job events and loads the list. Safe to call more than once. */
  async function connect(): Promise<void> {
    const api = getApi();
    if (!unsubscribe) {
      buffer = [];
      unsubscribe = api.on('jobs.event', onEvent);
    }
    try {
      const list = await api.call('jobs.list', {});
      const next: Record<string, JobInfo> = {};
      for (const job of list) next[job.id] = job;
      byId.value = next;
      error.value = null;
      loaded.value = true;
    } catch (err) {
      error.value = errorMessage(err);
    } finally {
      const replay = buffer ?? [];
      buffer = null;
      for (const e of replay) apply(e);
    }
  }

  function disconnect(): void {
    unsubscribe?.();
    unsubscribe = null;
    buffer = null;
  }

  /** Show a job that another call submitted (e.g. datasets.import returns the job it queued). */
  function track(job: JobInfo): void {
    if (!byId.value[job.id]) upsert(job);
  }

  async function submit(kind: string, params: unknown, title?: string): Promise<JobInfo | null> {
    try {
      const job = await getApi().call('jobs.submit', title === undefined ? { kind, params } : { kind, params, title });
      // the state event may have arrived first and be newer; keep it then
      if (!byId.value[job.id]) upsert(job);
      return job;
    } catch (err) {
      useToastsStore().push('error', `Could not start the job: ${errorMessage(err)}`);
      return null;
    }
  }

  async function runAction(id: string, action: 'cancel' | 'resume'): Promise<boolean> {
    if (pending.value[id]) return false;
    pending.value[id] = action;
    try {
      const job = await getApi().call(action === 'cancel' ? 'jobs.cancel' : 'jobs.resume', { id });
      const known = byId.value[id];
      // An event may have overtaken the reply: never move a job back from ended to active after a
      // cancel, nor from active to ended after a resume.
      const knownActive = known ? ACTIVE_STATES.includes(known.state) : null;
      if (knownActive === null || knownActive === (action === 'cancel')) upsert(job);
      return true;
    } catch (err) {
      useToastsStore().push('error', `Could not ${action} the job: ${errorMessage(err)}`);
      return false;
    } finally {
      delete pending.value[id];
    }
  }

  const cancel = (id: string) => runAction(id, 'cancel');
  const resume = (id: string) => runAction(id, 'resume');

  function canCancel(job: JobInfo): boolean {
    return ACTIVE_STATES.includes(job.state);
  }

  function canResume(job: JobInfo): boolean {
    return job.resumable && RESUMABLE_STATES.includes(job.state);
  }

  return {
    byId,
    logs,
    curves,
    loadLog,
    pending,
    loaded,
    endedCount,
    error,
    jobs,
    active,
    runningCount,
    queuedCount,
    connect,
    disconnect,
    track,
    submit,
    cancel,
    resume,
    canCancel,
    canResume,
    apply,
  };
});
