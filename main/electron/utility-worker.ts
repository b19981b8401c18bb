// Job workers as Electron utility processes. The RunAsNode fuse is off (fuses.ts), so the job
// runner's default child_process.fork (which re-runs the Electron binary with ELECTRON_RUN_AS_NODE)
// cannot start Node.js in the packaged app. This adapter starts the same worker entry with
// utilityProcess.fork and gives the runner the part of ChildProcess it uses (pid, stdout/stderr,
// connected, send, disconnect, kill, 'message' / 'exit' / 'disconnect' / 'error' events). The worker
// side talks through process.parentPort (main/backend/jobs/worker.ts); a { type: 'disconnect' }
// message stands in for closing the IPC channel.

import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { SpawnWorker } from '../backend/jobs/runner';

/** The part of Electron's UtilityProcess the adapter uses (tests pass a fake). */
export interface UtilityProcessLike {
  readonly pid: number | undefined;
  readonly stdout: NodeJS.ReadableStream | null;
  readonly stderr: NodeJS.ReadableStream | null;
  postMessage(message: unknown): void;
  kill(): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
}

/** The part of Electron's `utilityProcess` module the adapter uses. */
export interface UtilityProcessModuleLike {
  fork(modulePath: string, args: string[], options: { execArgv: string[]; stdio: 'pipe'; serviceName: string }): UtilityProcessLike;
}

export const WORKER_DISCONNECT = Object.freeze({ type: 'disconnect' });

export function utilityWorkerSpawner(utilityProcess: UtilityProcessModuleLike): SpawnWorker {
  return (entry, execArgv) => {
    const p = utilityProcess.fork(entry, [], { execArgv, stdio: 'pipe', serviceName: 'Lethe job worker' });
    const child = new EventEmitter();
    let connected = true;
    const closeChannel = () => {
      if (!connected) return;
      connected = false;
      child.emit('disconnect');
    };
    Object.defineProperties(child, {
      pid: { get: () => p.pid },
      stdout: { value: p.stdout },
      stderr: { value: p.stderr },
      connected: { get: () => connected },
    });
    Object.assign(child, {
      send(message: unknown, callback?: (error: Error | null) => void): boolean {
        if (!connected) {
          if (callback) queueMicrotask(() => callback(new Error('the worker channel is closed')));
          return false;
        }
        p.postMessage(message);
        if (callback) queueMicrotask(() => callback(null));
        return true;
      },
      disconnect(): void {
        if (!connected) return;
        p.postMessage(WORKER_DISCONNECT);
        closeChannel();
      },
      // a utility process has no signals: any kill ends it
      kill(): boolean {
        return p.kill();
      },
    });
    p.on('message', (m) => child.emit('message', m));
    p.on('exit', (code) => {
      closeChannel();
      child.emit('exit', code, null);
    });
    return child as unknown as ChildProcess;
  };
}
