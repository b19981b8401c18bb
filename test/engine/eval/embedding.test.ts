// The embedding view's engine parts: PCA against scikit-learn (python3 oracle, to 1e-6 up to the sign
// of each component), the sign convention, the seeded class-stratified sample, and penultimate
// features through the evaluation graph against a float64 forward pass written out by hand.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON, referenceGate, saveNpz, tempDir } from '../../parity/helpers';
import { sklearnAvailable } from './helpers';
import { pca, symmetricEigen } from '../../../main/engine/eval/pca';
import { embeddingSample, penultimateFeatures, project2d } from '../../../main/engine/eval/features';
import { Rng } from '../../../main/engine/train/rng';
import { makeDataset } from '../../../main/engine/train/data';
import { GraphBuilder } from '../../../main/engine/onnx/builder';
import { makeModel } from '../../../main/engine/onnx/codec';
import { tensorF32 } from '../../../main/engine/onnx/ir';
import { tinyMlp, initWeights, randArray } from '../train/helpers';

const PCA_PY = join(__dirname, 'py', 'pca_ref.py');

/** n rows of d correlated features with a few dominant directions (distinct eigenvalues). */
function synth(n: number, d: number, seed: number): Float32Array {
  const rng = new Rng(seed, 3);
  const basis = randArray(rng, d * d, 1);
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      const z = rng.nextNormal() * (a < 3 ? 6 - 1.5 * a : 0.3);
      for (let j = 0; j < d; j++) x[i * d + j] += z * basis[a * d + j];
    }
    for (let j = 0; j < d; j++) x[i * d + j] += 2 + j * 0.1;
  }
  return x;
}

interface PyPca {
  mean: number[];
  components: number[][];
  explained_variance: number[];
  explained_variance_ratio: number[];
  scores: number[][];
}

describe.skipIf(referenceGate('PCA parity (python3 + scikit-learn)', sklearnAvailable()))('PCA vs scikit-learn', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => void (tmp = tempDir('lethe-pca-')));
  afterAll(() => tmp?.cleanup());

  for (const [n, d, k] of [
    [300, 12, 2],
    [2000, 64, 2],
    [40, 7, 5],
  ] as const) {
    it(`matches sklearn PCA(svd_solver='full') on ${n} × ${d}, k = ${k}, to 1e-6 up to sign`, () => {
      const x = synth(n, d, n + d);
      const file = join(tmp.dir, `pca-${n}-${d}.npz`);
      saveNpz(file, { X: { dtype: 'float32', shape: [n, d], data: x } });
      const r = spawnSync(PYTHON, [PCA_PY, file, String(k)], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' } });
      expect(r.status, r.stderr).toBe(0);
      const py = JSON.parse(r.stdout) as PyPca;
      const js = pca(x, n, d, k);
      const rel = (a: number, b: number, scale: number) => Math.abs(a - b) / Math.max(1, scale);
      for (let j = 0; j < d; j++) expect(rel(js.mean[j], py.mean[j], Math.abs(py.mean[j]))).toBeLessThan(1e-6);
      for (let c = 0; c < k; c++) {
        expect(rel(js.explainedVariance[c], py.explained_variance[c], py.explained_variance[c])).toBeLessThan(1e-6);
        expect(Math.abs(js.explainedVarianceRatio[c] - py.explained_variance_ratio[c])).toBeLessThan(1e-6);
        // the sign of a component is arbitrary: align on the sign of the dot product
        let dot = 0;
        for (let j = 0; j < d; j++) dot += js.components[c * d + j] * py.components[c][j];
        const s = Math.sign(dot);
        expect(Math.abs(Math.abs(dot) - 1)).toBeLessThan(1e-6);
        for (let j = 0; j < d; j++) expect(Math.abs(js.components[c * d + j] - s * py.components[c][j])).toBeLessThan(1e-6);
        const scale = Math.sqrt(py.explained_variance[0]);
        for (let i = 0; i < n; i++) expect(rel(js.scores[i * k + c], s * py.scores[i][c], scale)).toBeLessThan(1e-6);
      }
    });
  }
});

describe('PCA (engine)', () => {
  it('fixes each component’s sign so its largest-magnitude loading is positive, and is deterministic', () => {
    const x = synth(200, 9, 4);
    const a = pca(x, 200, 9, 3);
    for (let c = 0; c < 3; c++) {
      const row = Array.from(a.components.subarray(c * 9, (c + 1) * 9));
      const big = row.reduce((m, v) => (Math.abs(v) > Math.abs(m) ? v : m), 0);
      expect(big).toBeGreaterThan(0);
    }
    // flipping the data's sign flips the scores, not the components
    const b = pca(x.map((v) => -v), 200, 9, 3);
    for (let i = 0; i < a.components.length; i++) expect(b.components[i]).toBeCloseTo(a.components[i], 12);
    for (let i = 0; i < a.scores.length; i++) expect(b.scores[i]).toBeCloseTo(-a.scores[i], 9);
    expect(Array.from(pca(x, 200, 9, 3).scores)).toEqual(Array.from(a.scores));
  });

  it('decomposes a known symmetric matrix and refuses bad shapes', () => {
    // eigenvalues 1, 3 of [[2, 1], [1, 2]] with vectors (1, −1)/√2 and (1, 1)/√2
    const { values, vectors } = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2);
    expect(values[0]).toBeCloseTo(1, 12);
    expect(values[1]).toBeCloseTo(3, 12);
    expect(vectors[1] * vectors[3]).toBeCloseTo(0.5, 12); // column 1 = ±(1, 1)/√2
    expect(() => pca(new Float32Array(5), 2, 3)).toThrow(/5 values is not 2 × 3/);
    expect(() => pca(Float32Array.from([1, NaN]), 1, 2)).toThrow(/not a finite number/);
    // one example: zero variance, zero scores, no NaN
    const one = project2d({ data: Float32Array.from([1, 2, 3]), dim: 3, n: 1 });
    expect(Array.from(one.points)).toEqual([0, 0]);
  });
});

describe('embedding sample', () => {
  const n = 3000;
  const split = Uint8Array.from({ length: n }, (_, i) => (i < 300 ? 0 : i < 2400 ? 1 : 2));
  // forget rows all class 0; retain and test with unequal classes
  const labels = Int32Array.from({ length: n }, (_, i) => (i < 300 ? 0 : i % 10 < 5 ? 1 : i % 10 < 8 ? 2 : 3));
  const ids = Array.from({ length: n }, (_, i) => `ex-${i}`);

  it('takes every forget row when there are fewer than asked, and shares the other splits among classes in proportion', () => {
    const s = embeddingSample({ split, labels, ids });
    const rows = Array.from(s.rows);
    expect(rows).toEqual([...rows].sort((a, b) => a - b));
    expect(new Set(rows).size).toBe(rows.length);
    const count = (code: number, y?: number) => rows.filter((r) => split[r] === code && (y === undefined || labels[r] === y)).length;
    expect(count(0)).toBe(300);
    expect(count(1)).toBe(1000);
    expect(count(2)).toBe(500);
    // retain: classes 1, 2, 3 in 5:3:2
    expect(count(1, 1)).toBe(500);
    expect(count(1, 2)).toBe(300);
    expect(count(1, 3)).toBe(200);
    expect(count(2, 1) + count(2, 2) + count(2, 3)).toBe(500);
  });

  it('is fixed by its seed, changes with it, and hashes the sampled ids', () => {
    const a = embeddingSample({ split, labels, ids });
    const b = embeddingSample({ split, labels, ids });
    const c = embeddingSample({ split, labels, ids }, undefined, 1);
    expect(Array.from(b.rows)).toEqual(Array.from(a.rows));
    expect(b.idsSha256).toBe(a.idsSha256);
    expect(c.idsSha256).not.toBe(a.idsSha256);
    expect(a.idsSha256).toMatch(/^[0-9a-f]{64}$/);
    const small = embeddingSample({ split, labels, ids }, { forget: 3, retain: 4, test: 0 });
    expect(small.rows.length).toBe(7);
  });
});

describe('penultimate features', () => {
  function data(n: number, d: number, seed: number) {
    const rng = new Rng(seed);
    return makeDataset(randArray(rng, n * d, 1.5), [n, d], Int32Array.from({ length: n }, () => rng.nextInt(3)));
  }

  it('are the input of the last Gemm (tiny MLP: the ReLU output), matching a float64 forward pass', async () => {
    const dims = { d: 5, h: 4, c: 3 };
    const model = tinyMlp(dims, 9);
    const ds = data(23, dims.d, 2);
    const f = await penultimateFeatures(model, ds, { batchSize: 8 });
    const w = initWeights(model);
    expect(f.dim).toBe(dims.h);
    expect(f.n).toBe(23);
    for (let i = 0; i < ds.n; i++) {
      for (let j = 0; j < dims.h; j++) {
        let s = w.b1[j];
        for (let k = 0; k < dims.d; k++) s += ds.x[i * dims.d + k] * w.W1[j * dims.d + k];
        expect(f.data[i * dims.h + j]).toBeCloseTo(Math.max(0, s), 5);
      }
    }
  });

  it('are the input of the last MatMul in a MatMul + Add model with no metadata (tanh hidden layer)', async () => {
    const rng = new Rng(5);
    const d = 6;
    const h = 5;
    const c = 3;
    const W1 = randArray(rng, d * h, 0.7);
    const b1 = randArray(rng, h, 0.2);
    const W2 = randArray(rng, h * c, 0.7);
    const b = new GraphBuilder();
    b.input('x', 'float32', ['N', d]);
    b.initializer('W1', tensorF32([d, h], W1));
    b.initializer('b1', tensorF32([h], b1));
    b.initializer('W2', tensorF32([h, c], W2));
    b.initializer('b2', tensorF32([c], new Float32Array(c)));
    const t = b.op('Tanh', [b.op('Add', [b.op('MatMul', ['x', 'W1']), 'b1'])], {}, 'penultimate');
    b.addNode('Add', [b.op('MatMul', [t, 'W2']), 'b2'], ['logits']);
    b.output('logits', 'float32', ['N', c]);
    const model = makeModel(b.toGraph('matmul_mlp'));
    const ds = data(17, d, 8);
    const f = await penultimateFeatures(model, ds);
    expect(f.dim).toBe(h);
    for (let i = 0; i < ds.n; i++) {
      for (let j = 0; j < h; j++) {
        let s = b1[j];
        for (let k = 0; k < d; k++) s += ds.x[i * d + k] * W1[k * h + j];
        expect(f.data[i * h + j]).toBeCloseTo(Math.tanh(s), 5);
      }
    }
    // the projection of these features is PCA of them
    const p = project2d(f);
    const ref = pca(f.data, f.n, f.dim, 2);
    expect(Array.from(p.points)).toEqual(Array.from(ref.scores));
  });
});
