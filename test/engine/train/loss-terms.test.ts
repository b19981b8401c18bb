// Composable loss terms (KL distillation, NPO, L1 with a per-step coefficient) in the training-step
// and gradient graphs: numerical gradient checks of the emitted loss, values against a float64 JS
// reference on the tiny MLP, NPO's gradient at the reference point (= gradient ascent), the
// Trainer's trainStepWith / logits, and that graphs without terms are unchanged.

import { describe, expect, it } from 'vitest';
import { cloneGraph, tensorI64, type Tensor } from '../../../main/engine/onnx/ir';
import { encodeModel } from '../../../main/engine/onnx/codec';
import { gradCheck } from '../../../main/engine/autodiff';
import { builderFor, mergeInto } from '../../../main/engine/train/graph-utils';
import { ort } from '../../../main/engine/train/session';
import { Rng } from '../../../main/engine/train/rng';
import { STEP_IO, Trainer, buildGradGraph, buildTrainStep, computeGradients, emitLoss, evaluateModel, makeDataset, openSession, type LossTerms } from '../../../main/engine/train';
import { tinyMlp, initWeights, maxRelErr, randArray } from './helpers';

const dims = { d: 5, h: 4, c: 3 };
const N = 6;
const PARAMS = ['W1', 'b1', 'W2', 'b2'];

function batch(seed: number) {
  const rng = new Rng(seed);
  return {
    x: randArray(rng, N * dims.d, 1.5),
    y: BigInt64Array.from({ length: N }, () => BigInt(rng.nextInt(dims.c))),
    wce: randArray(rng, N, 1), // signed: some examples ascend
    wkl: Float32Array.from({ length: N }, () => 0.2 + rng.nextFloat()),
    wnpo: Float32Array.from({ length: N }, () => 0.2 + rng.nextFloat()),
    teacher: randArray(rng, N * dims.c, 3),
    ref: Float32Array.from({ length: N }, () => -0.3 - 2 * rng.nextFloat()),
    l1: 0.05,
  };
}

const f32 = (d: number[], data: Float32Array): Tensor => ({ dtype: 'float32', dims: d, data });

/** The tiny MLP followed by emitLoss, output = the scalar loss, for the gradient checker. */
function lossGraph(terms: LossTerms, labelSmoothing = 0) {
  const m = tinyMlp(dims, 3);
  const g = cloneGraph(m.graph);
  const b = builderFor(g);
  emitLoss(b, 17, 'logits', STEP_IO, { labelSmoothing, terms }, PARAMS);
  mergeInto(g, b);
  g.outputs = [{ name: STEP_IO.loss, dtype: 'float32', shape: [] }];
  return { m, g };
}

function feedsFor(terms: LossTerms, bt: ReturnType<typeof batch>): Record<string, Tensor> {
  const f: Record<string, Tensor> = {
    input: f32([N, dims.d], bt.x),
    [STEP_IO.labels]: tensorI64([N], Array.from(bt.y, Number)),
    [STEP_IO.weights]: f32([N], bt.wce),
  };
  if (terms.kl) Object.assign(f, { [STEP_IO.teacherLogits]: f32([N, dims.c], bt.teacher), [STEP_IO.klWeights]: f32([N], bt.wkl) });
  if (terms.npo) Object.assign(f, { [STEP_IO.refLogp]: f32([N], bt.ref), [STEP_IO.npoWeights]: f32([N], bt.wnpo) });
  if (terms.l1) f[STEP_IO.l1] = f32([], new Float32Array([bt.l1]));
  return f;
}

/** float64 reference of the loss terms from the tiny MLP's logits */
function refTerms(bt: ReturnType<typeof batch>, T: number, beta: number, smooth: number) {
  const w = initWeights(tinyMlp(dims, 3));
  const ce: number[] = [];
  const kl: number[] = [];
  const npo: number[] = [];
  let loss = 0;
  for (let i = 0; i < N; i++) {
    const h = Array.from({ length: dims.h }, (_, j) => {
      let s = w.b1[j];
      for (let k = 0; k < dims.d; k++) s += bt.x[i * dims.d + k] * w.W1[j * dims.d + k];
      return Math.max(0, s);
    });
    const z = Array.from({ length: dims.c }, (_, k) => h.reduce((a, v, j) => a + v * w.W2[k * dims.h + j], w.b2[k]));
    const logsm = (v: number[]) => {
      const mx = Math.max(...v);
      const lse = mx + Math.log(v.reduce((a, u) => a + Math.exp(u - mx), 0));
      return v.map((u) => u - lse);
    };
    const lp = logsm(z);
    const y = Number(bt.y[i]);
    ce.push(-lp.reduce((a, v, k) => a + ((k === y ? 1 - smooth : 0) + smooth / dims.c) * v, 0));
    const lps = logsm(z.map((v) => v / T));
    const lpt = logsm(Array.from({ length: dims.c }, (_, k) => bt.teacher[i * dims.c + k] / T));
    kl.push(T * T * lpt.reduce((a, v, k) => a + Math.exp(v) * (v - lps[k]), 0));
    const u = beta * (lp[y] - bt.ref[i]);
    npo.push((2 / beta) * (Math.max(u, 0) + Math.log1p(Math.exp(-Math.abs(u)))));
    loss += bt.wce[i] * ce[i] + bt.wkl[i] * kl[i] + bt.wnpo[i] * npo[i];
  }
  let l1 = 0;
  for (const p of PARAMS) for (const v of w[p]) l1 += Math.abs(v);
  return { ce, kl, npo, loss: loss + bt.l1 * l1 };
}

describe('loss terms: gradient checker', () => {
  // ORT CPU has no float64 Softplus kernel, so graphs with the NPO term are checked in float32 (the
  // checker says so in `precision`); KL, L1 and CE are checked in float64. With every term at once the
  // float32 loss is ~20x larger than its gradients' scale and the finite-difference noise floor reaches
  // ~1e-3 relative, so that case is allowed 3e-3 (a 1% error in a rule still fails it).
  const cases: [string, LossTerms, number, 'float64' | 'float32', number | undefined][] = [
    ['KL (T = 2) + L1 + label-smoothed CE with signed weights (float64)', { kl: { temperature: 2 }, l1: true }, 0.1, 'float64', undefined],
    ['NPO (beta = 0.7) + CE (float32)', { npo: { beta: 0.7 } }, 0, 'float32', undefined],
    ['every term at once (T = 4, beta = 2; float32)', { kl: { temperature: 4 }, npo: { beta: 2 }, l1: true }, 0, 'float32', 3e-3],
  ];
  for (const [name, terms, smooth, precision, tolerance] of cases) {
    it(name, async () => {
      const { g } = lossGraph(terms, smooth);
      const res = await gradCheck({ graph: g, feeds: feedsFor(terms, batch(5)), wrt: [...PARAMS, 'input'], opset: 17, tolerance });
      expect(res.precision).toBe(precision);
      expect(res.ok, JSON.stringify(res.tensors.map((t) => [t.name, t.relError, t.directionalRelError]))).toBe(true);
      // the gradient does not vanish (the check would prove nothing)
      expect(Math.max(...Array.from(res.analytic.W2, Math.abs))).toBeGreaterThan(1e-3);
    });
  }
});

describe('loss terms: values and semantics', () => {
  it('loss, per-example CE / KL / NPO match a float64 reference', async () => {
    const terms: LossTerms = { kl: { temperature: 3 }, npo: { beta: 0.5 }, l1: true };
    const bt = batch(8);
    const gg = buildGradGraph(tinyMlp(dims, 3), { params: PARAMS, loss: { labelSmoothing: 0.05, terms } });
    const s = await openSession(gg.model);
    const feeds = Object.fromEntries(Object.entries(feedsFor(terms, bt)).map(([k, t]) => [k, new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.dims)]));
    const out = await s.session.run(feeds);
    await s.session.release();
    const ref = refTerms(bt, 3, 0.5, 0.05);
    expect(Math.abs((out[STEP_IO.loss].data as Float32Array)[0] - ref.loss)).toBeLessThan(1e-5);
    expect(maxRelErr(out[STEP_IO.losses].data as Float32Array, ref.ce)).toBeLessThan(1e-5);
    expect(maxRelErr(out[STEP_IO.klLosses].data as Float32Array, ref.kl)).toBeLessThan(1e-5);
    expect(maxRelErr(out[STEP_IO.npoLosses].data as Float32Array, ref.npo)).toBeLessThan(1e-5);
  });

  it('NPO is evaluated stably for large arguments (no overflow of softplus)', async () => {
    const terms: LossTerms = { npo: { beta: 1 } };
    const bt = batch(9);
    bt.ref = Float32Array.from({ length: N }, (_, i) => (i % 2 ? 200 : -200)); // u = ±200 + log p
    const gg = buildGradGraph(tinyMlp(dims, 3), { params: PARAMS, loss: { terms } });
    const s = await openSession(gg.model);
    const feeds = Object.fromEntries(Object.entries(feedsFor(terms, bt)).map(([k, t]) => [k, new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.dims)]));
    const out = await s.session.run(feeds);
    await s.session.release();
    const npo = out[STEP_IO.npoLosses].data as Float32Array;
    const ref = refTerms(bt, 1, 1, 0);
    for (let i = 0; i < N; i++) {
      expect(Number.isFinite(npo[i])).toBe(true);
      expect(Math.abs(npo[i] - ref.npo[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref.npo[i])));
    }
    for (const p of PARAMS) for (const v of out[`${p}__grad`].data as Float32Array) expect(Number.isFinite(v)).toBe(true);
  });

  it("NPO's gradient at the reference model equals gradient ascent on the weighted CE", async () => {
    const model = tinyMlp(dims, 3);
    const bt = batch(10);
    const ds = makeDataset(bt.x, [N, dims.d], Array.from(bt.y, Number));
    const ev = await evaluateModel(model, ds);
    const refLogp = Float32Array.from(ev.losses, (l) => -l); // log p_ref(y|x) of the model itself
    const gg = buildGradGraph(model, { params: PARAMS, loss: { terms: { npo: { beta: 0.3 } } } });
    const s = await openSession(gg.model);
    const out = await s.session.run({
      input: new ort.Tensor('float32', bt.x, [N, dims.d]),
      [STEP_IO.labels]: new ort.Tensor('int64', bt.y, [N]),
      [STEP_IO.weights]: new ort.Tensor('float32', new Float32Array(N), [N]), // CE off
      [STEP_IO.refLogp]: new ort.Tensor('float32', refLogp, [N]),
      [STEP_IO.npoWeights]: new ort.Tensor('float32', bt.wnpo, [N]),
    });
    await s.session.release();
    // d/dθ (2/β) softplus(β (log p − log p_ref)) at p = p_ref is σ(0)·2·∇log p = −∇CE
    const ga = await computeGradients(model, makeDataset(bt.x, [N, dims.d], Array.from(bt.y, Number), Float32Array.from(bt.wnpo, (w) => -w)), {
      params: PARAMS,
      loss: { exampleWeights: true, reduction: 'sum' },
    });
    for (const p of PARAMS) expect(maxRelErr(out[`${p}__grad`].data as Float32Array, ga.grads[p])).toBeLessThan(1e-4);
    const sumW = bt.wnpo.reduce((a, b) => a + b, 0);
    expect((out[STEP_IO.loss].data as Float32Array)[0]).toBeCloseTo((2 / 0.3) * Math.log(2) * sumW, 4);
  });

  it('graphs without terms are unchanged: no term inputs or outputs, same bytes with terms: undefined', () => {
    const model = tinyMlp(dims, 3);
    const base = buildTrainStep(model, { trainable: PARAMS, optimizer: { kind: 'sgd', momentum: 0.9 }, loss: { exampleWeights: true } });
    const withUndef = buildTrainStep(model, { trainable: PARAMS, optimizer: { kind: 'sgd', momentum: 0.9 }, loss: { exampleWeights: true, terms: {} } });
    expect(Buffer.from(encodeModel(withUndef.model)).equals(Buffer.from(encodeModel(base.model)))).toBe(true);
    const names = new Set([...base.model.graph.inputs, ...base.model.graph.outputs].map((v) => v.name));
    for (const n of [STEP_IO.teacherLogits, STEP_IO.klWeights, STEP_IO.refLogp, STEP_IO.npoWeights, STEP_IO.l1, STEP_IO.klLosses, STEP_IO.npoLosses]) expect(names.has(n)).toBe(false);
    expect(base.terms).toEqual({ teacherLogits: null, klWeights: null, refLogp: null, npoWeights: null, l1: null });
    const t = buildTrainStep(model, { trainable: PARAMS, optimizer: { kind: 'sgd' }, loss: { terms: { kl: {}, npo: { beta: 1 }, l1: true } } });
    expect(t.weights).toBe(STEP_IO.weights);
    expect(t.model.graph.outputs.map((o) => o.name).slice(0, 4)).toEqual([STEP_IO.loss, STEP_IO.losses, STEP_IO.klLosses, STEP_IO.npoLosses]);
  });

  it('refuses bad settings with clear messages', () => {
    const model = tinyMlp(dims, 3);
    const mk = (loss: object) => () => buildTrainStep(model, { trainable: PARAMS, optimizer: { kind: 'sgd' }, loss });
    expect(mk({ reduction: 'mean', terms: { l1: true } })).toThrow(/reduction 'sum'/);
    expect(mk({ terms: { npo: { beta: 0 } } })).toThrow(/NPO beta must be a positive number/);
    expect(mk({ terms: { kl: { temperature: -1 } } })).toThrow(/KL temperature must be a positive number/);
    expect(mk({ terms: { dpo: true } })).toThrow(/unknown loss term 'dpo'/);
  });
});

describe('Trainer with loss terms', () => {
  it('trainStepWith: an SGD step moves by -lr x the graph gradient; feeds are checked; fit refuses', async () => {
    const model = tinyMlp(dims, 3);
    const terms: LossTerms = { kl: { temperature: 2 }, npo: { beta: 0.5 }, l1: true };
    const bt = batch(11);
    const tr = await Trainer.create({ model, trainable: PARAMS, optimizer: { kind: 'sgd' }, lr: 0.1, batchSize: N, seed: 1, loss: { terms } });
    const gg = buildGradGraph(model, { params: PARAMS, loss: { terms } });
    const s = await openSession(gg.model);
    const feeds = Object.fromEntries(Object.entries(feedsFor(terms, bt)).map(([k, t]) => [k, new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.dims)]));
    const g = await s.session.run(feeds);
    await s.session.release();
    const before = Object.fromEntries(PARAMS.map((p) => [p, new Float32Array(tr.weights()[p])]));
    const r = await tr.trainStepWith({ x: bt.x, y: bt.y, nb: N, exampleShape: [dims.d], ceWeights: bt.wce, teacherLogits: bt.teacher, klWeights: bt.wkl, refLogp: bt.ref, npoWeights: bt.wnpo, l1: bt.l1 });
    expect(r.loss).toBeCloseTo((g[STEP_IO.loss].data as Float32Array)[0], 6);
    expect(r.klLosses!.length).toBe(N);
    expect(r.npoLosses!.length).toBe(N);
    expect(r.lr).toBe(0.1);
    for (const p of PARAMS) {
      const disp = Float64Array.from(before[p], (v, i) => (v - tr.weights()[p][i]) / 0.1);
      expect(maxRelErr(disp, g[`${p}__grad`].data as Float32Array, 1e-3)).toBeLessThan(1e-4);
    }
    const base = { x: bt.x, y: bt.y, nb: N, exampleShape: [dims.d] };
    await expect(tr.trainStepWith({ ...base, ceWeights: bt.wce, klWeights: bt.wkl, refLogp: bt.ref, npoWeights: bt.wnpo, l1: 1 })).rejects.toThrow(/pass teacherLogits/);
    await expect(tr.trainStepWith({ ...base, ceWeights: bt.wce, teacherLogits: bt.teacher, klWeights: bt.wkl, refLogp: bt.ref, npoWeights: bt.wnpo })).rejects.toThrow(/L1 term: pass its coefficient/);
    await expect(tr.trainStepWith({ ...base, teacherLogits: bt.teacher, klWeights: bt.wkl, refLogp: bt.ref, npoWeights: bt.wnpo, l1: 1 })).rejects.toThrow(/per-example weights: pass them/);
    await expect(tr.fit(makeDataset(bt.x, [N, dims.d], Array.from(bt.y, Number)), { epochs: 1 })).rejects.toThrow(/drive it with trainStepWith/);
    await tr.dispose();
    const plain = await Trainer.create({ model, trainable: PARAMS, optimizer: { kind: 'sgd' }, lr: 0.1, batchSize: N, seed: 1 });
    await expect(plain.trainStepWith({ ...base, l1: 1 })).rejects.toThrow(/not built with the L1 term/);
    await plain.dispose();
  });

  it('logits(): eval-mode logits of the current weights from one reused session, equal to the baked model', async () => {
    const model = tinyMlp(dims, 3);
    const bt = batch(12);
    const tr = await Trainer.create({ model, trainable: ['W2', 'b2'], optimizer: { kind: 'sgd', momentum: 0.9 }, lr: 0.5, batchSize: N, seed: 1 });
    const ds = makeDataset(bt.x, [N, dims.d], Array.from(bt.y, Number));
    const l0 = new Float32Array(await tr.logits(bt.x, N, [dims.d]));
    expect(Array.from(l0)).toEqual(Array.from((await evaluateModel(model, ds)).logits));
    for (let i = 0; i < 3; i++) await tr.trainStep(bt.x, bt.y, N, [dims.d]);
    const l3 = await tr.logits(bt.x, N, [dims.d]);
    const ev = await evaluateModel(tr.inferenceModel(), ds);
    expect(maxRelErr(l3, ev.logits)).toBeLessThan(1e-6);
    expect(maxRelErr(l3, l0)).toBeGreaterThan(1e-3);
    await tr.dispose();
  });
});
