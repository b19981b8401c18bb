// Forward parity: each built-in architecture, run by onnxruntime-node, against its PyTorch twin
// (test/parity/py/lethe_models.py) loaded with the exact same weights. Normalisation statistics and
// tokens are randomised first so BatchNorm/LayerNorm/class-token paths are really exercised.

import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { encodeModel } from '../../main/engine/onnx/codec';
import { type Model, numel } from '../../main/engine/onnx/ir';
import { buildMlp, buildResnet18Cifar, buildSmallCnn, buildVitTiny, detectTrainable } from '../../main/engine/models';
import { loadNpz, maxAbsDiff, randomizeNormalization, runPy, saveNpz, seededFloats, referenceGate, tempDir, torchAvailable } from './helpers';

const torch = torchAvailable();
const skip = referenceGate('forward parity with PyTorch', torch);

const CASES: { name: string; build: () => Model; batch: number }[] = [
  { name: 'mlp 784-256-128-10', build: () => buildMlp({ seed: 1 }), batch: 16 },
  { name: 'small cnn', build: () => buildSmallCnn({ seed: 2 }), batch: 8 },
  { name: 'resnet18-cifar', build: () => buildResnet18Cifar({ seed: 3 }), batch: 4 },
  { name: 'vit-tiny', build: () => buildVitTiny({ seed: 4 }), batch: 4 },
];

describe.skipIf(skip)(`forward parity with PyTorch (${torch.why})`, () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir();
  });
  afterAll(() => tmp.cleanup());

  for (const c of CASES) {
    it(`${c.name}: logits match float64 PyTorch`, async () => {
      const model = c.build();
      randomizeNormalization(model, 100);
      const bytes = encodeModel(model);
      const inShape = [c.batch, ...(model.graph.inputs[0].shape!.slice(1) as number[])];
      const x = seededFloats(numel(inShape), 7, -1, 1);
      const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2 });
      const out = await session.run({ input: new ort.Tensor('float32', x, inShape) });
      const ours = out.logits.data as Float32Array;
      expect(out.logits.dims).toEqual([c.batch, JSON.parse(model.metadata['lethe.config']).classes]);

      const file = join(tmp.dir, `${model.metadata['lethe.arch']}.onnx`);
      writeFileSync(file, bytes);
      saveNpz(join(tmp.dir, 'x.npz'), { x: { dtype: 'float32', shape: inShape, data: x } });
      const names = JSON.parse(runPy('forward.py', [file, join(tmp.dir, 'x.npz'), join(tmp.dir, 'out.npz')])) as { parameters: string[]; buffers: string[] };
      // Lethe's trainable detection agrees with PyTorch on what is a parameter and what is a buffer
      const report = detectTrainable(model);
      expect(report.trainable.sort()).toEqual(names.parameters.sort());
      for (const b of names.buffers) expect(report.buffers).toContain(b);
      const ref = loadNpz(join(tmp.dir, 'out.npz'));
      const ref64 = ref.logits64.data as Float64Array;
      const ref32 = ref.logits32.data as Float32Array;
      const vs64 = maxAbsDiff(ours, ref64);
      const torch32vs64 = maxAbsDiff(ref32, ref64);
      const tol = 2e-5 * Math.max(1, vs64.scale);
      console.log(`[parity] ${c.name}: max|lethe-torch64| = ${vs64.diff.toExponential(2)} (torch32 vs torch64 ${torch32vs64.diff.toExponential(2)}, |logits| <= ${vs64.scale.toFixed(3)})`);
      expect(vs64.scale).toBeGreaterThan(1e-3); // the comparison is not between two near-zero outputs
      expect(vs64.diff).toBeLessThan(tol);
    });
  }
});
