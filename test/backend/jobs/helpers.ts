import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobEvent, JobInfo, JobState } from '../../../preload/api/jobs';
import { createJobRunner, type JobRunner, type JobRunnerOptions } from '../../../main/backend/jobs';
import { openWorkspace, type Workspace } from '../../../main/backend/workspace';

export const TEST_KINDS = join(import.meta.dirname, '../fixtures/test-kinds.ts');

export interface Harness {
  root: string;
  ws: Workspace;
  runner: JobRunner;
  events: JobEvent[];
  /** resolves with the job once it reaches one of `states` */
  until(id: string, states: JobState[], timeoutMs?: number): Promise<JobInfo>;
  untilProgress(id: string, minStep: number, timeoutMs?: number): Promise<void>;
  restart(opts?: Partial<JobRunnerOptions>): Promise<void>;
  dispose(): Promise<void>;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function harness(opts: Partial<JobRunnerOptions> = {}, root = mkdtempSync(join(tmpdir(), 'lethe-jobs-'))): Promise<Harness> {
  const ws = await openWorkspace(root);
  const events: JobEvent[] = [];
  const make = (o: Partial<JobRunnerOptions>) =>
    createJobRunner({
      workspace: ws,
      concurrency: 2,
      settings: { executionProvider: 'cpu', intraOpThreads: 1 },
      kindModules: [TEST_KINDS],
      ...opts,
      ...o,
    });
  const h: Harness = {
    root,
    ws,
    runner: await make({}),
    events,
    async until(id, states, timeoutMs = 30_000) {
      const t0 = Date.now();
      for (;;) {
        const j = await h.runner.get(id);
        // the state event is emitted once the new state is durable: wait for it too
        const ev = events.findLast((e) => e.type === 'state' && e.job.id === id);
        if (j && states.includes(j.state) && ev?.type === 'state' && ev.job.state === j.state) return j;
        if (Date.now() - t0 > timeoutMs) throw new Error(`job ${id} did not reach ${states.join('/')} in ${timeoutMs} ms (state ${j?.state}, reason ${j?.reason})`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async untilProgress(id, minStep, timeoutMs = 30_000) {
      const t0 = Date.now();
      while (((await h.runner.get(id))?.progress?.step ?? -1) < minStep) {
        if (Date.now() - t0 > timeoutMs) throw new Error(`job ${id} did not reach step ${minStep}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async restart(o = {}) {
      await h.runner.close();
      h.runner = await make(o);
      h.runner.on('event', (e) => events.push(e));
    },
    async dispose() {
      await h.runner.close();
      await ws.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  h.runner.on('event', (e) => events.push(e));
  return h;
}
