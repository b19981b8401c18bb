// Importer interface: an importer reads one source format, validates it completely, and streams the
// examples into an ExampleSink (the DatasetWriter for a real import, a PreviewSink for a preview).

import type { DatasetFormat, DatasetSpec, ImportLimits, SourceFileInfo, SplitName } from '../store';

export interface ExampleSink {
  readonly warnings: string[];
  readonly count: number;
  add(ex: {
    x: Uint8Array | Float32Array;
    label: number;
    split: SplitName | null;
    id: string;
    meta?: readonly (number | string | null | undefined)[];
  }): Promise<void>;
  addBlock(block: {
    x: Uint8Array | Float32Array;
    labels: ArrayLike<number>;
    split: SplitName | null;
    id: (i: number) => string;
    meta?: (i: number) => readonly (number | string | null | undefined)[];
  }): Promise<void>;
}

export interface ImportProgress {
  done: number;
  total: number | null;
  message?: string;
}

export interface ImportContext {
  signal?: AbortSignal;
  progress?: (p: ImportProgress) => void;
  limits: ImportLimits;
  /** called once by the importer, when the source's shape and classes are known */
  open(spec: DatasetSpec): ExampleSink;
}

export interface ImportOutcome {
  sink: ExampleSink;
  files: SourceFileInfo[];
  /** the source's own split, when it has one */
  sourceSplitDescription?: string;
  /** options after defaults were applied (recorded in the manifest) */
  resolvedOptions: Record<string, unknown>;
}

export interface Importer<O = Record<string, unknown>> {
  format: DatasetFormat;
  /** validate raw options (from the API or the CLI); throws DatasetImportError('bad_option') */
  parseOptions(raw: Record<string, unknown>): O;
  run(source: string, opts: O, ctx: ImportContext): Promise<ImportOutcome>;
}
