// Creating onnxruntime sessions with a chosen execution provider, automatic fallback to cpu with a
// clear reason, configurable thread counts, and a record of what was actually used (provider, threads)
// for run provenance.
//
// Note: onnxruntime-node creates sessions synchronously on the calling thread, so a provider that hangs
// cannot be timed out in-process. Providers with that risk (webgpu) are probed first in a child process
// (providers.ts); cpu and cuda fail fast with an exception.

import { availableParallelism } from 'node:os';
import type * as ortTypes from 'onnxruntime-node';
import { type ProviderName, PROVIDER_NAMES, ort, probeProvider, providerStatus } from './providers';

export type GraphOptimization = 'disabled' | 'basic' | 'extended' | 'all';

export interface SessionOptions {
  /** Execution provider wanted (default 'cpu'). Unavailable providers fall back to cpu. */
  provider?: ProviderName;
  /** Threads inside one operator; 0 = onnxruntime's default (recorded as os.availableParallelism()). Default 0. */
  intraOpThreads?: number;
  /** Threads across independent operators (only with parallel execution); 0 = default. */
  interOpThreads?: number;
  /** Graph optimisation level (default 'all'). */
  graphOptimization?: GraphOptimization;
  /** Time limit for the child-process probe of providers that may hang (default 20 s). */
  probeTimeoutMs?: number;
  /** Run independent branches in parallel (default false: sequential is deterministic and usually faster here). */
  parallelExecution?: boolean;
  /** onnxruntime log severity 0..4 (default 3 = errors only). */
  logSeverity?: 0 | 1 | 2 | 3 | 4;
  /** Let idle intra-op threads spin between kernels (default: onnxruntime's, i.e. spinning on). */
  allowSpinning?: boolean;
  /**
   * ORT graph transformers to leave out, by name (e.g. 'NchwcTransformer': training graphs take their
   * weights as inputs, so its blocked layout only ever applies to constant helper kernels, where its
   * reorders cost more than they save).
   */
  disabledOptimizers?: string[];
  /** onnxruntime's memory pattern planning (default: onnxruntime's, on). */
  memoryPattern?: boolean;
  /** onnxruntime's CPU memory arena (default: onnxruntime's, on). */
  cpuArena?: boolean;
}

export interface CreatedSession {
  session: ortTypes.InferenceSession;
  /** The provider actually used. */
  provider: ProviderName;
  /** The provider asked for. */
  requestedProvider: ProviderName;
  /** Intra-op threads actually used (ORT's default resolved to os.availableParallelism()). */
  threads: number;
  interOpThreads: number;
  graphOptimization: GraphOptimization;
  /** Why the requested provider was not used (null when it was). */
  fallbackReason: string | null;
  /** Session creation time in ms. */
  createMs: number;
}

export class SessionOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SessionOptionsError';
  }
}

function checkThreads(name: string, v: number | undefined): number {
  if (v === undefined) return 0;
  if (!Number.isInteger(v) || v < 0 || v > 1024) throw new SessionOptionsError(`${name} must be an integer from 0 (default) to 1024, got ${v}`);
  return v;
}

/** Resolve the thread count that a setting means on this machine (0 = ORT default = all cores). */
export function effectiveThreads(setting: number): number {
  return setting > 0 ? setting : availableParallelism();
}

/**
 * Create an InferenceSession for `modelBytes` (validated bytes with external data inlined: onnxruntime
 * never opens files). Falls back to cpu when the requested provider is unavailable or fails.
 */
export async function createSession(modelBytes: Uint8Array, opts: SessionOptions = {}): Promise<CreatedSession> {
  const requested = opts.provider ?? 'cpu';
  if (!PROVIDER_NAMES.includes(requested)) {
    throw new SessionOptionsError(`unknown execution provider '${String(requested)}' (choose one of ${PROVIDER_NAMES.join(', ')})`);
  }
  const intra = checkThreads('intraOpThreads', opts.intraOpThreads);
  const inter = checkThreads('interOpThreads', opts.interOpThreads);
  const graphOptimization = opts.graphOptimization ?? 'all';
  if (!['disabled', 'basic', 'extended', 'all'].includes(graphOptimization)) {
    throw new SessionOptionsError(`graphOptimization must be disabled, basic, extended or all, got '${String(graphOptimization)}'`);
  }
  if (!(modelBytes instanceof Uint8Array) || modelBytes.length === 0) throw new SessionOptionsError('model bytes must be a non-empty Uint8Array');

  let provider: ProviderName = requested;
  let fallbackReason: string | null = null;
  if (requested !== 'cpu') {
    const st = providerStatus(requested);
    if (!st.available) {
      provider = 'cpu';
      fallbackReason = `${requested} is not available: ${st.reason}; using cpu`;
    } else if (requested === 'webgpu') {
      const probe = await probeProvider('webgpu', opts.probeTimeoutMs);
      if (!probe.ok) {
        provider = 'cpu';
        fallbackReason = `${probe.reason}; using cpu`;
      }
    }
  }

  const make = (ep: ProviderName): ortTypes.InferenceSession.SessionOptions => {
    const o: ortTypes.InferenceSession.SessionOptions = {
      executionProviders: [ep],
      graphOptimizationLevel: graphOptimization,
      executionMode: opts.parallelExecution ? 'parallel' : 'sequential',
      logSeverityLevel: opts.logSeverity ?? 3,
    };
    if (intra > 0) o.intraOpNumThreads = intra;
    if (inter > 0) o.interOpNumThreads = inter;
    if (opts.memoryPattern !== undefined) o.enableMemPattern = opts.memoryPattern;
    if (opts.cpuArena !== undefined) o.enableCpuMemArena = opts.cpuArena;
    const extra: Record<string, Record<string, unknown>> = {};
    if (opts.allowSpinning !== undefined) extra.session = { intra_op: { allow_spinning: opts.allowSpinning ? '1' : '0' } };
    if (opts.disabledOptimizers?.length) extra.optimization = { disable_specified_optimizers: opts.disabledOptimizers.join(',') };
    if (Object.keys(extra).length) o.extra = extra;
    return o;
  };

  const t0 = performance.now();
  let session: ortTypes.InferenceSession;
  try {
    session = await ort().InferenceSession.create(modelBytes, make(provider));
  } catch (e) {
    if (provider === 'cpu') throw e;
    fallbackReason = `${provider} failed to create the session (${firstLine(e)}); using cpu`;
    provider = 'cpu';
    session = await ort().InferenceSession.create(modelBytes, make('cpu'));
  }
  return {
    session,
    provider,
    requestedProvider: requested,
    threads: effectiveThreads(intra),
    interOpThreads: opts.parallelExecution ? effectiveThreads(inter) : 1,
    graphOptimization,
    fallbackReason,
    createMs: performance.now() - t0,
  };
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e)
    .split('\n')[0]
    .slice(0, 300);
}
