import type { MethodDef } from './common';

/** Kinds of long work. Each kind has a handler that runs in a job worker process. */
export type JobKind = string;

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

export interface JobProgress {
  /** steps done and total (total null when unknown) */
  step: number;
  total: number | null;
  /** 0..1 */
  fraction: number | null;
  /** latest loss when the job trains something */
  loss?: number | null;
  /** estimated seconds left */
  etaSeconds?: number | null;
  message?: string;
}

export interface JobInfo {
  id: string;
  kind: JobKind;
  title: string;
  params: unknown;
  state: JobState;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  progress: JobProgress | null;
  /** why it failed, was cancelled or interrupted; one plain sentence */
  reason: string | null;
  /** what the job produced (e.g. { modelId }) */
  result: unknown;
  /** the job can continue from its last checkpoint */
  resumable: boolean;
  attempt: number;
  /** jobs that must succeed before this one starts (their results reach its handler); empty for most */
  dependsOn: string[];
}

export interface JobSubmit {
  kind: JobKind;
  title?: string;
  params: unknown;
  /** ids of jobs that must succeed first; if one fails or is cancelled, this job fails saying which */
  dependsOn?: string[];
}

export type JobEvent =
  | { type: 'state'; job: JobInfo }
  | { type: 'progress'; id: string; progress: JobProgress }
  | { type: 'log'; id: string; level: 'info' | 'warn' | 'error'; message: string };

/** One persisted log line of a job. */
export interface JobLogEntry {
  time: string;
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface JobMethods {
  'jobs.list': MethodDef<{ states?: JobState[] }, JobInfo[]>;
  'jobs.get': MethodDef<{ id: string }, JobInfo>;
  'jobs.submit': MethodDef<JobSubmit, JobInfo>;
  'jobs.cancel': MethodDef<{ id: string }, JobInfo>;
  'jobs.resume': MethodDef<{ id: string }, JobInfo>;
  /** the job's log as persisted in the workspace (survives restarts), oldest first; newest `limit` lines */
  'jobs.logs': MethodDef<{ id: string; limit?: number }, { lines: JobLogEntry[]; truncated: boolean }>;
  /** kinds this backend can run, with a one-line description each */
  'jobs.kinds': MethodDef<Record<string, never>, { kind: JobKind; description: string; resumable: boolean }[]>;
}

export interface JobEvents {
  'jobs.event': JobEvent;
}
