// The Trainer: keeps parameters, optimizer state and BatchNorm statistics as Float32Arrays in JS,
// feeds them with each mini-batch to the training-step graph (one ORT session), and takes the
// updated arrays straight from the outputs (no copies). Models whose steps are cheap per parameter
// take several steps per run (unroll.ts: the step graph copied K times, bit-for-bit the same weights)
// so the weights cross into and out of ORT once per K steps (fit, trainStepsWith). Data order and dropout masks are seeded
// (rng.ts); with the same seed, provider and thread count the final weights are byte-identical on
// CPU, and a run resumed from a checkpoint ends with the same bytes as an uninterrupted one.

import { createHash } from 'node:crypto';
import type { Model } from '../onnx/ir';
import { encodeModel } from '../onnx/codec';
import { inferShapes } from '../onnx/shape-infer';
import { detectTrainable, normalizeTrainingExport } from '../models/import';
import { buildTrainStep, type TrainStepGraph, type LossSettings } from './train-step';
import type { OptimizerSpec } from './optimizers';
import { lrForStep, validateSchedule, type LrScheduleOptions, type ScheduleSpec } from './schedules';
import { Rng, STREAM } from './rng';
import { forwardFlops } from '../onnx/flops';
import { autoStepsPerRun, stepsThisRun, trainableElements, unrollBlocker, unrollTrainStep, type UnrolledStep } from './unroll';
import { memoryPatternFor, openSession, ort, type OpenedSession, type ProviderName } from './session';
import { type ArrayDataset, exampleSize, gatherBatch, validateDataset } from './data';
import { bakeInference } from './bake';
import { buildEvalGraph } from './eval-graph';
import { promoteToInputs } from './graph-utils';
import { hasTerms } from './loss-terms';
import { evaluateModel, type EvaluationResult } from './evaluator';
import type { BackwardFn, LowerFn } from './deps';
import type { TrainerCheckpoint } from './checkpoint';

export interface TrainerOptions {
  model: Model;
  /** parameters to train (default: detectTrainable's choice minus `frozen`) */
  trainable?: string[];
  frozen?: string[];
  /** 0/1 masks for some trainable parameters (masked-out entries never change) */
  masks?: Record<string, Float32Array>;
  optimizer: OptimizerSpec;
  lr: number;
  schedule?: ScheduleSpec;
  scheduleUnit?: 'epoch' | 'step';
  warmup?: { length: number; startFactor?: number };
  loss?: LossSettings;
  batchSize: number;
  seed: number;
  /** shuffle each epoch (default true) */
  shuffle?: boolean;
  /** drop the last partial batch (default false, like torch's DataLoader) */
  dropLast?: boolean;
  provider?: ProviderName;
  /** intra-op threads (default 1) */
  threads?: number;
  logits?: string;
  dropout?: 'mask-inputs' | 'identity';
  bnMomentum?: number;
  backward?: BackwardFn;
  lower?: LowerFn;
  /**
   * optimizer steps per session run in fit() and trainStepsWith() (default: autoStepsPerRun's choice
   * from the model's FLOPs per parameter; 1 = a run per step). Results do not depend on it.
   */
  stepsPerRun?: number;
}

export interface StepInfo {
  epoch: number;
  stepInEpoch: number;
  stepsPerEpoch: number;
  globalStep: number;
  totalSteps: number;
  loss: number;
  lr: number;
  etaSeconds: number | null;
}

export interface EpochInfo {
  epoch: number;
  meanLoss: number;
  seconds: number;
  eval?: { accuracy: number; meanLoss: number };
}

export interface FitOptions {
  /** train until this many epochs are complete (counting epochs already done before a resume) */
  epochs: number;
  signal?: AbortSignal;
  onStep?: (s: StepInfo) => void;
  onEpoch?: (e: EpochInfo) => void | Promise<void>;
  /** evaluate on this data after every epoch */
  evalData?: ArrayDataset;
  /** called every `checkpointEvery` steps and at the end of each epoch */
  onCheckpoint?: (c: TrainerCheckpoint) => void | Promise<void>;
  checkpointEvery?: number;
}

export interface FitResult {
  epochs: number;
  globalStep: number;
  epochLosses: number[];
  seconds: number;
  stepsPerSecond: number;
  /** median wall time of one training step (ms) */
  medianStepMs: number;
  provider: string;
  threads: number;
  fallbackReason: string | null;
  lastEval?: { accuracy: number; meanLoss: number };
}

/** One batch for Trainer.trainStepWith (see there). */
export interface StepBatch {
  x: Float32Array;
  y: BigInt64Array;
  nb: number;
  exampleShape: number[];
  /** CE per-example weights (STEP_IO.weights) */
  ceWeights?: Float32Array;
  /** teacher logits [nb, C] flattened (KL term) */
  teacherLogits?: Float32Array;
  klWeights?: Float32Array;
  /** reference log p_ref(y_i|x_i) [nb] (NPO term) */
  refLogp?: Float32Array;
  npoWeights?: Float32Array;
  /** L1 coefficient of this step (L1 term) */
  l1?: number;
  /** learning rate (default: the schedule's) */
  lr?: number;
}

export interface StepResult {
  loss: number;
  /** per-example cross-entropy */
  losses: Float32Array;
  lr: number;
  /** per-example KL·T² (KL term on) */
  klLosses?: Float32Array;
  /** per-example NPO values (NPO term on) */
  npoLosses?: Float32Array;
}

export class TrainingCancelledError extends Error {
  constructor() {
    super('training cancelled');
    this.name = 'AbortError';
  }
}

export class Trainer {
  readonly step: TrainStepGraph;
  readonly model: Model;
  readonly provider: string;
  readonly threads: number;
  readonly fallbackReason: string | null;
  readonly fingerprint: string;
  readonly trainable: string[];
  epoch = 0;
  stepInEpoch = 0;
  globalStep = 0;
  epochLosses: number[] = [];
  private params = new Map<string, Float32Array>();
  private state = new Map<string, Float32Array>();
  private stats = new Map<string, Float32Array>();
  private masks = new Map<string, Float32Array>();
  private maskShapeCache = new Map<number, number[][]>();
  private batchBufs = new Map<string, { x: Float32Array; y: BigInt64Array; w: Float32Array }>();
  private sched: LrScheduleOptions;
  private numClasses: number | undefined;
  /** running loss sum and example count of the unfinished epoch */
  private partialEpoch: { sum: number; cnt: number } | null = null;
  private logitsSess: { sess: OpenedSession; input: string; output: string } | null = null;
  /** the K-step graph and its session, opened on the first run of stepsPerRun steps */
  private unrolled: { u: UnrolledStep; sess: OpenedSession } | null = null;
  /** optimizer steps per session run (see TrainerOptions.stepsPerRun) */
  readonly stepsPerRun: number;

  private constructor(
    readonly opts: TrainerOptions,
    model: Model,
    step: TrainStepGraph,
    private sess: OpenedSession,
    fingerprint: string,
    stepsPerRun: number,
  ) {
    this.stepsPerRun = stepsPerRun;
    this.model = model;
    this.step = step;
    this.provider = sess.provider;
    this.threads = sess.threads;
    this.fallbackReason = sess.fallbackReason;
    this.fingerprint = fingerprint;
    this.trainable = step.params.map((p) => p.name);
    this.sched = { baseLr: opts.lr, schedule: opts.schedule, unit: opts.scheduleUnit, warmup: opts.warmup };
    const inits = new Map(model.graph.initializers.map((t) => [t.name, t]));
    for (const p of step.params) {
      this.params.set(p.name, new Float32Array(inits.get(p.name)!.data as Float32Array));
      for (const s of p.state) this.state.set(s.input, new Float32Array(this.params.get(p.name)!.length));
      if (p.mask) this.masks.set(p.name, opts.masks![p.name]);
    }
    for (const r of step.runningStats) this.stats.set(r.name, new Float32Array(inits.get(r.name)!.data as Float32Array));
    const out = model.graph.outputs.find((o) => o.name === (opts.logits ?? model.graph.outputs[0]?.name));
    const c = out?.shape?.[1];
    if (typeof c === 'number') this.numClasses = c;
  }

  static async create(o: TrainerOptions): Promise<Trainer> {
    if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new Error(`batch size must be a positive integer, got ${o.batchSize}`);
    if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw new Error(`seed must be a non-negative integer, got ${o.seed}`);
    validateSchedule({ baseLr: o.lr, schedule: o.schedule, unit: o.scheduleUnit, warmup: o.warmup });
    const model = normalizeTrainingExport(o.model).model;
    let trainable = o.trainable;
    if (!trainable) trainable = detectTrainable(model, { frozen: o.frozen }).trainable;
    else if (o.frozen) trainable = trainable.filter((t) => !o.frozen!.includes(t));
    if (!trainable.length) throw new Error('no trainable parameters (all are frozen or none were detected)');
    const masked = Object.keys(o.masks ?? {});
    const inits = new Map(model.graph.initializers.map((t) => [t.name, t]));
    for (const m of masked) {
      if (!trainable.includes(m)) throw new Error(`mask given for '${m}', which is not a trainable parameter`);
      const want = inits.get(m)!.data.length;
      const mk = o.masks![m];
      if (!(mk instanceof Float32Array) || mk.length !== want) throw new Error(`mask for '${m}' must be a Float32Array of ${want} values`);
      for (let i = 0; i < mk.length; i++) if (mk[i] !== 0 && mk[i] !== 1) throw new Error(`mask for '${m}' must hold only 0 and 1 (value ${mk[i]} at ${i})`);
    }
    const step = buildTrainStep(model, {
      trainable,
      optimizer: o.optimizer,
      masked,
      loss: o.loss,
      logits: o.logits,
      dropout: o.dropout,
      bnMomentum: o.bnMomentum,
      backward: o.backward,
      lower: o.lower,
    });
    if (step.dataInputs.length !== 1) throw new Error(`the trainer needs a model with exactly one data input, this one has ${step.dataInputs.length}`);
    const bytes = encodeModel(step.model);
    const fingerprint = createHash('sha256')
      .update(bytes)
      .update(JSON.stringify({ o: o.optimizer, lr: o.lr, s: o.schedule, u: o.scheduleUnit, w: o.warmup, l: o.loss, b: o.batchSize, seed: o.seed, sh: o.shuffle, d: o.dropLast }))
      .digest('hex');
    const k = chooseStepsPerRun(o, model, step);
    const sess = await openSession(bytes, { provider: o.provider, threads: o.threads, memoryPattern: memoryPatternFor(step.model, o.batchSize) });
    return new Trainer(o, model, step, sess, fingerprint, k);
  }

  stepsPerEpoch(n: number): number {
    return this.opts.dropLast ? Math.floor(n / this.opts.batchSize) : Math.ceil(n / this.opts.batchSize);
  }

  /** Data order of an epoch (identity when shuffle is off). */
  epochOrder(epoch: number, n: number): Uint32Array {
    if (this.opts.shuffle === false) return Uint32Array.from({ length: n }, (_, i) => i);
    return new Rng(this.opts.seed, STREAM.epochPermutation(epoch)).permutation(n);
  }

  /** batch buffers of `nb` rows, one set per position in a run */
  private bufs(nb: number, per: number, slot = 0) {
    const key = `${nb}/${slot}`;
    let b = this.batchBufs.get(key);
    if (!b) {
      b = { x: new Float32Array(nb * per), y: new BigInt64Array(nb), w: new Float32Array(nb) };
      this.batchBufs.set(key, b);
    }
    return b;
  }

  private maskShapes(nb: number, exampleShape: number[]): number[][] {
    let s = this.maskShapeCache.get(nb);
    if (!s) {
      const types = inferShapes(this.step.model.graph, { [this.step.dataInputs[0].name]: [nb, ...exampleShape] });
      s = this.step.dropoutMasks.map((m) => {
        const sh = types.get(m.shapeOf)?.shape;
        if (!sh || sh.some((d) => typeof d !== 'number')) throw new Error(`cannot determine the shape of dropout mask '${m.input}' for batch size ${nb}`);
        return sh as number[];
      });
      this.maskShapeCache.set(nb, s);
    }
    return s;
  }

  /**
   * One optimizer step on a prepared batch (x: nb examples, y: int64 labels). Advances globalStep.
   * The learning rate is the schedule's unless `lr` is given. With extra loss terms use trainStepWith.
   */
  async trainStep(x: Float32Array, y: BigInt64Array, nb: number, exampleShape: number[], w?: Float32Array, lr?: number): Promise<{ loss: number; losses: Float32Array; lr: number }> {
    const { loss, losses, lr: rate } = await this.trainStepWith({ x, y, nb, exampleShape, ceWeights: this.step.weights ? w : undefined, lr });
    return { loss, losses, lr: rate };
  }

  /**
   * One optimizer step with the feeds of the extra loss terms (TrainerOptions.loss.terms):
   * ceWeights [nb] (required with terms: the CE term's per-example weights, reduction 'sum'),
   * teacherLogits [nb*C] and klWeights [nb] (KL term), refLogp and npoWeights [nb] (NPO term),
   * l1 (the L1 coefficient of this step). Returns the total loss, the per-example CE losses and,
   * when on, the per-example (unweighted) KL and NPO values.
   */
  async trainStepWith(b: StepBatch): Promise<StepResult> {
    const feeds: Record<string, ort.Tensor> = {};
    const rate = this.stepFeeds(b, 0, (n) => n, feeds);
    this.carriedFeeds(feeds);
    const out = await this.sess.session.run(feeds);
    const r = this.stepResult(out, rate, (n) => n);
    if (!Number.isFinite(r.loss)) throw diverged(r.loss, this.globalStep + 1);
    this.takeCarried(out);
    this.globalStep++;
    return r;
  }

  /**
   * Several optimizer steps, one per batch, in order: the same weights and results as calling
   * trainStepWith for each, in runs of stepsPerRun steps through the unrolled graph where the batches
   * of a run have the same size (the rest one at a time). The batches must belong to the current
   * epoch (an epoch-unit learning-rate schedule reads it). When a step of a run diverges, the error
   * names that step and the trainer keeps the weights from before the run.
   */
  async trainStepsWith(batches: StepBatch[]): Promise<StepResult[]> {
    const out: StepResult[] = [];
    const k = this.stepsPerRun;
    for (let i = 0; i < batches.length; i += k) {
      const run = batches.slice(i, i + k);
      if (k > 1 && run.length === k && run.every((b) => b.nb === run[0].nb)) out.push(...(await this.runUnrolled(run)));
      else for (const b of run) out.push(await this.trainStepWith(b));
    }
    return out;
  }

  private async runUnrolled(run: StepBatch[]): Promise<StepResult[]> {
    if (!this.unrolled) {
      const u = unrollTrainStep(this.step, this.stepsPerRun);
      const sess = await openSession(u.model, { provider: this.provider as ProviderName, threads: this.threads, memoryPattern: memoryPatternFor(u.model, this.opts.batchSize) });
      this.unrolled = { u, sess };
    }
    const { u, sess } = this.unrolled;
    const feeds: Record<string, ort.Tensor> = {};
    const rates = run.map((b, j) => this.stepFeeds(b, j, (n) => u.input(n, j), feeds));
    this.carriedFeeds(feeds);
    const out = await sess.session.run(feeds);
    const results = run.map((_, j) => this.stepResult(out, rates[j], (n) => u.output(n, j)));
    const bad = results.findIndex((r) => !Number.isFinite(r.loss));
    if (bad >= 0) throw diverged(results[bad].loss, this.globalStep + bad + 1);
    this.takeCarried(out);
    this.globalStep += run.length;
    return results;
  }

  /** Feeds of one step (`offset` steps after globalStep) under the names `name` gives; returns its learning rate. */
  private stepFeeds(b: StepBatch, offset: number, name: (n: string) => string, feeds: Record<string, ort.Tensor>): number {
    const st = this.step;
    const { x, y, nb, exampleShape } = b;
    const at = this.globalStep + offset;
    const rate = b.lr ?? lrForStep(this.sched, this.epoch, at);
    feeds[name(st.dataInputs[0].name)] = new ort.Tensor('float32', x, [nb, ...exampleShape]);
    feeds[name(st.labels)] = new ort.Tensor('int64', y, [nb]);
    feeds[name(st.lr)] = new ort.Tensor('float32', new Float32Array([rate]), []);
    feeds[name(st.step)] = new ort.Tensor('float32', new Float32Array([at + 1]), []);
    const perExample = (what: string, v: Float32Array | undefined, input: string | null) => {
      if (!input) {
        if (v) throw new Error(`${what} given, but this trainer was not built with that loss term`);
        return;
      }
      if (!v) throw new Error(`this trainer was built with ${what}: pass them`);
      if (!(v instanceof Float32Array) || v.length !== nb) throw new Error(`${what} must be a Float32Array of ${nb} values`);
      feeds[name(input)] = new ort.Tensor('float32', v, [nb]);
    };
    perExample('per-example weights', b.ceWeights, st.weights);
    perExample('KL weights', b.klWeights, st.terms.klWeights);
    perExample('NPO weights', b.npoWeights, st.terms.npoWeights);
    perExample('reference log-probabilities', b.refLogp, st.terms.refLogp);
    if (st.terms.teacherLogits) {
      const t = b.teacherLogits;
      if (!t) throw new Error('this trainer was built with the KL term: pass teacherLogits');
      const c = this.numClasses ?? t.length / nb;
      if (!(t instanceof Float32Array) || t.length !== nb * c) throw new Error(`teacherLogits must be a Float32Array of ${nb} x ${c} values`);
      feeds[name(st.terms.teacherLogits)] = new ort.Tensor('float32', t, [nb, c]);
    } else if (b.teacherLogits) throw new Error('teacherLogits given, but this trainer was not built with the KL term');
    if (st.terms.l1) {
      if (typeof b.l1 !== 'number' || !Number.isFinite(b.l1)) throw new Error('this trainer was built with the L1 term: pass its coefficient l1 (a finite number)');
      feeds[name(st.terms.l1)] = new ort.Tensor('float32', new Float32Array([b.l1]), []);
    } else if (b.l1 !== undefined) throw new Error('l1 given, but this trainer was not built with the L1 term');
    if (st.dropoutMasks.length) {
      const shapes = this.maskShapes(nb, exampleShape);
      const rng = new Rng(this.opts.seed, STREAM.stepDropout(at));
      st.dropoutMasks.forEach((m, i) => {
        const n = shapes[i].reduce((a, b) => a * b, 1);
        feeds[name(m.input)] = new ort.Tensor('float32', rng.bernoulli(new Float32Array(n), 1 - m.ratio), shapes[i]);
      });
    }
    return rate;
  }

  /** Feeds of the values a step carries to the next: parameters, optimizer state, masks, running statistics. */
  private carriedFeeds(feeds: Record<string, ort.Tensor>): void {
    for (const p of this.step.params) {
      feeds[p.input] = new ort.Tensor('float32', this.params.get(p.name)!, p.dims);
      for (const s of p.state) feeds[s.input] = new ort.Tensor('float32', this.state.get(s.input)!, p.dims);
      if (p.mask) feeds[p.mask] = new ort.Tensor('float32', this.masks.get(p.name)!, p.dims);
    }
    for (const r of this.step.runningStats) feeds[r.input] = new ort.Tensor('float32', this.stats.get(r.name)!, r.dims);
  }

  private takeCarried(out: ort.InferenceSession.OnnxValueMapType): void {
    for (const p of this.step.params) {
      this.params.set(p.name, out[p.output].data as Float32Array);
      for (const s of p.state) this.state.set(s.input, out[s.output].data as Float32Array);
    }
    for (const r of this.step.runningStats) this.stats.set(r.name, out[r.output].data as Float32Array);
  }

  private stepResult(out: ort.InferenceSession.OnnxValueMapType, rate: number, name: (n: string) => string): StepResult {
    const st = this.step;
    const r: StepResult = { loss: (out[name(st.loss)].data as Float32Array)[0], losses: out[name(st.losses)].data as Float32Array, lr: rate };
    if (st.termOutputs.kl) r.klLosses = out[name(st.termOutputs.kl)].data as Float32Array;
    if (st.termOutputs.npo) r.npoLosses = out[name(st.termOutputs.npo)].data as Float32Array;
    return r;
  }

  /**
   * Logits [nb*C] of the current weights for a batch, without a training step: the evaluation graph
   * (eval mode: BatchNorm running statistics, no dropout) with the trainable parameters and running
   * statistics as inputs, one session opened on first use and reused (for SCRUB students/teachers).
   */
  async logits(x: Float32Array, nb: number, exampleShape: number[]): Promise<Float32Array> {
    if (!this.logitsSess) {
      const eg = buildEvalGraph(this.model, { logits: this.opts.logits, features: null, withLabels: false });
      const names = [...this.params.keys(), ...this.stats.keys()];
      const inits = new Set(eg.model.graph.initializers.map((t) => t.name));
      for (const n of names) if (!inits.has(n)) throw new Error(`the evaluation graph has no initializer '${n}'`);
      promoteToInputs(eg.model.graph, names);
      const sess = await openSession(eg.model, { provider: this.provider as ProviderName, threads: this.threads });
      this.logitsSess = { sess, input: eg.dataInputs[0].name, output: eg.outputs.logits };
    }
    const L = this.logitsSess;
    const feeds: Record<string, ort.Tensor> = { [L.input]: new ort.Tensor('float32', x, [nb, ...exampleShape]) };
    for (const p of this.step.params) feeds[p.name] = new ort.Tensor('float32', this.params.get(p.name)!, p.dims);
    for (const r of this.step.runningStats) feeds[r.name] = new ort.Tensor('float32', this.stats.get(r.name)!, r.dims);
    const out = await L.sess.session.run(feeds, [L.output]);
    return out[L.output].data as Float32Array;
  }

  /** Train until `epochs` epochs are complete, continuing from the current position. */
  async fit(ds: ArrayDataset, f: FitOptions): Promise<FitResult> {
    validateDataset(ds, this.numClasses);
    if (hasTerms(this.opts.loss?.terms)) throw new Error('this trainer has extra loss terms (KL, NPO or L1), whose inputs fit() cannot supply: drive it with trainStepWith');
    if (this.step.weights && !ds.weights) throw new Error('this trainer was built with per-example weights, but the data has none');
    if (!Number.isInteger(f.epochs) || f.epochs < 1) throw new Error(`epochs must be a positive integer, got ${f.epochs}`);
    const per = exampleSize(ds);
    const spe = this.stepsPerEpoch(ds.n);
    if (spe === 0) throw new Error(`no full batch: ${ds.n} examples, batch size ${this.opts.batchSize} with dropLast`);
    const totalSteps = spe * f.epochs;
    const t0 = performance.now();
    const stepTimes: number[] = [];
    const startStep = this.globalStep;
    let lastEval: FitResult['lastEval'];
    while (this.epoch < f.epochs) {
      const order = this.epochOrder(this.epoch, ds.n);
      const te = performance.now();
      let sum = 0;
      let cnt = 0;
      // a resumed epoch restarts its running mean from the checkpointed partial sum
      if (this.stepInEpoch > 0 && this.partialEpoch) ({ sum, cnt } = this.partialEpoch);
      while (this.stepInEpoch < spe) {
        if (f.signal?.aborted) throw new TrainingCancelledError();
        // a whole run of stepsPerRun steps where one fits before the epoch's end and the next
        // checkpoint step, else one step (cancellation and progress come between runs)
        const toCheckpoint = f.onCheckpoint && f.checkpointEvery ? f.checkpointEvery - (this.globalStep % f.checkpointEvery) : Infinity;
        const n = stepsThisRun(this.stepsPerRun, Math.min(spe - this.stepInEpoch, toCheckpoint));
        const batches: StepBatch[] = [];
        for (let j = 0; j < n; j++) {
          const start = (this.stepInEpoch + j) * this.opts.batchSize;
          const end = Math.min(ds.n, start + this.opts.batchSize);
          const nb = end - start;
          const b = this.bufs(nb, per, j);
          gatherBatch(ds, order, start, end, b.x, b.y, this.step.weights ? b.w : undefined);
          batches.push({ x: b.x, y: b.y, nb, exampleShape: ds.exampleShape, ceWeights: this.step.weights ? b.w : undefined });
        }
        const ts = performance.now();
        const base = this.globalStep;
        const rs = await this.trainStepsWith(batches);
        const perStep = (performance.now() - ts) / n;
        for (let j = 0; j < n; j++) {
          const r = rs[j];
          stepTimes.push(perStep);
          sum += r.loss * batches[j].nb;
          cnt += batches[j].nb;
          this.stepInEpoch++;
          const globalStep = base + j + 1;
          const done = globalStep - startStep;
          const elapsed = (performance.now() - t0) / 1000;
          f.onStep?.({
            epoch: this.epoch,
            stepInEpoch: this.stepInEpoch,
            stepsPerEpoch: spe,
            globalStep,
            totalSteps,
            loss: r.loss,
            lr: r.lr,
            etaSeconds: done > 0 ? (elapsed / done) * (totalSteps - globalStep) : null,
          });
        }
        this.partialEpoch = { sum, cnt };
        if (f.onCheckpoint && f.checkpointEvery && this.globalStep % f.checkpointEvery === 0 && this.stepInEpoch < spe) await f.onCheckpoint(this.checkpoint());
      }
      const meanLoss = cnt ? sum / cnt : NaN;
      this.epochLosses.push(meanLoss);
      this.epoch++;
      this.stepInEpoch = 0;
      this.partialEpoch = null;
      const info: EpochInfo = { epoch: this.epoch, meanLoss, seconds: (performance.now() - te) / 1000 };
      if (f.evalData) {
        const ev = await this.evaluate(f.evalData);
        lastEval = { accuracy: ev.accuracy, meanLoss: ev.meanLoss };
        info.eval = lastEval;
      }
      await f.onEpoch?.(info);
      if (f.onCheckpoint) await f.onCheckpoint(this.checkpoint());
    }
    const seconds = (performance.now() - t0) / 1000;
    const sorted = [...stepTimes].sort((a, b) => a - b);
    return {
      epochs: this.epoch,
      globalStep: this.globalStep,
      epochLosses: [...this.epochLosses],
      seconds,
      stepsPerSecond: stepTimes.length / Math.max(seconds, 1e-9),
      medianStepMs: sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0,
      provider: this.provider,
      threads: this.threads,
      fallbackReason: this.fallbackReason,
      lastEval,
    };
  }

  /** Current trainable parameters and running statistics (the arrays themselves; do not mutate). */
  weights(): Record<string, Float32Array> {
    const w: Record<string, Float32Array> = {};
    for (const [k, v] of this.params) w[k] = v;
    for (const [k, v] of this.stats) w[k] = v;
    return w;
  }

  /** Optimizer state of a parameter, by slot (e.g. 'momentum', 'exp_avg', 'exp_avg_sq'). */
  optimizerState(param: string): Record<string, Float32Array> {
    const p = this.step.params.find((x) => x.name === param);
    if (!p) throw new Error(`'${param}' is not a trainable parameter`);
    return Object.fromEntries(p.state.map((s) => [s.slot, this.state.get(s.input)!]));
  }

  /** Replace the 0/1 mask of a masked parameter (e.g. a new SalUn saliency mask). */
  setMask(param: string, mask: Float32Array): void {
    const cur = this.masks.get(param);
    if (!cur) throw new Error(`'${param}' was not created as a masked parameter (pass a mask for it to Trainer.create)`);
    if (!(mask instanceof Float32Array) || mask.length !== cur.length) throw new Error(`mask for '${param}' must be a Float32Array of ${cur.length} values`);
    for (let i = 0; i < mask.length; i++) if (mask[i] !== 0 && mask[i] !== 1) throw new Error(`mask for '${param}' must hold only 0 and 1 (value ${mask[i]} at ${i})`);
    this.masks.set(param, new Float32Array(mask));
  }

  /** Replace a parameter's values (e.g. to start from other weights). */
  setWeights(w: Record<string, Float32Array>): void {
    for (const [k, v] of Object.entries(w)) {
      const cur = this.params.get(k) ?? this.stats.get(k);
      if (!cur) throw new Error(`'${k}' is neither a trainable parameter nor a running statistic`);
      if (v.length !== cur.length) throw new Error(`'${k}' needs ${cur.length} values, got ${v.length}`);
      (this.params.has(k) ? this.params : this.stats).set(k, new Float32Array(v));
    }
  }

  /** Inference model holding the current weights (eval-mode BatchNorm uses the running statistics). */
  inferenceModel(metadata: Record<string, string> = {}): Model {
    return bakeInference(this.model, this.weights(), {
      'lethe.trained.steps': String(this.globalStep),
      'lethe.trained.epochs': String(this.epoch),
      'lethe.trained.provider': this.provider,
      'lethe.trained.threads': String(this.threads),
      ...metadata,
    });
  }

  async evaluate(ds: ArrayDataset, batchSize = 512): Promise<EvaluationResult> {
    return evaluateModel(this.inferenceModel(), ds, { batchSize, provider: this.provider as ProviderName, threads: this.threads, logits: this.opts.logits });
  }

  checkpoint(): TrainerCheckpoint {
    const tensors: Record<string, Float32Array> = {};
    for (const [k, v] of this.params) tensors[`param/${k}`] = new Float32Array(v);
    for (const p of this.step.params) for (const s of p.state) tensors[`state/${p.name}/${s.slot}`] = new Float32Array(this.state.get(s.input)!);
    for (const [k, v] of this.stats) tensors[`stat/${k}`] = new Float32Array(v);
    return {
      version: 1,
      fingerprint: this.fingerprint,
      seed: this.opts.seed,
      epoch: this.epoch,
      stepInEpoch: this.stepInEpoch,
      globalStep: this.globalStep,
      tensors,
      epochLosses: [...this.epochLosses],
      partialEpoch: this.stepInEpoch > 0 && this.partialEpoch ? { sum: this.partialEpoch.sum, count: this.partialEpoch.cnt } : null,
    };
  }

  restore(c: TrainerCheckpoint): void {
    if (c.fingerprint !== this.fingerprint) throw new Error('checkpoint belongs to a different model or training settings; cannot resume');
    if (c.seed !== this.opts.seed) throw new Error(`checkpoint seed ${c.seed} differs from ${this.opts.seed}`);
    const need = (k: string, len: number) => {
      const t = c.tensors[k];
      if (!t || t.length !== len) throw new Error(`checkpoint is missing '${k}' or it has the wrong size`);
      return new Float32Array(t);
    };
    for (const p of this.step.params) {
      const n = this.params.get(p.name)!.length;
      this.params.set(p.name, need(`param/${p.name}`, n));
      for (const s of p.state) this.state.set(s.input, need(`state/${p.name}/${s.slot}`, n));
    }
    for (const r of this.step.runningStats) this.stats.set(r.name, need(`stat/${r.name}`, this.stats.get(r.name)!.length));
    this.epoch = c.epoch;
    this.stepInEpoch = c.stepInEpoch;
    this.globalStep = c.globalStep;
    this.epochLosses = [...c.epochLosses];
    this.partialEpoch = c.stepInEpoch > 0 && c.partialEpoch ? { sum: c.partialEpoch.sum, cnt: c.partialEpoch.count } : null;
  }

  async dispose(): Promise<void> {
    await this.sess.session.release();
    if (this.unrolled) await this.unrolled.sess.session.release();
    this.unrolled = null;
    if (this.logitsSess) await this.logitsSess.sess.session.release();
    this.logitsSess = null;
  }
}

function diverged(loss: number, step: number): Error {
  return new Error(`training diverged: loss is ${loss} at step ${step} (lower the learning rate)`);
}

/** TrainerOptions.stepsPerRun, or autoStepsPerRun's choice (1 when the step graph cannot be unrolled or its FLOPs cannot be counted). */
function chooseStepsPerRun(o: TrainerOptions, model: Model, step: TrainStepGraph): number {
  const blocker = unrollBlocker(step);
  if (o.stepsPerRun !== undefined) {
    if (!Number.isInteger(o.stepsPerRun) || o.stepsPerRun < 1 || o.stepsPerRun > 64) throw new Error(`stepsPerRun must be an integer from 1 to 64, got ${o.stepsPerRun}`);
    if (o.stepsPerRun > 1 && blocker) throw new Error(`stepsPerRun ${o.stepsPerRun}: this training step cannot be unrolled (${blocker})`);
    return o.stepsPerRun;
  }
  if (blocker) return 1;
  let flops: number;
  try {
    flops = forwardFlops(model, o.batchSize);
  } catch {
    return 1;
  }
  return autoStepsPerRun({ trainableElements: trainableElements(step), trainingFlopsPerStep: 3 * flops });
}
