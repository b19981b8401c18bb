// Real-data acceptance: the reference small CNN trained by Lethe on Fashion-MNIST (official 60k/10k
// split, Debian's dataset-fashion-mnist) reaches > 88% test accuracy, and the exported inference ONNX,
// loaded fresh from disk into a new session, gives the same predictions.

import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSmallCnn } from '../../../main/engine/models';
import { Trainer, evaluateModel, makeDataset } from '../../../main/engine/train';
import { saveModel } from '../../../main/engine/onnx/save';
import { loadModelFile } from '../../../main/engine/onnx/load';
import { FMNIST_DIR, fashionMnistAvailable, loadFashionMnist } from './idx';
import { referenceGate } from '../../parity/helpers';

const skip = referenceGate('Fashion-MNIST small CNN (acceptance)', {
  ok: fashionMnistAvailable(),
  why: `the Debian dataset-fashion-mnist files are not in ${FMNIST_DIR}`,
});

describe.skipIf(skip)('Fashion-MNIST small CNN (acceptance)', () => {
  it('reaches > 88% test accuracy and the exported ONNX predicts identically when loaded fresh', async () => {
    const tr = loadFashionMnist('train');
    const te = loadFashionMnist('t10k');
    expect(tr.n).toBe(60000);
    expect(te.n).toBe(10000);
    const train = makeDataset(tr.x, [tr.n, 1, 28, 28], tr.y);
    const test = makeDataset(te.x, [te.n, 1, 28, 28], te.y);
    const epochs = 2;
    const trainer = await Trainer.create({
      model: buildSmallCnn({ seed: 0 }),
      optimizer: { kind: 'adam' },
      lr: 2e-3,
      schedule: { kind: 'cosine', tMax: epochs * Math.ceil(60000 / 128) },
      scheduleUnit: 'step',
      batchSize: 128,
      seed: 0,
      threads: 2,
    });
    const epochLog: string[] = [];
    const res = await trainer.fit(train, {
      epochs,
      onEpoch: (e) => {
        epochLog.push(`epoch ${e.epoch}: loss ${e.meanLoss.toFixed(4)} in ${e.seconds.toFixed(1)} s`);
        console.log(`[fashion-mnist] ${epochLog[epochLog.length - 1]}`);
      },
    });
    const ev = await trainer.evaluate(test);
    console.log(
      `[fashion-mnist] ${epochLog.join('; ')}; median step ${res.medianStepMs.toFixed(1)} ms (batch 128, ${res.threads} threads, ${res.provider}); ` +
        `${((res.globalStep * 128) / res.seconds).toFixed(0)} samples/s; test accuracy ${(ev.accuracy * 100).toFixed(2)}%`,
    );
    expect(res.provider).toBe('cpu');
    expect(res.threads).toBe(2);
    expect(ev.accuracy).toBeGreaterThan(0.88);

    const dir = mkdtempSync(join(tmpdir(), 'lethe-fmnist-'));
    try {
      const file = join(dir, 'cnn-fmnist.onnx');
      const saved = await saveModel(trainer.inferenceModel(), file);
      const loaded = await loadModelFile(file);
      expect(loaded.sha256).toBe(saved.sha256);
      // no training inputs left: only the image input
      expect(loaded.model.graph.inputs.map((v) => v.name)).toEqual(['input']);
      const fresh = await evaluateModel(loaded.model, test, { batchSize: 1000, threads: res.threads });
      expect(fresh.accuracy).toBe(ev.accuracy);
      expect(Array.from(fresh.pred)).toEqual(Array.from(ev.pred));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await trainer.dispose();
    }
  }, 900_000);
});
