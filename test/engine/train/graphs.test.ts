// Gradient-only, squared-gradient, evaluation graphs and baking, on the tiny MLP against float64
// JS references.

import { describe, expect, it } from 'vitest';
import { buildEvalGraph, bakeInference, evaluateModel, computeGradients, makeDataset, buildGradGraph, EVAL_IO } from '../../../main/engine/train';
import { Rng } from '../../../main/engine/train/rng';
import { tinyMlp, initWeights, refLossGrad, maxRelErr, randArray } from './helpers';

const dims = { d: 5, h: 4, c: 3 };

function data(n: number, seed: number) {
  const rng = new Rng(seed);
  const x = randArray(rng, n * dims.d, 1.5);
  const y = Int32Array.from({ length: n }, () => rng.nextInt(dims.c));
  return makeDataset(x, [n, dims.d], y);
}

/** float64 forward of the tiny MLP: hidden activations and logits */
function forward(w: ReturnType<typeof initWeights>, x: ArrayLike<number>, n: number) {
  const hid: number[][] = [];
  const logits: number[][] = [];
  for (let i = 0; i < n; i++) {
    const h = Array.from({ length: dims.h }, (_, j) => {
      let s = w.b1[j];
      for (let k = 0; k < dims.d; k++) s += x[i * dims.d + k] * w.W1[j * dims.d + k];
      return Math.max(0, s);
    });
    hid.push(h);
    logits.push(Array.from({ length: dims.c }, (_, k) => h.reduce((a, v, j) => a + v * w.W2[k * dims.h + j], w.b2[k])));
  }
  return { hid, logits };
}

describe('evaluation graph', () => {
  it('returns per-example logits, losses, logit margins, predictions, correctness and penultimate features', async () => {
    const model = tinyMlp(dims, 5);
    const ds = data(37, 11);
    const ev = await evaluateModel(model, ds, { batchSize: 10, features: true });
    const w = initWeights(model);
    const { hid, logits } = forward(w, ds.x, ds.n);
    let correct = 0;
    for (let i = 0; i < ds.n; i++) {
      const z = logits[i];
      const y = Number(ds.y[i]);
      const mx = Math.max(...z);
      const lse = mx + Math.log(z.reduce((a, v) => a + Math.exp(v - mx), 0));
      const others = z.filter((_, k) => k !== y);
      const mo = Math.max(...others);
      const lseOthers = mo + Math.log(others.reduce((a, v) => a + Math.exp(v - mo), 0));
      expect(ev.losses[i]).toBeCloseTo(lse - z[y], 5);
      expect(ev.logitMargins[i]).toBeCloseTo(z[y] - lseOthers, 5);
      const pred = z.indexOf(mx);
      expect(ev.pred[i]).toBe(pred);
      expect(ev.correct[i]).toBe(pred === y ? 1 : 0);
      correct += pred === y ? 1 : 0;
      for (let k = 0; k < dims.c; k++) expect(ev.logits[i * dims.c + k]).toBeCloseTo(z[k], 5);
      for (let j = 0; j < dims.h; j++) expect(ev.features!.data[i * dims.h + j]).toBeCloseTo(hid[i][j], 5);
    }
    expect(ev.features!.dim).toBe(dims.h);
    expect(ev.accuracy).toBeCloseTo(correct / ds.n, 12);
    expect(ev.numClasses).toBe(dims.c);
  });

  it('defaults features to the input of the last Gemm, has a symbolic batch, and checks names', () => {
    const model = tinyMlp(dims, 5);
    const eg = buildEvalGraph(model);
    expect(eg.featureSource).toBe('hidden');
    expect(eg.model.graph.inputs.find((v) => v.name === 'input')!.shape![0]).toBe('N');
    expect(eg.model.graph.outputs.map((o) => o.name)).toEqual([EVAL_IO.logits, EVAL_IO.pred, EVAL_IO.losses, EVAL_IO.logitMargins, EVAL_IO.correct, EVAL_IO.features]);
    expect(buildEvalGraph(model, { withLabels: false, features: null }).model.graph.outputs.map((o) => o.name)).toEqual([EVAL_IO.logits, EVAL_IO.pred]);
    expect(() => buildEvalGraph(model, { features: 'nope' })).toThrow(/feature value 'nope' is not in the model/);
  });

  it('refuses labels outside the model classes instead of scoring them as zero loss', async () => {
    const model = tinyMlp(dims, 5);
    const ds = makeDataset(new Float32Array(2 * dims.d), [2, dims.d], Int32Array.from([0, 3]));
    await expect(evaluateModel(model, ds)).rejects.toThrow(/the data has label 3, but the model has only 3 classes/);
    await expect(computeGradients(model, ds, { params: ['W1'] })).rejects.toThrow(/label 1 is 3; labels must be integers in \[0, 3\)/);
  });
});

describe('gradient graphs', () => {
  it('loss and gradients of chosen params match the float64 reference; square and abs transforms', async () => {
    const model = tinyMlp(dims, 6);
    const ds = data(9, 12);
    const ref = refLossGrad(initWeights(model), dims, ds.x, ds.y as Int32Array, ds.n);
    const g = await computeGradients(model, ds, { params: ['W1', 'b2'] });
    expect(Object.keys(g.grads).sort()).toEqual(['W1', 'b2']);
    expect(Math.abs(g.loss - ref.loss)).toBeLessThan(1e-6);
    expect(maxRelErr(g.grads.W1, ref.grads.W1)).toBeLessThan(1e-4);
    expect(maxRelErr(g.grads.b2, ref.grads.b2)).toBeLessThan(1e-4);
    const sq = await computeGradients(model, ds, { params: ['W1'], transform: 'square' });
    expect(maxRelErr(sq.grads.W1, ref.grads.W1.map((v) => v * v))).toBeLessThan(2e-4);
    const ab = await computeGradients(model, ds, { params: ['W1'], transform: 'abs' });
    expect(maxRelErr(ab.grads.W1, ref.grads.W1.map(Math.abs))).toBeLessThan(1e-4);
  });

  it('squared gradients accumulate as the mean over mini-batches of the squared batch gradient (Fisher / SSD)', async () => {
    const model = tinyMlp(dims, 6);
    const ds = data(12, 13);
    const w = initWeights(model);
    const expected = new Float64Array(dims.h * dims.d);
    for (let b = 0; b < 3; b++) {
      const r = refLossGrad(w, dims, ds.x.subarray(b * 4 * dims.d, (b + 1) * 4 * dims.d), (ds.y as Int32Array).subarray(b * 4, b * 4 + 4), 4);
      r.grads.W1.forEach((v, i) => (expected[i] += (v * v) / 3));
    }
    const g = await computeGradients(model, ds, { params: ['W1'], transform: 'square', batchSize: 4 });
    expect(g.batches).toBe(3);
    expect(maxRelErr(g.grads.W1, expected, 1e-4)).toBeLessThan(2e-4);
  });

  it('params-as-inputs variant and clear errors', () => {
    const model = tinyMlp(dims, 6);
    const gg = buildGradGraph(model, { params: ['W2'], paramsAsInputs: true });
    expect(gg.model.graph.inputs.map((v) => v.name)).toContain('W2');
    expect(gg.model.graph.initializers.map((t) => t.name)).not.toContain('W2');
    expect(() => buildGradGraph(model, { params: [] })).toThrow(/no parameters/);
    expect(() => buildGradGraph(model, { params: ['W9'] })).toThrow(/'W9' is not an initializer/);
  });
});

describe('bakeInference', () => {
  it('replaces initializer values, keeps the rest, and rejects unknown names or wrong sizes', async () => {
    const model = tinyMlp(dims, 7);
    const W2 = new Float32Array(dims.c * dims.h).fill(0);
    const b2 = Float32Array.from([0, 5, 0]);
    const baked = bakeInference(model, { W2, b2 }, { note: 'x' });
    expect(baked.metadata.note).toBe('x');
    const ev = await evaluateModel(baked, data(5, 1));
    expect(Array.from(ev.pred)).toEqual([1, 1, 1, 1, 1]);
    // the original is untouched (copy-on-write)
    expect((model.graph.initializers.find((t) => t.name === 'b2')!.data as Float32Array)[1]).not.toBe(5);
    expect(() => bakeInference(model, { nope: W2 })).toThrow(/no initializer of that name/);
    expect(() => bakeInference(model, { W2: new Float32Array(3) })).toThrow(/3 values, shape \[3,4\] needs 12/);
  });
});
