// SISA (Bourtoule et al. 2021): shards x slices, one model per shard, a deletion retrains only the
// shards holding forget examples from their last clean slice checkpoint. Checked on the small
// workbench: unaffected shards bit-identical, the retrained shard never fed a forget row and ends
// bit-identical to a SISA ensemble trained on D_r from the start, class forgetting reaches retrain's
// forget accuracy, and the one combined model outputs log of the mean shard probability.

import { describe, expect, it } from 'vitest';
import { methodContext, smallWorkbench, subset, logSoftmax } from './helpers';
import { runMethod } from '../../../main/engine/unlearn/run';
import { getMethod, listMethods } from '../../../main/engine/unlearn/registry';
import { parseMethodParams } from '../../../main/engine/unlearn/params';
import { runSisa, sisaAssignment, epochsPerSlice, type SisaParams } from '../../../main/engine/unlearn/methods/sisa';
import { combineMeanSoftmax } from '../../../main/engine/onnx/ensemble';
import { evaluateModel } from '../../../main/engine/train/evaluator';
import { type ArrayDataset, exampleSize } from '../../../main/engine/train/data';
import type { Workbench } from './helpers';

const P: SisaParams = { shards: 5, slices: 5 };

const context = (w: Workbench, forget: ArrayDataset, retain: ArrayDataset) => methodContext(w, { forget, retain });

const key = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
const rowKeys = (ds: ArrayDataset) => {
  const per = exampleSize(ds);
  return new Set(Array.from({ length: ds.n }, (_, i) => key(ds.x.subarray(i * per, (i + 1) * per))));
};
const same = (a: Record<string, Float32Array>, b: Record<string, Float32Array>) =>
  Object.keys(a).length === Object.keys(b).length && Object.keys(a).every((k) => b[k] && Buffer.from(a[k].buffer, a[k].byteOffset, a[k].byteLength).equals(Buffer.from(b[k].buffer, b[k].byteOffset, b[k].byteLength)));

describe('SISA', () => {
  it('is registered as an exact method with S = 5, R = 5 defaults and no GU switch', () => {
    const m = getMethod('sisa');
    expect(m.exact).toBe(true);
    expect(parseMethodParams('sisa', m.params, {})).toEqual({ shards: 5, slices: 5 });
    expect(listMethods().find((x) => x.id === 'sisa')!.params.map((p) => p.name)).toEqual(['shards', 'slices']);
    expect(() => parseMethodParams('sisa', m.params, { shards: 0 })).toThrow(/'shards'/);
    expect(epochsPerSlice(10, 5)).toBe(3); // 2e/(R+1) = 20/6
    expect(epochsPerSlice(10, 1)).toBe(10);
  });

  it('retrains only the affected shard from its last clean slice; unaffected shards stay bit-identical; the result equals SISA trained on D_r', async () => {
    const w = await smallWorkbench({ forget: { kind: 'random', fraction: 0.01 } });
    const seed = w.input.recipe.seed; // recipe seed + run seed 0
    const a = sisaAssignment(w.train, P, seed);
    // forget 4 examples of shard 2 lying in slices 3 and 4 (0-based 2 and 3)
    const pick: number[] = [];
    for (const s of [2, 3, 2, 3]) {
      const i = Array.from({ length: w.train.n }, (_, j) => j).find((j) => a.shard[j] === 2 && a.slice[j] === s && !pick.includes(j));
      pick.push(i!);
    }
    const forget = subset(w.train, pick);
    const retain = subset(
      w.train,
      Array.from({ length: w.train.n }, (_, j) => j).filter((j) => !pick.includes(j)),
    );
    const forgetKeys = rowKeys(forget);
    let forgetRowsTrained = 0;
    let forgetRowsUnlearn = 0;
    const unlearnBatches: [number, number][] = [];
    const per = exampleSize(w.train);
    const out = await runSisa(context(w, forget, retain), P, {
      onBatch(phase, shard, step, x, nb) {
        let f = 0;
        for (let t = 0; t < nb; t++) if (forgetKeys.has(key(x.subarray(t * per, (t + 1) * per)))) f++;
        if (phase === 'train') forgetRowsTrained += f;
        else {
          forgetRowsUnlearn += f;
          unlearnBatches.push([shard, step]);
        }
      },
    });
    expect(out.affected).toEqual([{ shard: 2, fromSlice: 2 }]);
    expect(out.stats.affectedShards).toBe(1);
    expect(out.stats.retrainedSlices).toBe(3);
    expect(out.stats.retrainedExamples).toBeGreaterThan(0);
    expect(out.stats.retrainedExamples).toBeLessThan(out.stats.trainedExamples / 4);
    // the ensemble on D did learn the forget rows (3 epochs per step, steps 3..5 for slice 3, 4..5 for slice 4)
    expect(forgetRowsTrained).toBe(3 * (2 * 3 + 2 * 2));
    // unlearning fed no forget row, and only shard 2's slice steps 3..5
    expect(forgetRowsUnlearn).toBe(0);
    expect(unlearnBatches.length).toBeGreaterThan(0);
    expect(new Set(unlearnBatches.map(([k]) => k))).toEqual(new Set([2]));
    expect(Math.min(...unlearnBatches.map(([, s]) => s))).toBe(2);
    for (let k = 0; k < P.shards; k++) {
      expect(out.before[k]).not.toBeNull();
      expect(same(out.before[k]!, out.after[k]!), `shard ${k}`).toBe(k !== 2);
    }
    // exact: SISA trained on D_r from the start gives the same ensemble, byte for byte
    const empty: ArrayDataset = { x: new Float32Array(0), y: new Int32Array(0), n: 0, exampleShape: [...w.train.exampleShape] };
    const ref = await runSisa(context(w, empty, retain), P);
    expect(ref.affected).toEqual([]);
    for (let k = 0; k < P.shards; k++) expect(same(out.after[k]!, ref.before[k]!), `shard ${k}`).toBe(true);

    // the one combined model: logits = log of the mean of the shard models' softmax
    const combined = combineMeanSoftmax(out.models.map((m) => m!));
    const ev = await evaluateModel(combined, w.test);
    const members = await Promise.all(out.models.map((m) => evaluateModel(m!, w.test)));
    const C = w.numClasses;
    let maxErr = 0;
    for (let i = 0; i < w.test.n; i++) {
      const mean = new Array(C).fill(0);
      for (const e of members) logSoftmax(e.logits.subarray(i * C, (i + 1) * C)).forEach((l, c) => (mean[c] += Math.exp(l) / members.length));
      for (let c = 0; c < C; c++) maxErr = Math.max(maxErr, Math.abs(Math.exp(ev.logits[i * C + c]) - mean[c]));
    }
    expect(maxErr).toBeLessThan(1e-6);
    expect(ev.accuracy).toBeGreaterThan(0.9);
  });

  it('class forgetting through runMethod: every shard retrains, forget accuracy falls to the retrain level, one ONNX model with per-shard weights', async () => {
    const w = await smallWorkbench({ forget: { kind: 'class', classes: [0] } });
    const retainAll = subset(w.train, Array.from({ length: w.train.n }, (_, j) => j).filter((j) => Number(w.train.y[j]) !== 0));
    const empty = subset(w.train, []);
    const inp = { ...w.input, retain: retainAll, retainSlice: empty };
    const r = await runMethod({ ...inp, methodId: 'sisa' });
    const rt = await runMethod({ ...inp, methodId: 'retrain' });
    const forgetAcc = await w.accuracy(r.model, w.forget);
    const retrainForgetAcc = await w.accuracy(rt.model, w.forget);
    expect(retrainForgetAcc).toBe(0);
    expect(forgetAcc).toBeLessThanOrEqual(retrainForgetAcc + 1);
    expect(await w.accuracy(w.original, w.forget)).toBeGreaterThan(90);
    const testKept = subset(w.test, Array.from({ length: w.test.n }, (_, j) => j).filter((j) => Number(w.test.y[j]) !== 0));
    expect(await w.accuracy(r.model, testKept)).toBeGreaterThan((await w.accuracy(rt.model, testKept)) - 5);
    expect(r.stats.affectedShards).toBe(5);
    expect(r.stats.retrainedSlices).toBe(25); // class 0 sits in every shard's first slice
    expect(r.stats.forgetExamples).toBe(w.forget.n);
    expect(r.guardrail).toBeNull();
    const names = new Set(r.model.graph.initializers.map((t) => t.name));
    for (let k = 0; k < 5; k++) for (const t of w.input.trainable) expect(names.has(`shard${k}/${t}`)).toBe(true);
    expect(r.model.graph.inputs.map((v) => v.name)).toEqual(w.original.graph.inputs.map((v) => v.name));
    expect(JSON.parse(r.model.metadata['lethe.ensemble'])).toMatchObject({ kind: 'sisa', aggregation: 'mean-softmax', shards: 5, slices: 5 });
    // features for layer-wise metrics: the shard models' features side by side
    const ev = await evaluateModel(r.model, w.test, { features: true });
    expect(ev.features!.dim).toBe(5 * 32);
  });
});
