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
  /**
   * Preview mode only (see ImportContext.preview): examples whose pixels or features were not read.
   * They are counted (label, split, ID) exactly as add/addBlock would count them.
   */
  addLabels?(block: { labels: ArrayLike<number>; split: SplitName | null; id: (i: number) => string }): Promise<void>;
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
  /**
   * Preview mode: the importer still validates the format, the headers and every label (so counts,
   * the class histogram and header errors are the same as a full import), but reads and decodes the
   * samples of only the first `maxSamples` examples; the others reach the sink through addLabels.
   */
  preview?: { maxSamples: number };
}

/** How many more examples may still be fed with their samples: unlimited for an import. */
export function sampleRoom(ctx: ImportContext, sink: ExampleSink | null): number {
  if (!ctx.preview) return Infinity;
  return Math.max(0, ctx.preview.maxSamples - (sink?.count ?? 0));
}

/** The sink's addLabels, which a preview sink must have. */
export function labelsOnly(sink: ExampleSink): NonNullable<ExampleSink['addLabels']> {
  if (!sink.addLabels) throw new Error('preview mode needs a sink with addLabels');
  return sink.addLabels.bind(sink);
}

/** Let the event loop run (timers, IPC) between slices of synchronous work. */
export const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Feed a block of examples: with their samples while there is room (always, in a full import), the
 * rest by label only (preview mode). `rowElems` is the number of values per example in `x`.
 */
export async function addBlockPreviewAware(
  ctx: ImportContext,
  sink: ExampleSink,
  rowElems: number,
  block: Parameters<ExampleSink['addBlock']>[0],
): Promise<void> {
  const n = block.labels.length;
  const room = Math.min(n, sampleRoom(ctx, sink));
  if (room >= n) return sink.addBlock(block);
  if (room > 0) {
    await sink.addBlock({
      x: block.x.subarray(0, room * rowElems),
      labels: sliceLabels(block.labels, 0, room),
      split: block.split,
      id: block.id,
      meta: block.meta,
    });
  }
  const rest = sliceLabels(block.labels, room, n);
  await labelsOnly(sink)({ labels: rest, split: block.split, id: (i) => block.id(room + i) });
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

function sliceLabels(labels: ArrayLike<number>, from: number, to: number): ArrayLike<number> {
  if (ArrayBuffer.isView(labels)) return (labels as unknown as Int32Array).subarray(from, to);
  return Array.prototype.slice.call(labels, from, to) as number[];
}
