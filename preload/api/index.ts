// The one typed API contract of Lethe. The backend (main/backend/service.ts) implements ApiMethods
// once; Electron IPC (preload + main/electron/ipc.ts) and the web transport (main/server/) carry it.
// The renderer sees the same `LetheApi` object whichever transport it has.
//
// Adding a domain: write preload/api/<domain>.ts with a `XxxMethods` interface (and `XxxEvents` if
// it pushes events), extend ApiMethods/ApiEvents below, and add its method names to API_METHODS.

import type { AppMethods } from './app';
import type { JobEvents, JobMethods } from './jobs';
import type { DatasetMethods } from './datasets';
import type { ModelMethods } from './models';
import type { UnlearningMethods } from './unlearning';
import type { ReportMethods } from './reports';
import type { PlanEstimateMethods } from './plan-estimate';
import type { Unsubscribe } from './common';

export * from './common';
export type * from './app';
export type * from './jobs';
export type * from './datasets';
export type * from './models';
export type * from './unlearning';
export type * from './reports';
export type * from './plan-estimate';

export interface ApiMethods extends AppMethods, JobMethods, DatasetMethods, ModelMethods, UnlearningMethods, PlanEstimateMethods, ReportMethods {}
export interface ApiEvents extends JobEvents {}

export type MethodName = keyof ApiMethods;
export type EventName = keyof ApiEvents;
export type ArgsOf<M extends MethodName> = ApiMethods[M]['args'];
export type ResultOf<M extends MethodName> = ApiMethods[M]['result'];

/** Allow-list of method names. `satisfies` keeps it in sync with ApiMethods both ways (see test). */
export const API_METHODS = [
  'app.info',
  'app.pickPath',
  'workspace.info',
  'settings.get',
  'settings.update',
  'jobs.list',
  'jobs.get',
  'jobs.submit',
  'jobs.cancel',
  'jobs.resume',
  'jobs.logs',
  'jobs.kinds',
  'datasets.list',
  'datasets.get',
  'datasets.builtins',
  'datasets.previewImport',
  'datasets.import',
  'datasets.examples',
  'datasets.images',
  'datasets.thumbnail',
  'datasets.delete',
  'forgetSets.list',
  'forgetSets.get',
  'forgetSets.preview',
  'forgetSets.create',
  'forgetSets.score',
  'forgetSets.delete',
  'forgetSets.export',
  'models.list',
  'models.get',
  'models.architectures',
  'models.recipe',
  'models.create',
  'models.import',
  'models.export',
  'models.train',
  'models.delete',
  'unlearning.methods',
  'unlearning.metrics',
  'unlearning.plan',
  'unlearning.estimate',
  'runs.list',
  'runs.get',
  'runs.exportOutputs',
  'comparisons.list',
  'comparisons.get',
  'comparisons.embedding',
  'comparisons.example',
  'comparisons.changedExamples',
  'comparisons.charts',
  'comparisons.attack',
  'unlearning.sweep',
  'sweeps.list',
  'sweeps.get',
  'reports.create',
  'reports.list',
  'reports.verify',
  'reports.file',
] as const satisfies readonly MethodName[];

export const API_EVENTS = ['jobs.event'] as const satisfies readonly EventName[];

// Compile-time check that every MethodName is listed.
type Missing = Exclude<MethodName, (typeof API_METHODS)[number]>;
const _allListed: Missing extends never ? true : Missing = true;
void _allListed;

/** The object a transport gives the renderer: `api.call('jobs.list', {})`, `api.on('jobs.event', cb)`. */
export interface LetheApi {
  call<M extends MethodName>(method: M, args: ArgsOf<M>): Promise<ResultOf<M>>;
  on<E extends EventName>(event: E, listener: (payload: ApiEvents[E]) => void): Unsubscribe;
}

/** The backend side: one handler per method, and an event sink the transports subscribe to. */
export type ApiHandlers = { [M in MethodName]: (args: ArgsOf<M>) => Promise<ResultOf<M>> };
