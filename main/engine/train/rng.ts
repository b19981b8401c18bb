// Seeded random numbers for training: data order, dropout masks, noise.
//
// Generator: xoshiro128** 1.1 (Blackman & Vigna), 32-bit state words, seeded by SplitMix32 (the
// 32-bit variant of SplitMix64's finaliser, constants 0x9e3779b9 / 0x85ebca6b / 0xc2b2ae35) applied
// along two hash chains over the words (seed lo, seed hi, stream lo, stream hi). Every stream is a
// pure function of (seed, stream): the trainer derives the permutation of epoch e from stream
// `1_000_000 + e` and the dropout masks of global step s from stream `2 * 2^32 + s`, so a resumed
// run needs only (seed, epoch, step) to replay the exact sequence.

export interface RngState {
  s: [number, number, number, number];
}

function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** seed and stream are non-negative integers below 2^53 */
  constructor(seed: number, stream = 0) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);
    if (!Number.isSafeInteger(stream) || stream < 0) throw new Error(`stream must be a non-negative integer, got ${stream}`);
    const words = [seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0, stream >>> 0, Math.floor(stream / 2 ** 32) >>> 0];
    // two independent 32-bit hash chains over all four words, so every state word depends on both
    // seed and stream (64 bits of (seed, stream) distinguish streams)
    let h1 = 0x6c657468; // 'leth'
    let h2 = 0x9e3779b9;
    for (let i = 0; i < 4; i++) {
      h1 = splitmix32(h1 ^ words[i]);
      h2 = splitmix32(h2 ^ words[3 - i]);
    }
    this.s0 = splitmix32(h1);
    this.s1 = splitmix32(h2);
    this.s2 = splitmix32(this.s0 ^ h2);
    this.s3 = splitmix32(this.s1 ^ h1);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  static fromState(st: RngState): Rng {
    const r = new Rng(0);
    r.setState(st);
    return r;
  }

  getState(): RngState {
    return { s: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0] };
  }

  setState(st: RngState): void {
    if (!st || !Array.isArray(st.s) || st.s.length !== 4 || st.s.some((x) => !Number.isInteger(x) || x < 0 || x > 0xffffffff)) {
      throw new Error('invalid RNG state: expected { s: [four unsigned 32-bit integers] }');
    }
    [this.s0, this.s1, this.s2, this.s3] = st.s.map((x) => x | 0);
  }

  /** next unsigned 32-bit integer */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9);
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
  }

  /** uniform float in [0, 1) with 24 random bits (exactly representable in float32) */
  nextFloat(): number {
    return (this.nextU32() >>> 8) / 16777216;
  }

  /** uniform integer in [0, n) without modulo bias, n <= 2^32 */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) throw new Error(`nextInt bound must be an integer in [1, 2^32], got ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    let x: number;
    do x = this.nextU32();
    while (x >= limit);
    return x % n;
  }

  /** standard normal via Box-Muller (float64) */
  nextNormal(): number {
    let u = 0;
    while (u === 0) u = this.nextFloat();
    const v = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** a uniformly random permutation of 0..n-1 (Fisher-Yates, from the last index down) */
  permutation(n: number): Uint32Array {
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** fill `out` with Bernoulli(keep) values 0/1 */
  bernoulli(out: Float32Array, keep: number): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.nextFloat() < keep ? 1 : 0;
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Stream ids used by the trainer (documented so other tools can replay a run). */
export const STREAM = {
  epochPermutation: (epoch: number) => 1_000_000 + epoch,
  stepDropout: (globalStep: number) => 2 * 2 ** 32 + globalStep,
} as const;
