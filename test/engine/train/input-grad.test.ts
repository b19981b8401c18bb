// Gradients with respect to the input (FGSM / UNSIR) and per-example gradients (influence, WoodFisher):
// against a float64 JS reference on the tiny MLP, the numerical gradient checker on a tiny
// ViT, and their options and errors.

import { describe, expect, it } from 'vitest';
import { cloneGraph, tensorI64 } from '../../../main/engine/onnx/ir';
import { gradCheck } from '../../../main/engine/autodiff';
import { buildVitTiny } from '../../../main/engine/models';
import { builderFor, mergeInto } from '../../../main/engine/train/graph-utils';
import { Rng } from '../../../main/engine/train/rng';
import { InputGradientRunner, STEP_IO, buildInputGradGraph, computeGradients, emitLoss, evaluateModel, expectedFisherDiagonal, inputGradients, makeDataset, perExampleGradients } from '../../../main/engine/train';
import { tinyMlp, initWeights, maxRelErr, randArray, refLossGrad } from './helpers';

const dims = { d: 5, h: 4, c: 3 };

function data(n: number, seed: number) {
  const rng = new Rng(seed);
  const x = randArray(rng, n * dims.d, 1.5);
  const y = BigInt64Array.from({ length: n }, () => BigInt(rng.nextInt(dims.c)));
  return { x, y };
}

/** float64 dCE_i/dx_i of the tiny MLP */
function refInputGrad(w: ReturnType<typeof initWeights>, x: ArrayLike<number>, y: ArrayLike<bigint>, n: number): Float64Array {
  const out = new Float64Array(n * dims.d);
  for (let i = 0; i < n; i++) {
    const pre = Array.from({ length: dims.h }, (_, j) => {
      let s = w.b1[j];
      for (let k = 0; k < dims.d; k++) s += x[i * dims.d + k] * w.W1[j * dims.d + k];
      return s;
    });
    const h = pre.map((v) => Math.max(0, v));
    const z = Array.from({ length: dims.c }, (_, k) => h.reduce((a, v, j) => a + v * w.W2[k * dims.h + j], w.b2[k]));
    const mx = Math.max(...z);
    const e = z.map((v) => Math.exp(v - mx));
    const se = e.reduce((a, b) => a + b, 0);
    const dz = e.map((v, k) => v / se - (k === Number(y[i]) ? 1 : 0));
    const dh = Array.from({ length: dims.h }, (_, j) => (pre[j] > 0 ? dz.reduce((a, v, k) => a + v * w.W2[k * dims.h + j], 0) : 0));
    for (let k = 0; k < dims.d; k++) out[i * dims.d + k] = dh.reduce((a, v, j) => a + v * w.W1[j * dims.d + k], 0);
  }
  return out;
}

describe('input gradients', () => {
  it('each row is that example’s own dCE/dx (float64 reference); logits and losses are returned', async () => {
    const model = tinyMlp(dims, 4);
    const n = 9;
    const { x, y } = data(n, 21);
    const r = await inputGradients(model, x, y, n, [dims.d]);
    expect(maxRelErr(r.grad, refInputGrad(initWeights(model), x, y, n))).toBeLessThan(1e-5);
    const ev = await evaluateModel(model, makeDataset(x, [n, dims.d], Array.from(y, Number)));
    expect(maxRelErr(r.logits, ev.logits)).toBeLessThan(1e-6);
    expect(maxRelErr(r.losses, ev.losses)).toBeLessThan(1e-6);
    expect(r.numClasses).toBe(dims.c);
    expect(r.loss).toBeCloseTo(ev.losses.reduce((a, b) => a + b, 0), 5);
    // per-example: changing the other rows leaves a row's gradient unchanged
    const x2 = new Float32Array(x);
    for (let i = dims.d; i < x2.length; i++) x2[i] += 0.7;
    const r2 = await inputGradients(model, x2, y, n, [dims.d]);
    expect(maxRelErr(r2.grad.subarray(0, dims.d), r.grad.subarray(0, dims.d))).toBeLessThan(1e-6);
  });

  it('signed per-example weights scale each row (ascent for UNSIR noise); the runner reuses one session with weights as inputs', async () => {
    const model = tinyMlp(dims, 4);
    const n = 4;
    const { x, y } = data(n, 22);
    const w = Float32Array.from([1, -2, 0.5, 0]);
    const base = await inputGradients(model, x, y, n, [dims.d]);
    const wr = await inputGradients(model, x, y, n, [dims.d], { loss: { exampleWeights: true }, weights: w });
    for (let i = 0; i < n; i++) for (let k = 0; k < dims.d; k++) expect(wr.grad[i * dims.d + k]).toBeCloseTo(w[i] * base.grad[i * dims.d + k], 6);
    const runner = await InputGradientRunner.open(model, { paramInputs: ['W1', 'W2'] });
    const W = initWeights(model);
    const same = await runner.run({ x, y, nb: n, exampleShape: [dims.d], params: { W1: Float32Array.from(W.W1), W2: Float32Array.from(W.W2) } });
    expect(maxRelErr(same.grad, base.grad)).toBeLessThan(1e-6);
    const W2 = Float32Array.from(W.W2, (v) => -v);
    const flipped = await runner.run({ x, y, nb: n, exampleShape: [dims.d], params: { W1: Float32Array.from(W.W1), W2 } });
    expect(maxRelErr(flipped.grad, refInputGrad({ ...W, W2: Float64Array.from(W2) }, x, y, n))).toBeLessThan(1e-5);
    await expect(runner.run({ x, y, nb: n, exampleShape: [dims.d] })).rejects.toThrow(/parameter input 'W1' needs/);
    await runner.dispose();
  });

  // a smooth model (no ReLU/MaxPool kinks for float32 finite differences to straddle: ORT CPU has no
  // float64 Conv, so the check runs in float32); the small CNN's input gradient is compared with
  // PyTorch in test/parity/terms.test.ts
  it('tiny ViT: the numerical gradient checker agrees with dLoss/dx through Conv, LayerNorm, attention, GELU and Gemm', async () => {
    const model = buildVitTiny({ seed: 3, inputShape: [1, 8, 8], patch: 4, dim: 8, depth: 1, heads: 2, classes: 4 });
    const g = cloneGraph(model.graph);
    const b = builderFor(g);
    emitLoss(b, 17, 'logits', STEP_IO, { reduction: 'sum' }, []);
    mergeInto(g, b);
    g.outputs = [{ name: STEP_IO.loss, dtype: 'float32', shape: [] }];
    const rng = new Rng(5);
    const x = randArray(rng, 3 * 64, 1);
    const res = await gradCheck({ graph: g, feeds: { input: { dtype: 'float32', dims: [3, 1, 8, 8], data: x }, [STEP_IO.labels]: tensorI64([3], [0, 3, 1]) }, wrt: ['input'], opset: 17 });
    expect(res.ok, JSON.stringify(res.tensors)).toBe(true);
    // and the input-gradient graph returns the gradient the checker verified (the checker's loss is
    // R·loss for a random scalar R, so compare up to that factor)
    const ig = await inputGradients(model, x, BigInt64Array.from([0n, 3n, 1n]), 3, [1, 8, 8]);
    const a = res.analytic.input;
    let ag = 0;
    let gg = 0;
    for (let i = 0; i < a.length; i++) {
      ag += a[i] * ig.grad[i];
      gg += ig.grad[i] * ig.grad[i];
    }
    const k = ag / gg;
    expect(Math.abs(k)).toBeGreaterThan(1e-3);
    expect(maxRelErr(Float64Array.from(ig.grad, (v) => v * k), a, 1e-3 * Math.max(...Array.from(a, Math.abs)))).toBeLessThan(1e-4);
  });

  it('clear errors', async () => {
    const model = tinyMlp(dims, 4);
    expect(() => buildInputGradGraph(model, { loss: { terms: { l1: true } } })).toThrow(/L1 term does not apply/);
    const { x, y } = data(2, 1);
    await expect(inputGradients(model, x.subarray(0, 7), y, 2, [dims.d])).rejects.toThrow(/x holds 7 values/);
    await expect(inputGradients(model, x, y, 2, [dims.d], { loss: { exampleWeights: true } })).rejects.toThrow(/needs per-example weights/);
  });
});

describe('per-example gradients', () => {
  it('rows equal each example’s own gradient (float64 reference) and sum to the batch gradient; layout and labels', async () => {
    const model = tinyMlp(dims, 6);
    const n = 7;
    const { x, y } = data(n, 23);
    const ds = makeDataset(x, [n, dims.d], Array.from(y, Number));
    const params = ['W2', 'b1', 'W1'];
    const indices = [6, 0, 3, 3];
    const pe = await perExampleGradients(model, ds, { params, indices });
    expect(pe.P).toBe(dims.c * dims.h + dims.h + dims.h * dims.d);
    expect(pe.layout.map((l) => [l.name, l.offset, l.size])).toEqual([
      ['W2', 0, 12],
      ['b1', 12, 4],
      ['W1', 16, 20],
    ]);
    expect(pe.grads.length).toBe(indices.length * pe.P);
    const w = initWeights(model);
    indices.forEach((j, r) => {
      const ref = refLossGrad(w, dims, x.subarray(j * dims.d, (j + 1) * dims.d), [Number(y[j])], 1);
      expect(pe.losses[r]).toBeCloseTo(ref.loss, 5);
      for (const l of pe.layout) expect(maxRelErr(pe.grads.subarray(r * pe.P + l.offset, r * pe.P + l.offset + l.size), ref.grads[l.name])).toBeLessThan(1e-4);
    });
    const all = await perExampleGradients(model, ds, { params });
    const batchG = await computeGradients(model, ds, { params, loss: { reduction: 'sum' } });
    for (const l of all.layout) {
      const s = new Float64Array(l.size);
      for (let r = 0; r < n; r++) for (let i = 0; i < l.size; i++) s[i] += all.grads[r * all.P + l.offset + i];
      expect(maxRelErr(s, batchG.grads[l.name])).toBeLessThan(1e-4);
    }
    // other labels (e.g. every class for an expected Fisher)
    const lab = await perExampleGradients(model, ds, { params: ['b2'], indices: [2, 2, 2], labels: [0, 1, 2] });
    for (let k = 0; k < 3; k++) {
      const ref = refLossGrad(w, dims, x.subarray(2 * dims.d, 3 * dims.d), [k], 1);
      expect(maxRelErr(lab.grads.subarray(k * 3, k * 3 + 3), ref.grads.b2)).toBeLessThan(1e-4);
    }
  });

  it('expected Fisher diagonal (Fisher forgetting): (1/n) Σ_i Σ_y p(y|x_i)·g_{i,y}² against the float64 reference', async () => {
    const model = tinyMlp(dims, 6);
    const n = 5;
    const { x, y } = data(n, 24);
    const ds = makeDataset(x, [n, dims.d], Array.from(y, Number));
    const w = initWeights(model);
    const indices = [4, 1, 2];
    const f = await expectedFisherDiagonal(model, ds, { params: ['W1', 'b2'], indices });
    expect(f.n).toBe(3);
    expect(f.numClasses).toBe(dims.c);
    for (const name of ['W1', 'b2']) {
      const ref = new Float64Array(w[name].length);
      for (const j of indices) {
        const xi = x.subarray(j * dims.d, (j + 1) * dims.d);
        for (let c = 0; c < dims.c; c++) {
          const r = refLossGrad(w, dims, xi, [c], 1);
          const p = Math.exp(-r.loss);
          r.grads[name].forEach((g, i) => (ref[i] += (p * g * g) / indices.length));
        }
      }
      expect(maxRelErr(f.fisher[name], ref, 1e-6)).toBeLessThan(1e-4);
    }
  });

  it('refuses oversized results, bad indices and labels', async () => {
    const model = tinyMlp(dims, 6);
    const { x, y } = data(3, 2);
    const ds = makeDataset(x, [3, dims.d], Array.from(y, Number));
    await expect(perExampleGradients(model, ds, { maxValues: 10 })).rejects.toThrow(/exceeds the limit of 10/);
    await expect(perExampleGradients(model, ds, { indices: [5] })).rejects.toThrow(/index 5 is outside the dataset/);
    await expect(perExampleGradients(model, ds, { indices: [0], labels: [3] })).rejects.toThrow(/label 0 is 3/);
    await expect(perExampleGradients(model, ds, { params: ['nope'] })).rejects.toThrow(/'nope' is not an initializer/);
  });
});
