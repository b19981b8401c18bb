// Seeded pseudo-random numbers for data work (splits, random forget sets, coresets). The generator is
// xoshiro128** seeded through splitmix32, so a (seed, call sequence) pair gives the same numbers on every
// platform and Node version. Seeds are non-negative integers up to 2^32 - 1.

export class Prng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`seed must be an integer in [0, 2^32-1], got ${seed}`);
    }
    let x = seed >>> 0;
    const next = () => {
      // splitmix32
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** next uint32 (xoshiro128**) */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** uniform float in [0, 1) with 32 bits of randomness */
  nextFloat(): number {
    return this.nextU32() / 4294967296;
  }

  /** unbiased integer in [0, n) (rejection sampling), n <= 2^32 */
  nextInt(n: number): number {
    if (n <= 0) throw new RangeError('nextInt: n must be positive');
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const r = this.nextU32();
      if (r < limit) return r % n;
    }
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

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * Seeded stratified train/test split. For each class c (in increasing order) the indices of class c
 * (in source order) are shuffled with one shared Prng(seed) and the first round(n_c * testFraction)
 * become test. Returns split codes (0 = train, 1 = test) per example.
 */
export function stratifiedSplit(labels: ArrayLike<number>, numClasses: number, testFraction: number, seed: number): Uint8Array {
  if (!(testFraction >= 0 && testFraction < 1)) throw new RangeError('testFraction must be in [0, 1)');
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]].push(i);
  const rng = new Prng(seed);
  const split = new Uint8Array(labels.length);
  for (let c = 0; c < numClasses; c++) {
    const idx = rng.shuffle(byClass[c]);
    const nTest = Math.round(idx.length * testFraction);
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
