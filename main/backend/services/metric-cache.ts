// A workspace cache of the expensive per-model numbers (MIA-Efficacy: one SVC fit on 2 x |D_t|
// shadow examples each, 10-60 s on a laptop CPU), keyed by the SHA-256 of the stored outputs they
// were computed from, so a comparison, a sweep or a rerun of the demo never fits the same SVC twice.
// A damaged or missing cache file is simply recomputed.

import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Workspace } from '../workspace/types';
import { writeFileAtomic } from '../workspace/atomic';
import { knownMiaEfficacy, miaEfficacyAsync, primeMiaEfficacy, setSvmConcurrency, type MiaFeature } from '../../engine/eval';
import type { ModelOutputs, MetricValue } from '../../engine/eval/types';

const FEATURES: MiaFeature[] = ['confidence', 'entropy', 'm-entropy'];

function file(ws: Workspace, outputsSha: string): string {
  return join(ws.root, 'cache', 'metrics', `${outputsSha}.json`);
}

async function read(ws: Workspace, outputsSha: string): Promise<Record<string, MetricValue>> {
  try {
    const v = JSON.parse(await readFile(file(ws, outputsSha), 'utf8')) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, MetricValue>) : {};
  } catch {
    return {};
  }
}

/** Prime the in-memory memo of `m` from the cache. */
export async function primeFromCache(ws: Workspace, outputsSha: string, m: ModelOutputs): Promise<void> {
  const c = await read(ws, outputsSha);
  for (const f of FEATURES) {
    const v = c[`mia:${f}`];
    if (v && (v.value === null || typeof v.value === 'number')) primeMiaEfficacy(m, f, v);
  }
}

/** Write whatever the memo of `m` now knows to the cache (read-only workspaces are skipped). */
export async function saveToCache(ws: Workspace, outputsSha: string, m: ModelOutputs): Promise<void> {
  const known = knownMiaEfficacy(m);
  if (!known.length) return;
  const c = await read(ws, outputsSha);
  let changed = false;
  for (const [f, v] of known) {
    if (c[`mia:${f}`]?.value !== v.value) {
      c[`mia:${f}`] = { value: v.value, ...(v.missing ? { missing: v.missing } : {}) };
      changed = true;
    }
  }
  if (!changed) return;
  try {
    await mkdir(join(ws.root, 'cache', 'metrics'), { recursive: true });
    await writeFileAtomic(file(ws, outputsSha), new TextEncoder().encode(JSON.stringify(c)));
  } catch {
    // a reader or a full disk: the cache is an optimisation only
  }
}

/**
 * Compute (or reuse) MIA-Efficacy with the given features for one model's outputs, and cache it. The SVC
 * fits run on worker threads, so the caller's event loop (progress, cancellation) stays free.
 */
export async function ensureMia(ws: Workspace, outputsSha: string, m: ModelOutputs, features: MiaFeature[] = ['confidence'], signal?: AbortSignal): Promise<void> {
  await primeFromCache(ws, outputsSha, m);
  for (const f of features) await miaEfficacyAsync(m, f, signal);
  await saveToCache(ws, outputsSha, m);
}

/**
 * ensureMia for several models at once, `concurrency` SVC fits side by side (one core each): the
 * comparison computes every model's attack this way before it judges them.
 */
export async function ensureMiaAll(ws: Workspace, items: { outputsSha: string; outputs: ModelOutputs }[], opts: { features?: MiaFeature[]; concurrency?: number; signal?: AbortSignal } = {}): Promise<void> {
  setSvmConcurrency(opts.concurrency ?? 1);
  try {
    await Promise.all(items.map((it) => ensureMia(ws, it.outputsSha, it.outputs, opts.features, opts.signal)));
  } finally {
    setSvmConcurrency(1);
  }
}
