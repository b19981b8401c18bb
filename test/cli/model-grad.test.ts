// `lethe model grad` on real torch.onnx.export'ed models (MLP, separable CNN, BatchNorm CNN, a
// transformer-style token model) matches PyTorch's gradients.
// test/engine/train/py/export_grad_reference.py builds the models, exports them (opset 13 and 17),
// and writes a batch plus PyTorch's float64 loss and gradients keyed by initializer name.
// Tolerance: per tensor, max |lethe - torch| <= 1e-4 * max(max |torch| of the tensor, 1e-3 * the largest
// gradient of the model). The floor matters only for gradients that are zero in exact arithmetic
// (a conv bias followed by training-mode BatchNorm: torch gives ~1e-17, float32 ~1e-8).

import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpz } from '../../main/engine/io/npz';
import { cli } from './model-helpers';
import { PYTHON as PY, referenceGate, torchAvailable } from '../parity/helpers';

const SCRIPT = join(__dirname, '../engine/train/py/export_grad_reference.py');
const skip = referenceGate('lethe model grad vs PyTorch', torchAvailable());

describe.skipIf(skip)('lethe model grad vs PyTorch', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lethe-gradref-'));
    const r = spawnSync(PY, [SCRIPT, dir, '13', '17'], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`reference script failed: ${r.stderr}`);
  }, 150_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cases = [
    ['mlp', 13],
    ['mlp', 17],
    ['sepconv', 13],
    ['sepconv', 17],
    ['bnnet', 13],
    ['bnnet', 17],
    // transformer-style export: class token via Expand + Concat, LayerNorm (decomposed at opset 13),
    // 3-D Linear as Transpose + MatMul + Add, erf GELU; training-mode export adds a Dropout node
    ['tokens', 13],
    ['tokens', 17],
    ['tokens_train', 13],
    ['tokens_train', 17],
  ] as const;
  for (const [name, opset] of cases) {
    it(`${name} (opset ${opset})`, async () => {
      const ref = readNpz(readFileSync(join(dir, `${name}_opset${opset}_grads.npz`)));
      const train = (ref.__mode_train.data as Uint8Array)[0] === 1;
      const out = join(dir, `${name}_opset${opset}_lethe.npz`);
      const r = await cli(['--json', 'model', 'grad', '--model', join(dir, `${name}_opset${opset}.onnx`), '--inputs', join(dir, `${name}_batch.npz`), '--out', out, '--mode', train ? 'train' : 'eval']);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const summary = JSON.parse(r.out);
      expect(summary.mode).toBe(train ? 'train' : 'eval');
      const got = readNpz(readFileSync(out));
      const torchKeys = Object.keys(ref).filter((k) => k !== 'loss' && k !== '__mode_train').sort();
      // every trainable initializer, and only those, is written
      expect(Object.keys(got).filter((k) => k !== 'loss').sort()).toEqual(torchKeys);
      const tl = (ref.loss.data as Float64Array)[0];
      expect(Math.abs((got.loss.data as Float32Array)[0] - tl)).toBeLessThan(1e-5 * Math.max(1, Math.abs(tl)));
      let globalScale = 0;
      for (const k of torchKeys) for (const v of ref[k].data as Float64Array) globalScale = Math.max(globalScale, Math.abs(v));
      for (const k of torchKeys) {
        const a = got[k].data as Float32Array;
        const b = ref[k].data as Float64Array;
        expect(got[k].shape).toEqual(ref[k].shape);
        let maxDiff = 0;
        let scale = 0;
        for (let i = 0; i < b.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
          scale = Math.max(scale, Math.abs(b[i]));
        }
        expect(maxDiff / Math.max(scale, 1e-3 * globalScale), `${k}: max diff ${maxDiff}, scale ${scale}`).toBeLessThan(1e-4);
      }
    });
  }

  it('gives a clear error for a bad inputs file and a non-ONNX model', async () => {
    const bad = await cli(['model', 'grad', '--model', join(dir, 'mlp_opset17.onnx'), '--inputs', join(dir, 'sepconv_batch.npz'), '--out', join(dir, 'x.npz')]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/examples have shape \[1, 12, 12\], the model's input 'input' expects \[20\]/);
    const notOnnx = await cli(['model', 'grad', '--model', join(dir, 'mlp_batch.npz.onnx'), '--inputs', join(dir, 'mlp_batch.npz'), '--out', join(dir, 'x.npz')]);
    expect(notOnnx.code).not.toBe(0);
    expect(notOnnx.err).toMatch(/^lethe: /);
  });
});
