// The worst-case scorer runs through the evaluation graph (the engine's one inference path), and its
// scores are the quantities of engine/eval/quantities.ts computed from evaluateModel's logits; the two
// margins (maxMargin for scoring, logitMargin for KLoM / LiRA) are distinct and named.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDataset } from '../../../main/engine/data/import';
import { OnnxExampleScorer, SCORE_DEFINITIONS, SCORE_METRICS, SCORE_QUANTITY, scoresFromLogits } from '../../../main/engine/data/scorer';
import type { DatasetReader } from '../../../main/engine/data/store';
import { crossEntropyLoss, logitMargin, maxMargin, perExample } from '../../../main/engine/eval/quantities';
import { logitScaledConfidence } from '../../../main/engine/eval/util';
import { GraphBuilder } from '../../../main/engine/onnx/builder';
import { encodeModel, makeModel } from '../../../main/engine/onnx/codec';
import { EVAL_IO } from '../../../main/engine/train/eval-graph';
import { evaluateModel } from '../../../main/engine/train/evaluator';
import { openReader } from '../../../main/backend/services/datasets';
import { tempWorkspace } from './helpers';

const N = 90;
const feat = (i: number) => [(i % 7) / 3, ((i * 5) % 11) / 4, ((i * 3) % 13) / 6 - 1];
const label = (i: number) => (i * 7) % 3;

function mlp() {
  const g = new GraphBuilder();
  const x = g.input('input', 'float32', ['N', 3]);
  const h = g.op('Relu', [g.op('Add', [g.op('MatMul', [x, g.constF([0.9, -0.4, 0.3, 0.2, -0.7, 0.5, 0.6, 0.1, -0.3, -0.2, 0.8, 0.4], [3, 4])]), g.constF([0.1, 0, -0.1, 0.2], [4])])]);
  const z = g.op('Add', [g.op('MatMul', [h, g.constF([1.2, -0.5, 0.3, -0.8, 0.9, 0.4, 0.2, 0.6, -1.1, 0.7, -0.3, 0.5], [4, 3])]), g.constF([0.05, -0.1, 0.02], [3])]);
  g.addNode('Identity', [z], ['logits']);
  g.output('logits', 'float32', ['N', 3]);
  return makeModel(g.toGraph('mlp'));
}

describe('worst-case scorer on the evaluation graph', () => {
  let w: Awaited<ReturnType<typeof tempWorkspace>>;
  let reader: DatasetReader;

  beforeAll(async () => {
    w = await tempWorkspace();
    const lines = ['id,f1,f2,f3,label'];
    for (let i = 0; i < N; i++) lines.push(`ex-${i},${feat(i).join(',')},c${label(i)}`);
    const file = join(w.dir, 'tiny.csv');
    writeFileSync(file, lines.join('\n'));
    const rec = await importDataset(w.ws, { format: 'csv', source: file, name: 'tiny', options: { idColumn: 'id', featureColumns: ['f1', 'f2', 'f3'] } });
    reader = await openReader(w.ws, rec);
  });
  afterAll(async () => w.cleanup());

  it("scores equal the quantities computed from evaluateModel's logits on the same rows", async () => {
    const model = mlp();
    const indices = Array.from({ length: reader.count }, (_, i) => i).filter((i) => i % 4 !== 1);
    const labels = indices.map((i) => reader.labels[i]);
    // evaluateModel on the same rows, same preprocessing
    const { data, dims } = await reader.readBatchFloat32(indices);
    const ev = await evaluateModel(model, { x: data, exampleShape: dims.slice(1), y: Int32Array.from(labels), n: indices.length }, { batchSize: 64 });
    // the scorer from the model's bytes and from the IR (small batches: several runs through the graph)
    const path = join(w.dir, 'mlp.onnx');
    writeFileSync(path, encodeModel(model));
    for (const src of [path, model]) {
      const scorer = await OnnxExampleScorer.create(src, { test: true }, { batchSize: 16, intraOpThreads: 1 });
      try {
        const { logits, k } = await scorer.logits(reader, indices);
        expect(k).toBe(3);
        expect(Array.from(logits)).toEqual(Array.from(ev.logits));
        for (const metric of SCORE_METRICS) {
          const got = await scorer.score({ reader, indices, metric });
          expect(Array.from(got)).toEqual(Array.from(scoresFromLogits(ev.logits, ev.numClasses, labels, metric)));
        }
        const loss = await scorer.score({ reader, indices, metric: 'loss' });
        const margin = await scorer.score({ reader, indices, metric: 'margin' });
        expect(Array.from(loss)).toEqual(Array.from(perExample('crossEntropyLoss', ev.logits, 3, labels)));
        expect(Array.from(margin)).toEqual(Array.from(perExample('maxMargin', ev.logits, 3, labels)));
        // the graph's own per-example outputs are the same quantities (float32 in ONNX vs float64 here)
        labels.forEach((y, i) => {
          expect(ev.losses[i]).toBeCloseTo(crossEntropyLoss(ev.logits, 3, i, y), 5);
          expect(ev.logitMargins[i]).toBeCloseTo(logitMargin(ev.logits, 3, i, y), 5);
        });
      } finally {
        await scorer.release();
      }
    }
    expect(SCORE_QUANTITY.margin).toBe('maxMargin');
    expect(SCORE_DEFINITIONS.margin).toMatch(/^max margin: z_y − max of the other logits/);
    expect(EVAL_IO.logitMargins).toBe('lethe_logit_margins');
  });

  it('the two margins differ as documented: logitMargin ≤ maxMargin, by log(C−1) when the other logits tie', () => {
    // one example, 3 classes, label 0: z = [2, 1, 1]
    const tie = [2, 1, 1];
    expect(maxMargin(tie, 3, 0, 0)).toBe(1); // 2 − max(1, 1)
    expect(logitMargin(tie, 3, 0, 0)).toBeCloseTo(1 - Math.log(2), 12); // 2 − log(e + e)
    expect(maxMargin(tie, 3, 0, 0) - logitMargin(tie, 3, 0, 0)).toBeCloseTo(Math.log(2), 12);
    // a dominant runner-up: the two nearly agree; a misclassified example: both negative
    const z = [3, 0, -20, /* row 1 */ 0.5, 2.5, 2.0];
    expect(maxMargin(z, 3, 0, 0)).toBe(3);
    expect(logitMargin(z, 3, 0, 0)).toBeCloseTo(3 - Math.log1p(Math.exp(-20)), 12);
    expect(maxMargin(z, 3, 1, 0)).toBe(-2);
    const lm = logitMargin(z, 3, 1, 0);
    expect(lm).toBeCloseTo(0.5 - Math.log(Math.exp(2.5) + Math.exp(2.0)), 12);
    expect(lm).toBeLessThan(maxMargin(z, 3, 1, 0));
    // a single other class: the two are the same number
    expect(maxMargin([1, 4], 2, 0, 0)).toBe(logitMargin([1, 4], 2, 0, 0));
    // LiRA's logit-scaled confidence φ is the logit margin, and cross-entropy is logsumexp − z_y
    expect(logitScaledConfidence(z, 3, 1, 0)).toBe(lm);
    expect(crossEntropyLoss(tie, 3, 0, 0)).toBeCloseTo(Math.log(Math.exp(2) + 2 * Math.exp(1)) - 2, 12);
  });
});
