// Parity with PyTorch for the engine pieces unlearning methods use (test/parity/py/terms_ref.py):
// the composable loss (cross-entropy with signed per-example weights and label smoothing, SCRUB's
// DistillKL with temperature, the NPO term, the L1 penalty) and its gradients, through both the
// gradient graph and one Trainer.trainStepWith SGD step; gradients with respect to the input of the
// summed per-example cross-entropy and the logits; per-example gradients; the expected Fisher
// diagonal of Fisher forgetting (Golatkar's `hessian`). Narrow MLP and small CNN
// built-ins, batch 16. The reference is PyTorch float64; each comparison must be within a floor
// (2e-4 relative to the largest reference element; 2e-6 on scalar losses) or within 4x PyTorch's own
// float32 error, whichever is larger.

import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeModel } from '../../main/engine/onnx/codec';
import { type Model, numel } from '../../main/engine/onnx/ir';
import { buildMlp, buildSmallCnn, detectTrainable } from '../../main/engine/models';
import type { Npz } from '../../main/engine/io/npz';
import * as train from '../../main/engine/train';
import { loadNpz, runPy, saveNpz, seededFloats, referenceGate, tempDir, torchAvailable } from './helpers';

const torch = torchAvailable();
const skip = referenceGate('loss-term and gradient parity with PyTorch', torch);

const N = 16;
const T = 4;
const BETA = 0.5;
const SMOOTH = 0.1;
const L1 = 1e-3;
const PEX = 4;

const CASES: { name: string; model: () => Model }[] = [
  { name: 'mlp 784-64-32-10', model: () => buildMlp({ seed: 21, hidden: [64, 32] }) },
  { name: 'small cnn [8,16]-32', model: () => buildSmallCnn({ seed: 22, channels: [8, 16], hidden: 32 }) },
];

function relErr(ours: ArrayLike<number>, ref64: ArrayLike<number>, ref32: ArrayLike<number>): { ours: number; torch32: number } {
  expect(ours.length).toBe(ref64.length);
  let d = 0;
  let d32 = 0;
  let scale = 0;
  for (let i = 0; i < ref64.length; i++) {
    d = Math.max(d, Math.abs(ours[i] - ref64[i]));
    d32 = Math.max(d32, Math.abs(ref32[i] - ref64[i]));
    scale = Math.max(scale, Math.abs(ref64[i]));
  }
  const s = Math.max(scale, 1e-12);
  return { ours: d / s, torch32: d32 / s };
}

describe.skipIf(skip)(`loss terms, input and per-example gradients: parity with PyTorch (${torch.why})`, () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir('lethe-terms-');
  });
  afterAll(() => tmp.cleanup());

  for (const c of CASES) {
    it(c.name, async () => {
      const model = c.model();
      const modelFile = join(tmp.dir, 'model.onnx');
      writeFileSync(modelFile, encodeModel(model));
      const exampleShape = model.graph.inputs[0].shape!.slice(1) as number[];
      const C = model.graph.outputs[0].shape![1] as number;
      const x = seededFloats(N * numel(exampleShape), 31, 0, 1);
      const y = BigInt64Array.from({ length: N }, (_, i) => BigInt((i * 7) % C));
      // signed CE weights (ascent on some examples), pre-normalised
      const wce = seededFloats(N, 41, -0.5, 1).map((v) => v / N);
      const wkl = seededFloats(N, 42, 0.2, 1).map((v) => v / N);
      const wnpo = seededFloats(N, 43, 0.2, 1).map((v) => v / N);
      const teacher = seededFloats(N * C, 44, -3, 3);
      const ref = seededFloats(N, 45, -3.5, -0.5);
      const l1 = new Float32Array([L1]);
      const f32 = (shape: number[], data: Float32Array) => ({ dtype: 'float32' as const, shape, data });
      saveNpz(join(tmp.dir, 'batch.npz'), {
        x: f32([N, ...exampleShape], x),
        y: { dtype: 'int64', shape: [N], data: y },
        wce: f32([N], wce),
        wkl: f32([N], wkl),
        wnpo: f32([N], wnpo),
        teacher: f32([N, C], teacher),
        ref: f32([N], ref),
        l1: f32([1], l1),
      });
      const spec = { model: modelFile, batch: join(tmp.dir, 'batch.npz'), out: join(tmp.dir, 'ref.npz'), T, beta: BETA, labelSmoothing: SMOOTH, perExample: PEX };
      writeFileSync(join(tmp.dir, 'spec.json'), JSON.stringify(spec));
      runPy('terms_ref.py', [join(tmp.dir, 'spec.json')], 300_000);
      const refs: Npz = loadNpz(spec.out);
      const r = (k: string) => {
        const a = refs[k];
        if (!a) throw new Error(`reference lacks '${k}'`);
        return a.data as unknown as ArrayLike<number>;
      };
      let tightest = { ratio: 0, what: '' };
      const within = (e: { ours: number; torch32: number }, floor: number, what: string) => {
        const tol = Math.max(floor, 4 * e.torch32);
        if (e.ours / tol > tightest.ratio) tightest = { ratio: e.ours / tol, what };
        expect(e.ours, `${what}: lethe ${e.ours.toExponential(2)}, torch32 ${e.torch32.toExponential(2)}`).toBeLessThan(tol);
      };
      const params = detectTrainable(model).trainable;
      const terms: train.LossTerms = { kl: { temperature: T }, npo: { beta: BETA }, l1: true };

      // 1. the gradient graph with every term
      const gg = train.buildGradGraph(model, { params, loss: { labelSmoothing: SMOOTH, terms } });
      const s = await train.openSession(gg.model, { threads: 2 });
      const { ort } = await import('../../main/engine/train/session');
      const out = await s.session.run({
        input: new ort.Tensor('float32', x, [N, ...exampleShape]),
        [gg.labels]: new ort.Tensor('int64', y, [N]),
        [gg.weights!]: new ort.Tensor('float32', wce, [N]),
        [gg.terms.teacherLogits!]: new ort.Tensor('float32', teacher, [N, C]),
        [gg.terms.klWeights!]: new ort.Tensor('float32', wkl, [N]),
        [gg.terms.refLogp!]: new ort.Tensor('float32', ref, [N]),
        [gg.terms.npoWeights!]: new ort.Tensor('float32', wnpo, [N]),
        [gg.terms.l1!]: new ort.Tensor('float32', l1, []),
      });
      await s.session.release();
      const loss = (out[gg.loss].data as Float32Array)[0];
      within({ ours: Math.abs(loss - r('f64::loss')[0]) / Math.max(1, Math.abs(r('f64::loss')[0])), torch32: Math.abs(r('f32::loss')[0] - r('f64::loss')[0]) }, 2e-6, 'total loss');
      within(relErr(out[gg.losses].data as Float32Array, r('f64::ce'), r('f32::ce')), 2e-5, 'per-example CE');
      within(relErr(out[train.STEP_IO.klLosses].data as Float32Array, r('f64::kl'), r('f32::kl')), 2e-5, 'per-example KL');
      within(relErr(out[train.STEP_IO.npoLosses].data as Float32Array, r('f64::npo'), r('f32::npo')), 2e-5, 'per-example NPO');
      for (const p of params) within(relErr(out[gg.grads[p]].data as Float32Array, r(`f64::grad::${p}`), r(`f32::grad::${p}`)), 2e-4, `gradient of ${p}`);

      // 2. one Trainer.trainStepWith step (SGD, lr 1, no momentum): the displacement is the gradient
      const trainer = await train.Trainer.create({ model, trainable: params, optimizer: { kind: 'sgd' }, lr: 1, batchSize: N, seed: 0, shuffle: false, threads: 2, loss: { labelSmoothing: SMOOTH, terms } });
      const before = Object.fromEntries(Object.entries(trainer.weights()).map(([k, v]) => [k, new Float32Array(v)]));
      const st = await trainer.trainStepWith({ x, y, nb: N, exampleShape, ceWeights: wce, teacherLogits: teacher, klWeights: wkl, refLogp: ref, npoWeights: wnpo, l1: L1 });
      expect(Math.abs(st.loss - loss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(loss)));
      const after = trainer.weights();
      for (const p of params) {
        const disp = Float64Array.from(before[p], (v, i) => v - after[p][i]);
        within(relErr(disp, r(`f64::grad::${p}`), r(`f32::grad::${p}`)), 2e-4, `trainStepWith displacement of ${p}`);
      }
      await trainer.dispose();

      // 3. input gradients of the summed per-example CE, and the logits
      const ig = await train.inputGradients(model, x, y, N, exampleShape, { threads: 2 });
      within(relErr(ig.grad, r('f64::xgrad'), r('f32::xgrad')), 2e-4, 'input gradient');
      within(relErr(ig.logits, r('f64::logits'), r('f32::logits')), 2e-5, 'logits');

      // 4. per-example gradients
      const ds = train.makeDataset(x, [N, ...exampleShape], y);
      const pe = await train.perExampleGradients(model, ds, { params, indices: [0, 1, 2, 3], threads: 2 });
      for (const l of pe.layout) {
        const ours = new Float32Array(PEX * l.size);
        for (let i = 0; i < PEX; i++) ours.set(pe.grads.subarray(i * pe.P + l.offset, i * pe.P + l.offset + l.size), i * l.size);
        within(relErr(ours, r(`f64::pex::${l.name}`), r(`f32::pex::${l.name}`)), 2e-4, `per-example gradients of ${l.name}`);
      }
      // 5. the expected Fisher diagonal of Fisher forgetting
      const fi = await train.expectedFisherDiagonal(model, ds, { params, indices: [0, 1, 2, 3], threads: 2 });
      for (const p of params) within(relErr(fi.fisher[p], r(`f64::fisher::${p}`), r(`f32::fisher::${p}`)), 2e-4, `expected Fisher of ${p}`);
      console.log(`[parity] ${c.name}: loss ${loss.toFixed(6)} (torch64 ${r('f64::loss')[0].toFixed(6)}); tightest check at ${(100 * tightest.ratio).toFixed(0)}% of its tolerance (${tightest.what})`);
    }, 600_000);
  }
});
