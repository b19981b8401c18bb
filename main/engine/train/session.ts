// Opening ORT sessions for training/evaluation graphs through the engine's runtime wrapper (provider
// choice with fallback to CPU, thread settings); records what was actually used.

import * as ort from 'onnxruntime-node';
import { encodeModel } from '../onnx/codec';
import type { Model } from '../onnx/ir';
import { createSession, type GraphOptimization } from '../runtime/session';
import type { ProviderName } from '../runtime/providers';

export type { ProviderName };

export interface SessionSettings {
  provider?: ProviderName;
  /** intra-op threads (default 1: bit-reproducible results on CPU; 0 = all cores) */
  threads?: number;
  /**
   * run independent nodes concurrently on this many inter-op threads (ORT's 'parallel' execution
   * mode; default: off, i.e. 'sequential'). Useful for graphs of independent branches (multi-trainer.ts).
   */
  interOpThreads?: number;
}

/**
 * onnxruntime session options used for every session opened here (training steps, gradient and
 * evaluation graphs); undefined = onnxruntime's default. Measured with bench/train-ab.ts on the 2-core
 * EPYC (docs/benchmarks.md): 'extended'/'basic' optimisation, no memory pattern, no arena and no
 * spinning did not beat these defaults in separate processes, so they stay. Spinning and memory
 * planning only affect timing; the optimisation level can change float rounding (fusions), and any
 * fixed setting is reproducible run to run.
 */
export const SESSION_TUNING: { graphOptimization: GraphOptimization; allowSpinning?: boolean; memoryPattern?: boolean; cpuArena?: boolean; disabledOptimizers?: string[] } = {
  graphOptimization: 'all',
};

/** Change SESSION_TUNING (benchmarks); returns the previous settings. */
export function setSessionTuning(t: Partial<typeof SESSION_TUNING>): typeof SESSION_TUNING {
  const prev = { ...SESSION_TUNING };
  Object.assign(SESSION_TUNING, t);
  return prev;
}

export interface OpenedSession {
  session: ort.InferenceSession;
  provider: string;
  threads: number;
  fallbackReason: string | null;
}

export async function openSession(model: Model | Uint8Array, s: SessionSettings = {}): Promise<OpenedSession> {
  const bytes = model instanceof Uint8Array ? model : encodeModel(model);
  const threads = s.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 0 || threads > 1024) throw new Error(`threads must be an integer from 0 (all cores) to 1024, got ${threads}`);
  const inter = s.interOpThreads ?? 0;
  if (!Number.isInteger(inter) || inter < 0 || inter > 1024) throw new Error(`interOpThreads must be an integer from 1 to 1024 (0 or unset = sequential execution), got ${inter}`);
  const c = await createSession(bytes, { provider: s.provider ?? 'cpu', intraOpThreads: threads, interOpThreads: inter || 1, parallelExecution: inter > 0, ...SESSION_TUNING });
  return { session: c.session as unknown as ort.InferenceSession, provider: c.provider, threads: c.threads, fallbackReason: c.fallbackReason };
}

export { ort };
