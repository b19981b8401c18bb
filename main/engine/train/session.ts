// Opening ORT sessions for training/evaluation graphs through the engine's runtime wrapper (provider
// choice with fallback to CPU, thread settings); records what was actually used.

import * as ort from 'onnxruntime-node';
import { encodeModel } from '../onnx/codec';
import type { Model } from '../onnx/ir';
import { createSession } from '../runtime/session';
import type { ProviderName } from '../runtime/providers';

export type { ProviderName };

export interface SessionSettings {
  provider?: ProviderName;
  /** intra-op threads (default 1: bit-reproducible results on CPU; 0 = all cores) */
  threads?: number;
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
  const c = await createSession(bytes, { provider: s.provider ?? 'cpu', intraOpThreads: threads, interOpThreads: 1 });
  return { session: c.session as unknown as ort.InferenceSession, provider: c.provider, threads: c.threads, fallbackReason: c.fallbackReason };
}

export { ort };
