// Trainer checkpoints: every tensor the run needs to continue bit-identically (parameters, optimizer
// state, BatchNorm running statistics) plus the counters. The RNG needs no stored state beyond
// (seed, epoch, globalStep): every epoch's permutation and every step's dropout masks come from their
// own stream (see rng.ts).
//
// Binary layout: 'LETHECK1' | u32 LE header length | header JSON (UTF-8) | zero padding to 4 bytes |
// float32 LE data. The header lists each tensor's offset/length and the SHA-256 of the data section;
// decoding refuses anything that does not match.

import { createHash } from 'node:crypto';

export interface TrainerCheckpoint {
  version: 1;
  /** SHA-256 of the training-step graph and settings; a resume with other settings is refused */
  fingerprint: string;
  seed: number;
  epoch: number;
  stepInEpoch: number;
  globalStep: number;
  /** 'param/<name>', 'state/<name>/<slot>', 'stat/<name>' */
  tensors: Record<string, Float32Array>;
  /** mean loss of each finished epoch */
  epochLosses: number[];
  /** running loss sum and example count of the unfinished epoch (null at an epoch boundary) */
  partialEpoch: { sum: number; count: number } | null;
}

const MAGIC = 'LETHECK1';

export function encodeCheckpoint(c: TrainerCheckpoint): Uint8Array {
  const names = Object.keys(c.tensors).sort();
  let off = 0;
  const entries = names.map((name) => {
    const e = { name, offset: off, length: c.tensors[name].length };
    off += c.tensors[name].length;
    return e;
  });
  const data = new Float32Array(off);
  for (const e of entries) data.set(c.tensors[e.name], e.offset);
  const dataBytes = new Uint8Array(data.buffer);
  const header = {
    version: c.version,
    fingerprint: c.fingerprint,
    seed: c.seed,
    epoch: c.epoch,
    stepInEpoch: c.stepInEpoch,
    globalStep: c.globalStep,
    epochLosses: c.epochLosses,
    partialEpoch: c.partialEpoch,
    tensors: entries,
    dataSha256: createHash('sha256').update(dataBytes).digest('hex'),
  };
  const hb = new TextEncoder().encode(JSON.stringify(header));
  const pad = (4 - ((8 + 4 + hb.length) % 4)) % 4;
  const out = new Uint8Array(8 + 4 + hb.length + pad + dataBytes.length);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, hb.length, true);
  out.set(hb, 12);
  out.set(dataBytes, 12 + hb.length + pad);
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array): TrainerCheckpoint {
  const fail = (m: string): never => {
    throw new Error(`invalid training checkpoint: ${m}`);
  };
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) fail('missing LETHECK1 header');
  const hl = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + hl > bytes.length) fail('truncated header');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let h: any;
  try {
    h = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + hl)));
  } catch {
    fail('header is not JSON');
  }
  if (h.version !== 1) fail(`unsupported version ${h.version}`);
  const pad = (4 - ((12 + hl) % 4)) % 4;
  const dataBytes = bytes.slice(12 + hl + pad);
  if (dataBytes.length % 4) fail('data section is not a whole number of float32 values');
  if (createHash('sha256').update(dataBytes).digest('hex') !== h.dataSha256) fail('data checksum mismatch (file corrupted or truncated)');
  const data = new Float32Array(dataBytes.buffer, dataBytes.byteOffset, dataBytes.length / 4);
  const tensors: Record<string, Float32Array> = {};
  for (const e of h.tensors ?? []) {
    if (!Number.isInteger(e.offset) || !Number.isInteger(e.length) || e.offset < 0 || e.offset + e.length > data.length) fail(`tensor '${e.name}' out of range`);
    tensors[e.name] = data.slice(e.offset, e.offset + e.length);
  }
  for (const k of ['seed', 'epoch', 'stepInEpoch', 'globalStep']) if (!Number.isInteger(h[k]) || h[k] < 0) fail(`bad ${k}`);
  return {
    version: 1,
    fingerprint: String(h.fingerprint),
    seed: h.seed,
    epoch: h.epoch,
    stepInEpoch: h.stepInEpoch,
    globalStep: h.globalStep,
    tensors,
    epochLosses: Array.isArray(h.epochLosses) ? h.epochLosses.map(Number) : [],
    partialEpoch:
      h.partialEpoch && Number.isFinite(h.partialEpoch.sum) && Number.isFinite(h.partialEpoch.count) ? { sum: h.partialEpoch.sum, count: h.partialEpoch.count } : null,
  };
}
