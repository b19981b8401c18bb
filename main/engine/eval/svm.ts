// C-SVC with an RBF kernel through libsvm-js (libsvm compiled by emscripten; libsvm is the library that
// scikit-learn's SVC wraps), used by the SalUn/l1-sparse MIA. The WebAssembly build is loaded once by
// loadSvm() (asynchronous); until then the synchronous asm.js build of the same libsvm is used, so the
// metric functions stay synchronous. Both give the same libsvm solution; wasm is ~3× faster.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface LibsvmModel {
  train(samples: number[][], labels: number[]): void;
  predict(samples: number[][]): number[];
  free(): void;
}
interface LibsvmClass {
  new (options: Record<string, unknown>): LibsvmModel;
  SVM_TYPES: Record<string, string>;
  KERNEL_TYPES: Record<string, string>;
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

/**
 * Fit SVC(C, kernel='rbf', gamma) on (X, y) and predict the labels of `test`, as sklearn.svm.SVC does
 * (libsvm C-SVC, tolerance 1e-3, shrinking on). gamma defaults to 'auto' = 1 / number of features.
 */
export function svcFitPredict(X: number[][], y: number[], test: number[][], opts: { C: number; gamma?: number }): number[] {
  if (X.length === 0) throw new Error('svcFitPredict: no training samples');
  const nFeatures = X[0].length;
  const Svm = svm();
  const model = new Svm({
    type: Svm.SVM_TYPES.C_SVC,
    kernel: Svm.KERNEL_TYPES.RBF,
    cost: opts.C,
    gamma: opts.gamma ?? 1 / nFeatures,
    tolerance: 1e-3,
    shrinking: true,
    cacheSize: 200,
    quiet: true,
  });
  try {
    model.train(X, y);
    return test.length === 0 ? [] : model.predict(test);
  } finally {
    model.free();
  }
}
