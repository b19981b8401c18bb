// lethe model create / import / export / list / show / train, through the real CLI entry point.

import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeNpz } from '../../main/engine/io/npz';
import { loadModelFile } from '../../main/engine/onnx/load';
import { evaluateModel, makeDataset } from '../../main/engine/train';
import { Rng } from '../../main/engine/train/rng';
import { cli } from './model-helpers';

let dir = '';
let ws = '';
const W = () => ['--workspace', ws];

function writeData(file: string, n: number, d: number, classes: number, seed: number) {
  const rng = new Rng(seed);
  const y = BigInt64Array.from({ length: n }, () => BigInt(rng.nextInt(classes)));
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = rng.nextNormal() * 0.3 + (j % classes === Number(y[i]) ? 1 : 0);
  writeFileSync(file, writeNpz({ x: { dtype: 'float32', shape: [n, d], data: x }, y: { dtype: 'int64', shape: [n], data: y } }));
  return { x, y };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lethe-model-cli-'));
  ws = join(dir, 'ws');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lethe model', () => {
  it('create, list, show, export: the exported file is the registered model', async () => {
    const c = await cli([...W(), '--json', 'model', 'create', '--arch', 'mlp', '--name', 'm1', '--input', '20', '--classes', '3', '--hidden', '16', '--seed', '3']);
    expect(c.err).toBe('');
    expect(c.code).toBe(0);
    const m = JSON.parse(c.out);
    expect(m).toMatchObject({ name: 'm1', source: 'builtin', arch: 'mlp' });
    expect(m.trainable.length).toBe(4);
    expect(m.parameterCount).toBe(20 * 16 + 16 + 16 * 3 + 3);
    expect(m.inputs).toEqual([{ name: 'input', dtype: 'float32', shape: ['N', 20] }]);

    const again = await cli([...W(), 'model', 'create', '--arch', 'mlp', '--name', 'm1']);
    expect(again.code).not.toBe(0);
    expect(again.err).toMatch(/a model named 'm1' already exists/);

    const cnn = await cli([...W(), 'model', 'create', '--arch', 'cnn', '--name', 'c1']);
    expect(cnn.code).toBe(0);
    const list = await cli([...W(), '--json', 'model', 'list']);
    expect(JSON.parse(list.out).map((x: { name: string }) => x.name)).toEqual(['c1', 'm1']);
    const human = await cli([...W(), 'model', 'list']);
    // a header row like the other lists (issue 9, point 13)
    expect(human.out.split('\n')[0]).toMatch(/^name\s+source\s+arch\s+parameters\s+sha256$/);
    expect(human.out).toMatch(/^c1\s+builtin\s+cnn\s+\d+\s+[0-9a-f]{12}$/m);

    const show = await cli([...W(), 'model', 'show', 'm1']);
    expect(show.out).toMatch(/SHA-256\s+[0-9a-f]{64}/);
    expect(show.out).toMatch(/Trainable\s+4 tensors, 387 values/);
    const missing = await cli([...W(), 'model', 'show', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no model named 'nope'/);

    const out = join(dir, 'm1.onnx');
    const ex = await cli([...W(), '--json', 'model', 'export', 'm1', '--out', out]);
    expect(ex.code).toBe(0);
    const sha = createHash('sha256').update(readFileSync(out)).digest('hex');
    expect(JSON.parse(ex.out).sha256).toBe(sha);
    expect(sha).toBe(m.sha256);
  });

  it('rejects bad flags with a clear one-line reason', async () => {
    const r1 = await cli([...W(), 'model', 'create', '--arch', 'transformer9000', '--name', 'x']);
    expect(r1.code).toBe(2);
    expect(r1.err).toMatch(/--arch must be one of mlp, cnn, resnet18, vit/);
    const r2 = await cli([...W(), 'model', 'create', '--arch', 'cnn', '--name', 'x', '--input', '1xAx28']);
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/--input must look like 1x28x28/);
    const r3 = await cli([...W(), 'model', 'create', '--arch', 'cnn', '--name', '../evil']);
    expect(r3.code).toBe(2);
    expect(r3.err).toMatch(/Invalid record id/);
    const r4 = await cli([...W(), 'model', 'train', '--model', 'm1', '--data', 'x.npz', '--optimizer', 'lbfgs', '--out', 'o.onnx']);
    expect(r4.code).toBe(2);
    expect(r4.err).toMatch(/--optimizer must be sgd, adam or adamw/);
  });

  it('import validates the file (non-zero exit with the reason) and applies trainable/frozen overrides', async () => {
    const bad = join(dir, 'bad.onnx');
    writeFileSync(bad, Buffer.from('this is not a protobuf at all, just text'));
    const r = await cli([...W(), 'model', 'import', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^lethe: bad\.onnx is not a usable ONNX model: /);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    const pickle = join(dir, 'weights.pt.onnx');
    writeFileSync(pickle, Buffer.from([0x80, 0x04, 0x95, 0x00, 0x00]));
    const rp = await cli([...W(), 'model', 'import', pickle]);
    expect(rp.code).toBe(2);
    expect(rp.err).toMatch(/pickle/);

    const good = join(dir, 'm1.onnx');
    const ok = await cli([...W(), '--json', 'model', 'import', good, '--name', 'imported', '--frozen', 'fc1.weight,fc1.bias']);
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    const m = JSON.parse(ok.out);
    expect(m.source).toBe('imported');
    expect(m.importedFrom).toBe('m1.onnx');
    expect(m.overrides.frozen).toEqual(['fc1.weight', 'fc1.bias']);
    expect(m.trainable).not.toContain('fc1.weight');
    expect(m.buffers).toContain('fc1.weight');
    const unknown = await cli([...W(), 'model', 'import', good, '--name', 'imp2', '--trainable', 'no.such']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/'no.such' is not an initializer/);
  });

  it('train on NPZ: loss falls, test accuracy reported, exported ONNX predicts like the saved model; deterministic', async () => {
    const train = join(dir, 'train.npz');
    const test = join(dir, 'test.npz');
    writeData(train, 120, 20, 3, 1);
    const t = writeData(test, 60, 20, 3, 2);
    const out1 = join(dir, 'trained1.onnx');
    const args = ['model', 'train', '--model', 'm1', '--data', train, '--test', test, '--epochs', '3', '--batch-size', '16', '--optimizer', 'sgd', '--momentum', '0.9', '--lr', '0.05', '--schedule', 'cosine', '--seed', '5'];
    const r = await cli([...W(), '--json', ...args, '--out', out1, '--save-as', 'm1-trained']);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.out);
    expect(res.provider).toBe('cpu');
    expect(res.threads).toBe(1);
    expect(res.steps).toBe(3 * Math.ceil(120 / 16));
    expect(res.epochLosses[2]).toBeLessThan(res.epochLosses[0]);
    expect(res.testAccuracy).toBeGreaterThan(0.9);
    expect(r.err).toMatch(/epoch 3 done: mean loss/);

    const show = await cli([...W(), '--json', 'model', 'show', 'm1-trained']);
    const rec = JSON.parse(show.out);
    expect(rec.source).toBe('trained');
    expect(rec.training).toMatchObject({ epochs: 3, batchSize: 16, seed: 5, provider: 'cpu', threads: 1, schedule: { kind: 'cosine', tMax: 3 } });
    expect(rec.sha256).toBe(res.out.sha256);

    const loaded = await loadModelFile(out1);
    const ev = await evaluateModel(loaded.model, makeDataset(t.x, [60, 20], t.y));
    expect(ev.accuracy).toBeCloseTo(res.testAccuracy, 12);

    // a standalone ONNX file: ONNX's own checker (Debian python3-onnx) accepts it, with full shape inference
    if (existsSync('/usr/bin/python3') && spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { encoding: 'utf8' }).status === 0) {
      const chk = spawnSync('/usr/bin/python3', ['-c', 'import onnx,sys; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print(len(m.graph.input))', out1], { encoding: 'utf8' });
      expect(chk.stderr).toBe('');
      expect(chk.stdout.trim()).toBe('1');
    }

    // same command again: byte-identical model file
    const out2 = join(dir, 'trained2.onnx');
    const r2 = await cli([...W(), '--json', ...args, '--out', out2]);
    expect(r2.code).toBe(0);
    expect(JSON.parse(r2.out).out.sha256).toBe(res.out.sha256);

    // bad data: clear reasons
    const badNpz = join(dir, 'bad.npz');
    writeFileSync(badNpz, writeNpz({ x: { dtype: 'float32', shape: [2, 20], data: new Float32Array(40) } }));
    const rb = await cli([...W(), 'model', 'train', '--model', out1, '--data', badNpz, '--out', join(dir, 'z.onnx')]);
    expect(rb.code).toBe(2);
    expect(rb.err).toMatch(/must hold arrays 'x' .* and 'y'/);
    const labels = join(dir, 'labels.npz');
    writeFileSync(labels, writeNpz({ x: { dtype: 'float32', shape: [2, 20], data: new Float32Array(40) }, y: { dtype: 'int64', shape: [2], data: BigInt64Array.from([0n, 7n]) } }));
    const rl = await cli([...W(), 'model', 'train', '--model', out1, '--data', labels, '--out', join(dir, 'z.onnx')]);
    expect(rl.code).not.toBe(0);
    expect(rl.err).toMatch(/label 1 is 7; labels must be integers in \[0, 3\)/);
  });
});
