// Job kind 'model.train' run in-process with a JobContext double: progress, validation, cancellation
// mid-run with a checkpoint, and a resumed run that ends byte-identical to an uninterrupted one.

import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelTrain, type ModelTrainParams } from '../../../main/backend/jobs/kinds/model-train';
import type { JobContext } from '../../../main/backend/jobs/types';
import { openWorkspace } from '../../../main/backend/workspace';
import { createModel } from '../../../main/backend/services/models';
import { writeNpz } from '../../../main/engine/io/npz';
import { Rng } from '../../../main/engine/train/rng';

let dir = '';
let root = '';

function ctxDouble(signal: AbortSignal, checkpoint: unknown = null) {
  const progress: { step: number; loss?: number | null; etaSeconds?: number | null; testAccuracy?: number | null; message?: string }[] = [];
  const saved: unknown[] = [];
  const logs: string[] = [];
  const ctx: JobContext = {
    jobId: 'job-1',
    workspaceRoot: root,
    signal,
    progress: (p) => void progress.push(p),
    log: (_l, m) => void logs.push(m),
    checkpoint,
    saveCheckpoint: async (s) => void saved.push(s),
    settings: { executionProvider: 'cpu', intraOpThreads: 1 },
    dependencies: [],
  };
  return { ctx, progress, saved, logs };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lethe-train-job-'));
  root = join(dir, 'ws');
  const ws = await openWorkspace(root);
  await createModel(ws, { name: 'base', arch: 'mlp', inputShape: [10], classes: 3, options: { hidden: [12], dropout: 0.2 }, seed: 1 });
  await ws.close();
  const rng = new Rng(3);
  const n = 64;
  const y = BigInt64Array.from({ length: n }, () => BigInt(rng.nextInt(3)));
  const x = Float32Array.from({ length: n * 10 }, (_, i) => rng.nextNormal() + ((i % 10) % 3 === Number(y[Math.floor(i / 10)]) ? 1 : 0));
  writeFileSync(join(dir, 'train.npz'), writeNpz({ x: { dtype: 'float32', shape: [n, 10], data: x }, y: { dtype: 'int64', shape: [n], data: y } }));
  writeFileSync(join(dir, 'test.npz'), writeNpz({ x: { dtype: 'float32', shape: [16, 10], data: x.slice(0, 160) }, y: { dtype: 'int64', shape: [16], data: y.slice(0, 16) } }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("job kind 'model.train'", () => {
  it('validates parameters with a plain reason', () => {
    expect(() => modelTrain.validate({})).toThrow(/model.train: 'model'/);
    expect(() => modelTrain.validate({ model: 'base', data: 'x.npz', epochs: 1, batchSize: 8, lr: 0.1, seed: 0, optimizer: { kind: 'sgd' } })).toThrow(/needs out .* or saveas/i);
    expect(() => modelTrain.validate({ model: 'base', data: 'x.npz', epochs: 0, batchSize: 8, lr: 0.1, seed: 0, optimizer: { kind: 'sgd' }, out: 'a.onnx' })).toThrow(/'epochs'/);
    expect(modelTrain.resumable).toBe(true);
  });

  it('reports progress, checkpoints, and a cancelled-then-resumed run equals an uninterrupted one', async () => {
    const base = {
      model: 'base',
      data: join(dir, 'train.npz'),
      epochs: 3,
      batchSize: 8,
      lr: 0.01,
      seed: 9,
      optimizer: { kind: 'adam' },
      checkpointEvery: 5,
    };
    const full = modelTrain.validate({ ...base, out: join(dir, 'full.onnx') }) as ModelTrainParams;
    const a = ctxDouble(new AbortController().signal);
    const ra = await modelTrain.run(full, a.ctx);
    expect(ra.steps).toBe(24);
    expect(ra.provider).toBe('cpu');
    expect(a.progress.at(-1)!.step).toBe(24);
    expect(a.progress.some((p) => typeof p.loss === 'number')).toBe(true);
    expect(a.saved.length).toBeGreaterThan(3);

    const ac = new AbortController();
    const b = ctxDouble(ac.signal);
    const origSave = b.ctx.saveCheckpoint;
    b.ctx.saveCheckpoint = async (s) => {
      await origSave(s);
      if ((s as { globalStep: number }).globalStep === 10) ac.abort(); // cancel right after the step-10 checkpoint
    };
    const part = modelTrain.validate({ ...base, out: join(dir, 'resumed.onnx') }) as ModelTrainParams;
    await expect(modelTrain.run(part, b.ctx)).rejects.toMatchObject({ name: 'AbortError' });
    const last = b.saved.at(-1) as { globalStep: number; file: string };
    expect(last.globalStep).toBe(10);
    const ckFile = join(root, last.file);
    const good = readFileSync(ckFile);
    writeFileSync(ckFile, Buffer.concat([good.subarray(0, good.length - 1), Buffer.from([good[good.length - 1] ^ 1])]));
    await expect(modelTrain.run(part, ctxDouble(new AbortController().signal, last).ctx)).rejects.toThrow(/was modified or corrupted; it cannot be resumed/);
    writeFileSync(ckFile, good);

    const c = ctxDouble(new AbortController().signal, last);
    const rc = await modelTrain.run(part, c.ctx);
    expect(rc.resumedFromStep).toBe(10);
    expect(rc.steps).toBe(24);
    expect(c.logs.join('\n')).toMatch(/Resuming from the checkpoint at step 10/);
    expect(readFileSync(join(dir, 'resumed.onnx')).equals(readFileSync(join(dir, 'full.onnx')))).toBe(true);
    expect(rc.epochLosses).toEqual(ra.epochLosses);
    expect(existsSync(ckFile)).toBe(false); // removed once the job succeeded
  });

  it('measures the test accuracy after every epoch: in the log, in progress events (for the live curves) and in the saved model (issue 9, point 11)', async () => {
    const params = modelTrain.validate({ model: 'base', data: join(dir, 'train.npz'), test: join(dir, 'test.npz'), epochs: 3, batchSize: 8, lr: 0.05, seed: 2, optimizer: { kind: 'sgd' }, saveAs: 'base-acc' }) as ModelTrainParams;
    const a = ctxDouble(new AbortController().signal);
    const r = await modelTrain.run(params, a.ctx);
    const epochLines = a.logs.filter((l) => /^Epoch \d/.test(l));
    expect(epochLines).toHaveLength(3);
    for (const l of epochLines) expect(l).toMatch(/^Epoch \d: mean loss [\d.]+, test accuracy \d+\.\d\d% \([\d.]+ s\)\.$/);
    const acc = a.progress.filter((p) => typeof p.testAccuracy === 'number');
    expect(acc).toHaveLength(3);
    expect(acc.map((p) => p.step)).toEqual([8, 16, 24]);
    const ws = await openWorkspace(root);
    try {
      const { listModelSummaries } = await import('../../../main/backend/services/models-api');
      const rec = await ws.getRecord<{ training: { epochTestAccuracies: number[]; testAccuracy: number } }>('models', 'base-acc');
      const t = rec!.data.training;
      expect(t.epochTestAccuracies.map((x) => x * 100)).toEqual(acc.map((p) => p.testAccuracy));
      // the final accuracy is the last epoch's measurement (same weights), not a second evaluation
      expect(t.testAccuracy).toBe(t.epochTestAccuracies[2]);
      expect(r.testAccuracy).toBe(t.testAccuracy);
      const list = await listModelSummaries(ws);
      expect(list.find((m) => m.id === 'base-acc')).toMatchObject({ trained: true, testAccuracy: t.testAccuracy, dataset: null });
      expect(list.find((m) => m.id === 'base')).toMatchObject({ trained: false, testAccuracy: null, dataset: null });
    } finally {
      await ws.close();
    }
  });
});
