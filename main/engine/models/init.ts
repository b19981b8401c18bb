// Seeded weight initialisation for the built-in architectures, following PyTorch's default module
// init so that models built here train like the same models built in PyTorch:
//   nn.Linear / nn.Conv2d: weight ~ kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
//                          bias   ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))
//   nn.BatchNorm2d / nn.LayerNorm: weight = 1, bias = 0, running_mean = 0, running_var = 1
// The random stream is our own (PyTorch's Mersenne-Twister stream is not reproduced): same seed,
// same weights, on every platform.

import { type Tensor, numel } from '../onnx/ir';

/**
 * A small, fast, seedable PRNG (xoshiro128**, seeded through splitmix32). Deterministic across
 * platforms because it only uses 32-bit integer arithmetic.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`seed must be a finite number, got ${seed}`);
    let x = Math.trunc(seed) >>> 0;
    // seeds above 2^32 still matter: fold the high part in
    x = (x ^ Math.trunc(seed / 4294967296)) >>> 0;
    const next = (): number => {
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
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = this.uniform();
    while (u <= Number.MIN_VALUE) u = this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Derive an independent seed for a named parameter, so adding a layer does not reshuffle the others. */
export function paramSeed(seed: number, name: string): number {
  // FNV-1a over the name, mixed with the model seed
  let h = 0x811c9dc5 ^ (Math.trunc(seed) >>> 0);
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return (h ^ Math.trunc(seed / 4294967296)) >>> 0;
}

export function uniformTensor(dims: number[], bound: number, rng: Rng): Tensor {
  const data = new Float32Array(numel(dims));
  for (let i = 0; i < data.length; i++) data[i] = (rng.uniform() * 2 - 1) * bound;
  return { dtype: 'float32', dims, data };
}

/** Normal(0, std) truncated to [-2 std, 2 std] by resampling (timm's trunc_normal_ for ViT embeddings). */
export function truncNormalTensor(dims: number[], std: number, rng: Rng): Tensor {
  const data = new Float32Array(numel(dims));
  for (let i = 0; i < data.length; i++) {
    let z = rng.normal();
    while (z < -2 || z > 2) z = rng.normal();
    data[i] = z * std;
  }
  return { dtype: 'float32', dims, data };
}

export function fillTensor(dims: number[], value: number): Tensor {
  const data = new Float32Array(numel(dims)).fill(value);
  return { dtype: 'float32', dims, data };
}

/** fan_in of a weight laid out like PyTorch: [out, in, ...kernel] (Linear: [out, in]). */
export function fanInTorchLayout(dims: number[]): number {
  if (dims.length < 2) throw new Error(`fan_in needs a weight of rank >= 2, got [${dims.join(', ')}]`);
  return numel(dims.slice(1));
}

/**
 * Initialises parameters by name with PyTorch's default rules. Each parameter draws from its own
 * stream derived from (seed, name), so the weights of a layer depend only on the seed and its name.
 */
export class TorchInit {
  constructor(readonly seed: number) {}

  private rng(name: string): Rng {
    return new Rng(paramSeed(this.seed, name));
  }

  /** Linear/Conv weight in PyTorch layout [out, in/groups, ...k]: kaiming_uniform(a=sqrt(5)). */
  weight(name: string, dims: number[]): Tensor {
    const fanIn = fanInTorchLayout(dims);
    return uniformTensor(dims, 1 / Math.sqrt(fanIn), this.rng(name));
  }

  /** Linear/Conv bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
  bias(name: string, size: number, fanIn: number): Tensor {
    return uniformTensor([size], 1 / Math.sqrt(fanIn), this.rng(name));
  }

  truncNormal(name: string, dims: number[], std: number): Tensor {
    return truncNormalTensor(dims, std, this.rng(name));
  }
}
