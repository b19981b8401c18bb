// Self-tests of the evaluation suite that need no external reference: the registry's shape, needs and
// input validation; F = 1 exactly for identical ensembles and well below 1 for independent ones;
// KLoM ≈ 0 for two ensembles from one distribution; meanCI and aggregateOverSeeds.

import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { aggregateOverSeeds, computeMetrics, forgetScoreFromConfs, loadSvm, logitScaledConfidence, meanCI, METRICS, svmBuildInUse, type ModelOutputs } from './api';
import { gaussian, layout, modelOutputs, rng } from './synth';

describe('metric registry', () => {
  it('one descriptor per file under metrics/, unique kebab-case ids, a formula and a source each', () => {
    const dir = join(dirname(fileURLToPath(import.meta.url)), '../../../main/engine/eval/metrics');
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'divergence.ts').map((f) => f.replace(/\.ts$/, ''));
    const ids = METRICS.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.slice().sort()).toEqual(files.slice().sort());
    for (const m of METRICS) {
      expect(m.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(m.formula.length).toBeGreaterThan(20);
      expect(m.source.length).toBeGreaterThan(5);
    }
    for (const id of ['forget-accuracy', 'retain-accuracy', 'test-accuracy', 'unlearning-accuracy', 'per-class-accuracy', 'confusion', 'mia-efficacy', 'mia-efficacy-entropy', 'mia-efficacy-m-entropy', 'loss-mia', 'logit-confidence', 'avg-gap', 'tow', 'kl-to-retrain', 'js-to-retrain', 'layer-cka', 'forgetting-quality', 'final-score', 'klom', 'run-time']) {
      expect(ids).toContain(id);
    }
  });

  it('absent optional inputs give null + missing, never an exception', () => {
    const l = layout(20, 60, 30, 4, 1);
    const res = computeMetrics({ model: modelOutputs(l, 1) });
    for (const m of METRICS) {
      expect(res[m.id], m.id).toBeDefined();
      if (m.needs.length) {
        expect(res[m.id].value, m.id).toBeNull();
        expect(res[m.id].missing, m.id).toMatch(/needs/);
      }
    }
    expect(res['forget-accuracy'].value).not.toBeNull();
    expect(res['unlearning-accuracy'].value).toBeCloseTo(100 - res['forget-accuracy'].value!, 12);
    // no forget rows: a reason, not an exception
    const noForget = computeMetrics({ model: modelOutputs(layout(0, 60, 30, 4, 2), 1) });
    expect(noForget['forget-accuracy']).toEqual({ value: null, missing: 'no forget rows' });
    expect(noForget['mia-efficacy'].value).toBeNull();
  });

  it('malformed inputs throw a plain Error naming the problem', () => {
    const l = layout(20, 60, 30, 4, 1);
    const m = modelOutputs(l, 1);
    const other = modelOutputs(layout(20, 61, 30, 4, 1), 2);
    expect(() => computeMetrics({ model: m, reference: other })).toThrow(/reference: n = 111 but the judged model has n = 110/);
    const wideL = { ...l, numClasses: 5 };
    expect(() => computeMetrics({ model: m, reference: modelOutputs(wideL, 3) })).toThrow(/numClasses = 5/);
    const bad = modelOutputs(l, 4);
    bad.logits[7] = NaN;
    expect(() => computeMetrics({ model: bad })).toThrow(/logit NaN at row 1, class 3/);
    expect(() => computeMetrics({ model: { ...m, logits: m.logits.subarray(1) } })).toThrow(/logits must be a Float32Array of length/);
    expect(() => computeMetrics({ model: m, ensemble: { unlearned: [m], retrained: [] } })).toThrow(/1 unlearned but 0 retrained/);
    expect(() => computeMetrics({ model: m }, ['no-such-metric'])).toThrow(/unknown metric "no-such-metric"/);
  });

  it('accuracies, UA, per-class and confusion on a hand-made case', () => {
    // 4 rows, 2 classes: forget row correct, forget row wrong, retain correct, test wrong
    const model: ModelOutputs = {
      n: 4,
      numClasses: 2,
      split: Uint8Array.from([0, 0, 1, 2]),
      labels: Int32Array.from([0, 1, 1, 0]),
      logits: Float32Array.from([2, 0, 2, 0, 0, 1, 0, 3]),
    };
    const r = computeMetrics({ model, runSeconds: 1.5 });
    expect(r['forget-accuracy'].value).toBe(50);
    expect(r['unlearning-accuracy'].value).toBe(50);
    expect(r['retain-accuracy'].value).toBe(100);
    expect(r['test-accuracy'].value).toBe(0);
    expect(r['run-time'].value).toBe(1.5);
    expect((r.confusion.extra as { matrices: Record<string, number[][]> }).matrices.forget).toEqual([
      [1, 0],
      [1, 0],
    ]);
    // φ = z_y − logsumexp_{k≠y} z_k; two classes: z_y − z_other
    expect(logitScaledConfidence(model.logits, 2, 0, 0)).toBe(2);
    const tow = computeMetrics({ model, reference: model }, ['tow', 'kl-to-retrain', 'js-to-retrain']);
    expect(tow.tow.value).toBe(1);
    expect(tow['kl-to-retrain'].value).toBe(0);
    expect(tow['js-to-retrain'].value).toBe(0);
  });
});

describe('libsvm builds', () => {
  it('the synchronous asm.js build (before loadSvm) and the wasm build give the same MIA-Efficacy', async () => {
    const l = layout(80, 600, 300, 10, 3);
    const m = modelOutputs(l, 5, { forgetBonus: 2 });
    const before = svmBuildInUse();
    const a = computeMetrics({ model: m }, ['mia-efficacy', 'mia-efficacy-entropy']);
    await loadSvm();
    expect(svmBuildInUse()).toBe('wasm');
    const copy: ModelOutputs = { ...m }; // results are memoised per model object
    const b = computeMetrics({ model: copy }, ['mia-efficacy', 'mia-efficacy-entropy']);
    expect(b['mia-efficacy'].value).toBe(a['mia-efficacy'].value);
    expect(b['mia-efficacy-entropy'].value).toBe(a['mia-efficacy-entropy'].value);
    expect(before).toBe('asm');
  });
});

describe('ensemble self-tests', () => {
  it('identical ensembles give F = 1 exactly (and final score 1)', () => {
    const l = layout(40, 60, 30, 5, 9);
    const models = Array.from({ length: 8 }, (_, s) => modelOutputs(l, 700 + s));
    const r = computeMetrics({ model: models[0], ensemble: { unlearned: models, retrained: models } }, ['forgetting-quality', 'final-score', 'klom']);
    expect(r['forgetting-quality'].value).toBe(1);
    expect(r['final-score'].value).toBe(1);
    expect(r.klom.value).toBe(0);
  });

  it('independent ensembles from one distribution: F well below 1 at modest N', () => {
    // φ of S forget examples: per-example centre, model-to-model noise, N = 64 models of each kind.
    const N = 64;
    const S = 60;
    const g = gaussian(rng(2024));
    const centre = Array.from({ length: S }, () => 3 * g());
    const draw = () => Array.from({ length: N }, () => Float64Array.from(centre, (c) => c + g()));
    const fq = forgetScoreFromConfs(draw(), draw());
    console.log(`independent ensembles, N = ${N}, ${S} examples: F = ${fq.score.toFixed(3)}, max ε bucket ${fq.maxEpsilon}`);
    expect(fq.score).toBeGreaterThan(0.05);
    expect(fq.score).toBeLessThan(0.6);
  });

  it('two ensembles drawn from the same distribution give KLoM ≈ 0 (relative to a shifted ensemble)', () => {
    const N = 100;
    const l = layout(30, 30, 30, 4, 5);
    // same per-example structure (exampleSeed) and distribution, independent seeds
    const a = Array.from({ length: N }, (_, s) => modelOutputs(l, 1000 + s, { noise: 0.5 }));
    const b = Array.from({ length: N }, (_, s) => modelOutputs(l, 2000 + s, { noise: 0.5 }));
    const shifted = Array.from({ length: N }, (_, s) => modelOutputs(l, 3000 + s, { noise: 0.5, forgetBonus: 6 }));
    const same = computeMetrics({ model: a[0], ensemble: { unlearned: a, retrained: b } }, ['klom']).klom;
    const diff = computeMetrics({ model: a[0], ensemble: { unlearned: shifted, retrained: b } }, ['klom']).klom;
    console.log(`KLoM median on D_f: same distribution ${same.value!.toFixed(3)}, shifted ${diff.value!.toFixed(3)}`);
    expect(same.value!).toBeLessThan(0.35);
    expect(diff.value!).toBeGreaterThan(5 * same.value!);
    expect((same.extra as { N: number }).N).toBe(N);
  });
});

describe('meanCI and aggregateOverSeeds', () => {
  it('Student t interval; n = 1 gives lo = hi = mean with a note; NaN and empty throw', () => {
    const ci = meanCI([1, 2, 3, 4, 5]);
    expect(ci.mean).toBe(3);
    expect(ci.sd).toBeCloseTo(Math.sqrt(2.5), 14);
    // t_{0.975, 4} = 2.7764451051977987
    expect(ci.hi - ci.mean).toBeCloseTo((2.7764451051977987 * Math.sqrt(2.5)) / Math.sqrt(5), 12);
    const one = meanCI([7]);
    expect(one).toMatchObject({ mean: 7, lo: 7, hi: 7, n: 1 });
    expect(one.note).toMatch(/one value/);
    expect(() => meanCI([])).toThrow(/no values/);
    expect(() => meanCI([1, NaN])).toThrow(/non-finite/);
  });

  it('aggregates each metric over the seeds that produced a value', () => {
    const agg = aggregateOverSeeds([
      { a: { value: 1 }, b: { value: null, missing: 'needs the retrain reference' } },
      { a: { value: 3 }, b: { value: null, missing: 'needs the retrain reference' } },
      { a: { value: 2 } },
    ]);
    expect(agg.a).toMatchObject({ mean: 2, n: 3, nullCount: 0 });
    expect(agg.a.lo!).toBeLessThan(2);
    expect(agg.b).toMatchObject({ mean: null, n: 0, nullCount: 3, missing: 'needs the retrain reference' });
  });
});
