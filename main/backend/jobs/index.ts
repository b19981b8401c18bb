// Job runner entry point: createJobRunner({ workspace, concurrency, settings }) -> JobRunner.

export { createJobRunner, JobRunner, INTERRUPTED_REASON, type JobRunnerOptions, type JobRecordData } from './runner';
export { JOB_KINDS, loadJobKinds } from './kinds';
export type { JobContext, JobHandler } from './types';
