// Boundary Shrink on a small MLP with class 0 forgotten: the test recomputes every forget example's
// FGSM neighbour class independently (one input-gradient step on the original, then its argmax, or
// the best wrong class when the step does not cross), and checks that the unlearned model predicts
// those neighbours on the forget set while the original did not.

import { describe, expect, it } from 'vitest';
import { runMethod } from '../../../main/engine/unlearn/run';
import { getMethod } from '../../../main/engine/unlearn/registry';
import { inputGradients } from '../../../main/engine/train/input-grad';
import { smallWorkbench } from './helpers';

describe('boundary-shrink', () => {
  it('moves forget predictions to the FGSM neighbour class', async () => {
    const w = await smallWorkbench();
    const C = w.numClasses;
    const f = w.forget;
    const y = BigInt64Array.from(Array.from(f.y as ArrayLike<number>, (v) => BigInt(v)));
    const g = await inputGradients(w.original, f.x, y, f.n, f.exampleShape);
    const bound = 0.1;
    const adv = Float32Array.from(f.x, (v, i) => v + bound * Math.sign(g.grad[i]));
    const a = await inputGradients(w.original, adv, y, f.n, f.exampleShape);
    const neighbour = new Int32Array(f.n);
    for (let i = 0; i < f.n; i++) {
      const yi = Number(f.y[i]);
      const z = Array.from(a.logits.subarray(i * C, (i + 1) * C));
      const order = z.map((v, k) => [v, k] as const).sort((p, q) => q[0] - p[0]);
      neighbour[i] = order[0][1] !== yi ? order[0][1] : order[1][1];
    }
    const agree = (pred: Int32Array) => pred.reduce((s, p, i) => s + (p === neighbour[i] ? 1 : 0), 0) / f.n;
    const before = await w.evaluate(w.original, f);
    expect(agree(before.pred)).toBeLessThan(0.05);
    // small data: lr 1e-2 instead of the public code's 1e-5 (tuned there for thousands of rows)
    const out = await runMethod({ ...w.input, methodId: 'boundary-shrink', params: { lr: 0.01, batchSize: 16 } });
    const after = await w.evaluate(out.model, f);
    expect(agree(after.pred)).toBeGreaterThan(0.9);
    expect(after.accuracy).toBeLessThan(0.1);
    expect(out.stats.forgetExamples).toBe(f.n);
    const r0 = await w.accuracy(w.original, w.retainSlice);
    expect(await w.accuracy(out.model, w.retainSlice)).toBeGreaterThan(r0 - 5);
  });

  it('declares the public code defaults', () => {
    expect(getMethod('boundary-shrink').params.parse({})).toEqual({ bound: 0.1, epochs: 10, lr: 1e-5, batchSize: 64, gu: false });
  });
});
