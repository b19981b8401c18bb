// Built-in architectures: valid ONNX (onnx.checker full_check), run in onnxruntime with a dynamic
// batch, expose penultimate features, initialise deterministically like PyTorch's defaults, and reject
// bad options with messages that name the option.

import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { encodeModel } from '../../../main/engine/onnx/codec';
import { type Model, numel } from '../../../main/engine/onnx/ir';
import {
  ARCHITECTURES,
  FEATURES_KEY,
  buildArchitecture,
  buildMlp,
  buildResnet18Cifar,
  buildSmallCnn,
  buildVitTiny,
  detectTrainable,
} from '../../../main/engine/models';
import { PY_DIR, PYTHON, tempDir } from '../../parity/helpers';

const onnxPy = spawnSync(PYTHON, ['-c', 'import onnx'], { encoding: 'utf8' });
const hasOnnxPy = onnxPy.status === 0;
if (!hasOnnxPy) console.warn(`[models] onnx checker test SKIPPED: python3-onnx is not installed (${PYTHON})`);

const DEFAULTS: Record<string, () => Model> = {
  mlp: () => buildMlp(),
  cnn: () => buildSmallCnn(),
  resnet18: () => buildResnet18Cifar(),
  vit: () => buildVitTiny(),
};
const VARIANTS: Record<string, () => Model> = {
  'mlp tabular 20-64-3 dropout': () => buildMlp({ inputShape: [20], hidden: [64], classes: 3, dropout: 0.2 }),
  'cnn 3x32x32 3 stages dropout': () => buildSmallCnn({ inputShape: [3, 32, 32], channels: [8, 16, 16], hidden: 32, classes: 5, dropout: 0.5 }),
  'resnet narrow 1x28x28': () => buildResnet18Cifar({ inputShape: [1, 28, 28], width: 8, classes: 4 }),
  'vit small 1x28x28 patch 7 dropout': () => buildVitTiny({ inputShape: [1, 28, 28], patch: 7, dim: 32, depth: 2, heads: 4, classes: 10, dropout: 0.1 }),
};

async function runWithFeatures(model: Model, batch: number): Promise<{ logits: ort.Tensor; features: ort.Tensor }> {
  const feat = model.metadata[FEATURES_KEY];
  const m: Model = { ...model, graph: { ...model.graph, outputs: [...model.graph.outputs, { name: feat, dtype: 'float32', shape: null }] } };
  const session = await ort.InferenceSession.create(encodeModel(m), { intraOpNumThreads: 2 });
  const shape = [batch, ...(model.graph.inputs[0].shape!.slice(1) as number[])];
  const x = new Float32Array(numel(shape)).map((_, i) => Math.sin(i * 0.37));
  const out = await session.run({ input: new ort.Tensor('float32', x, shape) });
  return { logits: out.logits, features: out[feat] };
}

describe('built-in architectures', () => {
  it.skipIf(!hasOnnxPy)('every architecture passes onnx.checker.check_model(full_check=True)', () => {
    const tmp = tempDir('lethe-models-');
    try {
      const files = Object.entries({ ...DEFAULTS, ...VARIANTS }).map(([name, build]) => {
        const file = join(tmp.dir, `${name.replace(/[^a-z0-9]+/gi, '_')}.onnx`);
        writeFileSync(file, encodeModel(build()));
        return file;
      });
      const r = spawnSync(PYTHON, [join(PY_DIR, 'check_onnx.py'), ...files], { encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      const results = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; ok: boolean; error: string | null });
      expect(results.length).toBe(files.length);
      for (const res of results) expect(res.error, res.file).toBeNull();
    } finally {
      tmp.cleanup();
    }
  });

  for (const [name, build] of Object.entries({ ...DEFAULTS, ...VARIANTS })) {
    it(`${name}: runs with dynamic batch; logits [N, classes]; features [N, F]`, async () => {
      const model = build();
      expect(model.opsets).toEqual([{ domain: '', version: 17 }]);
      expect(model.graph.inputs.map((i) => i.name)).toEqual(['input']);
      expect(model.graph.inputs[0].shape![0]).toBe('N');
      expect(model.graph.outputs.map((o) => o.name)).toEqual(['logits']);
      const classes = JSON.parse(model.metadata['lethe.config']).classes as number;
      for (const batch of [1, 3]) {
        const { logits, features } = await runWithFeatures(model, batch);
        expect(logits.dims).toEqual([batch, classes]);
        expect(features.dims.length).toBe(2);
        expect(features.dims[0]).toBe(batch);
        const l = logits.data as Float32Array;
        expect(l.every(Number.isFinite)).toBe(true);
      }
    });
  }

  it('reference workloads have the documented shapes and parameter counts', () => {
    const count = (m: Model) => detectTrainable(m).trainable.reduce((s, n) => s + numel(m.graph.initializers.find((t) => t.name === n)!.dims), 0);
    expect(count(buildMlp())).toBe(784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
    expect(count(buildSmallCnn())).toBe(32 * 9 + 32 + 64 * 32 * 9 + 64 + 3136 * 128 + 128 + 128 * 10 + 10);
    // torchvision-style ResNet-18 with a 3x3 stem and 10 classes: 11,173,962 parameters
    expect(count(buildResnet18Cifar())).toBe(11_173_962);
    const r = detectTrainable(buildResnet18Cifar());
    expect(r.trainable.length).toBe(62);
    expect(r.buffers.filter((b) => /running_(mean|var)$/.test(b)).length).toBe(40);
    const vit = buildVitTiny();
    expect(vit.graph.nodes.filter((n) => n.op === 'LayerNormalization').length).toBe(2 * 6 + 1);
    expect(vit.graph.nodes.filter((n) => n.op === 'Softmax').length).toBe(6);
    expect(vit.graph.nodes.some((n) => n.op === 'Erf')).toBe(true);
    expect(vit.graph.initializers.find((t) => t.name === 'pos_embed')!.dims).toEqual([1, 65, 192]);
  });

  it('BatchNormalization and Dropout are in inference form (training lowering applies)', () => {
    for (const n of buildResnet18Cifar({ width: 8 }).graph.nodes.filter((x) => x.op === 'BatchNormalization')) {
      expect(n.outputs.length).toBe(1);
      expect(n.attrs.training_mode).toBeUndefined();
      expect(n.attrs.momentum).toEqual({ type: 'float', value: expect.closeTo(0.9, 6) });
    }
    const drops = buildMlp({ dropout: 0.25 }).graph.nodes.filter((x) => x.op === 'Dropout');
    expect(drops.length).toBe(2);
    for (const d of drops) expect(d.inputs.length).toBe(2);
  });

  it('initialisation is seeded and follows PyTorch defaults (U(±1/sqrt(fan_in)), BN 1/0, LN 1/0)', () => {
    const a = encodeModel(buildSmallCnn({ seed: 5 }));
    const b = encodeModel(buildSmallCnn({ seed: 5 }));
    const c = encodeModel(buildSmallCnn({ seed: 6 }));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);

    const m = buildSmallCnn({ seed: 1 });
    const fc1 = m.graph.initializers.find((t) => t.name === 'fc1.weight')!.data as Float32Array;
    const bound = 1 / Math.sqrt(3136);
    let max = 0;
    let sq = 0;
    let sum = 0;
    for (const v of fc1) {
      max = Math.max(max, Math.abs(v));
      sq += v * v;
      sum += v;
    }
    expect(max).toBeLessThanOrEqual(bound);
    expect(max).toBeGreaterThan(bound * 0.999);
    expect(Math.sqrt(sq / fc1.length) / (bound / Math.sqrt(3))).toBeCloseTo(1, 2);
    expect(Math.abs(sum / fc1.length)).toBeLessThan(bound * 0.01);
    const conv1 = m.graph.initializers.find((t) => t.name === 'conv1.weight')!.data as Float32Array;
    expect(Math.max(...conv1.map(Math.abs))).toBeLessThanOrEqual(1 / 3);

    const r = buildResnet18Cifar({ width: 8 });
    const get = (n: string) => Array.from(r.graph.initializers.find((t) => t.name === n)!.data as Float32Array);
    expect(new Set(get('bn1.weight'))).toEqual(new Set([1]));
    expect(new Set(get('bn1.bias'))).toEqual(new Set([0]));
    expect(new Set(get('bn1.running_var'))).toEqual(new Set([1]));
    const v = buildVitTiny({ dim: 16, depth: 1, heads: 2 });
    const pos = Array.from(v.graph.initializers.find((t) => t.name === 'pos_embed')!.data as Float32Array);
    expect(Math.max(...pos.map(Math.abs))).toBeLessThanOrEqual(0.04 + 1e-7);
    // changing one layer's width leaves other layers' weights unchanged (per-parameter streams)
    const w1 = buildMlp({ hidden: [256, 128], seed: 3 }).graph.initializers.find((t) => t.name === 'fc1.weight')!.data;
    const w2 = buildMlp({ hidden: [256, 64], seed: 3 }).graph.initializers.find((t) => t.name === 'fc1.weight')!.data;
    expect(Buffer.from(w1.buffer).equals(Buffer.from(w2.buffer))).toBe(true);
  });

  it('bad options give specific errors', () => {
    expect(() => buildMlp({ hidden: [256, 0] })).toThrow('mlp hidden[1] must be a positive integer, got 0');
    expect(() => buildMlp({ dropout: 1 })).toThrow(/mlp dropout must be a number in \[0, 1\)/);
    expect(() => buildMlp({ seed: -1 })).toThrow(/seed must be a non-negative integer/);
    expect(() => buildSmallCnn({ inputShape: [1, 30, 30] })).toThrow('cnn input 30x30 must be divisible by 4');
    expect(() => buildSmallCnn({ inputShape: [28, 28] })).toThrow(/cnn inputShape must be \[C, H, W\]/);
    expect(() => buildResnet18Cifar({ classes: 2.5 })).toThrow(/resnet18 classes must be a positive integer/);
    expect(() => buildVitTiny({ dim: 10, heads: 3 })).toThrow('vit dim 10 is not divisible by heads 3');
    expect(() => buildVitTiny({ inputShape: [3, 30, 30] })).toThrow('vit input 30x30 is not divisible by patch 4');
    expect(() => buildArchitecture('lenet')).toThrow(/unknown architecture 'lenet' \(expected one of: mlp, cnn, resnet18, vit\)/);
    for (const a of ARCHITECTURES) expect(buildArchitecture(a, { classes: 3 }).graph.outputs[0].shape).toEqual(['N', 3]);
  });
});
