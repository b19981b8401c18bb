// Bad Teacher on a small MLP with class 0 forgotten: the student's outputs on the forget set move
// toward the incompetent (random) teacher's, while on retain data they stay with the original.

import { describe, expect, it } from 'vitest';
import { runMethod } from '../../../main/engine/unlearn/run';
import { getMethod } from '../../../main/engine/unlearn/registry';
import { randomTeacher } from '../../../main/engine/unlearn/methods/bad-teacher';
import { meanKl, smallWorkbench } from './helpers';

describe('bad-teacher', () => {
  it("moves forget predictions toward the random teacher's and keeps retain accuracy", async () => {
    const w = await smallWorkbench();
    const C = w.numClasses;
    const bad = randomTeacher(w.original, w.input.trainable, w.input.seed);
    const badF = await w.evaluate(bad, w.forget);
    const origF = await w.evaluate(w.original, w.forget);
    // the random teacher is a different, untrained model
    expect(badF.accuracy).toBeLessThan(0.6);
    // small data: more epochs and a larger lr than the 1-epoch, lr 1e-4 default (for thousands of rows)
    const out = await runMethod({ ...w.input, methodId: 'bad-teacher', params: { epochs: 20, lr: 3e-3, batchSize: 32 } });
    const newF = await w.evaluate(out.model, w.forget);
    const klBefore = meanKl(badF.logits, origF.logits, w.forget.n, C);
    const klAfter = meanKl(badF.logits, newF.logits, w.forget.n, C);
    expect(klAfter).toBeLessThan(klBefore / 4);
    expect(newF.accuracy * 100).toBeLessThan(origF.accuracy * 100 - 40);
    const r0 = await w.accuracy(w.original, w.retainSlice);
    const r1 = await w.accuracy(out.model, w.retainSlice);
    expect(r1).toBeGreaterThan(r0 - 5);
    expect(out.stats.retainSample).toBe(Math.round(w.retain.n * 0.3));
  });

  it('re-initialises from the run seed: same seed same teacher, other seed other teacher', () => {
    const w0 = randomTeacher;
    return smallWorkbench().then((w) => {
      const a = w0(w.original, w.input.trainable, 3);
      const b = w0(w.original, w.input.trainable, 3);
      const c = w0(w.original, w.input.trainable, 4);
      const get = (m: typeof a) => m.graph.initializers.find((t) => t.name === w.input.trainable[0])!.data as Float32Array;
      expect(Buffer.from(get(a).buffer).equals(Buffer.from(get(b).buffer))).toBe(true);
      expect(Buffer.from(get(a).buffer).equals(Buffer.from(get(c).buffer))).toBe(false);
    });
  });

  it('declares its literature defaults', () => {
    expect(getMethod('bad-teacher').params.parse({})).toEqual({ retainFraction: 0.3, temperature: 1, epochs: 1, lr: 1e-4, batchSize: 256 });
  });
});
