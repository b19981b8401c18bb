// GU projection (geometric disentanglement): a switch any method built on trainLoop (loop.ts) with a
// forget-set update can turn on. Before each optimizer step the gradients of the retain loss at the
// current weights are computed on k retain mini-batches (seeded, cycling through D_r); after the step
// the update Δ = θ_new − θ_old, flattened over all trainable parameters, loses its components in the
// span of those gradients (modified Gram–Schmidt in float64, done twice for stability), and the
// trainer is set to θ_old + Δ_⊥. To first order the step then leaves the loss on those retain batches
// unchanged: Δ_⊥ · g_r = 0 for every retain gradient g_r used.
//
// Details: gradients are those of the mean cross-entropy in eval mode (BatchNorm running statistics,
// no dropout) with the trainer's current parameters and statistics fed to one gradient session
// (buildGradGraph with paramsAsInputs); masked parameters (SalUn) are projected inside their mask, so
// masked-out weights stay bit-identical; running statistics are not projected (they are not
// parameters); the optimizer's own state (momentum, Adam moments) is left as the step made it, only
// the applied update is projected.
//
// The switch: the shared method parameter `gu` (default false) is added once, here, to the schema of
// every method in GU_METHODS (withGuSwitch, applied by the registry), so the API validation, the CLI
// flags, the UI form and sweeps all see it; its run strips it and sets ctx.gu, which trainLoop reads.
// GU_METHODS are the trainLoop methods whose steps carry a forget-set update (GA, NegGrad+, RL,
// SalUn, Amnesiac, Boundary Shrink). Methods that train on D_r only (FT, l1-sparse, CF-k, EU-k) have
// no forget update to disentangle (projecting their retain descent off the retain gradients would
// cancel it), and methods with their own step runners (SCRUB, Bad Teacher, NPO, UNSIR's phases) or
// no gradient steps do not get it.

import { z } from 'zod';
import type { ArrayDataset } from '../train/data';
import { exampleSize, gatherBatch } from '../train/data';
import type { Trainer } from '../train/trainer';
import { buildGradGraph } from '../train/grad-graph';
import { promoteToInputs } from '../train/graph-utils';
import { openSession, ort, type OpenedSession, type ProviderName } from '../train/session';
import { Rng } from '../train/rng';
import type { MethodDescriptor } from './types';

/** What ctx.gu holds when the switch is on. */
export interface GuSettings {
  /** retain mini-batches (gradients) spanning the subspace removed from each update */
  k: number;
  /** examples per retain mini-batch */
  batchSize: number;
}

/** Lethe's defaults for the switch: 5 retain gradients of 64 examples each per step. */
export const GU_DEFAULTS: GuSettings = { k: 5, batchSize: 64 };

/** Methods that accept the `gu` switch (see the header for why exactly these). */
export const GU_METHODS: readonly string[] = ['ga', 'neggrad-plus', 'rl', 'salun', 'amnesiac', 'boundary-shrink'];

export const GU_PARAM = 'gu';

const guField = z
  .boolean()
  .default(false)
  .describe(
    `GU projection (geometric disentanglement): remove from every update its components in the span of ${GU_DEFAULTS.k} retain-set gradients (batches of ${GU_DEFAULTS.batchSize}) at the current weights, so each step leaves the retain loss unchanged to first order; costs ${GU_DEFAULTS.k} extra gradient passes per step`,
  );

/** The method with the shared `gu` switch added to its parameters (methods not in GU_METHODS unchanged). */
export function withGuSwitch(m: MethodDescriptor): MethodDescriptor {
  if (!GU_METHODS.includes(m.id)) return m;
  if (!m.gradientBased) throw new Error(`method '${m.id}' is listed for the GU switch but is not gradient-based`);
  if (GU_PARAM in m.params.shape) throw new Error(`method '${m.id}' already has a parameter named '${GU_PARAM}'`);
  const inner = m;
  return {
    ...m,
    params: m.params.extend({ [GU_PARAM]: guField }),
    run(ctx, p) {
      const { [GU_PARAM]: on, ...rest } = p as Record<string, unknown>;
      return inner.run(on ? { ...ctx, gu: { ...GU_DEFAULTS } } : ctx, rest);
    },
  };
}

/** Orthonormal basis (float64) of the span of the vectors: modified Gram–Schmidt, twice; near-dependent vectors dropped. */
export function orthonormalBasis(vectors: Float64Array[]): Float64Array[] {
  const basis: Float64Array[] = [];
  for (const v of vectors) {
    const u = Float64Array.from(v);
    const n0 = Math.sqrt(dot(u, u));
    if (!(n0 > 0) || !Number.isFinite(n0)) continue;
    for (let pass = 0; pass < 2; pass++) for (const q of basis) axpy(-dot(u, q), q, u);
    const n = Math.sqrt(dot(u, u));
    if (!(n > 1e-10 * n0)) continue;
    for (let i = 0; i < u.length; i++) u[i] /= n;
    basis.push(u);
  }
  return basis;
}

/** Δ minus its components along the orthonormal basis, in place (modified Gram–Schmidt order, twice). */
export function projectOut(delta: Float64Array, basis: Float64Array[]): Float64Array {
  for (let pass = 0; pass < 2; pass++) for (const q of basis) axpy(-dot(delta, q), q, delta);
  return delta;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function axpy(alpha: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] += alpha * x[i];
}

export interface ProjectorOptions extends GuSettings {
  seed: number;
  provider?: ProviderName;
  threads?: number;
}

/**
 * Retain gradients of a trainer's current weights and the projection of its updates. One gradient
 * session (parameters and running statistics as inputs) serves every step.
 */
export class GuProjector {
  private perm: Uint32Array = new Uint32Array(0);
  private pos = 0;
  private round = 0;
  /** retain rows used for each gradient of the last basis (for tests and diagnostics) */
  lastBatches: number[][] = [];

  private constructor(
    private readonly trainer: Trainer,
    private readonly retain: ArrayDataset,
    private readonly o: ProjectorOptions,
    private readonly sess: OpenedSession,
    private readonly io: { data: string; labels: string; grads: Record<string, string>; stats: string[] },
    private readonly masks: Record<string, Float32Array>,
  ) {}

  static async create(trainer: Trainer, retain: ArrayDataset, o: ProjectorOptions): Promise<GuProjector> {
    if (!Number.isInteger(o.k) || o.k < 1) throw new Error(`GU needs at least one retain gradient per step, got k = ${o.k}`);
    if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new Error(`GU retain batch size must be a positive integer, got ${o.batchSize}`);
    if (retain.n === 0) throw new Error('GU needs retain examples to compute retain gradients');
    const params = [...trainer.trainable];
    const gg = buildGradGraph(trainer.model, { params, paramsAsInputs: true, mode: 'eval' });
    const inits = new Set(gg.model.graph.initializers.map((t) => t.name));
    const stats = Object.keys(trainer.weights()).filter((k) => !params.includes(k) && inits.has(k));
    promoteToInputs(gg.model.graph, stats);
    const sess = await openSession(gg.model, { provider: o.provider, threads: o.threads });
    return new GuProjector(trainer, retain, o, sess, { data: gg.dataInputs[0].name, labels: gg.labels, grads: gg.grads, stats }, trainer.opts.masks ?? {});
  }

  /** The next retain mini-batch (a seeded permutation of D_r, cycled). */
  private nextBatch(): number[] {
    const n = this.retain.n;
    const take = Math.min(this.o.batchSize, n);
    const out: number[] = [];
    while (out.length < take) {
      if (this.pos >= this.perm.length) {
        this.perm = new Rng(this.o.seed, 9_000_000 + this.round++).permutation(n);
        this.pos = 0;
      }
      out.push(this.perm[this.pos++]);
    }
    return out;
  }

  /** Flattened retain gradients (float64, trainable parameters in trainer order) at the given weights, on given row batches. */
  async gradientsAt(weights: Record<string, Float32Array>, batches: number[][]): Promise<Float64Array[]> {
    const t = this.trainer;
    const per = exampleSize(this.retain);
    const out: Float64Array[] = [];
    const feedsBase: Record<string, ort.Tensor> = {};
    for (const p of t.trainable) feedsBase[p] = new ort.Tensor('float32', weights[p], dimsOf(t, p));
    for (const s of this.io.stats) feedsBase[s] = new ort.Tensor('float32', weights[s], dimsOf(t, s));
    const total = t.trainable.reduce((a, p) => a + weights[p].length, 0);
    for (const rows of batches) {
      const nb = rows.length;
      const x = new Float32Array(nb * per);
      const y = new BigInt64Array(nb);
      gatherBatch(this.retain, rows, 0, nb, x, y);
      const res = await this.sess.session.run({ ...feedsBase, [this.io.data]: new ort.Tensor('float32', x, [nb, ...this.retain.exampleShape]), [this.io.labels]: new ort.Tensor('int64', y, [nb]) });
      const g = new Float64Array(total);
      let o = 0;
      for (const p of t.trainable) {
        const d = res[this.io.grads[p]].data as Float32Array;
        const m = this.masks[p];
        for (let i = 0; i < d.length; i++) g[o + i] = m ? d[i] * m[i] : d[i];
        o += d.length;
      }
      out.push(g);
    }
    return out;
  }

  /** Orthonormal basis of k retain gradients at the trainer's current weights (next k batches). */
  async basis(): Promise<Float64Array[]> {
    this.lastBatches = Array.from({ length: this.o.k }, () => this.nextBatch());
    return orthonormalBasis(await this.gradientsAt(this.trainer.weights(), this.lastBatches));
  }

  /**
   * Replace the step the trainer just took from `old` by its projection: θ = old + Δ_⊥ over the
   * trainable parameters. Returns |Δ| and |Δ_⊥| (float64 norms).
   */
  apply(old: Record<string, Float32Array>, basis: Float64Array[]): { norm: number; projectedNorm: number } {
    const t = this.trainer;
    const cur = t.weights();
    const total = t.trainable.reduce((a, p) => a + old[p].length, 0);
    const delta = new Float64Array(total);
    let o = 0;
    for (const p of t.trainable) {
      const a = old[p];
      const b = cur[p];
      for (let i = 0; i < a.length; i++) delta[o + i] = b[i] - a[i];
      o += a.length;
    }
    const norm = Math.sqrt(dot(delta, delta));
    projectOut(delta, basis);
    const next: Record<string, Float32Array> = {};
    o = 0;
    for (const p of t.trainable) {
      const a = old[p];
      const w = new Float32Array(a.length);
      for (let i = 0; i < a.length; i++) w[i] = a[i] + delta[o + i];
      next[p] = w;
      o += a.length;
    }
    t.setWeights(next);
    return { norm, projectedNorm: Math.sqrt(dot(delta, delta)) };
  }

  async dispose(): Promise<void> {
    await this.sess.session.release();
  }
}

function dimsOf(t: Trainer, name: string): number[] {
  const init = t.model.graph.initializers.find((x) => x.name === name);
  if (!init) throw new Error(`'${name}' is not an initializer of the trained model`);
  return [...init.dims];
}

/** A copy of the trainer's trainable parameters (the weights before a step). */
export function trainableSnapshot(t: Trainer): Record<string, Float32Array> {
  const w = t.weights();
  return Object.fromEntries(t.trainable.map((p) => [p, new Float32Array(w[p])]));
}
