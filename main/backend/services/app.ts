// App, workspace-summary and settings service. Used by the API handlers (service.ts) and the CLI.
// Settings live in the workspace as settings.json, written atomically (temp file in the same
// folder, fsync, rename, fsync the folder) so a crash leaves either the old or the new file.

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pkg from '../../../package.json';
import { ApiError } from '../../../preload/api/common';
import type { AppInfo, Settings, WorkspaceInfo } from '../../../preload/api/app';
import type { RecordKind, Workspace } from '../workspace/types';
import { settingsSchema } from '../validation';
import { writeFileAtomic } from '../workspace/atomic';
import { storageUsage } from '../workspace/gc';

export const APP_VERSION: string = pkg.version;

let ortVersion: Promise<string> | null = null;
/** onnxruntime-node's version, as the loaded binding reports it. */
export function onnxruntimeVersion(): Promise<string> {
  ortVersion ??= import('onnxruntime-node')
    .then((ort) => ort.env.versions.node ?? ort.env.versions.common ?? 'unknown')
    .catch(() => 'unavailable');
  return ortVersion;
}

export async function appInfo(shell: AppInfo['shell'], canPickPaths = false): Promise<AppInfo> {
  return {
    name: 'Lethe',
    version: APP_VERSION,
    shell,
    versions: {
      node: process.versions.node,
      electron: process.versions.electron ?? null,
      onnxruntime: await onnxruntimeVersion(),
      chrome: process.versions.chrome ?? null,
    },
    platform: process.platform,
    arch: process.arch,
    cpus: os.availableParallelism?.() ?? os.cpus().length,
    canPickPaths,
  };
}

const COUNTED: Record<keyof WorkspaceInfo['counts'], RecordKind> = {
  datasets: 'datasets',
  models: 'models',
  forgetSets: 'forgetSets',
  runs: 'runs',
  reports: 'reports',
};

export async function workspaceInfo(ws: Workspace): Promise<WorkspaceInfo> {
  const counts = {} as WorkspaceInfo['counts'];
  for (const [key, kind] of Object.entries(COUNTED) as [keyof WorkspaceInfo['counts'], RecordKind][]) {
    counts[key] = (await ws.listRecords(kind)).length;
  }
  return { root: ws.root, counts, quarantined: ws.quarantined(), storage: await storageUsage(ws) };
}

export function defaultSettings(): Settings {
  const cpus = os.availableParallelism?.() ?? os.cpus().length;
  return { theme: 'system', executionProvider: 'cpu', intraOpThreads: 0, jobConcurrency: Math.max(1, cpus - 1) };
}

export const SETTINGS_FILE = 'settings.json';

/** Settings persisted in `<workspace>/settings.json`; updates are serialized. */
export class SettingsStore {
  private current: Settings;
  private queue: Promise<unknown> = Promise.resolve();
  /** why the stored file was ignored at load, if it was */
  readonly loadProblem: string | null;

  private constructor(
    private readonly file: string,
    initial: Settings,
    loadProblem: string | null,
  ) {
    this.current = initial;
    this.loadProblem = loadProblem;
  }

  static async open(workspaceRoot: string): Promise<SettingsStore> {
    const file = path.join(workspaceRoot, SETTINGS_FILE);
    const defaults = defaultSettings();
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new SettingsStore(file, defaults, null);
      throw e;
    }
    try {
      // Unknown or invalid fields fall back to defaults one by one; a file from a newer version keeps what we know.
      const raw = JSON.parse(text) as Record<string, unknown>;
      const merged: Record<string, unknown> = { ...defaults };
      const shape = settingsSchema.shape;
      for (const key of Object.keys(shape) as (keyof Settings)[]) {
        const r = shape[key].safeParse(raw?.[key]);
        if (r.success) merged[key] = r.data;
      }
      return new SettingsStore(file, merged as unknown as Settings, null);
    } catch {
      // Corrupt file: keep it aside for inspection and start from defaults.
      const aside = `${file}.corrupt-${Date.now()}`;
      await fs.rename(file, aside).catch(() => {});
      return new SettingsStore(file, defaults, `settings.json was unreadable and was moved to ${path.basename(aside)}`);
    }
  }

  get(): Settings {
    return { ...this.current };
  }

  update(patch: Partial<Settings>): Promise<Settings> {
    const run = this.queue.then(async () => {
      const next = settingsSchema.safeParse({ ...this.current, ...patch });
      if (!next.success) throw new ApiError('invalid_argument', 'The new settings are not valid.');
      await writeFileAtomic(this.file, JSON.stringify(next.data, null, 2) + '\n');
      this.current = next.data;
      return this.get();
    });
    this.queue = run.catch(() => {});
    return run;
  }
}
