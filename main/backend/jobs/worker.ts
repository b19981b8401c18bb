// Job worker process entry (child_process.fork by the runner). For each 'start' message it runs
// the registered JobHandler for the kind, streams progress (at most ~10 messages/s) and logs over
// IPC, saves checkpoints as JSON blobs in the workspace (the runner records them in the job), and
// reports the result or the error. After a success it waits for the next job (the runner keeps a
// warm pool); after an error or a cancel it exits, so a possibly broken state is never reused. If
// the runner goes away (IPC disconnect) the worker exits at once: a crashed backend leaves no orphans.

import type { JobProgress } from '../../../preload/api/jobs';
import { openWorkspace } from '../workspace';
import type { Workspace } from '../workspace/types';
import { loadJobKinds } from './kinds';
import type { FromWorker, ToWorker, WorkerStart } from './protocol';
import type { JobContext } from './types';

const PROGRESS_INTERVAL_MS = 100;

// The runner's channel: Node.js IPC (child_process.fork), or in the desktop app Electron's
// utility-process port (main/electron/utility-worker.ts: the RunAsNode fuse is off, so no fork).
interface ParentPortLike {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}
const parentPort = (process as unknown as { parentPort?: ParentPortLike }).parentPort;

if (!process.send && !parentPort) {
  console.error('lethe job worker: must be started by the job runner (no IPC channel).');
  process.exit(2);
}

function send(msg: FromWorker): Promise<void> {
  if (parentPort) {
    parentPort.postMessage(msg);
    // let the port flush before a following process.exit
    return new Promise((resolve) => setTimeout(resolve, 20));
  }
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(msg, undefined, {}, () => resolve());
  });
}

let abort = new AbortController();
let checkpointWaiters = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
let busy = false;

if (parentPort) {
  // the adapter's stand-in for an IPC disconnect: the runner let this worker go
  parentPort.on('message', (e) => ((e.data as { type?: string } | null)?.type === 'disconnect' ? process.exit(3) : onMessage(e.data)));
} else {
  process.on('disconnect', () => process.exit(3));
  process.on('message', (raw: unknown) => onMessage(raw));
}

function onMessage(raw: unknown): void {
  const msg = raw as ToWorker;
  if (msg?.type === 'start' && !busy) {
    busy = true;
    abort = new AbortController();
    checkpointWaiters = new Map();
    void runJob(msg);
  } else if (msg?.type === 'cancel') {
    abort.abort(new DOMException('The job was cancelled.', 'AbortError'));
  } else if (msg?.type === 'checkpointSaved') {
    const w = checkpointWaiters.get(msg.seq);
    checkpointWaiters.delete(msg.seq);
    if (msg.error) w?.reject(new Error(msg.error));
    else w?.resolve();
  }
}

async function finish(msg: FromWorker, code: number): Promise<never> {
  await send(msg);
  process.exit(code);
}

process.on('uncaughtException', (err) => void finish({ type: 'error', message: `Unexpected error in the job worker: ${err.message}` }, 1));
process.on('unhandledRejection', (err) =>
  void finish({ type: 'error', message: `Unexpected error in the job worker: ${err instanceof Error ? err.message : String(err)}` }, 1),
);

async function runJob(start: WorkerStart): Promise<void> {
  let ws: Workspace | null = null;
  const workspace = async () => (ws ??= await openWorkspace(start.workspaceRoot, { mode: 'worker' }));

  // progress: keep the latest, send at most every PROGRESS_INTERVAL_MS
  let pending: (Partial<JobProgress> & { step: number }) | null = null;
  let lastSent = 0;
  let timer: NodeJS.Timeout | null = null;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (!pending) return;
    const p = pending;
    pending = null;
    lastSent = Date.now();
    void send({ type: 'progress', progress: p });
  };
  let checkpointSeq = 0;

  const ctx: JobContext = {
    jobId: start.jobId,
    workspaceRoot: start.workspaceRoot,
    signal: abort.signal,
    settings: start.settings,
    dependencies: Array.isArray(start.dependencies) ? start.dependencies : [],
    checkpoint: null,
    progress(p) {
      if (!p || typeof p.step !== 'number' || !Number.isFinite(p.step)) throw new TypeError('progress needs a finite step number');
      // a measured accuracy is rare: a later report within the same interval must not drop it
      const carried: Partial<JobProgress> = {};
      if (pending?.retainAccuracy !== undefined && p.retainAccuracy === undefined) carried.retainAccuracy = pending.retainAccuracy;
      if (pending?.forgetAccuracy !== undefined && p.forgetAccuracy === undefined) carried.forgetAccuracy = pending.forgetAccuracy;
      if (pending?.testAccuracy !== undefined && p.testAccuracy === undefined) carried.testAccuracy = pending.testAccuracy;
      pending = { ...carried, ...p };
      const wait = PROGRESS_INTERVAL_MS - (Date.now() - lastSent);
      if (wait <= 0) flush();
      else if (!timer) timer = setTimeout(flush, wait);
    },
    log(level, message) {
      void send({ type: 'log', level, message: String(message) });
    },
    async saveCheckpoint(state) {
      const json = JSON.stringify(state);
      if (json === undefined) throw new TypeError('a checkpoint must be JSON-serialisable');
      const blob = await (await workspace()).putBlob(Buffer.from(json, 'utf8'));
      const seq = ++checkpointSeq;
      const saved = new Promise<void>((resolve, reject) => checkpointWaiters.set(seq, { resolve, reject }));
      await send({ type: 'checkpoint', seq, blob });
      await saved;
    },
  };

  try {
    const kinds = await loadJobKinds(start.kindModules);
    const handler = kinds.get(start.kind);
    if (!handler) throw new Error(`No handler is registered for job kind ${start.kind}.`);
    if (start.checkpoint) {
      const bytes = await (await workspace()).getBlob(start.checkpoint.sha256);
      ctx.checkpoint = JSON.parse(Buffer.from(bytes).toString('utf8'));
    }
    const params = handler.validate(start.params);
    const result = await handler.run(params, ctx);
    flush();
    await (ws as Workspace | null)?.close();
    if (timer) clearTimeout(timer);
    busy = false;
    await send({ type: 'result', result: result === undefined ? null : result });
  } catch (err) {
    flush();
    if (abort.signal.aborted) await finish({ type: 'cancelled' }, 0);
    const message = err instanceof Error ? err.message || err.name : String(err);
    await finish({ type: 'error', message }, 1);
  }
}
