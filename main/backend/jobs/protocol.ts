// Messages between the job runner (main side) and a job worker process, over the fork IPC channel.

import type { JobProgress } from '../../../preload/api/jobs';
import type { BlobRef } from '../workspace/types';

export interface WorkerStart {
  type: 'start';
  jobId: string;
  kind: string;
  params: unknown;
  workspaceRoot: string;
  /** the job's last checkpoint (a JSON blob in the workspace), read by the worker; null on a fresh start */
  checkpoint: BlobRef | null;
  settings: { executionProvider: string; intraOpThreads: number };
  /** extra modules that register job kinds (absolute paths), loaded before the kind is looked up */
  kindModules: string[];
  /** results of the jobs this one depended on */
  dependencies: { id: string; kind: string; result: unknown }[];
}

export type ToWorker =
  | WorkerStart
  /** user cancel: abort the handler's AbortSignal */
  | { type: 'cancel' }
  /** the runner durably recorded checkpoint `seq` */
  | { type: 'checkpointSaved'; seq: number; error?: string };

export type FromWorker =
  | { type: 'progress'; progress: Partial<JobProgress> & { step: number } }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'checkpoint'; seq: number; blob: BlobRef }
  | { type: 'result'; result: unknown }
  | { type: 'error'; message: string }
  | { type: 'cancelled' };
