// Imported-model recognition on real torch.onnx.export output: a ResNet-style model with BatchNorm and
// a depthwise-separable block, and a transformer-style model (class token, position embedding,
// LayerNorm, Dropout, Linear on 3-D activations), exported at opsets 13/15/17 in eval mode, training
// mode, and torch's default (BN folded into Conv). detectTrainable must find exactly the parameters
// torch reports (named_parameters) and its buffers; the normalised model must reproduce PyTorch's
// eval-mode logits in onnxruntime.

import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { decodeModel, encodeModel } from '../../main/engine/onnx/codec';
import { detectTrainable, normalizeImportedModel } from '../../main/engine/models/import';
import { readNpy } from '../../main/engine/io/npy';
import { maxAbsDiff, runPy, referenceGate, tempDir, torchAvailable } from './helpers';

const torch = torchAvailable();
const skip = referenceGate('torch.onnx.export import parity', torch);

interface Case {
  file: string;
  model: string;
  opset: number;
  mode: 'eval' | 'train' | 'evalfold';
  parameters: string[];
  buffers: string[];
}

describe.skipIf(skip)(`torch.onnx.export models: trainable detection (${torch.why})`, () => {
  let tmp: ReturnType<typeof tempDir>;
  let manifest: { torch: string; cases: Record<string, Case> };
  beforeAll(() => {
    tmp = tempDir();
    runPy('export_models.py', [tmp.dir]);
    manifest = JSON.parse(readFileSync(join(tmp.dir, 'manifest.json'), 'utf8'));
  });
  afterAll(() => tmp.cleanup());

  const names = [
    'dwresnet_op13_eval',
    'dwresnet_op13_train',
    'dwresnet_op15_train',
    'dwresnet_op17_eval',
    'dwresnet_op17_train',
    'dwresnet_op17_evalfold',
    'tokens_op13_eval',
    'tokens_op17_eval',
    'tokens_op17_train',
  ];
  for (const name of names) {
    it(name, async () => {
      const c = manifest.cases[name];
      expect(c, `case ${name} missing from the export manifest`).toBeDefined();
      const { model } = decodeModel(readFileSync(join(tmp.dir, c.file)));
      const report = detectTrainable(model);

      if (c.mode === 'evalfold') {
        // BN was folded into the convolutions: the fused weights/biases are trainable, nothing else
        const convInits = model.graph.nodes.filter((n) => n.op === 'Conv').flatMap((n) => n.inputs.slice(1).filter(Boolean));
        expect(report.trainable.sort()).toEqual([...convInits, 'fc.weight', 'fc.bias'].sort());
        expect(model.graph.nodes.some((n) => n.op === 'BatchNormalization')).toBe(false);
      } else {
        expect(report.trainable.sort()).toEqual([...c.parameters].sort());
        for (const b of c.buffers) {
          expect(report.buffers).toContain(b);
          expect(report.reasons[b]).toMatch(/running (mean|variance)/);
        }
        // every other buffer is a constant, not a float tensor of parameter size
        for (const b of report.buffers) if (!c.buffers.includes(b)) expect(report.reasons[b]).not.toMatch(/^not consumed/);
      }
      for (const t of report.trainable) expect(report.reasons[t], t).toMatch(/weight|bias|scale|token|embedding|offset/);
      if (c.mode === 'train') {
        expect(report.normalized.some((s) => /training-mode BatchNormalization|training-mode Dropout/.test(s))).toBe(true);
      } else if (c.model === 'dwresnet') {
        expect(report.normalized).toEqual([]);
      }

      // the normalised model runs and gives PyTorch's eval-mode outputs
      const norm = normalizeImportedModel(model).model;
      for (const n of norm.graph.nodes) {
        if (n.op === 'BatchNormalization') expect(n.outputs.length).toBe(1);
        if (n.op === 'Dropout') expect(n.inputs.length).toBeLessThanOrEqual(2);
      }
      const x = readNpy(readFileSync(join(tmp.dir, 'x.npy')));
      const ref = readNpy(readFileSync(join(tmp.dir, name + '.logits.npy')));
      const session = await ort.InferenceSession.create(encodeModel(norm));
      const out = await session.run({ input: new ort.Tensor('float32', x.data as Float32Array, x.shape) });
      const d = maxAbsDiff(out.logits.data as Float32Array, ref.data as Float64Array);
      expect(d.diff).toBeLessThan(1e-4 * Math.max(1, d.scale));
    });
  }

  it('overrides: forced trainable/frozen lists win, with reasons; bad names are refused', () => {
    const { model } = decodeModel(readFileSync(join(tmp.dir, manifest.cases.dwresnet_op17_eval.file)));
    const r = detectTrainable(model, { frozen: ['stem.weight'], trainable: ['stem_bn.running_mean'] });
    expect(r.trainable).toContain('stem_bn.running_mean');
    expect(r.buffers).toContain('stem.weight');
    expect(r.reasons['stem.weight']).toMatch(/^override: frozen \(detected: trainable/);
    expect(r.reasons['stem_bn.running_mean']).toMatch(/^override: trainable \(detected: buffer/);
    expect(() => detectTrainable(model, { trainable: ['nope'] })).toThrow(/'nope' is not an initializer/);
    expect(() => detectTrainable(model, { frozen: ['fc.bias'], trainable: ['fc.bias'] })).toThrow(/both as trainable and as frozen/);
  });
});
