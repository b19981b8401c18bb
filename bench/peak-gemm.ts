// The machine's measured FP32 matrix-multiply ceiling at the bench's thread count: ONNX Runtime's MatMul
// (MLAS) and PyTorch's torch.mm on square matrices, GFLOP/s. The forward ratios of `npm run bench` are
// bounded by (Lethe's achievable GFLOP/s) / (PyTorch's achieved GFLOP/s): see docs/benchmarks.md.
// `npx tsx bench/peak-gemm.ts [--n 1024] [--threads 2]`
import * as ort from 'onnxruntime-node';
import { cpus } from 'node:os';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { GraphBuilder } from '../main/engine/onnx/builder';
import { encodeModel } from '../main/engine/onnx/codec';
import { cpuDescription, findTorch } from './torch';

export interface PeakGemm {
  n: number;
  threads: number;
  /** ONNX Runtime MatMul, GFLOP/s: median of 5 one-second passes, and the range */
  ort: { median: number; min: number; max: number };
  /** torch.mm of the given PyTorch (null without one) */
  torch: { label: string; median: number; min: number; max: number } | null;
}

/** The FP32 matrix-multiply ceiling of this machine at `threads`: square n x n products, GFLOP/s. */
export async function measurePeakGemm(n: number, threads: number, torchEnv = findTorch(() => undefined)): Promise<PeakGemm> {
  const b = new GraphBuilder('');
  b.input('a', 'float32', [n, n]);
  b.input('b', 'float32', [n, n]);
  b.addNode('MatMul', ['a', 'b'], ['c']);
  b.output('c', 'float32', [n, n]);
  const model = { irVersion: 8, opsets: [{ domain: '', version: 17 }], metadata: {}, producer: 'lethe-bench', graph: b.toGraph('gemm') };
  const s = await ort.InferenceSession.create(encodeModel(model as never), { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' });
  const a = new Float32Array(n * n).map((_, i) => ((i * 7919) % 1000) / 1000);
  const feeds = { a: new ort.Tensor('float32', a, [n, n]), b: new ort.Tensor('float32', a, [n, n]) };
  for (let i = 0; i < 3; i++) await s.run(feeds);
  const rates: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    let k = 0;
    while (performance.now() - t0 < 1000) {
      await s.run(feeds);
      k++;
    }
    rates.push((2 * n ** 3 * k) / ((performance.now() - t0) / 1000) / 1e9);
  }
  await s.release();
  rates.sort((x, y) => x - y);
  let torch: PeakGemm['torch'] = null;
  if (torchEnv) {
    const py = `import torch,time\ntorch.set_num_threads(${threads})\na=torch.rand(${n},${n});b=torch.rand(${n},${n})\nfor _ in range(3): a@b\nr=[]\nfor _ in range(5):\n  t=time.perf_counter();k=0\n  while time.perf_counter()-t<1.0:\n    a@b;k+=1\n  r.append(2*${n}**3*k/(time.perf_counter()-t)/1e9)\nr.sort();print("%.3f %.3f %.3f"%(r[2],r[0],r[4]))`;
    const [med, lo, hi] = execFileSync(torchEnv.python, ['-c', py], { encoding: 'utf8' }).trim().split(' ').map(Number);
    torch = { label: torchEnv.label, median: med, min: lo, max: hi };
  }
  return { n, threads, ort: { median: rates[2], min: rates[0], max: rates[4] }, torch };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const opt = (f: string, d: string) => (args.includes(f) ? args[args.indexOf(f) + 1] : d);
  const p = await measurePeakGemm(Number(opt('--n', '1024')), Number(opt('--threads', String(cpus().length))));
  console.log(`CPU: ${cpuDescription()}; threads ${p.threads}; n ${p.n}`);
  console.log(`ONNX Runtime MatMul: ${p.ort.median.toFixed(1)} GFLOP/s (median of 5 one-second passes; range ${p.ort.min.toFixed(1)}-${p.ort.max.toFixed(1)})`);
  if (p.torch) console.log(`${p.torch.label} torch.mm: ${p.torch.median.toFixed(1)} GFLOP/s (range ${p.torch.min.toFixed(1)}-${p.torch.max.toFixed(1)})`);
}
