// Seeded synthetic per-example outputs for the evaluation tests: members (retain, and forget for an
// "original-like" model) get a larger true-class logit than non-members, so the attacks have signal.

import { SPLIT, type LayerActivations, type ModelOutputs } from '../../../main/engine/eval/types';

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussian(r: () => number): () => number {
  return () => {
    const u = Math.max(r(), 1e-300);
    const v = r();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

export interface Layout {
  split: Uint8Array;
  labels: Int32Array;
  numClasses: number;
  n: number;
}

/** Rows: nForget forget, nRetain retain, nTest test, interleaved deterministically; labels seeded. */
export function layout(nForget: number, nRetain: number, nTest: number, numClasses: number, seed: number, forgetClass?: number): Layout {
  const n = nForget + nRetain + nTest;
  const r = rng(seed);
  const codes: number[] = [...Array(nForget).fill(SPLIT.forget), ...Array(nRetain).fill(SPLIT.retain), ...Array(nTest).fill(SPLIT.test)];
  for (let i = codes.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [codes[i], codes[j]] = [codes[j], codes[i]];
  }
  const split = Uint8Array.from(codes);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = split[i] === SPLIT.forget && forgetClass !== undefined ? forgetClass : Math.floor(r() * numClasses);
    if (forgetClass !== undefined && split[i] !== SPLIT.forget) while (labels[i] === forgetClass) labels[i] = Math.floor(r() * numClasses);
  }
  return { split, labels, numClasses, n };
}

/**
 * One model's logits: z = noise·N(0,1) + bonus on the true class, bonus = memberBonus for retain rows,
 * forgetBonus for forget rows, testBonus for test rows, plus a per-example difficulty shared by all
 * models with the same `exampleSeed` (so an ensemble has per-example structure).
 */
export function modelOutputs(l: Layout, seed: number, o: { memberBonus?: number; forgetBonus?: number; testBonus?: number; noise?: number; exampleSeed?: number } = {}): ModelOutputs {
  const { memberBonus = 3, forgetBonus = 3, testBonus = 1.5, noise = 1.5, exampleSeed = 12345 } = o;
  const g = gaussian(rng(seed));
  const ge = gaussian(rng(exampleSeed));
  const C = l.numClasses;
  const logits = new Float32Array(l.n * C);
  for (let i = 0; i < l.n; i++) {
    const difficulty = ge();
    const bonus = l.split[i] === SPLIT.forget ? forgetBonus : l.split[i] === SPLIT.retain ? memberBonus : testBonus;
    for (let k = 0; k < C; k++) logits[i * C + k] = noise * g() + (k === l.labels[i] ? bonus + difficulty : 0);
  }
  return { split: l.split, labels: l.labels, logits, numClasses: C, n: l.n };
}

/** Seeded activations [m, dim]; `mix` of a shared base plus private noise. */
export function activations(layer: string, m: number, dim: number, baseSeed: number, ownSeed: number, mix: number): LayerActivations {
  const gb = gaussian(rng(baseSeed));
  const go = gaussian(rng(ownSeed));
  const data = new Float32Array(m * dim);
  for (let j = 0; j < m * dim; j++) data[j] = mix * gb() + (1 - mix) * go();
  return { layer, dim, data };
}
