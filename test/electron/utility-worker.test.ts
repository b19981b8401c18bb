// Issue 9, point 6: with the RunAsNode fuse off, the desktop app cannot child_process.fork its job
// workers, so they run as Electron utility processes through main/electron/utility-worker.ts. The
// adapter is tested against a fake utilityProcess, and end to end: the job runner runs a real job in
// the real worker entry speaking through process.parentPort (a shim gives a plain Node.js child the
// port Electron's utility processes have).

import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { WORKER_DISCONNECT, utilityWorkerSpawner, type UtilityProcessLike, type UtilityProcessModuleLike } from '../../main/electron/utility-worker';
import { harness } from '../backend/jobs/helpers';

function fakeUtility() {
  const posted: unknown[] = [];
  const calls: { modulePath: string; execArgv: string[] }[] = [];
  const proc = Object.assign(new EventEmitter(), { pid: 4242, stdout: new PassThrough(), stderr: new PassThrough(), killed: 0 });
  const mod: UtilityProcessModuleLike = {
    fork(modulePath, _args, options) {
      calls.push({ modulePath, execArgv: options.execArgv });
      return Object.assign(proc, { postMessage: (m: unknown) => void posted.push(m), kill: () => ((proc.killed += 1), true) }) as unknown as UtilityProcessLike;
    },
  };
  return { mod, proc, posted, calls };
}

describe('job workers as utility processes', () => {
  it('gives the runner the ChildProcess surface it uses', async () => {
    const f = fakeUtility();
    const child = utilityWorkerSpawner(f.mod)('/app/out/main/worker.js', ['--max-old-space-size=512']);
    expect(f.calls).toEqual([{ modulePath: '/app/out/main/worker.js', execArgv: ['--max-old-space-size=512'] }]);
    expect(child.pid).toBe(4242);
    expect(child.connected).toBe(true);
    expect(child.stdout).toBe(f.proc.stdout);
    const sent = await new Promise<Error | null>((resolve) => child.send({ type: 'cancel' }, resolve));
    expect(sent).toBeNull();
    expect(f.posted).toEqual([{ type: 'cancel' }]);
    const got: unknown[] = [];
    child.on('message', (m) => got.push(m));
    f.proc.emit('message', { type: 'result', result: 1 });
    expect(got).toEqual([{ type: 'result', result: 1 }]);
    const events: string[] = [];
    child.on('disconnect', () => events.push('disconnect'));
    child.on('exit', (code, signal) => events.push(`exit ${code} ${signal}`));
    child.disconnect();
    expect(f.posted.at(-1)).toEqual(WORKER_DISCONNECT);
    expect(child.connected).toBe(false);
    expect(await new Promise((r) => child.send({ type: 'cancel' }, r))).toBeInstanceOf(Error);
    child.kill('SIGKILL');
    expect(f.proc.killed).toBe(1);
    f.proc.emit('exit', 3);
    expect(events).toEqual(['disconnect', 'exit 3 null']);
  });

  it('an exit without a disconnect closes the channel first, as the runner expects', () => {
    const f = fakeUtility();
    const child = utilityWorkerSpawner(f.mod)('/w.js', []);
    const events: string[] = [];
    child.on('disconnect', () => events.push(`disconnect connected=${child.connected}`));
    child.on('exit', (code) => events.push(`exit ${code} connected=${child.connected}`));
    f.proc.emit('exit', 1);
    expect(events).toEqual(['disconnect connected=false', 'exit 1 connected=false']);
  });

  it('the job runner runs a real job in the real worker through process.parentPort', { timeout: 120_000 }, async () => {
    const shim = path.join(__dirname, 'fixtures/parent-port-shim.mjs');
    const spawned: ChildProcess[] = [];
    // utilityProcess.fork, played by a Node.js child that has a parentPort (the shim) and no fork-only paths
    const mod: UtilityProcessModuleLike = {
      fork(modulePath, _args, options) {
        const cp = fork(shim, [modulePath], { execArgv: options.execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced' });
        spawned.push(cp);
        return {
          get pid() {
            return cp.pid;
          },
          stdout: cp.stdout,
          stderr: cp.stderr,
          postMessage: (m: unknown) => void cp.send(m as never),
          kill: () => cp.kill(),
          on(event: string, listener: (x: unknown) => void) {
            if (event === 'message') cp.on('message', (m) => listener(m));
            else cp.on('exit', (code) => listener(code ?? -1));
            return this;
          },
        } as UtilityProcessLike;
      },
    };
    const h = await harness({ spawnWorker: utilityWorkerSpawner(mod), concurrency: 1 });
    try {
      const job = await h.runner.submit({ kind: 'test.steps', params: { steps: 3, ms: 5 }, title: 'three steps' });
      const done = await h.until(job.id, ['succeeded', 'failed'], 100_000);
      expect(done.reason).toBeNull();
      expect(done.state).toBe('succeeded');
      expect(done.result).toEqual({ stepsRun: [0, 1, 2] });
      expect(spawned.length).toBeGreaterThan(0);
    } finally {
      await h.dispose();
    }
    // the runner let its workers go: each got the disconnect message and exited
    await Promise.all(spawned.map((cp) => (cp.exitCode !== null ? null : new Promise((r) => cp.once('exit', r)))));
    expect(spawned.every((cp) => cp.exitCode !== null || cp.signalCode !== null)).toBe(true);
  });
});
