// Opening ORT sessions for training/evaluation graphs through the engine's runtime wrapper (provider
// choice with fallback to CPU, thread settings); records what was actually used.

import * as ort from 'onnxruntime-node';
import { encodeModel } from '../onnx/codec';
import { type Model, bytesPerElement, numel } from '../onnx/ir';
import { inferShapes } from '../onnx/shape-infer';
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
  /** ORT's memory pattern for this session (default: SESSION_TUNING's; see memoryPatternFor) */
  memoryPattern?: boolean;
}

/** Above this many bytes of intermediates per run, training sessions plan memory without ORT's pattern. */
export const MEMORY_PATTERN_MAX_BYTES = 256 * 2 ** 20;

/**
 * Sum of the float intermediates of one run of `model` with the data input at `batch` examples (shape
 * inference; values of unknown shape count 0): what ORT's memory pattern would reserve as one block.
 * Every input whose first dimension is the data input's symbolic batch dimension (labels, per-example
 * weights, the data inputs of every copy of an unrolled step graph) is taken at `batch` too.
 */
export function intermediateBytes(model: Model, batch: number): number {
  const g = model.graph;
  const init = new Set(g.initializers.map((t) => t.name));
  const data = g.inputs.find((v) => !init.has(v.name) && v.shape && v.shape.length > 1);
  const batchDim = data?.shape?.[0];
  const fixed: Record<string, number[]> = {};
  for (const v of g.inputs) {
    if (init.has(v.name) || !v.shape?.length) continue;
    const rest = v.shape.slice(1);
    if ((v === data || (typeof batchDim === 'string' && v.shape[0] === batchDim)) && rest.every((d) => typeof d === 'number')) fixed[v.name] = [batch, ...(rest as number[])];
  }
  const types = inferShapes(g, data ? fixed : undefined);
  let total = 0;
  for (const n of g.nodes) {
    for (const o of n.outputs) {
      const t = types.get(o);
      if (!t?.shape || !t.shape.every((d) => typeof d === 'number')) continue;
      total += numel(t.shape as number[]) * bytesPerElement(t.dtype);
    }
  }
  return total;
}

/**
 * Whether a training session uses ORT's memory pattern: SESSION_TUNING's setting when given, else on
 * for graphs whose intermediates stay under MEMORY_PATTERN_MAX_BYTES. Measured (docs/benchmarks.md):
 * a ResNet-18 step at batch 64 peaks at ~1.42 GB RSS with it and ~1.07 GB without (PyTorch ~1.24 GB),
 * at the same speed; the MLP step ran ~10% faster with it (noisy).
 */
export function memoryPatternFor(model: Model, batch: number): boolean {
  if (SESSION_TUNING.memoryPattern !== undefined) return SESSION_TUNING.memoryPattern;
  return intermediateBytes(model, batch) <= MEMORY_PATTERN_MAX_BYTES;
}

/**
 * onnxruntime session options used for every session opened here (training steps, gradient and
 * evaluation graphs); undefined = onnxruntime's default. Measured with bench/train-ab.ts on the 2-core
 * EPYC (docs/benchmarks.md): 'extended'/'basic' optimisation, no arena and no spinning did not beat
 * ORT's defaults in separate processes, so they stay; the memory pattern is chosen per graph (memoryPatternFor). Spinning and memory
 * planning only affect timing; the optimisation level can change float rounding (fusions), and any
 * fixed setting is reproducible run to run.
 */
export const SESSION_TUNING: { graphOptimization: GraphOptimization; allowSpinning?: boolean; memoryPattern?: boolean; cpuArena?: boolean; disabledOptimizers?: string[] } = {
  graphOptimization: 'all',
  // memoryPattern: unset = per graph (memoryPatternFor)
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
  const c = await createSession(bytes, {
    provider: s.provider ?? 'cpu',
    intraOpThreads: threads,
    interOpThreads: inter || 1,
    parallelExecution: inter > 0,
    ...SESSION_TUNING,
    ...(s.memoryPattern !== undefined ? { memoryPattern: s.memoryPattern } : {}),
  });
  return { session: c.session as unknown as ort.InferenceSession, provider: c.provider, threads: c.threads, fallbackReason: c.fallbackReason };
}

export { ort };
