// C-SVC with an RBF kernel through libsvm-js (libsvm compiled by emscripten; libsvm is the library that
// scikit-learn's SVC wraps), used by the SalUn/l1-sparse MIA. The WebAssembly build is loaded once by
// loadSvm() (asynchronous); until then the synchronous asm.js build of the same libsvm is used, so the
// metric functions stay synchronous. Both give the same libsvm solution; wasm is ~3× faster.

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const require = createRequire(import.meta.url);

interface LibsvmModel {
  train(samples: number[][], labels: number[]): void;
  predict(samples: number[][]): number[];
  free(): void;
}
interface LibsvmClass {
  new (options: Record<string, unknown>): LibsvmModel;
}

let svmClass: LibsvmClass | null = null;
let svmBuild: 'wasm' | 'asm' | null = null;
let loading: Promise<void> | null = null;

/** Load the WebAssembly build of libsvm (once). Optional: without it the asm.js build is used. */
export function loadSvm(): Promise<void> {
  if (svmBuild === 'wasm') return Promise.resolve();
  loading ??= (async () => {
    // Emscripten warns that it cannot stream-compile from a file path before it falls back to
    // reading the file; that is expected under Node, so that one message is not shown.
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      const s = String(args[0] ?? '');
      if (/wasm streaming compile failed|falling back to ArrayBuffer/.test(s)) return;
      warn(...args);
    };
    try {
      const cls = (await require('libsvm-js/wasm.js')) as LibsvmClass;
      svmClass = cls;
      svmBuild = 'wasm';
    } finally {
      console.warn = warn;
    }
  })();
  return loading;
}

function svm(): LibsvmClass {
  if (!svmClass) {
    svmClass = require('libsvm-js/asm.js') as LibsvmClass;
    svmBuild = 'asm';
  }
  return svmClass;
}

/** Which libsvm build the next fit uses. */
export function svmBuildInUse(): 'wasm' | 'asm' {
  return svmBuild ?? 'asm';
}

/** libsvm's options for sklearn's SVC(C, kernel='rbf', gamma): C-SVC ('0'), RBF kernel ('2'), tol 1e-3, shrinking. */
function svcOptions(C: number, gamma: number): Record<string, unknown> {
  return { type: '0', kernel: '2', cost: C, gamma, tolerance: 1e-3, shrinking: true, cacheSize: 200, quiet: true };
}

/**
 * Fit SVC(C, kernel='rbf', gamma) on (X, y) and predict the labels of `test`, as sklearn.svm.SVC does
 * (libsvm C-SVC, tolerance 1e-3, shrinking on). gamma defaults to 'auto' = 1 / number of features.
 */
export function svcFitPredict(X: number[][], y: number[], test: number[][], opts: { C: number; gamma?: number }): number[] {
  if (X.length === 0) throw new Error('svcFitPredict: no training samples');
  const Svm = svm();
  const model = new Svm(svcOptions(opts.C, opts.gamma ?? 1 / X[0].length));
  try {
    model.train(X, y);
    return test.length === 0 ? [] : model.predict(test);
  } finally {
    model.free();
  }
}

// ---------- the same fit on a worker thread ----------
// A fit on 20,000 shadow examples takes seconds of single-threaded wasm; on the calling thread it would
// stall the event loop (progress, cancellation, a second pipeline). svcFitPredictAsync runs the same
// libsvm build with the same options on a small pool of worker threads, so fits of several models can
// run side by side (one core each) and the caller stays responsive. The worker is a few lines of
// CommonJS that load the wasm build from the path resolved here, so it works unbundled and bundled.

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
// the same expected Emscripten fallback message loadSvm() hides
const warn = console.warn;
console.warn = (...a) => { if (!/wasm streaming compile failed|falling back to ArrayBuffer/.test(String(a[0]))) warn(...a); };
let ready = null;
parentPort.on('message', async (msg) => {
  try {
    ready = ready || require(workerData.wasmPath);
    const Svm = await ready;
    const rows = (flat, n, d) => { const out = new Array(n); for (let i = 0; i < n; i++) out[i] = Array.from(flat.subarray(i * d, (i + 1) * d)); return out; };
    const model = new Svm(msg.options);
    let pred = [];
    try {
      model.train(rows(msg.X, msg.n, msg.d), Array.from(msg.y));
      if (msg.m > 0) pred = model.predict(rows(msg.T, msg.m, msg.d));
    } finally { model.free(); }
    parentPort.postMessage({ id: msg.id, pred });
  } catch (e) {
    parentPort.postMessage({ id: msg.id, error: String((e && e.message) || e) });
  }
});
`;

interface PoolWorker {
  worker: Worker;
  busy: boolean;
}
interface PendingFit {
  msg: Record<string, unknown> & { id: number };
  transfer: ArrayBuffer[];
  resolve: (pred: number[]) => void;
  reject: (e: Error) => void;
  signal?: AbortSignal;
}

const pool: PoolWorker[] = [];
const queue: PendingFit[] = [];
let nextFitId = 1;
let poolSize = 1;

/** How many SVC fits may run at once on worker threads (default 1; e.g. the number of threads a comparison may use). */
export function setSvmConcurrency(n: number): void {
  poolSize = Math.max(1, Math.floor(n));
  pump();
}

function spawn(): PoolWorker {
  const w: PoolWorker = { worker: new Worker(WORKER_SOURCE, { eval: true, workerData: { wasmPath: require.resolve('libsvm-js/wasm.js') } }), busy: false };
  w.worker.unref();
  pool.push(w);
  return w;
}

function pump(): void {
  while (queue.length) {
    let w = pool.find((x) => !x.busy);
    if (!w) {
      if (pool.length >= poolSize) return;
      w = spawn();
    }
    const job = queue.shift()!;
    if (job.signal?.aborted) {
      job.reject(new Error('cancelled'));
      continue;
    }
    run(w, job);
  }
}

function run(w: PoolWorker, job: PendingFit): void {
  w.busy = true;
  w.worker.ref();
  const done = () => {
    w.worker.off('message', onMessage);
    w.worker.off('error', onError);
    w.worker.off('exit', onExit);
    job.signal?.removeEventListener('abort', onAbort);
  };
  const settle = () => {
    w.busy = false;
    w.worker.unref();
    pump();
  };
  const drop = () => {
    const i = pool.indexOf(w);
    if (i >= 0) pool.splice(i, 1);
  };
  const onMessage = (m: { id: number; pred?: number[]; error?: string }) => {
    if (m.id !== job.msg.id) return;
    done();
    settle();
    if (m.error !== undefined) job.reject(new Error(`SVC fit failed: ${m.error}`));
    else job.resolve(m.pred ?? []);
  };
  const onError = (e: Error) => {
    done();
    drop();
    pump();
    job.reject(new Error(`SVC worker failed: ${e.message}`));
  };
  const onExit = (code: number) => {
    done();
    drop();
    pump();
    job.reject(new Error(job.signal?.aborted ? 'cancelled' : `SVC worker exited (code ${code})`));
  };
  // a cancelled fit cannot be interrupted inside libsvm: its worker is terminated instead
  const onAbort = () => void w.worker.terminate();
  w.worker.on('message', onMessage);
  w.worker.on('error', onError);
  w.worker.on('exit', onExit);
  job.signal?.addEventListener('abort', onAbort, { once: true });
  w.worker.postMessage(job.msg, job.transfer);
}

/** svcFitPredict on a worker thread: the same libsvm (wasm) build, options and result. */
export function svcFitPredictAsync(X: number[][], y: number[], test: number[][], opts: { C: number; gamma?: number; signal?: AbortSignal }): Promise<number[]> {
  if (X.length === 0) return Promise.reject(new Error('svcFitPredict: no training samples'));
  const d = X[0].length;
  const flat = (rows: number[][]) => {
    const a = new Float64Array(rows.length * d);
    rows.forEach((r, i) => a.set(r, i * d));
    return a;
  };
  const Xf = flat(X);
  const Tf = flat(test);
  const yf = Float64Array.from(y);
  const id = nextFitId++;
  const msg = { id, options: svcOptions(opts.C, opts.gamma ?? 1 / d), X: Xf, y: yf, T: Tf, n: X.length, m: test.length, d };
  return new Promise<number[]>((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new Error('cancelled'));
    queue.push({ msg, transfer: [Xf.buffer, yf.buffer, Tf.buffer], resolve, reject, ...(opts.signal ? { signal: opts.signal } : {}) });
    pump();
  });
}
