// The job runner: one queue persisted in the workspace as 'jobs' records, each running job in its
// own worker child process (the main side never computes). Emits JobEvent on 'event'.
//
// Lifecycle: queued -> running -> succeeded | failed | cancelled, and running -> interrupted when
// Lethe stops (close(), or a crash noticed at the next start). Interrupted or failed jobs of a
// resumable kind that saved a checkpoint can be resumed; they continue from that checkpoint.

import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError } from '../../../preload/api/common';
import type { JobEvent, JobInfo, JobLogEntry, JobProgress, JobState, JobSubmit } from '../../../preload/api/jobs';
import type { BlobRef, Workspace } from '../workspace/types';
import { loadJobKinds } from './kinds';
import type { FromWorker, ToWorker, WorkerStart } from './protocol';
import type { JobHandler } from './types';

export interface JobRunnerOptions {
  workspace: Workspace;
  /** worker entry file; default: worker.ts / worker.js beside this module. .ts entries run via tsx */
  workerEntry?: string;
  /** how many jobs run at once (>= 1) */
  concurrency: number;
  settings: { executionProvider: string; intraOpThreads: number };
  /** extra modules (absolute paths) exporting JobHandlers, loaded by the runner and by every worker */
  kindModules?: string[];
  /** V8 heap cap of each worker in MiB (--max-old-space-size); exceeding it fails the job with "ran out of memory" */
  workerMaxHeapMb?: number;
  /** cancel: after this many ms without the worker stopping, SIGTERM (default 2000) */
  cancelTermAfterMs?: number;
  /** cancel: after this many ms, SIGKILL (default 4000) */
  cancelKillAfterMs?: number;
  /** niceness of worker processes (default 10: lower CPU priority than the backend; 0 keeps normal priority) */
  workerNice?: number;
  /** how often a running job's progress snapshot is written to its record (default 2000 ms) */
  persistProgressEveryMs?: number;
  /**
   * starts one worker process (default: child_process.fork). The desktop app passes Electron utility
   * processes (main/electron/utility-worker.ts): with the RunAsNode fuse off, fork() cannot run the
   * Electron binary as Node.js.
   */
  spawnWorker?: SpawnWorker;
}

/** Starts a worker process running `entry` with these Node.js flags; it speaks the worker protocol over its IPC channel. */
export type SpawnWorker = (entry: string, execArgv: string[]) => ChildProcess;

const forkWorkerProcess: SpawnWorker = (entry, execArgv) => fork(entry, [], { execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'json' });

export const INTERRUPTED_REASON = 'Lethe stopped while this job was running.';

/** What a 'jobs' record holds (the record id is the job id). */
export interface JobRecordData extends Omit<JobInfo, 'id'> {
  /** queue position: lower runs first */
  seq: number;
}

interface JobEntry {
  info: JobInfo;
  seq: number;
  checkpoint: BlobRef | null;
}

interface PooledWorker {
  child: ChildProcess;
  job: { entry: JobEntry; run: RunningJob } | null;
  idleTimer: NodeJS.Timeout | null;
  exited: boolean;
}

const IDLE_WORKER_MS = 30_000;

interface RunningJob {
  child: ChildProcess;
  final: FromWorker | null;
  cancelRequested: boolean;
  killedAfterCancel: boolean;
  timers: NodeJS.Timeout[];
  samples: { t: number; step: number; fraction: number | null }[];
  stderrTail: string;
  lastPersist: number;
  persistTimer: NodeJS.Timeout | null;
  done: Promise<void>;
  resolveDone: () => void;
}

const ETA_WINDOW_MS = 30_000;
const JOB_STATES: JobState[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'];

function newJobId(): string {
  return `job-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

function defaultWorkerEntry(): string {
  const here = import.meta.url;
  const ext = here.endsWith('.ts') ? '.ts' : here.endsWith('.mjs') ? '.mjs' : '.js';
  return fileURLToPath(new URL(`./worker${ext}`, here));
}

function sanitizeProgress(p: Partial<JobProgress> & { step: number }): JobProgress {
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const step = num(p.step) ?? 0;
  const total = num(p.total);
  let fraction = num(p.fraction);
  if (fraction === null && total !== null && total > 0) fraction = step / total;
  if (fraction !== null) fraction = Math.min(1, Math.max(0, fraction));
  const out: JobProgress = { step, total, fraction };
  if (p.loss !== undefined) out.loss = num(p.loss);
  if (p.retainAccuracy !== undefined) out.retainAccuracy = num(p.retainAccuracy);
  if (p.forgetAccuracy !== undefined) out.forgetAccuracy = num(p.forgetAccuracy);
  if (p.testAccuracy !== undefined) out.testAccuracy = num(p.testAccuracy);
  if (typeof p.stage === 'string') out.stage = p.stage.slice(0, 200);
  if (p.etaSeconds !== undefined) out.etaSeconds = num(p.etaSeconds);
  if (typeof p.message === 'string') out.message = p.message.slice(0, 500);
  return out;
}

/** Per-job log size cap: a runaway job cannot fill the disk through its log. */
const LOG_CAP_BYTES = 2_000_000;

export class JobRunner extends EventEmitter {
  private readonly ws: Workspace;
  private readonly entry: string;
  private readonly kindModules: string[];
  private readonly jobs = new Map<string, JobEntry>();
  private readonly running = new Map<string, RunningJob>();
  private readonly writes = new Set<Promise<unknown>>();
  private idle: PooledWorker[] = [];
  private readonly retiring = new Set<PooledWorker>();
  private readonly exitWaiters: (() => void)[] = [];
  private concurrency: number;
  private settings: { executionProvider: string; intraOpThreads: number };
  private nextSeq = 1;
  /** per-job log appends, serialised; and bytes written per job (capped at LOG_CAP_BYTES) */
  private readonly logWrites = new Map<string, Promise<void>>();
  private readonly logBytes = new Map<string, number>();
  private logDirReady: Promise<unknown> | null = null;
  private closing = false;
  private closed = false;

  private constructor(
    private readonly opts: JobRunnerOptions,
    private readonly handlers: Map<string, JobHandler>,
  ) {
    super();
    this.ws = opts.workspace;
    this.entry = opts.workerEntry ?? defaultWorkerEntry();
    this.kindModules = opts.kindModules ?? [];
    this.concurrency = JobRunner.checkConcurrency(opts.concurrency);
    this.settings = { ...opts.settings };
  }

  static async create(opts: JobRunnerOptions): Promise<JobRunner> {
    const runner = new JobRunner(opts, await loadJobKinds(opts.kindModules ?? []));
    await runner.load();
    runner.schedule();
    return runner;
  }

  private static checkConcurrency(n: unknown): number {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 64) {
      throw new ApiError('invalid_argument', `Job concurrency must be a whole number from 1 to 64, got ${JSON.stringify(n)}.`);
    }
    return n;
  }

  /** Read the persisted queue; jobs that were running when Lethe stopped become interrupted. */
  private async load(): Promise<void> {
    const records = await this.ws.listRecords<JobRecordData>('jobs');
    const now = new Date().toISOString();
    for (const r of records) {
      const d = r.data;
      if (!d || typeof d !== 'object' || typeof d.kind !== 'string') continue;
      const info: JobInfo = {
        id: r.id,
        kind: d.kind,
        title: typeof d.title === 'string' ? d.title : d.kind,
        params: d.params ?? null,
        state: d.state,
        createdAt: d.createdAt ?? r.createdAt,
        startedAt: d.startedAt ?? null,
        endedAt: d.endedAt ?? null,
        progress: d.progress ?? null,
        reason: d.reason ?? null,
        result: d.result ?? null,
        resumable: !!d.resumable,
        attempt: Number.isInteger(d.attempt) ? d.attempt : 0,
        dependsOn: Array.isArray(d.dependsOn) ? d.dependsOn.filter((x: unknown): x is string => typeof x === 'string') : [],
      };
      if (!JOB_STATES.includes(info.state)) {
        info.state = 'failed';
        info.reason = `Its stored state ${JSON.stringify(String(d.state).slice(0, 40))} is not one this Lethe knows.`;
        info.endedAt = info.endedAt ?? now;
      }
      const entry: JobEntry = { info, seq: Number.isFinite(d.seq) ? d.seq : this.nextSeq, checkpoint: r.blobs.checkpoint ?? null };
      this.nextSeq = Math.max(this.nextSeq, entry.seq + 1);
      this.jobs.set(r.id, entry);
      if (info.state === 'running') {
        info.state = 'interrupted';
        info.reason = INTERRUPTED_REASON;
        info.endedAt = now;
        info.resumable = this.canResume(entry);
        if (info.progress) info.progress = { ...info.progress, etaSeconds: null };
        await this.persist(entry);
      }
    }
  }

  private canResume(e: JobEntry): boolean {
    return !!this.handlers.get(e.info.kind)?.resumable && e.checkpoint !== null;
  }

  // ---------- public API ----------

  kinds(): { kind: string; description: string; resumable: boolean }[] {
    return [...this.handlers.values()].map((h) => ({ kind: h.kind, description: h.description, resumable: h.resumable }));
  }

  async list(filter: { states?: JobState[] } = {}): Promise<JobInfo[]> {
    const states = filter.states ? new Set(filter.states) : null;
    return [...this.jobs.values()]
      .filter((e) => !states || states.has(e.info.state))
      .sort((a, b) => a.seq - b.seq)
      .map((e) => structuredClone(e.info));
  }

  async get(id: string): Promise<JobInfo | null> {
    const e = this.jobs.get(id);
    return e ? structuredClone(e.info) : null;
  }

  private logFile(id: string): string {
    return join(this.ws.root, 'logs', 'jobs', `${id.replace(/[^A-Za-z0-9._-]/g, '_')}.jsonl`);
  }

  /**
   * Append a log line to the job's log file (<workspace>/logs/jobs/<id>.jsonl, one JSON object per
   * line). Appends are serialised per job and reach the OS before the next one starts, so a crash or
   * kill -9 of the backend loses at most the line being written (a torn last line is skipped on read).
   */
  private persistLog(id: string, level: JobLogEntry['level'], message: string): void {
    const used = this.logBytes.get(id) ?? 0;
    if (used >= LOG_CAP_BYTES) return;
    let line = JSON.stringify({ time: new Date().toISOString(), level, message }) + '\n';
    const next = used + Buffer.byteLength(line);
    if (next >= LOG_CAP_BYTES) line = JSON.stringify({ time: new Date().toISOString(), level: 'warn', message: `The log reached ${LOG_CAP_BYTES / 1e6} MB; later lines are not kept.` }) + '\n';
    this.logBytes.set(id, next);
    this.logDirReady ??= mkdir(join(this.ws.root, 'logs', 'jobs'), { recursive: true });
    const prev = this.logWrites.get(id) ?? this.logDirReady;
    const p = prev
      .then(() => appendFile(this.logFile(id), line))
      .catch((err: Error) => console.error(`lethe: could not write the log of job ${id}: ${err.message}`));
    this.logWrites.set(id, p);
    void p.then(() => {
      if (this.logWrites.get(id) === p) this.logWrites.delete(id);
    });
  }

  /** A job's persisted log, oldest first; `limit` keeps the newest lines. */
  async logs(id: string, limit = 1000): Promise<{ lines: JobLogEntry[]; truncated: boolean }> {
    if (!this.jobs.has(id)) throw new ApiError('not_found', `There is no job '${id}'.`);
    await this.logWrites.get(id);
    const text = await readFile(this.logFile(id), 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    const lines: JobLogEntry[] = [];
    for (const raw of text.split('\n')) {
      if (!raw) continue;
      try {
        const o = JSON.parse(raw) as JobLogEntry;
        if (typeof o.time === 'string' && typeof o.message === 'string' && (o.level === 'info' || o.level === 'warn' || o.level === 'error')) lines.push({ time: o.time, level: o.level, message: o.message });
      } catch {
        // a line torn by a crash mid-append
      }
    }
    return { lines: lines.slice(-limit), truncated: lines.length > limit };
  }

  async submit(spec: JobSubmit): Promise<JobInfo> {
    this.assertOpen();
    if (!spec || typeof spec !== 'object') throw new ApiError('invalid_argument', 'A job needs a kind and params.');
    const handler = this.handlers.get(spec.kind);
    if (!handler) {
      throw new ApiError('invalid_argument', `Unknown job kind ${JSON.stringify(String(spec.kind).slice(0, 60))}; known kinds: ${[...this.handlers.keys()].join(', ')}.`);
    }
    const params = handler.validate(spec.params);
    const dependsOn = spec.dependsOn ?? [];
    if (!Array.isArray(dependsOn) || dependsOn.some((d) => typeof d !== 'string') || dependsOn.length > 10_000) {
      throw new ApiError('invalid_argument', 'dependsOn must be a list of job ids.');
    }
    for (const d of dependsOn) if (!this.jobs.has(d)) throw new ApiError('invalid_argument', `dependsOn names job '${d.slice(0, 60)}', which does not exist.`);
    if (spec.title !== undefined && (typeof spec.title !== 'string' || spec.title.length > 200)) {
      throw new ApiError('invalid_argument', 'A job title must be a string of at most 200 characters.');
    }
    const entry: JobEntry = {
      seq: this.nextSeq++,
      checkpoint: null,
      info: {
        id: newJobId(),
        kind: handler.kind,
        title: spec.title?.trim() || handler.description,
        params: params === undefined ? null : JSON.parse(JSON.stringify(params)),
        state: 'queued',
        createdAt: new Date().toISOString(),
        startedAt: null,
        endedAt: null,
        progress: null,
        reason: null,
        result: null,
        resumable: false,
        attempt: 0,
        dependsOn: [...new Set(dependsOn)],
      },
    };
    await this.persist(entry);
    this.jobs.set(entry.info.id, entry);
    this.emitState(entry);
    const submitted = structuredClone(entry.info);
    this.schedule();
    return submitted;
  }

  /** Cancel a job. A running one is signalled, then SIGTERM'd (2 s) and SIGKILL'd (4 s); resolves when it has ended. */
  async cancel(id: string): Promise<JobInfo> {
    this.assertOpen();
    const e = this.mustGet(id);
    const s = e.info.state;
    if (s === 'running') {
      const run = this.running.get(id)!;
      if (!run.cancelRequested) {
        run.cancelRequested = true;
        this.sendTo(run, { type: 'cancel' });
        const term = this.opts.cancelTermAfterMs ?? 2000;
        const kill = this.opts.cancelKillAfterMs ?? 4000;
        run.timers.push(
          setTimeout(() => {
            run.killedAfterCancel = true;
            run.child.kill('SIGTERM');
          }, term),
          setTimeout(() => run.child.kill('SIGKILL'), kill),
        );
      }
      await run.done;
      return structuredClone(e.info);
    }
    if (s === 'queued' || s === 'interrupted') {
      e.info.state = 'cancelled';
      e.info.reason = s === 'queued' ? 'Cancelled by the user before it started.' : 'Cancelled by the user after it was interrupted.';
      e.info.endedAt = new Date().toISOString();
      e.info.resumable = false;
      await this.persist(e);
      this.emitState(e);
      return structuredClone(e.info);
    }
    throw new ApiError('conflict', `Job ${id} has already ended (${s}); there is nothing to cancel.`);
  }

  /** Requeue an interrupted or failed job of a resumable kind; it continues from its checkpoint. */
  async resume(id: string): Promise<JobInfo> {
    this.assertOpen();
    const e = this.mustGet(id);
    if (e.info.state !== 'interrupted' && e.info.state !== 'failed') {
      throw new ApiError('conflict', `Job ${id} is ${e.info.state}; only interrupted or failed jobs can be resumed.`);
    }
    if (!this.canResume(e)) {
      const h = this.handlers.get(e.info.kind);
      throw new ApiError(
        'conflict',
        !h
          ? `Job ${id} cannot be resumed: this Lethe has no handler for kind ${e.info.kind}.`
          : !h.resumable
            ? `Job ${id} cannot be resumed: ${e.info.kind} jobs do not support resuming; submit it again instead.`
            : `Job ${id} cannot be resumed: it saved no checkpoint before it stopped; submit it again instead.`,
      );
    }
    e.info.state = 'queued';
    e.info.reason = null;
    e.info.endedAt = null;
    e.info.resumable = false;
    e.seq = this.nextSeq++;
    const resumed = structuredClone(e.info);
    await this.persist(e);
    this.emitState(e);
    this.schedule();
    return resumed;
  }

  /** execution settings handed to jobs started from now on (running jobs keep theirs) */
  setSettings(settings: { executionProvider: string; intraOpThreads: number }): void {
    this.settings = { executionProvider: settings.executionProvider, intraOpThreads: settings.intraOpThreads };
  }

  setConcurrency(n: number): void {
    this.concurrency = JobRunner.checkConcurrency(n);
    this.schedule();
  }

  /** pids of the running workers (diagnostics and tests) */
  workerPids(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, r] of this.running) if (r.child.pid !== undefined) out[id] = r.child.pid;
    return out;
  }

  /**
   * Stop: no new jobs start; running workers are stopped (SIGTERM, then SIGKILL after 2 s) and their
   * jobs recorded as interrupted (resumable where possible); resolves when every worker is gone and
   * every record write is durable. Does not close the workspace.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    const waits: Promise<void>[] = [];
    for (const run of this.running.values()) {
      run.child.kill('SIGTERM');
      run.timers.push(setTimeout(() => run.child.kill('SIGKILL'), 2000));
      waits.push(run.done);
    }
    await Promise.all(waits);
    for (const w of this.idle.splice(0)) {
      if (w.idleTimer) clearTimeout(w.idleTimer);
      this.retireWorker(w);
    }
    // no orphans: wait until every worker process has exited
    while ([...this.retiring].some((w) => !w.exited)) await new Promise<void>((r) => this.exitWaiters.push(r));
    while (this.writes.size) await Promise.allSettled([...this.writes]);
    this.closed = true;
    this.removeAllListeners();
  }

  // ---------- scheduling and workers ----------

  private schedule(): void {
    if (this.closing) return;
    const queued = [...this.jobs.values()].filter((e) => e.info.state === 'queued').sort((a, b) => a.seq - b.seq);
    for (const e of queued) {
      const deps = (e.info.dependsOn ?? []).map((d) => this.jobs.get(d));
      const broken = deps.find((d) => !d || d.info.state === 'failed' || d.info.state === 'cancelled');
      if (broken !== undefined || deps.length !== (e.info.dependsOn ?? []).length) {
        e.info.state = 'failed';
        e.info.reason = broken
          ? `It depended on job ${broken.info.id} (${broken.info.title}), which ${broken.info.state === 'failed' ? 'failed' : 'was cancelled'}${broken.info.reason ? `: ${broken.info.reason}` : '.'}`
          : 'A job it depended on no longer exists.';
        e.info.endedAt = new Date().toISOString();
        void this.persistAndEmit(e).finally(() => this.schedule());
        continue;
      }
      if (deps.some((d) => d!.info.state !== 'succeeded')) continue;
      if (this.running.size >= this.concurrency) break;
      this.start(e);
    }
  }

  private start(e: JobEntry): void {
    const info = e.info;
    const handler = this.handlers.get(info.kind);
    const now = new Date().toISOString();
    if (!handler) {
      info.state = 'failed';
      info.reason = `This Lethe has no handler for job kind ${info.kind}.`;
      info.endedAt = now;
      void this.persistAndEmit(e);
      return;
    }
    // Resume from a checkpoint only when the job was explicitly resumed (attempt > 0 and a checkpoint).
    const checkpoint = info.attempt > 0 && handler.resumable ? e.checkpoint : null;
    if (!checkpoint) e.checkpoint = null;
    info.state = 'running';
    info.startedAt = now;
    info.endedAt = null;
    info.reason = null;
    info.result = null;
    info.resumable = false;
    info.attempt += 1;
    if (info.progress) info.progress = { ...info.progress, etaSeconds: null };

    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    let w: PooledWorker;
    try {
      w = this.acquireWorker();
    } catch (err) {
      info.state = 'failed';
      info.reason = `Could not start a worker process: ${(err as Error).message}`;
      info.endedAt = now;
      void this.persistAndEmit(e);
      return;
    }
    const run: RunningJob = {
      child: w.child,
      final: null,
      cancelRequested: false,
      killedAfterCancel: false,
      timers: [],
      samples: [],
      stderrTail: '',
      lastPersist: Date.now(),
      persistTimer: null,
      done,
      resolveDone,
    };
    w.job = { entry: e, run };
    this.running.set(info.id, run);
    void this.persistAndEmit(e);

    const start: WorkerStart = {
      type: 'start',
      jobId: info.id,
      kind: info.kind,
      params: info.params,
      workspaceRoot: this.ws.root,
      checkpoint,
      settings: this.settings,
      kindModules: this.kindModules,
      dependencies: (info.dependsOn ?? []).map((d) => {
        const dep = this.jobs.get(d)!.info;
        return { id: dep.id, kind: dep.kind, result: dep.result };
      }),
    };
    this.sendTo(run, start);
  }

  // ---------- worker processes ----------
  // A worker that finished a job successfully goes back to an idle pool and takes the next job
  // (saves the process start-up, ~0.3-0.5 s with tsx); one that failed, was cancelled or crashed is
  // never reused. Idle workers exit after IDLE_WORKER_MS.

  private acquireWorker(): PooledWorker {
    while (this.idle.length) {
      const w = this.idle.pop()!;
      if (w.idleTimer) clearTimeout(w.idleTimer);
      w.idleTimer = null;
      if (!w.exited && w.child.connected) return w;
    }
    return this.forkWorker();
  }

  private releaseWorker(w: PooledWorker): void {
    w.job = null;
    if (this.closing || w.exited || !w.child.connected || this.idle.length >= this.concurrency) {
      this.retireWorker(w);
      return;
    }
    w.idleTimer = setTimeout(() => {
      this.idle = this.idle.filter((x) => x !== w);
      this.retireWorker(w);
    }, IDLE_WORKER_MS);
    w.idleTimer.unref();
    this.idle.push(w);
  }

  private retireWorker(w: PooledWorker): void {
    if (w.exited) return;
    if (w.child.connected) w.child.disconnect(); // the worker exits on disconnect
    const t = setTimeout(() => w.child.kill('SIGKILL'), 2000);
    t.unref();
    this.retiring.add(w);
  }

  private forkWorker(): PooledWorker {
    const execArgv: string[] = [];
    if (/\.[cm]?ts$/.test(this.entry)) execArgv.push('--import', 'tsx');
    if (this.opts.workerMaxHeapMb) execArgv.push(`--max-old-space-size=${Math.floor(this.opts.workerMaxHeapMb)}`);
    const child = (this.opts.spawnWorker ?? forkWorkerProcess)(this.entry, execArgv);
    // Workers run at a lower CPU priority so the backend (and the UI it serves) stays responsive.
    if (child.pid !== undefined && this.opts.workerNice !== 0) {
      try {
        setPriority(child.pid, this.opts.workerNice ?? 10);
      } catch {
        /* not permitted on this system: run at normal priority */
      }
    }
    const w: PooledWorker = { child, job: null, idleTimer: null, exited: false };
    const lines = (level: 'info' | 'warn') => {
      let buf = '';
      return (d: Buffer) => {
        const s = d.toString('utf8');
        if (level === 'warn' && w.job) w.job.run.stderrTail = (w.job.run.stderrTail + s).slice(-8192);
        buf += s;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).trimEnd();
          buf = buf.slice(i + 1);
          if (line && w.job) this.emitEvent({ type: 'log', id: w.job.entry.info.id, level, message: line.slice(0, 2000) });
        }
        if (buf.length > 8192) buf = buf.slice(-8192);
      };
    };
    child.stdout!.on('data', lines('info'));
    child.stderr!.on('data', lines('warn'));
    child.on('message', (m) => {
      const job = w.job;
      if (!job) return;
      this.onWorkerMessage(job.entry, job.run, m as FromWorker);
      if ((m as FromWorker)?.type === 'result') {
        // success: the job is done now; the worker stays alive for the next job
        this.onJobEnded(job.entry, job.run, { code: 0, signal: null });
        this.releaseWorker(w);
      }
    });
    const onGone = (code: number | null, signal: NodeJS.Signals | null, spawnError?: string) => {
      if (w.exited) return;
      w.exited = true;
      if (w.idleTimer) clearTimeout(w.idleTimer);
      this.idle = this.idle.filter((x) => x !== w);
      this.retiring.delete(w);
      const job = w.job;
      w.job = null;
      if (job) this.onJobEnded(job.entry, job.run, { code, signal, spawnError });
      for (const f of this.exitWaiters.splice(0)) f();
    };
    child.on('error', (err) => {
      // spawn failure: 'exit' may never come
      if (child.pid === undefined) onGone(null, null, `Could not start a worker process: ${err.message}`);
    });
    // 'exit' can come before the last IPC messages are delivered: finish once the channel is
    // closed too (or after a short grace period).
    child.on('exit', (code, signal) => {
      if (!child.connected) return onGone(code, signal);
      const grace = setTimeout(() => onGone(code, signal), 500);
      child.once('disconnect', () => {
        clearTimeout(grace);
        onGone(code, signal);
      });
    });
    return w;
  }

  private sendTo(run: RunningJob, msg: ToWorker): void {
    if (run.child.connected) {
      run.child.send(msg, (err) => {
        if (err && run.child.connected) this.emitEvent({ type: 'log', id: '', level: 'warn', message: `Could not message a job worker: ${err.message}` });
      });
    }
  }

  private onWorkerMessage(e: JobEntry, run: RunningJob, m: FromWorker): void {
    if (!m || typeof m !== 'object') return;
    const id = e.info.id;
    switch (m.type) {
      case 'progress': {
        if (!m.progress || typeof m.progress.step !== 'number') return;
        const p = sanitizeProgress(m.progress);
        if (p.etaSeconds === undefined || p.etaSeconds === null) p.etaSeconds = this.eta(run, p);
        e.info.progress = p;
        this.emitEvent({ type: 'progress', id, progress: p });
        this.persistProgressSoon(e, run);
        return;
      }
      case 'log':
        if (m.level === 'info' || m.level === 'warn' || m.level === 'error') {
          this.emitEvent({ type: 'log', id, level: m.level, message: String(m.message).slice(0, 2000) });
        }
        return;
      case 'checkpoint': {
        const seq = m.seq;
        e.checkpoint = { sha256: m.blob.sha256, size: m.blob.size };
        this.persist(e).then(
          () => this.sendTo(run, { type: 'checkpointSaved', seq }),
          (err: Error) => this.sendTo(run, { type: 'checkpointSaved', seq, error: `The checkpoint could not be recorded: ${err.message}` }),
        );
        return;
      }
      case 'result':
      case 'error':
      case 'cancelled':
        run.final = m;
        return;
    }
  }

  /** seconds left from the progress rate (fraction, else steps) over the last ETA_WINDOW_MS of this attempt */
  private eta(run: RunningJob, p: JobProgress): number | null {
    const t = Date.now();
    run.samples.push({ t, step: p.step, fraction: p.fraction });
    while (run.samples.length > 2 && t - run.samples[0]!.t > ETA_WINDOW_MS) run.samples.shift();
    if (run.samples.length < 2) return null;
    const first = run.samples[0]!;
    const dt = (t - first.t) / 1000;
    if (dt <= 0) return null;
    if (p.fraction !== null && first.fraction !== null) {
      const df = p.fraction - first.fraction;
      return df > 0 ? Math.max(0, (1 - p.fraction) / (df / dt)) : null;
    }
    const ds = p.step - first.step;
    if (p.total === null || ds <= 0) return null;
    return Math.max(0, (p.total - p.step) / (ds / dt));
  }

  private persistProgressSoon(e: JobEntry, run: RunningJob): void {
    const every = this.opts.persistProgressEveryMs ?? 2000;
    if (run.persistTimer) return;
    const wait = Math.max(0, every - (Date.now() - run.lastPersist));
    run.persistTimer = setTimeout(() => {
      run.persistTimer = null;
      if (e.info.state !== 'running' || this.running.get(e.info.id) !== run) return;
      run.lastPersist = Date.now();
      void this.persist(e).catch(() => {});
    }, wait);
  }

  private onJobEnded(e: JobEntry, run: RunningJob, how: { code: number | null; signal: NodeJS.Signals | null; spawnError?: string }): void {
    const { code, signal, spawnError } = how;
    if (this.running.get(e.info.id) !== run) return; // already handled
    this.running.delete(e.info.id);
    for (const t of run.timers) clearTimeout(t);
    if (run.persistTimer) clearTimeout(run.persistTimer);
    const info = e.info;
    const f = run.final;
    info.endedAt = new Date().toISOString();
    if (info.progress) info.progress = { ...info.progress, etaSeconds: null };
    if (f?.type === 'result' && code === 0) {
      info.state = 'succeeded';
      info.result = f.result;
      info.reason = null;
    } else if (this.closing && !run.cancelRequested) {
      info.state = 'interrupted';
      info.reason = INTERRUPTED_REASON;
    } else if (run.cancelRequested) {
      info.state = 'cancelled';
      info.reason =
        f?.type === 'cancelled' || !run.killedAfterCancel
          ? 'Cancelled by the user.'
          : `Cancelled by the user; the worker did not stop by itself and was ended with ${signal ?? 'a signal'}.`;
    } else if (spawnError) {
      info.state = 'failed';
      info.reason = spawnError;
    } else if (f?.type === 'error') {
      info.state = 'failed';
      info.reason = f.message;
    } else {
      info.state = 'failed';
      info.reason = this.crashReason(run, code, signal);
    }
    info.resumable = (info.state === 'interrupted' || info.state === 'failed') && this.canResume(e);
    void this.persistAndEmit(e).finally(() => {
      run.resolveDone();
      this.schedule();
    });
  }

  private crashReason(run: RunningJob, code: number | null, signal: NodeJS.Signals | null): string {
    const err = run.stderrTail;
    if (/heap out of memory|Reached heap limit|Allocation failed|ERR_WORKER_OUT_OF_MEMORY/i.test(err)) {
      const cap = this.opts.workerMaxHeapMb ? ` (its heap limit is ${this.opts.workerMaxHeapMb} MiB)` : '';
      return `The job ran out of memory${cap}.`;
    }
    if (signal) return `The worker process was killed by ${signal}.`;
    const lastLine = err.trim().split('\n').pop()?.trim();
    if (code === 0) return 'The worker process exited without reporting a result.';
    return `The worker process exited unexpectedly with code ${code}${lastLine ? `: ${lastLine.slice(0, 300)}` : ''}.`;
  }

  // ---------- persistence and events ----------

  private persist(e: JobEntry): Promise<void> {
    const { id, ...rest } = e.info;
    void id;
    const data: JobRecordData = { ...rest, seq: e.seq };
    const blobs: Record<string, BlobRef> = e.checkpoint ? { checkpoint: e.checkpoint } : {};
    const p = this.ws.putRecord('jobs', e.info.id, data, blobs).then(() => {});
    this.writes.add(p);
    const done = () => this.writes.delete(p);
    p.then(done, done);
    return p;
  }

  private async persistAndEmit(e: JobEntry): Promise<void> {
    try {
      await this.persist(e);
    } catch (err) {
      this.emitEvent({ type: 'log', id: e.info.id, level: 'error', message: `Could not record the job's state: ${(err as Error).message}` });
    }
    this.emitState(e);
  }

  private emitState(e: JobEntry): void {
    this.emitEvent({ type: 'state', job: structuredClone(e.info) });
  }

  private emitEvent(ev: JobEvent): void {
    if (ev.type === 'log' && ev.id && this.jobs.has(ev.id)) this.persistLog(ev.id, ev.level, ev.message);
    try {
      this.emit('event', ev);
    } catch (err) {
      // a failing listener must not break the runner
      console.error('lethe: a job event listener failed', err);
    }
  }

  private mustGet(id: string): JobEntry {
    if (typeof id !== 'string') throw new ApiError('invalid_argument', 'A job id must be a string.');
    const e = this.jobs.get(id);
    if (!e) throw new ApiError('not_found', `No job with id ${JSON.stringify(id.slice(0, 80))}.`);
    return e;
  }

  private assertOpen(): void {
    if (this.closing) throw new ApiError('unavailable', 'The job runner is shutting down.');
  }
}

export function createJobRunner(opts: JobRunnerOptions): Promise<JobRunner> {
  return JobRunner.create(opts);
}
