// Lethe side of the benchmark: forward throughput of the baked inference model and throughput of the
// full training step (forward + cross-entropy + backward + SGD-momentum update in one ORT graph, driven
// by the Trainer exactly as fit() drives it: runs of its stepsPerRun steps, feeding weights in and out
// once per run).

import * as ort from 'onnxruntime-node';
import { encodeModel } from '../main/engine/onnx/codec';
import { type Model, numel } from '../main/engine/onnx/ir';
import { bakeInference } from '../main/engine/train/bake';
import type { Trainer } from '../main/engine/train';
import { samplesPerSecond, type TimingOptions } from './timing';

export function exampleShape(m: Model): number[] {
  return m.graph.inputs[0].shape!.slice(1) as number[];
}

/** Uniform [0, 1) inputs from a fixed LCG (`seed`: another stream, e.g. one per ensemble member) and labels i mod classes. */
export function randomBatch(m: Model, batch: number, classes: number, seed = 12345): { x: Float32Array; y: BigInt64Array } {
  const x = new Float32Array(batch * numel(exampleShape(m)));
  let s = seed >>> 0;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    x[i] = s / 4294967296;
  }
  const y = new BigInt64Array(batch);
  for (let i = 0; i < batch; i++) y[i] = BigInt(i % classes);
  return { x, y };
}

export async function openInference(m: Model, threads: number, profilePrefix?: string): Promise<ort.InferenceSession> {
  const baked = bakeInference(m, {});
  return ort.InferenceSession.create(encodeModel(baked), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    ...(profilePrefix ? { enableProfiling: true, profileFilePrefix: profilePrefix } : {}),
  });
}

export async function letheForward(m: Model, batch: number, threads: number, t: TimingOptions): Promise<number> {
  const session = await openInference(m, threads);
  const classes = JSON.parse(m.metadata['lethe.config']).classes as number;
  const { x } = randomBatch(m, batch, classes);
  const feeds = { input: new ort.Tensor('float32', x, [batch, ...exampleShape(m)]) };
  const rate = await samplesPerSecond(() => session.run(feeds), batch, t);
  await session.release();
  return rate;
}

// the training engine is loaded lazily: a forward-only benchmark still runs if it cannot load
export async function createTrainer(m: Model, batch: number, threads: number, stepsPerRun?: number): Promise<Trainer> {
  const { Trainer } = await import('../main/engine/train');
  const { lowerForTraining } = await import('../main/engine/autodiff');
  return Trainer.create({
    model: m,
    optimizer: { kind: 'sgd', momentum: 0.9 },
    lr: 0.01,
    batchSize: batch,
    seed: 0,
    threads,
    lower: lowerForTraining,
    stepsPerRun,
  });
}

/**
 * One call = one run of the trainer's stepsPerRun training steps (lr 0.01), as fit() drives it: the
 * samples a call trains are `samples`.
 */
export function trainingRun(trainer: Trainer, m: Model, batch: number): { run: () => Promise<unknown>; samples: number } {
  const classes = JSON.parse(m.metadata['lethe.config']).classes as number;
  const { x, y } = randomBatch(m, batch, classes);
  const shape = exampleShape(m);
  const batches = Array.from({ length: trainer.stepsPerRun }, () => ({ x, y, nb: batch, exampleShape: shape, lr: 0.01 }));
  return { run: () => trainer.trainStepsWith(batches), samples: batch * trainer.stepsPerRun };
}

export async function letheTrain(m: Model, batch: number, threads: number, t: TimingOptions): Promise<{ rate: number; buildSeconds: number; stepsPerRun: number }> {
  const t0 = performance.now();
  const trainer = await createTrainer(m, batch, threads);
  const buildSeconds = (performance.now() - t0) / 1000;
  const { run, samples } = trainingRun(trainer, m, batch);
  const rate = await samplesPerSecond(run, samples, t);
  await trainer.dispose();
  return { rate, buildSeconds, stepsPerRun: trainer.stepsPerRun };
}
