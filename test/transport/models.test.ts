// models.* through the real backend over the web transport (real HTTP server, real job runner with
// worker processes): create, export, import (good and bad files), list, details with per-initializer
// reasons, dataset-backed training as a 'model.train' job, and the delete guard.

import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpzFile, writeNpz } from '../../main/engine/io/npz';
import { ApiError } from '../../preload/api/common';
import type { JobInfo, LetheApi } from '../../preload/api/index';
import { tempDir, webRig, type Rig } from './harness';

let rig: Rig;
let api: LetheApi;
let files: string;

beforeAll(async () => {
  rig = await webRig();
  api = rig.api;
  files = await tempDir('lethe-models-files-');
}, 30_000);
afterAll(async () => {
  await rig?.close();
});

async function rejects(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e, 'expected the call to fail').toBeInstanceOf(ApiError);
  expect((e as ApiError).code).toBe(code);
  expect((e as ApiError).message).toMatch(message);
}

async function waitJob(job: JobInfo, ms = 60_000): Promise<JobInfo> {
  const end = Date.now() + ms;
  for (;;) {
    const j = await api.call('jobs.get', { id: job.id });
    if (['succeeded', 'failed', 'cancelled', 'interrupted'].includes(j.state)) return j;
    if (Date.now() > end) throw new Error(`job ${job.kind} still ${j.state} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('models over the web transport', () => {
  it('lists the built-in architectures with defaults and a recipe', async () => {
    const archs = await api.call('models.architectures', {});
    expect(archs.map((a) => a.name)).toEqual(['mlp', 'cnn', 'resnet18', 'vit']);
    const cnn = archs.find((a) => a.name === 'cnn')!;
    expect(cnn.defaults).toMatchObject({ inputShape: [1, 28, 28], classes: 10 });
    expect(cnn.recipe).toMatchObject({ optimizer: 'sgd', epochs: expect.any(Number), lr: expect.any(Number) });
    expect(cnn.description.length).toBeGreaterThan(20);
  });

  it('creates a CNN and shows trainable and frozen initializers with reasons', async () => {
    const d = await api.call('models.create', { arch: 'cnn', name: 'cnn-a', classes: 10, inputShape: [1, 28, 28], seed: 3 });
    expect(d).toMatchObject({ id: 'cnn-a', source: 'builtin', arch: 'cnn', classes: 10, inputShape: [1, 28, 28] });
    expect(d.provenance).toEqual({ kind: 'created', importedFrom: null, trainedFrom: null });
    expect(d.trainable.map((t) => t.name)).toEqual(['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    // 32*1*9+32 + 64*32*9+64 + 128*3136+128 + 10*128+10
    expect(d.parameterCount).toBe(421_642);
    expect(d.trainable.reduce((a, t) => a + t.elements, 0)).toBe(d.parameterCount);
    for (const t of d.trainable) expect(t.reason.length).toBeGreaterThan(3);
    expect(d.trainable[0].dims).toEqual([32, 1, 3, 3]);
    expect(d.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(d.archOptions).toMatchObject({ seed: 3 });
  });

  it('refuses bad create requests with plain messages', async () => {
    await rejects(api.call('models.create', { arch: 'cnn', name: 'cnn-a' }), 'conflict', /already exists/);
    await rejects(api.call('models.create', { arch: 'cnn', name: 'odd', inputShape: [1, 27, 27] }), 'invalid_argument', /divisible/);
    await rejects(api.call('models.create', { arch: 'lenet' as 'cnn', name: 'x' }), 'invalid_argument', /'arch' must be one of/);
    await rejects(api.call('models.create', { arch: 'mlp', name: '../evil' }), 'invalid_argument', /'name'/);
    await rejects(api.call('models.get', { id: 'nope' }), 'not_found', /no model named 'nope'/);
  });

  it('exports, re-imports with the same hash, and rejects files that are not models', async () => {
    const out = path.join(files, 'cnn-a.onnx');
    const ex = await api.call('models.export', { id: 'cnn-a', path: out });
    const a = await api.call('models.get', { id: 'cnn-a' });
    expect(ex.sha256).toBe(a.sha256);
    const imp = await api.call('models.import', { path: out, name: 'cnn-copy', frozen: ['fc2.bias'] });
    expect(imp).toMatchObject({ source: 'imported', sha256: a.sha256, arch: null });
    expect(imp.provenance).toMatchObject({ kind: 'imported', importedFrom: 'cnn-a.onnx' });
    expect(imp.frozen.find((f) => f.name === 'fc2.bias')?.reason).toMatch(/override: frozen/);
    expect(imp.parameterCount).toBe(a.parameterCount - 10);

    const junk = path.join(files, 'junk.onnx');
    await writeFile(junk, Buffer.from('this is not a protobuf at all, just text'));
    await rejects(api.call('models.import', { path: junk }), 'invalid_argument', /junk\.onnx is not a usable ONNX model/);
    await rejects(api.call('models.import', { path: path.join(files, 'missing.onnx') }), 'invalid_argument', /There is no file/);
    await rejects(api.call('models.import', { path: 'relative.onnx' }), 'invalid_argument', /must be absolute/);
    await rejects(api.call('models.import', { path: files }), 'invalid_argument', /is a folder/);
    await rejects(api.call('models.export', { id: 'cnn-a', path: path.join(files, 'no-such-dir', 'x.onnx') }), 'invalid_argument', /does not exist/);

    const list = await api.call('models.list', {});
    expect(list.map((m) => m.name)).toEqual(['cnn-a', 'cnn-copy']);
    expect(list[0]).toMatchObject({ parameterCount: 421_642, classes: 10, createdAt: expect.any(String) });
  });

  it('export never replaces an existing file without overwrite: true, and refuses special files (HTTP 409/400, no stack)', async () => {
    const out = path.join(files, 'kept.onnx');
    await writeFile(out, 'precious');
    await rejects(api.call('models.export', { id: 'cnn-a', path: out }), 'conflict', /kept\.onnx already exists; confirm replacing it \(overwrite: true\) or give another file name\.$/);
    expect(await readFile(out, 'utf8')).toBe('precious');
    const ex = await api.call('models.export', { id: 'cnn-a', path: out, overwrite: true });
    expect((await readFile(out)).length).toBe(ex.sizeBytes);
    const fifo = path.join(files, 'pipe.onnx');
    execFileSync('mkfifo', [fifo]);
    for (const p of ['/dev/null', '/proc/self/status', fifo, files]) {
      await rejects(api.call('models.export', { id: 'cnn-a', path: p, overwrite: true }), 'invalid_argument', /not a regular file|kernel file system/);
    }
    await rejects(api.call('models.export', { id: 'cnn-a', path: out, overwrite: 'yes' as unknown as boolean }), 'invalid_argument', /overwrite/);
    // over raw HTTP: a status, one JSON error, no stack trace
    const res = await fetch(`${rig.server!.origin}/api/call/models.export`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Lethe-Client': '1', 'X-Lethe-Token': rig.server!.token },
      body: JSON.stringify({ id: 'cnn-a', path: '/dev/null', overwrite: true }),
    });
    expect(res.status).toBe(400);
    const body = await res.text();
    expect(body).not.toMatch(/\bat .*\.ts:\d+/);
    expect(JSON.parse(body)).toEqual({ ok: false, error: { code: 'invalid_argument', message: expect.stringMatching(/^\/dev\/null is (a device, not a regular file|in a kernel file system)/) } });
  });

  it('trains a model on a workspace dataset as a model.train job and records the provenance', async () => {
    // a small tabular dataset: 3 separable classes of 6 features, 150 train / 30 test rows
    const n = 180;
    const x = new Float32Array(n * 6);
    const y = new Uint8Array(n);
    const split = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 3;
      split[i] = i >= 150 ? 1 : 0;
      for (let f = 0; f < 6; f++) x[i * 6 + f] = (f === y[i] * 2 ? 2 : 0) + Math.sin(i * 7.3 + f) * 0.3;
    }
    const npz = path.join(files, 'tab.npz');
    await writeFile(npz, writeNpz({ x: { dtype: 'float32', shape: [n, 6], data: x }, y: { dtype: 'uint8', shape: [n], data: y }, split: { dtype: 'uint8', shape: [n], data: split } }));
    const imp = await waitJob(await api.call('datasets.import', { format: 'npz', source: npz, name: 'tab', options: { splitKey: 'split' } }));
    expect(imp.state, imp.reason ?? '').toBe('succeeded');

    await api.call('models.create', { arch: 'mlp', name: 'mlp-tab', classes: 3, inputShape: [6], options: { hidden: [16] } });
    await rejects(api.call('models.train', { modelId: 'cnn-a', datasetId: 'tab' }), 'invalid_argument', /expects inputs of shape \[1, 28, 28\].*6 features/);
    await rejects(api.call('models.train', { modelId: 'mlp-tab' }), 'invalid_argument', /exactly one of datasetId/);
    await rejects(api.call('models.train', { modelId: 'mlp-tab', datasetId: 'tab', optimizer: 'adam', momentum: 0.9 }), 'invalid_argument', /momentum and nesterov apply to SGD/);

    const job = await api.call('models.train', { modelId: 'mlp-tab', datasetId: 'tab', epochs: 3, batchSize: 16, lr: 0.1, seed: 1 });
    expect(job.kind).toBe('model.train');
    expect(job.title).toMatch(/Train 'mlp-tab' on 'tab' \(150 examples\) as 'mlp-tab-trained'/);
    const done = await waitJob(job);
    expect(done.state, done.reason ?? '').toBe('succeeded');

    const base = await api.call('models.get', { id: 'mlp-tab' });
    const t = await api.call('models.get', { id: 'mlp-tab-trained' });
    expect(t.source).toBe('trained');
    expect(t.provenance).toMatchObject({ kind: 'trained', trainedFrom: { name: 'mlp-tab', sha256: base.sha256 } });
    expect(t.training).toMatchObject({ epochs: 3, batchSize: 16, lr: 0.1, seed: 1, data: { n: 150 } });
    expect(t.training!.epochLosses).toHaveLength(3);
    expect(t.training!.epochLosses[2]).toBeLessThan(t.training!.epochLosses[0]);
    expect(t.training!.testAccuracy).toBeGreaterThan(0.8);
    expect(t.training!.data.file).toMatch(/^tab-[0-9a-f]{12}-train\.npz$/);
    const tabRec = await api.call('datasets.get', { id: 'tab' });
    expect(t.training!.data.dataset).toMatchObject({ name: 'tab', manifestSha256: tabRec.manifestSha256 });
    // the NPZ handed to the trainer holds exactly the dataset's train rows (streamed ZIP writer)
    const written = await readNpzFile(path.join(rig.root, 'cache', 'training-data', t.training!.data.file!));
    expect(written.x.shape).toEqual([150, 6]);
    expect(written.y.dtype).toBe('int64');
    expect(Array.from(written.x.data as Float32Array)).toEqual(Array.from(x.subarray(0, 150 * 6)));
    expect(Array.from(written.y.data as BigInt64Array, Number)).toEqual(Array.from(y.subarray(0, 150)));

    // a seeded subset, and a second run gets a fresh name
    const sub = await api.call('models.train', { modelId: 'mlp-tab', datasetId: 'tab', epochs: 1, maxTrainExamples: 30 });
    expect(sub.title).toMatch(/\(30 examples\) as 'mlp-tab-trained-2'/);
    expect((await waitJob(sub)).state).toBe('succeeded');
    expect((await api.call('models.get', { id: 'mlp-tab-trained-2' })).training!.data.n).toBe(30);

    // the NPZ form: x float32 [N, 6], y int64 [N] files on this machine
    const trainNpz = path.join(files, 'train-part.npz');
    const labels = BigInt64Array.from(y.subarray(0, 60), (v) => BigInt(v));
    await writeFile(trainNpz, writeNpz({ x: { dtype: 'float32', shape: [60, 6], data: x.slice(0, 360) }, y: { dtype: 'int64', shape: [60], data: labels } }));
    await rejects(api.call('models.train', { modelId: 'mlp-tab', dataPath: 'train-part.npz' }), 'invalid_argument', /must be absolute/);
    const npzJob = await api.call('models.train', { modelId: 'mlp-tab', dataPath: trainNpz, epochs: 1, saveAs: 'mlp-npz', optimizer: 'adam', lr: 0.01 });
    expect(npzJob.title).toBe("Train 'mlp-tab' on train-part.npz as 'mlp-npz'");
    expect((await waitJob(npzJob)).state).toBe('succeeded');
    const fromNpz = await api.call('models.get', { id: 'mlp-npz' });
    expect(fromNpz.training).toMatchObject({ data: { n: 60, file: 'train-part.npz' }, optimizer: { kind: 'adam' }, testAccuracy: null });
    await rejects(api.call('models.train', { modelId: 'mlp-tab', dataPath: trainNpz, saveAs: 'mlp-npz' }), 'conflict', /already exists/);
  }, 90_000);

  it('refuses to delete a model a run uses, and deletes one nobody uses', async () => {
    await rig.backend.workspace.putRecord('runs', 'run-1', { name: 'run-1', originalModel: 'mlp-tab' });
    await rejects(api.call('models.delete', { id: 'mlp-tab' }), 'conflict', /used by run 'run-1'/);
    expect(await api.call('models.delete', { id: 'cnn-copy' })).toEqual({ deleted: true });
    await rejects(api.call('models.get', { id: 'cnn-copy' }), 'not_found', /no model/);
  });
});
