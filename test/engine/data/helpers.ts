// Shared helpers for the dataset tests: temp folders, a temp workspace, and a strict importer runner
// that fails the test if anything other than a DatasetImportError escapes an importer.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openWorkspace } from '../../../main/backend/workspace';
import type { Workspace } from '../../../main/backend/workspace/types';
import { DatasetImportError } from '../../../main/engine/data/errors';
import { PreviewSink } from '../../../main/engine/data/import';
import { getImporter } from '../../../main/engine/data/importers';
import { DEFAULT_LIMITS, type ImportLimits } from '../../../main/engine/data/store';

export function tempDir(prefix = 'lethe-d1-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function tempWorkspace(): Promise<{ ws: Workspace; dir: string; cleanup(): Promise<void> }> {
  const t = tempDir('lethe-ws-');
  const ws = await openWorkspace(join(t.dir, 'ws'));
  return {
    ws,
    dir: t.dir,
    cleanup: async () => {
      const { closeReaders } = await import('../../../main/backend/services/datasets');
      await closeReaders(ws);
      await ws.close();
      t.cleanup();
    },
  };
}

export type StrictResult = { ok: true; sink: PreviewSink } | { ok: false; error: DatasetImportError };

/** Run an importer into a PreviewSink; any non-DatasetImportError is rethrown (a test failure). */
export async function runStrict(format: string, source: string, options: Record<string, unknown> = {}, limits: Partial<ImportLimits> = {}): Promise<StrictResult> {
  const imp = getImporter(format);
  let sink: PreviewSink | null = null;
  try {
    const opts = imp.parseOptions(options);
    await imp.run(source, opts, {
      limits: { ...DEFAULT_LIMITS, ...limits },
      open: (spec) => (sink = new PreviewSink(spec, 1_000_000)),
    });
    if (!sink) throw new Error('importer finished without opening a sink');
    return { ok: true, sink };
  } catch (e) {
    if (e instanceof DatasetImportError) return { ok: false, error: e };
    throw e;
  }
}

export const KNOWN_CODES = new Set([
  'not_found',
  'bad_magic',
  'bad_header',
  'size_mismatch',
  'count_mismatch',
  'label_range',
  'too_large',
  'bad_image',
  'bad_encoding',
  'bad_csv',
  'bad_value',
  'bad_option',
  'empty',
  'unsupported',
]);

