// Training parity with PyTorch: loss, gradients of every trainable parameter, SGD-momentum steps and
// BatchNorm running statistics, for the built-in MLP, small CNN, ResNet-18-CIFAR (batch 8) and a small
// ViT, and for a real torch.onnx.export model with BatchNorm and a depthwise-separable block (eval-mode
// and training-mode exports). On a narrow MLP and small CNN, the other optimizers and loss settings
// against their torch counterparts: torch.optim.Adam, AdamW, SGD(nesterov=True, weight_decay>0),
// F.cross_entropy(label_smoothing=0.1) and per-example weights (torch: sum_i w_i l_i / sum_i w_i).
// The reference is PyTorch float64; each comparison must be within a fixed
// floor, or within 4x PyTorch's own float32 error on the same quantity, or within 2x the conditioning
// spread (how far float64 PyTorch itself moves when inputs and weights are perturbed at float32
// rounding scale; train_ref.py), whichever is larger. The spread matters where a pre-activation lies
// within rounding of a ReLU kink: different but equally correct float32 kernels (ORT's NCHWc vs im2col
// convolution) then flip that mask element, which moves a BatchNorm bias gradient by ~2e-2 relative in
// the ResNet-18 case. A spread above 5e-2 fails the test: the comparison would then prove nothing.
// Adam/AdamW divide each coordinate's step by its own gradient size, so coordinates with tiny gradients
// make the 3-step displacement sensitive (spread ~1e-3 there, vs ~2e-7 for SGD); each optimizer and loss
// case fails, by 1e-2 or more on a loss, when Lethe's side is changed to the neighbouring setting
// (Adam for AdamW, no Nesterov, no label smoothing, unit weights).

import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeModel, encodeModel } from '../../main/engine/onnx/codec';
import { type Model, numel } from '../../main/engine/onnx/ir';
import { buildMlp, buildResnet18Cifar, buildSmallCnn, buildVitTiny, detectTrainable, normalizeImportedModel } from '../../main/engine/models';
import { type Npz } from '../../main/engine/io/npz';
import * as autodiff from '../../main/engine/autodiff';
import * as train from '../../main/engine/train';
import type { OptimizerSpec } from '../../main/engine/train/optimizers';
import { loadNpz, randomizeNormalization, runPy, saveNpz, seededFloats, referenceGate, tempDir, torchAvailable } from './helpers';

const torch = torchAvailable();
const skip = referenceGate('training parity with PyTorch', torch);

const LR = 0.05;
const MOMENTUM = 0.9;
const DEFAULT_STEPS = 3;

type Norm = 'max' | 'l2';

interface Case {
  name: string;
  /** how tensors are compared (default 'max', elementwise); see the ResNet-18 case */
  norm?: Norm;
  /** relative perturbation of train_ref.py's conditioning runs (default 1e-7) */
  perturbRel?: number;
  twin: 'lethe' | 'dwresnet';
  batch: number;
  model: (exportDir: string) => Model;
  /** Trainer steps compared with PyTorch (default DEFAULT_STEPS) */
  steps?: number;
  /** default SGD with momentum MOMENTUM */
  optimizer?: OptimizerSpec;
  /** default LR */
  lr?: number;
  labelSmoothing?: number;
  /** per-example loss weights (seeded, in [0.2, 2)) */
  exampleWeights?: boolean;
}

const narrowMlp = () => buildMlp({ seed: 21, hidden: [64, 32] });
const narrowCnn = () => buildSmallCnn({ seed: 22, channels: [8, 16], hidden: 32 });

const CASES: Case[] = [
  { name: 'mlp 784-256-128-10', twin: 'lethe', batch: 16, model: () => buildMlp({ seed: 11 }) },
  { name: 'small cnn', twin: 'lethe', batch: 16, model: () => buildSmallCnn({ seed: 12 }) },
  // ResNet-18 at batch 8: a layer4 channel's BatchNorm and weight gradient sum only 8x4x4 positions, so
  // one ReLU mask element flipped by rounding moves them by ~1e-2 and steps 2-3 inherit it; PyTorch
  // float32 itself is 0.4-2% off float64 after 3 steps. Its Trainer comparison is one step (update
  // and running statistics); multi-step momentum and statistics are compared on the other models.
  // Which elements flip depends on the CPU's float32 kernels (ORT picks them per instruction set), so
  // this case is judged on whole-tensor norms, with a conditioning spread measured at float32 kernel
  // scale (1e-6 relative): elementwise, a 1e-6 perturbation moves single layer4 gradient elements by
  // up to 18% of the tensor's largest, which no hardware-independent elementwise test can allow for;
  // in norm the spread is 2.2e-2 and Lethe's 1-step error 5.7e-3 (tightest check at 25%).
  { name: 'resnet18-cifar (batch 8)', twin: 'lethe', batch: 8, steps: 1, norm: 'l2', perturbRel: 1e-6, model: () => buildResnet18Cifar({ seed: 13 }) },
  { name: 'vit (dim 32, depth 2)', twin: 'lethe', batch: 8, model: () => buildVitTiny({ seed: 14, dim: 32, depth: 2, heads: 4 }) },
  { name: 'torch export: depthwise-separable ResNet, eval mode, opset 17', twin: 'dwresnet', batch: 8, model: (d) => decodeModel(readFileSync(join(d, 'dwresnet_op17_eval.onnx'))).model },
  { name: 'torch export: depthwise-separable ResNet, training mode, opset 13', twin: 'dwresnet', batch: 8, model: (d) => decodeModel(readFileSync(join(d, 'dwresnet_op13_train.onnx'))).model },
  // optimizers and loss settings (cheap models)
  { name: 'mlp 784-64-32-10, torch.optim.Adam (lr 0.01)', twin: 'lethe', batch: 16, model: narrowMlp, optimizer: { kind: 'adam' }, lr: 0.01 },
  { name: 'small cnn [8,16]-32, torch.optim.AdamW (lr 0.01, weight decay 0.1, betas 0.8/0.99)', twin: 'lethe', batch: 16, model: narrowCnn, optimizer: { kind: 'adamw', weightDecay: 0.1, beta1: 0.8, beta2: 0.99 }, lr: 0.01 },
  { name: 'mlp 784-64-32-10, SGD nesterov (momentum 0.9, weight decay 0.01)', twin: 'lethe', batch: 16, model: narrowMlp, optimizer: { kind: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 0.01 } },
  { name: 'small cnn [8,16]-32, cross-entropy with label smoothing 0.1', twin: 'lethe', batch: 16, model: narrowCnn, labelSmoothing: 0.1 },
  { name: 'mlp 784-64-32-10, per-example weights, Adam (lr 0.01)', twin: 'lethe', batch: 16, model: narrowMlp, optimizer: { kind: 'adam' }, lr: 0.01, exampleWeights: true },
];

/**
 * Relative error of `ours` against the float64 reference, and PyTorch float32's own relative error.
 * 'max': largest element difference over the largest reference element; 'l2': norm of the difference
 * over the norm of the reference (whole tensor).
 */
function relErr(ours: ArrayLike<number>, ref64: ArrayLike<number>, ref32: ArrayLike<number>, norm: Norm = 'max'): { ours: number; torch32: number; scale: number } {
  expect(ours.length).toBe(ref64.length);
  let d = 0;
  let d32 = 0;
  let scale = 0;
  for (let i = 0; i < ref64.length; i++) {
    const a = Math.abs(ours[i] - ref64[i]);
    const b = Math.abs(ref32[i] - ref64[i]);
    const c = Math.abs(ref64[i]);
    if (norm === 'max') {
      d = Math.max(d, a);
      d32 = Math.max(d32, b);
      scale = Math.max(scale, c);
    } else {
      d += a * a;
      d32 += b * b;
      scale += c * c;
    }
  }
  if (norm === 'l2') [d, d32, scale] = [Math.sqrt(d), Math.sqrt(d32), Math.sqrt(scale)];
  const s = Math.max(scale, 1e-12);
  return { ours: d / s, torch32: d32 / s, scale };
}

const sub = (a: ArrayLike<number>, b: ArrayLike<number>) => Float64Array.from({ length: a.length }, (_, i) => a[i] - b[i]);

describe.skipIf(skip)(`training parity with PyTorch (${torch.why})`, () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir();
    runPy('export_models.py', [tmp.dir]);
  });
  afterAll(() => tmp.cleanup());

  for (const c of CASES) {
    it(c.name, async () => {
      const raw = c.model(tmp.dir);
      if (c.twin === 'lethe') randomizeNormalization(raw, 200);
      const model = normalizeImportedModel(raw).model;
      const modelFile = join(tmp.dir, 'train-model.onnx');
      writeFileSync(modelFile, encodeModel(raw));
      const exampleShape = model.graph.inputs[0].shape!.slice(1).map((d) => (typeof d === 'number' ? d : NaN));
      if (exampleShape.some(Number.isNaN)) throw new Error('test model needs static example dims');
      const classes = model.graph.outputs[0].shape![1] as number;
      const x = seededFloats(c.batch * numel(exampleShape), 31, 0, 1);
      const y = BigInt64Array.from({ length: c.batch }, (_, i) => BigInt((i * 7) % classes));
      const w = c.exampleWeights ? seededFloats(c.batch, 41, 0.2, 2) : undefined;
      saveNpz(join(tmp.dir, 'batch.npz'), {
        x: { dtype: 'float32', shape: [c.batch, ...exampleShape], data: x },
        y: { dtype: 'int64', shape: [c.batch], data: y },
        ...(w ? { w: { dtype: 'float32', shape: [c.batch], data: w } } : {}),
      });
      const lr = c.lr ?? LR;
      const optimizer: OptimizerSpec = c.optimizer ?? { kind: 'sgd', momentum: MOMENTUM };
      const lossSettings = { labelSmoothing: c.labelSmoothing, exampleWeights: c.exampleWeights };
      const spec = {
        model: modelFile,
        twin: c.twin,
        batch: join(tmp.dir, 'batch.npz'),
        lr,
        momentum: MOMENTUM,
        optimizer,
        labelSmoothing: c.labelSmoothing ?? 0,
        steps: c.steps ?? DEFAULT_STEPS,
        out: join(tmp.dir, 'ref.npz'),
        perturbRel: c.perturbRel ?? 1e-7,
      };
      writeFileSync(join(tmp.dir, 'spec.json'), JSON.stringify(spec));
      runPy('train_ref.py', [join(tmp.dir, 'spec.json')], 300_000);
      const ref: Npz = loadNpz(spec.out);
      const r = (k: string) => {
        const a = ref[k];
        if (!a) throw new Error(`reference lacks '${k}'`);
        return a.data as unknown as ArrayLike<number>;
      };

      // conditioning: how far float64 PyTorch moves under rounding-sized perturbations (train_ref.py)
      const norm: Norm = c.norm ?? 'max';
      const spread = (k: string): number => {
        const key = `${norm === 'l2' ? 'spreadL2' : 'spread'}::${k}`;
        const a = ref[key];
        if (!a) throw new Error(`reference lacks '${key}'`);
        return Number((a.data as unknown as ArrayLike<number>)[0]);
      };
      const spreadLoss = r('spread::loss');
      const report = detectTrainable(model);
      const params = report.trainable;
      const torchParams = Object.keys(ref).filter((k) => k.startsWith('f64::param::')).map((k) => k.slice('f64::param::'.length));
      expect([...params].sort()).toEqual(torchParams.sort());
      const ds = train.makeDataset(x, [c.batch, ...exampleShape], y, w);

      // 1. loss and gradients of the first batch (BatchNorm with batch statistics, as in model.train())
      const g = await train.computeGradients(model, ds, { params, mode: 'train', threads: 2, lower: autodiff.lowerForTraining, loss: lossSettings });
      const loss64 = r('f64::loss');
      expect(Math.abs(g.loss - loss64[0])).toBeLessThan(2e-6 * Math.max(1, Math.abs(loss64[0])));
      let worstGrad = { name: '', ours: 0, torch32: 0 };
      let worstCond = 0;
      // the tightest comparison: largest error / tolerance over every check below (reported, < 1 to pass)
      let tightest = { ratio: 0, what: '' };
      const within = (value: number, tol: number, what: string) => {
        if (value / tol > tightest.ratio) tightest = { ratio: value / tol, what: what.split(':')[0] };
        expect(value, what).toBeLessThan(tol);
      };
      for (const p of params) {
        const e = relErr(g.grads[p], r(`f64::grad::${p}`), r(`f32::grad::${p}`), norm);
        if (e.scale < 1e-9) continue; // a gradient that is exactly zero in PyTorch too
        if (e.ours > worstGrad.ours) worstGrad = { name: p, ours: e.ours, torch32: e.torch32 };
        const cond = spread(`grad::${p}`) / e.scale;
        expect(cond, `conditioning of the gradient of ${p}`).toBeLessThan(5e-2);
        worstCond = Math.max(worstCond, cond);
        within(e.ours, Math.max(2e-4, 4 * e.torch32, 2 * cond), `gradient of ${p}: lethe rel err ${e.ours.toExponential(2)}, torch32 ${e.torch32.toExponential(2)}, conditioning ${cond.toExponential(2)}`);
      }

      // 2. optimizer steps (3, or the case's own count), driven by the Trainer, from the same weights on the same batch
      const STEPS = c.steps ?? DEFAULT_STEPS;
      const trainer = await train.Trainer.create({
        model,
        trainable: params,
        optimizer,
        loss: lossSettings,
        lr,
        batchSize: c.batch,
        seed: 0,
        shuffle: false,
        threads: 2,
        lower: autodiff.lowerForTraining,
      });
      const before = Object.fromEntries(Object.entries(trainer.weights()).map(([k, v]) => [k, new Float32Array(v)]));
      const losses: number[] = [];
      let stats1: Record<string, Float32Array> = {};
      for (let s = 0; s < STEPS; s++) {
        losses.push((await trainer.trainStep(x, y, c.batch, exampleShape, w, lr)).loss);
        if (s === 0) stats1 = Object.fromEntries(Object.entries(trainer.weights()).filter(([k]) => !params.includes(k)).map(([k, v]) => [k, new Float32Array(v)]));
      }
      const loss32 = r('f32::loss');
      for (let s = 0; s < STEPS; s++) {
        const tol = Math.max(2e-5 * Math.max(1, Math.abs(loss64[s])), 4 * Math.abs(loss32[s] - loss64[s]), 2 * spreadLoss[s]);
        within(Math.abs(losses[s] - loss64[s]), tol, `loss at step ${s + 1}: lethe ${losses[s]}, torch64 ${loss64[s]}, torch32 ${loss32[s]}, conditioning ${spreadLoss[s]}`);
      }
      const after = trainer.weights();
      let worstStep = { name: '', ours: 0 };
      for (const p of params) {
        // compare the displacement p3 - p0 (a comparison of p3 alone would hide update errors)
        const e = relErr(sub(after[p], before[p]), sub(r(`f64::param::${p}`), before[p]), sub(r(`f32::param::${p}`), before[p]), norm);
        if (e.scale < 1e-9) continue;
        if (e.ours > worstStep.ours) worstStep = { name: p, ours: e.ours };
        const cond = spread(`param::${p}`) / e.scale;
        expect(cond, `conditioning of the displacement of ${p}`).toBeLessThan(5e-2);
        worstCond = Math.max(worstCond, cond);
        within(e.ours, Math.max(5e-4, 4 * e.torch32, 2 * cond), `${STEPS}-step displacement of ${p}: lethe ${e.ours.toExponential(2)}, torch32 ${e.torch32.toExponential(2)}, conditioning ${cond.toExponential(2)}`);
      }

      // 3. BatchNorm running statistics (PyTorch: momentum 0.1, unbiased batch variance)
      const statNames = Object.keys(ref).filter((k) => k.startsWith('f64::stat1::')).map((k) => k.slice('f64::stat1::'.length));
      let worstStat = 0;
      for (const sname of statNames) {
        expect(stats1[sname], `running statistic ${sname} not tracked by the trainer`).toBeDefined();
        const e1 = relErr(sub(stats1[sname], before[sname]), sub(r(`f64::stat1::${sname}`), before[sname]), sub(r(`f32::stat1::${sname}`), before[sname]), norm);
        const e3 = relErr(sub(after[sname], before[sname]), sub(r(`f64::stat::${sname}`), before[sname]), sub(r(`f32::stat::${sname}`), before[sname]), norm);
        worstStat = Math.max(worstStat, e1.ours, e3.ours);
        within(e1.ours, Math.max(2e-4, 4 * e1.torch32, (2 * spread(`stat1::${sname}`)) / e1.scale), `running stat ${sname} after 1 step`);
        within(e3.ours, Math.max(5e-4, 4 * e3.torch32, (2 * spread(`stat::${sname}`)) / e3.scale), `running stat ${sname} after ${STEPS} steps`);
      }
      if (c.name.includes('resnet') || c.twin === 'dwresnet') expect(statNames.length).toBeGreaterThan(0);
      console.log(
        `[parity] ${c.name} (${norm} norm): loss ${losses.map((l) => l.toFixed(5)).join(' → ')}; worst grad rel err ${worstGrad.ours.toExponential(2)} (${worstGrad.name}; torch32 ${worstGrad.torch32.toExponential(2)}); ` +
          `worst ${STEPS}-step rel err ${worstStep.ours.toExponential(2)} (${worstStep.name}); ${statNames.length} running stats, worst rel err ${worstStat.toExponential(2)}; ` +
          `worst conditioning spread ${worstCond.toExponential(2)}; tightest check at ${(100 * tightest.ratio).toFixed(0)}% of its tolerance (${tightest.what})`,
      );
    }, 900_000); // generous: PyTorch float64 ResNet-18 steps take minutes when the machine is shared
  }
});
