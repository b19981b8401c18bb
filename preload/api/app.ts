import type { MethodDef } from './common';

export interface AppInfo {
  name: 'Lethe';
  version: string;
  /** 'electron' inside the desktop app, 'web' for the browser build, 'cli' for the command line */
  shell: 'electron' | 'web' | 'cli';
  versions: { node: string; electron: string | null; onnxruntime: string; chrome: string | null };
  platform: string;
  arch: string;
  cpus: number;
  /** true when 'app.pickPath' opens the system's file dialog (the desktop app); the browser build types paths */
  canPickPaths: boolean;
}

export interface PickPathArgs {
  mode: 'file' | 'folder';
  title?: string;
  /** file mode: e.g. [{ name: 'ONNX models', extensions: ['onnx'] }] */
  filters?: { name: string; extensions: string[] }[];
}

export interface PickPathResult {
  /** the chosen path (absolute), or empty when the user cancelled */
  paths: string[];
}

export interface WorkspaceInfo {
  root: string;
  /** counts of records per kind */
  counts: Record<'datasets' | 'models' | 'forgetSets' | 'runs' | 'reports', number>;
  /** records found corrupt on open and moved to quarantine */
  quarantined: { kind: string; id: string; reason: string }[];
  /** what the blob store holds, and what nothing uses (freed by `lethe workspace gc` and after deletes) */
  storage: WorkspaceStorage;
}

export interface WorkspaceStorage {
  blobs: { count: number; bytes: number };
  /** blobs no record refers to */
  unreferenced: { count: number; bytes: number };
  /** training-data cache files of datasets that no longer exist */
  staleCache: { count: number; bytes: number };
}

export type Theme = 'light' | 'dark' | 'system';
export type ExecutionProviderName = 'cpu' | 'cuda' | 'webgpu' | 'dml' | 'coreml';

export interface Settings {
  theme: Theme;
  executionProvider: ExecutionProviderName;
  /** 0 = let onnxruntime decide */
  intraOpThreads: number;
  /** how many jobs may run at once */
  jobConcurrency: number;
}

export interface AppMethods {
  'app.info': MethodDef<Record<string, never>, AppInfo>;
  /** the system's open dialog (desktop app only; 'unavailable' in the browser build) */
  'app.pickPath': MethodDef<PickPathArgs, PickPathResult>;
  'workspace.info': MethodDef<Record<string, never>, WorkspaceInfo>;
  'settings.get': MethodDef<Record<string, never>, Settings>;
  'settings.update': MethodDef<Partial<Settings>, Settings>;
}
