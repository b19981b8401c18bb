import type { CliCommand } from '../types';
import { CliUsageError } from '../types';
import type { JobInfo, JobState } from '../../../preload/api/jobs';
import { openWorkspace } from '../../backend/workspace';
import type { JobRecordData } from '../../backend/jobs/runner';

const STATES: JobState[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'];

export const jobsListCommand: CliCommand = {
  name: 'jobs list',
  summary: 'List the jobs of the workspace queue (newest first)',
  usage: '[--state <state>]...',
  options: {
    state: { type: 'string', multiple: true, description: `only jobs in this state (${STATES.join(', ')})` },
  },
  examples: ['lethe jobs list', 'lethe jobs list --state running --state queued --json'],
  async run(ctx) {
    const wanted = (ctx.values.state as string[] | undefined) ?? [];
    for (const s of wanted) {
      if (!STATES.includes(s as JobState)) throw new CliUsageError(`--state must be one of ${STATES.join(', ')}, got '${s}'`);
    }
    // Read the persisted queue without starting a runner (which would start queued jobs) and
    // without the owner lock (so it works while the app is open).
    const ws = await openWorkspace(ctx.workspaceRoot, { mode: 'worker' });
    let jobs: JobInfo[];
    try {
      const records = await ws.listRecords<JobRecordData>('jobs');
      jobs = records
        .map((r) => {
          const { seq: _seq, ...info } = r.data;
          return { ...info, id: r.id } as JobInfo;
        })
        .filter((j) => wanted.length === 0 || wanted.includes(j.state))
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    } finally {
      await ws.close();
    }
    const pct = (j: JobInfo) => (j.progress?.fraction != null ? `${Math.round(j.progress.fraction * 100)}%` : '');
    const human = jobs.length
      ? jobs
          .map((j) => `${j.id}  ${j.state.padEnd(11)} ${pct(j).padStart(4)}  ${j.kind}  ${j.title}${j.reason ? `  (${j.reason})` : ''}`)
          .join('\n')
      : wanted.length
        ? `No jobs in state ${wanted.join(' or ')}.`
        : 'No jobs yet.';
    ctx.print(jobs, human);
  },
};
