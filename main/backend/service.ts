// The backend: implements every method of the API contract once, for all shells (Electron IPC,
// the web server, the CLI). Transports call `dispatch()`, which validates the arguments against
// validation.ts, runs the handler and always resolves with a CallEnvelope: typed errors pass
// through as {code, message}; anything unexpected becomes ApiError('internal') with a plain message
// (the stack goes to the log, never to the client).

import type { AppInfo, PickPathArgs } from '../../preload/api/app';
import type { CallEnvelope } from '../../preload/api/bridge';
import { ApiError } from '../../preload/api/common';
import type { ApiErrorShape } from '../../preload/api/common';
import type { ApiEvents, ApiHandlers, ArgsOf, EventName, MethodName, ResultOf, Unsubscribe } from '../../preload/api/index';
import { API_METHODS } from '../../preload/api/index';
import type { JobEvent, JobInfo, JobLogEntry, JobState, JobSubmit } from '../../preload/api/jobs';
import { appInfo, SettingsStore, workspaceInfo } from './services/app';
import { closeReaders, datasetHandlers } from './services/datasets';
import { forgetSetHandlers } from './services/forget-sets';
import { modelHandlers } from './services/models-api';
import { unlearningHandlers } from './services/unlearning-api';
import { reportHandlers } from './services/reports-api';
import { estimatePlan } from './services/plan-estimate';
import { isCodedError } from './errors';
import { isMethodName, validateArgs } from './validation';
import type { Workspace } from './workspace/types';
import { openWorkspace as openWorkspaceDefault } from './workspace';
import { createJobRunner as createJobRunnerDefault } from './jobs/runner';

/** What the backend needs from the job runner (main/backend/jobs). */
export interface JobRunnerPort {
  submit(job: JobSubmit): Promise<JobInfo>;
  cancel(id: string): Promise<JobInfo>;
  resume(id: string): Promise<JobInfo>;
  list(filter?: { states?: JobState[] }): Promise<JobInfo[]>;
  get(id: string): Promise<JobInfo | null | undefined>;
  kinds(): { kind: string; description: string; resumable: boolean }[];
  on(event: 'event', listener: (e: JobEvent) => void): unknown;
  off(event: 'event', listener: (e: JobEvent) => void): unknown;
  setConcurrency?(n: number): void;
  /** the persisted log of a job (JobRunner keeps it in <workspace>/logs/jobs) */
  logs?(id: string, limit?: number): Promise<{ lines: JobLogEntry[]; truncated: boolean }>;
  close(): Promise<void>;
}

export interface BackendOptions {
  workspaceRoot: string;
  shell: AppInfo['shell'];
  /** the system's open dialog (the Electron glue passes one; the browser build and the CLI have none) */
  pickPath?: (args: PickPathArgs) => Promise<string[]>;
  /** where internal errors are logged (default: console.error) */
  log?: (message: string, error?: unknown) => void;
  /** injection points for tests */
  openWorkspace?: (root: string) => Promise<Workspace>;
  createJobRunner?: (opts: {
    workspace: Workspace;
    concurrency: number;
    settings: { executionProvider: string; intraOpThreads: number };
  }) => JobRunnerPort | Promise<JobRunnerPort>;
}

export interface BackendEvents {
  on<E extends EventName>(event: E, listener: (payload: ApiEvents[E]) => void): Unsubscribe;
}

export interface Backend {
  /** validated handlers: each throws ApiError on bad input or failure */
  handlers: ApiHandlers;
  /** what transports call: never throws, resolves with a CallEnvelope */
  dispatch(method: string, rawArgs: unknown): Promise<CallEnvelope>;
  events: BackendEvents;
  workspace: Workspace;
  settings: SettingsStore;
  close(): Promise<void>;
}

/** Serialize any thrown value for a client: code and message only, never a stack. */
export function toErrorShape(error: unknown, method: string, log?: BackendOptions['log']): ApiErrorShape {
  if (isCodedError(error)) {
    const shape: ApiErrorShape = { code: error.code, message: error.message };
    if (error.details !== undefined) {
      try {
        shape.details = JSON.parse(JSON.stringify(error.details));
      } catch {
        /* details that cannot be serialized are dropped */
      }
    }
    return shape;
  }
  (log ?? defaultLog)(`lethe: internal error in ${method}`, error);
  return { code: 'internal', message: `An internal error occurred while running ${method}; the details are in the Lethe log.` };
}

function defaultLog(message: string, error?: unknown) {
  console.error(message, error);
}

class EventHub implements BackendEvents {
  private readonly listeners = new Map<string, Set<(payload: unknown) => void>>();
  on<E extends EventName>(event: E, listener: (payload: ApiEvents[E]) => void): Unsubscribe {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const fn = (p: unknown) => listener(p as ApiEvents[E]);
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  }
  emit<E extends EventName>(event: E, payload: ApiEvents[E], log: (m: string, e?: unknown) => void) {
    for (const fn of [...(this.listeners.get(event) ?? [])]) {
      try {
        fn(payload);
      } catch (e) {
        log(`lethe: an event listener for ${event} failed`, e);
      }
    }
  }
  clear() {
    this.listeners.clear();
  }
}

export async function createBackend(options: BackendOptions): Promise<Backend> {
  const log = options.log ?? defaultLog;
  const workspace = await (options.openWorkspace ?? openWorkspaceDefault)(options.workspaceRoot);
  let runner: JobRunnerPort | null = null;
  try {
    const settings = await SettingsStore.open(workspace.root);
    if (settings.loadProblem) log(`lethe: ${settings.loadProblem}; using default settings`);
    const s = settings.get();
    const makeRunner: NonNullable<BackendOptions['createJobRunner']> = options.createJobRunner ?? createJobRunnerDefault;
    // The runner reads this object each time it starts a job, so settings.update below reaches
    // every job started afterwards (running jobs keep what they started with).
    const jobSettings = { executionProvider: s.executionProvider, intraOpThreads: s.intraOpThreads };
    runner = await makeRunner({ workspace, concurrency: s.jobConcurrency, settings: jobSettings });
    const jobs = runner;
    const hub = new EventHub();
    const onJobEvent = (e: JobEvent) => hub.emit('jobs.event', e, log);
    jobs.on('event', onJobEvent);

    const impl: ApiHandlers = {
      'app.info': () => appInfo(options.shell, !!options.pickPath),
      'app.pickPath': async (args) => {
        if (!options.pickPath) throw new ApiError('unavailable', 'This build has no file dialog; type the path instead.');
        const paths = await options.pickPath(args);
        return { paths: paths.filter((p) => typeof p === 'string' && p.length > 0) };
      },
      'workspace.info': () => workspaceInfo(workspace),
      'settings.get': async () => settings.get(),
      'settings.update': async (patch) => {
        const next = await settings.update(patch);
        jobSettings.executionProvider = next.executionProvider;
        jobSettings.intraOpThreads = next.intraOpThreads;
        if (patch.jobConcurrency !== undefined) jobs.setConcurrency?.(next.jobConcurrency);
        return next;
      },
      'jobs.list': (args) => jobs.list(args.states ? { states: args.states } : {}),
      'jobs.get': async ({ id }) => {
        const job = await jobs.get(id);
        if (!job) throw new ApiError('not_found', `There is no job with id '${id}'.`);
        return job;
      },
      'jobs.submit': (args) => jobs.submit(args),
      'jobs.cancel': ({ id }) => jobs.cancel(id),
      'jobs.resume': ({ id }) => jobs.resume(id),
      'jobs.logs': async ({ id, limit }) => {
        if (!jobs.logs) throw new ApiError('unavailable', 'This backend keeps no job logs.');
        return jobs.logs(id, limit);
      },
      'jobs.kinds': async () => jobs.kinds(),
      ...datasetHandlers({ workspace, submitJob: (job) => jobs.submit(job) }),
      ...forgetSetHandlers({ workspace, submitJob: (job) => jobs.submit(job) }),
      ...modelHandlers({ workspace, submitJob: (job) => jobs.submit(job) }),
      ...unlearningHandlers({ workspace, submitJob: (job) => jobs.submit(job), cancelJob: (id) => jobs.cancel(id), listJobs: () => jobs.list({ states: ['queued', 'running'] }) }),
      ...reportHandlers({ workspace, submitJob: (job) => jobs.submit(job) }),
      'unlearning.estimate': async (args) => estimatePlan(workspace, args, await jobs.list({ states: ['succeeded'] })),
    };

    let closed = false;
    const handlers = {} as Record<MethodName, (args: unknown) => Promise<unknown>>;
    for (const method of API_METHODS) {
      handlers[method] = async (raw: unknown) => {
        if (closed) throw new ApiError('unavailable', 'The Lethe backend is shutting down.');
        const args = validateArgs(method, raw);
        return (impl[method] as (a: ArgsOf<typeof method>) => Promise<ResultOf<typeof method>>)(args);
      };
    }

    const dispatch = async (method: string, rawArgs: unknown): Promise<CallEnvelope> => {
      try {
        if (!isMethodName(method)) {
          throw new ApiError('invalid_argument', `Unknown method '${String(method).slice(0, 100)}'.`);
        }
        return { ok: true, result: await handlers[method](rawArgs) };
      } catch (e) {
        return { ok: false, error: toErrorShape(e, isMethodName(method) ? method : 'an unknown method', log) };
      }
    };

    return {
      handlers: handlers as unknown as ApiHandlers,
      dispatch,
      events: hub,
      workspace,
      settings,
      async close() {
        if (closed) return;
        closed = true;
        jobs.off('event', onJobEvent);
        hub.clear();
        try {
          await jobs.close();
        } finally {
          await closeReaders(workspace).catch(() => {});
          await workspace.close();
        }
      },
    };
  } catch (e) {
    await runner?.close().catch(() => {});
    await workspace.close().catch(() => {});
    throw e;
  }
}
