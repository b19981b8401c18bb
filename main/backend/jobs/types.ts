// Job kinds run inside a worker child process. A kind is one module exporting a JobHandler and is
// registered in kinds/index.ts. Handlers are plain engine code: no Electron, no UI.

import type { JobProgress } from '../../../preload/api/jobs';

export interface JobContext {
  jobId: string;
  /** absolute workspace root; open it with openWorkspace(root, { mode: 'worker' }) inside the worker (the runner holds the lock) */
  workspaceRoot: string;
  /** aborted when the user cancels; long loops must check it at least every ~100 ms of work */
  signal: AbortSignal;
  progress(p: Partial<JobProgress> & { step: number }): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /** persisted opaque checkpoint for resumable kinds (null on a fresh start) */
  checkpoint: unknown;
  saveCheckpoint(state: unknown): Promise<void>;
  settings: { executionProvider: string; intraOpThreads: number };
  /** the jobs this one depended on, with their results, in dependsOn order */
  dependencies: { id: string; kind: string; result: unknown }[];
}

export interface JobHandler<P = unknown, R = unknown> {
  kind: string;
  description: string;
  resumable: boolean;
  /** validate params before queueing; throw ApiError('invalid_argument', ...) with a plain reason */
  validate(params: unknown): P;
  run(params: P, ctx: JobContext): Promise<R>;
}
