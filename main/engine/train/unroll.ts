// K optimizer steps in one ONNX graph: the training-step graph copied K times, each copy's updated
// parameters, optimizer state and running statistics feeding the next copy. One session.run then
// does K steps, and the weights cross the JS/ORT boundary once per K steps instead of every step.
//
// Why: onnxruntime-node copies every graph output into a new JS array on every run (a preallocated
// fetch is not written in place), so each step of a small model spent about a fifth of its time
// handing weights and momenta out and back in (MLP 784-256-128-10 at batch 128: ~0.4 of ~2 ms,
// docs/benchmarks.md). Each copy runs the same nodes on the same shapes as the one-step graph, so
// K unrolled steps give bit-for-bit the weights of K single steps (test/engine/train/unroll.test.ts).
//
// Per-step inputs (data, labels, weights, learning rate, step count, loss-term inputs, dropout masks)
// and per-step outputs (loss, per-example losses, loss-term values) get the suffix `__s{i}`;
// parameters, state and running statistics keep their names at the two ends (inputs of copy 0,
// outputs of copy K-1); 0/1 masks and initializers are shared by every copy.

import { type Graph, type Node, type ValueInfo, numel } from '../onnx/ir';
import type { TrainStepGraph } from './train-step';

export const stepSuffix = (name: string, i: number): string => `${name}__s${i}`;

export interface UnrolledStep {
  /** the K-step graph (same opsets and metadata as the one-step graph) */
  model: TrainStepGraph['model'];
  k: number;
  /** per-step input name of copy i for a one-step input name */
  input(name: string, i: number): string;
  /** per-step output name of copy i for a one-step output name (loss, losses, term outputs) */
  output(name: string, i: number): string;
}

/** Why a step graph cannot be unrolled (null: it can). */
export function unrollBlocker(step: TrainStepGraph): string | null {
  for (const n of step.model.graph.nodes) {
    for (const a of Object.values(n.attrs)) if (a.type === 'graph') return `node '${n.name ?? n.op}' has a subgraph`;
  }
  return null;
}

export function unrollTrainStep(step: TrainStepGraph, k: number): UnrolledStep {
  if (!Number.isInteger(k) || k < 2) throw new Error(`unrolling needs at least 2 steps, got ${k}`);
  const why = unrollBlocker(step);
  if (why) throw new Error(`this training step cannot be unrolled: ${why}`);
  const g = step.model.graph;
  const shared = new Set<string>(g.initializers.map((t) => t.name));
  for (const p of step.params) if (p.mask) shared.add(p.mask);
  // carried values: one-step input -> one-step output
  const carried = new Map<string, string>();
  for (const p of step.params) {
    carried.set(p.input, p.output);
    for (const s of p.state) carried.set(s.input, s.output);
  }
  for (const r of step.runningStats) carried.set(r.input, r.output);
  const carriedOut = new Set(carried.values());
  for (const o of carriedOut) if (carried.has(o)) throw new Error(`'${o}' is both a carried input and output`);

  const rename = (name: string, i: number): string => {
    if (name === '' || shared.has(name)) return name;
    const from = carried.get(name);
    if (from !== undefined) return i === 0 ? name : rename(from, i - 1);
    if (carriedOut.has(name) && i === k - 1) return name;
    return stepSuffix(name, i);
  };

  const nodes: Node[] = [];
  for (let i = 0; i < k; i++) {
    for (const n of g.nodes) {
      nodes.push({ ...n, name: n.name ? stepSuffix(n.name, i) : undefined, inputs: n.inputs.map((v) => rename(v, i)), outputs: n.outputs.map((v) => rename(v, i)) });
    }
  }
  const perStep = (v: ValueInfo, i: number): ValueInfo => ({ ...v, name: rename(v.name, i), shape: v.shape ? [...v.shape] : null });
  const inputs: ValueInfo[] = [];
  for (const v of g.inputs) {
    if (shared.has(v.name) || carried.has(v.name)) inputs.push({ ...v, shape: v.shape ? [...v.shape] : null });
    else for (let i = 0; i < k; i++) inputs.push(perStep(v, i));
  }
  const outputs: ValueInfo[] = [];
  for (const v of g.outputs) {
    if (carriedOut.has(v.name)) outputs.push({ ...v, shape: v.shape ? [...v.shape] : null });
    else for (let i = 0; i < k; i++) outputs.push(perStep(v, i));
  }
  const graph: Graph = { name: `${g.name}_x${k}`, nodes, inputs, outputs, initializers: g.initializers, valueInfo: [] };
  const perStepIn = new Set(g.inputs.filter((v) => !shared.has(v.name) && !carried.has(v.name)).map((v) => v.name));
  const perStepOut = new Set(g.outputs.filter((v) => !carriedOut.has(v.name)).map((v) => v.name));
  return {
    model: { ...step.model, metadata: { ...step.model.metadata, 'lethe.graph': 'train-steps', 'lethe.steps': String(k) }, graph },
    k,
    input: (name, i) => {
      if (!perStepIn.has(name)) throw new Error(`'${name}' is not a per-step input of the training step`);
      return stepSuffix(name, i);
    },
    output: (name, i) => {
      if (!perStepOut.has(name)) throw new Error(`'${name}' is not a per-step output of the training step`);
      return stepSuffix(name, i);
    },
  };
}

/**
 * The automatic choice of steps per run (autoStepsPerRun): `steps` per run when a step does fewer than
 * `flopsPerParam` training FLOPs per trainable parameter. Changed only by tests and benchmarks
 * (setUnrollTuning), e.g. steps 1 to compare whole methods against one step per run.
 */
export const UNROLL_TUNING = { steps: 8, flopsPerParam: 12_000 };

/** Change UNROLL_TUNING; returns the previous settings. */
export function setUnrollTuning(t: Partial<typeof UNROLL_TUNING>): typeof UNROLL_TUNING {
  const prev = { ...UNROLL_TUNING };
  Object.assign(UNROLL_TUNING, t);
  return prev;
}

/**
 * How many steps one run of the training graph should take: UNROLL_TUNING.steps when handing the
 * trainable parameters and their optimizer state out and back in is a noticeable share of a step, i.e.
 * the step does fewer than UNROLL_TUNING.flopsPerParam training FLOPs (3x the forward's) per trainable
 * parameter; else 1. Measured on the 2-core EPYC (docs/benchmarks.md), per step, unrolled against
 * single: MLP 784-256-128-10 b128 (767 FLOPs/parameter) 1.4-2.1x faster, small CNN b128 (7.7k)
 * 1.03-1.13x, ResNet-18-CIFAR b64 (19k) none at 2 steps (0.96-1.05x per step).
 */
export function autoStepsPerRun(o: { trainableElements: number; trainingFlopsPerStep: number }): number {
  const per = o.trainingFlopsPerStep / Math.max(1, o.trainableElements);
  return per < UNROLL_TUNING.flopsPerParam ? UNROLL_TUNING.steps : 1;
}

/**
 * Steps in the next run of a loop that trains `perRun` steps per run: all of them when at least that
 * many steps are left before the loop's next boundary (epoch end, checkpoint, guardrail check, measured
 * step), else one (the steps up to the boundary then go one at a time through the one-step graph).
 */
export function stepsThisRun(perRun: number, untilBoundary: number): number {
  return untilBoundary >= perRun ? perRun : 1;
}

export function trainableElements(step: TrainStepGraph): number {
  return step.params.reduce((a, p) => a + numel(p.dims), 0);
}
