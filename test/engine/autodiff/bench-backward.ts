// Quick timing of forward vs forward+backward graphs in ORT CPU for the reference small CNN (batch 128)
// and one ResNet-18 basic block (64 channels, 32x32, batch 64), for both Conv weight-gradient
// formulations. Not a test: run with `npx tsx test/engine/autodiff/bench-backward.ts [threads]`.

import * as ort from 'onnxruntime-node';
import { buildBackward, lowerForTraining, prng, setFormulation } from '../../../main/engine/autodiff';
import { GraphBuilder } from '../../../main/engine/onnx/builder';
import { encodeModel, makeModel } from '../../../main/engine/onnx/codec';
import type { Graph } from '../../../main/engine/onnx/ir';

const threads = Number(process.argv[2] ?? 2);

function randn(n: number, scale: number, r: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (r() * 2 - 1) * scale;
  return a;
}

interface Net {
  graph: Graph;
  params: { name: string; dims: number[] }[];
  input: { name: string; dims: number[] };
  classes: number;
}

function smallCnn(N: number): Net {
  const b = new GraphBuilder();
  const params: Net['params'] = [];
  const P = (name: string, dims: number[]) => {
    b.input(name, 'float32', dims);
    params.push({ name, dims });
    return name;
  };
  b.input('x', 'float32', [N, 1, 28, 28]);
  let h = b.op('Conv', ['x', P('w1', [32, 1, 3, 3]), P('b1', [32])]);
  h = b.op('MaxPool', [b.op('Relu', [h])], { kernel_shape: [2, 2], strides: [2, 2] });
  h = b.op('Conv', [h, P('w2', [64, 32, 3, 3]), P('b2', [64])]);
  h = b.op('MaxPool', [b.op('Relu', [h])], { kernel_shape: [2, 2], strides: [2, 2] });
  h = b.op('Relu', [b.op('Gemm', [b.op('Flatten', [h]), P('w3', [128, 1600]), P('b3', [128])], { transB: 1 })]);
  h = b.op('Gemm', [h, P('w4', [10, 128]), P('b4', [10])], { transB: 1 });
  return withLoss(b, h, N, 10, params, { name: 'x', dims: [N, 1, 28, 28] });
}

function resnetBlock(N: number): Net {
  const b = new GraphBuilder();
  const params: Net['params'] = [];
  const P = (name: string, dims: number[]) => {
    b.input(name, 'float32', dims);
    params.push({ name, dims });
    return name;
  };
  const C = 64;
  b.input('x', 'float32', [N, C, 32, 32]);
  const bn = (x: string, i: number) => {
    const rm = b.initializer(`rm${i}`, { dtype: 'float32', dims: [C], data: new Float32Array(C) });
    const rv = b.initializer(`rv${i}`, { dtype: 'float32', dims: [C], data: new Float32Array(C).fill(1) });
    return b.op('BatchNormalization', [x, P(`g${i}`, [C]), P(`be${i}`, [C]), rm, rv]);
  };
  let h = b.op('Relu', [bn(b.op('Conv', ['x', P('w1', [C, C, 3, 3])], { pads: [1, 1, 1, 1] }), 1)]);
  h = bn(b.op('Conv', [h, P('w2', [C, C, 3, 3])], { pads: [1, 1, 1, 1] }), 2);
  h = b.op('Relu', [b.op('Add', [h, 'x'])]);
  h = b.op('Gemm', [b.op('Flatten', [b.op('GlobalAveragePool', [h])]), P('wf', [10, C]), P('bf', [10])], { transB: 1 });
  return withLoss(b, h, N, 10, params, { name: 'x', dims: [N, C, 32, 32] });
}

function withLoss(b: GraphBuilder, logits: string, N: number, K: number, params: Net['params'], input: Net['input']): Net {
  b.input('onehot', 'float32', [N, K]);
  const ls = b.op('LogSoftmax', [logits], { axis: 1 });
  const loss = b.op('Mul', [b.op('ReduceSum', [b.op('Mul', [ls, 'onehot'])], { keepdims: 0 }), b.constF(-1 / N)], {}, 'loss');
  b.output(loss, 'float32', []);
  const low = lowerForTraining(b.toGraph(), { dropout: 'identity' });
  return { graph: low.graph, params, input, classes: K };
}

async function open(graph: Graph): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(encodeModel(makeModel(graph, 17)), { intraOpNumThreads: threads, interOpNumThreads: 1 });
}

type Variant = Parameters<typeof setFormulation>[0];

/** Sessions are run interleaved and the minimum is reported: robust on a shared, noisy machine. */
async function bench(name: string, net: Net, N: number, reps: number, variants: Variant[]) {
  const r = prng(1);
  const feeds: Record<string, ort.Tensor> = {};
  feeds[net.input.name] = new ort.Tensor('float32', randn(net.input.dims.reduce((a, b) => a * b, 1), 1, r), net.input.dims);
  const oh = new Float32Array(N * net.classes);
  for (let i = 0; i < N; i++) oh[i * net.classes + (i % net.classes)] = 1;
  feeds.onehot = new ort.Tensor('float32', oh, [N, net.classes]);
  for (const p of net.params) {
    const n = p.dims.reduce((a, b) => a * b, 1);
    feeds[p.name] = new ort.Tensor('float32', randn(n, 1 / Math.sqrt(n / p.dims[0]), r), p.dims);
  }
  const runs: { label: string; s: ort.InferenceSession; outs: string[]; best: number }[] = [];
  runs.push({ label: 'forward only', s: await open(net.graph), outs: ['loss'], best: Infinity });
  for (const v of variants) {
    const prev = setFormulation(v);
    const bw = buildBackward(net.graph, { loss: 'loss', wrt: net.params.map((p) => p.name) });
    setFormulation(prev);
    runs.push({ label: `forward+backward ${JSON.stringify(v)}`, s: await open(bw.graph), outs: ['loss', ...Object.values(bw.grads)], best: Infinity });
  }
  for (const x of runs) await x.s.run(feeds, x.outs);
  for (let i = 0; i < reps; i++) {
    for (const x of runs) {
      const t0 = performance.now();
      await x.s.run(feeds, x.outs);
      x.best = Math.min(x.best, performance.now() - t0);
    }
  }
  for (const x of runs) {
    console.log(`${name} batch ${N} ${x.label}: ${x.best.toFixed(1)} ms (${((N / x.best) * 1000).toFixed(0)} samples/s)`);
    await x.s.release();
  }
}

const conv = [{}, { convWeightGrad: 'per-offset' }, { convWeightGrad: 'im2col' }] as Variant[]; // {} = defaults
await bench('small CNN', smallCnn(128), 128, 15, [...conv, { maxPoolGrad: 'indices-scatter' }, { maxPoolGrad: 'window-argmax' }, { fuseReluMaxPool: false }]);
if (!process.argv.includes('--cnn-only')) await bench('ResNet basic block 64ch 32x32', resnetBlock(64), 64, 5, conv);
