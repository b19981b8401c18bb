// Seeded pseudo-random numbers for data work (splits, random forget sets, coresets). The generator is
// xoshiro128** seeded through splitmix32, so a (seed, call sequence) pair gives the same numbers on every
// platform and Node version. Seeds are non-negative integers up to 2^32 - 1.

import { Rng } from '../train/rng';

/**
 * The training generator (xoshiro128**, engine/train/rng.ts) with this module's seeding: the four state
 * words are the first four outputs of splitmix32 from `seed`, so every seed gives the same numbers it
 * always has (random forget sets, coresets and splits stay reproducible), and a 32-bit nextFloat.
 */
export class Prng extends Rng {
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`seed must be an integer in [0, 2^32-1], got ${seed}`);
    }
    super(0);
    let x = seed >>> 0;
    const next = () => {
      // splitmix32
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.setState({ s: [next(), next(), next(), next()] });
  }

  /** uniform float in [0, 1) with 32 bits of randomness */
  override nextFloat(): number {
    return this.nextU32() / 4294967296;
  }

  /** Fisher-Yates shuffle in place */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}

/**
 * Seeded stratified train/test split. For each class c (in increasing order) the indices of class c
 * (in source order) are shuffled with one shared Prng(seed) and the first round(n_c * testFraction)
 * become test. Returns split codes (0 = train, 1 = test) per example.
 */
/** How many of a class's n examples a stratified split puts in the test split. */
export function stratifiedTestCount(n: number, testFraction: number): number {
  return Math.round(n * testFraction);
}

export function stratifiedSplit(labels: ArrayLike<number>, numClasses: number, testFraction: number, seed: number): Uint8Array {
  if (!(testFraction >= 0 && testFraction < 1)) throw new RangeError('testFraction must be in [0, 1)');
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]].push(i);
  const rng = new Prng(seed);
  const split = new Uint8Array(labels.length);
  for (let c = 0; c < numClasses; c++) {
    const idx = rng.shuffle(byClass[c]);
    const nTest = stratifiedTestCount(idx.length, testFraction);
    for (let k = 0; k < nTest; k++) split[idx[k]] = 1;
  }
  return split;
}

/** Seeded sample of k distinct elements of `items` (partial Fisher-Yates on a copy; order = draw order). */
export function sampleWithoutReplacement<T>(items: readonly T[], k: number, rng: Prng): T[] {
  const a = items.slice();
  const n = Math.min(k, a.length);
  for (let i = 0; i < n; i++) {
    const j = i + rng.nextInt(a.length - i);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a.slice(0, n);
}
