// ORT profiling of the training step: where the time goes, aggregated per op type.
// Uses sessionOptions.enableProfiling; the JSON trace's Node events ('<node>_kernel_time') carry the
// op type and duration in microseconds.

import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { encodeModel } from '../main/engine/onnx/codec';
import { type Model, numel } from '../main/engine/onnx/ir';
import { detectTrainable } from '../main/engine/models';
import { exampleShape, randomBatch } from './lethe';

export interface OpShare {
  op: string;
  ms: number;
  share: number;
  calls: number;
}

interface TraceEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string; output_type_shape?: unknown[] };
}

/** Per node (name, op, output shape): time per step, heaviest first (set LETHE_PROFILE_NODES=N to print N). */
function nodeTable(events: TraceEvent[], steps: number, n: number): string[] {
  const by = new Map<string, { op: string; us: number; shape: string }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || !e.args?.op_name) continue;
    const key = e.name.slice(0, -'_kernel_time'.length);
    const cur = by.get(key) ?? { op: e.args.op_name, us: 0, shape: JSON.stringify(e.args.output_type_shape ?? []) };
    cur.us += e.dur ?? 0;
    by.set(key, cur);
  }
  return [...by.entries()]
    .sort((a, b) => b[1].us - a[1].us)
    .slice(0, n)
    .map(([k, v]) => `${(v.us / 1000 / steps).toFixed(2).padStart(8)} ms  ${v.op.padEnd(14)} ${k.slice(0, 60).padEnd(60)} ${v.shape.slice(0, 80)}`);
}

export function summarizeProfile(file: string, steps: number): { total: number; ops: OpShare[] } {
  const events = JSON.parse(readFileSync(file, 'utf8')) as TraceEvent[];
  const byOp = new Map<string, { us: number; calls: number }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || !e.args?.op_name) continue;
    const cur = byOp.get(e.args.op_name) ?? { us: 0, calls: 0 };
    cur.us += e.dur ?? 0;
    cur.calls++;
    byOp.set(e.args.op_name, cur);
  }
  const nNodes = Number(process.env.LETHE_PROFILE_NODES ?? 0);
  if (nNodes > 0) console.log(nodeTable(events, steps, nNodes).join('\n'));
  const total = [...byOp.values()].reduce((s, v) => s + v.us, 0);
  const ops = [...byOp.entries()]
    .map(([op, v]) => ({ op, ms: v.us / 1000 / steps, share: v.us / total, calls: v.calls / steps }))
    .sort((a, b) => b.ms - a.ms);
  return { total: total / 1000 / steps, ops };
}

/** Profile `steps` training steps (after one unprofiled-equivalent warm-up step inside the trace). */
export async function profileTrainStep(m: Model, batch: number, threads: number, steps = 3): Promise<{ total: number; ops: OpShare[] }> {
  const { buildTrainStep } = await import('../main/engine/train');
  const { lowerForTraining } = await import('../main/engine/autodiff');
  const st = buildTrainStep(m, { trainable: detectTrainable(m).trainable, optimizer: { kind: 'sgd', momentum: 0.9 }, lower: lowerForTraining });
  const prefix = join(tmpdir(), `lethe-profile-${process.pid}-${Date.now()}`);
  const session = await ort.InferenceSession.create(encodeModel(st.model), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    enableProfiling: true,
    profileFilePrefix: prefix,
    // e.g. LETHE_ORT_EXTRA='{"optimization":{"disable_specified_optimizers":"NchwcTransformer"}}'
    ...(process.env.LETHE_ORT_EXTRA ? { extra: JSON.parse(process.env.LETHE_ORT_EXTRA) } : {}),
  });
  const inits = new Map(st.model.graph.initializers.map((t) => [t.name, t]));
  const orig = new Map(m.graph.initializers.map((t) => [t.name, t]));
  const classes = JSON.parse(m.metadata['lethe.config']).classes as number;
  const { x, y } = randomBatch(m, batch, classes);
  const feeds: Record<string, ort.Tensor> = {
    [st.dataInputs[0].name]: new ort.Tensor('float32', x, [batch, ...exampleShape(m)]),
    [st.labels]: new ort.Tensor('int64', y, [batch]),
    [st.lr]: new ort.Tensor('float32', new Float32Array([0.01]), []),
    [st.step]: new ort.Tensor('float32', new Float32Array([1]), []),
  };
  for (const p of st.params) {
    const t = orig.get(p.name) ?? inits.get(p.name)!;
    feeds[p.input] = new ort.Tensor('float32', t.data as Float32Array, p.dims);
    for (const s of p.state) feeds[s.input] = new ort.Tensor('float32', new Float32Array(numel(p.dims)), p.dims);
  }
  for (const r of st.runningStats) feeds[r.input] = new ort.Tensor('float32', orig.get(r.name)!.data as Float32Array, r.dims);
  await session.run(feeds); // warm-up (first run includes allocation)
  for (let i = 0; i < steps; i++) await session.run(feeds);
  session.endProfiling();
  await session.release();
  const base = basename(prefix);
  const found = readdirSync(tmpdir()).filter((f) => f.startsWith(base) && f.endsWith('.json'));
  if (found.length === 0) throw new Error(`ORT wrote no profile file with prefix ${prefix}`);
  const file = join(tmpdir(), found[0]);
  // the trace also holds the warm-up run: weight it as steps + 1
  const summary = summarizeProfile(file, steps + 1);
  rmSync(file, { force: true });
  return summary;
}
