// Parity of the evaluation suite with the public reference implementations (scikit-learn SVC and
// LogisticRegression, numpy CKA, scipy KL/JS, the NeurIPS 2023 forget score, KLoM), on fixed seeded
// inputs. Tolerances: MIA-Efficacy within one forget example; the rest 1e-6.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceGate, tempDir } from '../../parity/helpers';
import { runEvalPy, sklearnAvailable } from './helpers';
import { activations, layout, modelOutputs } from './synth';
import { computeMetrics, forgetScoreFromConfs, klomPerRow, linearCka, loadSvm, lossMiaRows, meanCI, miaEfficacyAsync, phiAll, rowsOf, setSvmConcurrency, type ModelOutputs } from './api';

const tol = 1e-6;

function modelNpz(m: ModelOutputs) {
  return { dtype: 'float32' as const, shape: [m.n, m.numClasses], data: m.logits };
}

describe.skipIf(referenceGate('evaluation-suite parity (python3 + scikit-learn)', sklearnAvailable()))('evaluation suite vs Python references', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    tmp = tempDir('lethe-eval-parity-');
    await loadSvm();
  });
  afterAll(() => tmp?.cleanup());

  it('accuracies, SalUn SVC MIA (3 features), Avg. Gap, ToW, KL/JS, loss MIA and φ agree with sklearn/scipy', () => {
    const l = layout(150, 1500, 500, 10, 7);
    const model = modelOutputs(l, 11, { forgetBonus: 2.2 });
    const reference = modelOutputs(l, 12, { forgetBonus: 1.4 });
    const rows = lossMiaRows(model);
    type Ref = {
      model: { acc: Record<string, number>; mia: Record<string, { nonMembers: number; value: number }> };
      reference: { acc: Record<string, number>; mia: Record<string, { nonMembers: number; value: number }> };
      avgGap: number;
      tow: number;
      kl: Record<string, number>;
      js: Record<string, number>;
      lossMia: number;
      phi: number[];
      phi64: number[];
    };
    const ref = runEvalPy<Ref>('single', tmp.dir, {
      split: { dtype: 'uint8', shape: [l.n], data: l.split },
      labels: { dtype: 'int32', shape: [l.n], data: l.labels },
      logits: modelNpz(model),
      ref_logits: modelNpz(reference),
      lossmia_forget: { dtype: 'int32', shape: [rows.forget.length], data: Int32Array.from(rows.forget) },
      lossmia_test: { dtype: 'int32', shape: [rows.test.length], data: Int32Array.from(rows.test) },
    });
    const ours = computeMetrics({ model, reference });
    const oursRef = computeMetrics({ model: reference });
    const nf = rowsOf(model, 'forget').length;

    expect(ours['forget-accuracy'].value).toBeCloseTo(ref.model.acc.forget, 9);
    expect(ours['retain-accuracy'].value).toBeCloseTo(ref.model.acc.retain, 9);
    expect(ours['test-accuracy'].value).toBeCloseTo(ref.model.acc.test, 9);
    expect(ours['unlearning-accuracy'].value).toBeCloseTo(100 - ref.model.acc.forget, 9);

    const report: string[] = [];
    for (const [id, feat] of [
      ['mia-efficacy', 'confidence'],
      ['mia-efficacy-entropy', 'entropy'],
      ['mia-efficacy-m-entropy', 'm-entropy'],
    ] as const) {
      for (const [who, res] of [
        ['model', ours],
        ['reference', oursRef],
      ] as const) {
        const mine = (res[id].extra as { forgetPredictedNonMember: number }).forgetPredictedNonMember;
        const theirs = ref[who].mia[feat].nonMembers;
        report.push(`${id} ${who}: lethe ${mine}/${nf}, sklearn ${theirs}/${nf}`);
        expect(Math.abs(mine - theirs), `${id} (${who}) differs by more than one forget example`).toBeLessThanOrEqual(1);
      }
    }
    console.log(report.join('\n'));

    const miaSame = ours['mia-efficacy'].value === ref.model.mia.confidence.value && oursRef['mia-efficacy'].value === ref.reference.mia.confidence.value;
    if (miaSame) expect(Math.abs(ours['avg-gap'].value! - ref.avgGap)).toBeLessThan(tol);
    else expect(Math.abs(ours['avg-gap'].value! - ref.avgGap)).toBeLessThanOrEqual(100 / nf / 4 * 2 + tol);
    expect(Math.abs(ours.tow.value! - ref.tow)).toBeLessThan(tol);

    const kl = ours['kl-to-retrain'].extra!.perSplit as Record<string, number>;
    const js = ours['js-to-retrain'].extra!.perSplit as Record<string, number>;
    for (const s of ['forget', 'retain', 'test']) {
      expect(Math.abs(kl[s] - ref.kl[s])).toBeLessThan(tol);
      expect(Math.abs(js[s] - ref.js[s])).toBeLessThan(tol);
    }
    expect(ours['kl-to-retrain'].value).toBe(kl.forget);

    // loss attack: same rows, same folds; the optimum of the same objective (sklearn's lbfgs stops at tol 1e-4)
    expect(Math.abs(ours['loss-mia'].value! - ref.lossMia)).toBeLessThanOrEqual(1 / (2 * rows.forget.length) + tol);
    console.log(`loss-mia: lethe ${ours['loss-mia'].value}, sklearn ${ref.lossMia}`);

    // φ against the competition's compute_logit_scaled_confidence (float32 exp) and an exact float64 logsumexp
    const phi = phiAll(model);
    let d32 = 0;
    let d64 = 0;
    phi.forEach((v, i) => {
      d32 = Math.max(d32, Math.abs(v - ref.phi[i]));
      d64 = Math.max(d64, Math.abs(v - ref.phi64[i]));
    });
    expect(d32).toBeLessThan(1e-5); // their softmax runs exp in float32
    expect(d64).toBeLessThan(1e-9);
  });

  it('the SVC fitted on worker threads (two side by side) gives exactly the synchronous result', async () => {
    const l = layout(150, 1500, 500, 10, 7);
    // fresh output objects: the memo of the synchronous path must not answer for the workers
    const sync = [modelOutputs(l, 11, { forgetBonus: 2.2 }), modelOutputs(l, 12, { forgetBonus: 1.4 })].map((m) => computeMetrics({ model: m }, ['mia-efficacy', 'mia-efficacy-entropy']));
    const fresh = [modelOutputs(l, 11, { forgetBonus: 2.2 }), modelOutputs(l, 12, { forgetBonus: 1.4 })];
    setSvmConcurrency(2);
    try {
      const got = await Promise.all(fresh.flatMap((m) => [miaEfficacyAsync(m, 'confidence'), miaEfficacyAsync(m, 'entropy')]));
      for (let i = 0; i < 2; i++) {
        expect(got[2 * i].value).toBe(sync[i]['mia-efficacy'].value);
        expect(got[2 * i + 1].value).toBe(sync[i]['mia-efficacy-entropy'].value);
        expect(got[2 * i].extra).toEqual(sync[i]['mia-efficacy'].extra);
      }
      // the memo answers a later synchronous call with the worker's result
      expect(computeMetrics({ model: fresh[0] }, ['mia-efficacy'])['mia-efficacy']).toBe(got[0]);
      // a cancelled fit rejects and loses nothing
      const ac = new AbortController();
      const pending = miaEfficacyAsync(modelOutputs(l, 13, { forgetBonus: 1 }), 'confidence', ac.signal);
      ac.abort();
      await expect(pending).rejects.toThrow(/cancelled/);
    } finally {
      setSvmConcurrency(1);
    }
  });

  it('linear CKA agrees with numpy (whole sample and a row subset, both computation forms)', () => {
    const cases: [number, number, number][] = [
      [60, 200, 150], // m < d: sample-space form
      [300, 12, 7], // m > d: feature-space form
    ];
    for (const [m, dx, dy] of cases) {
      const a = activations('x', m, dx, 1, 2, 0.6);
      const b = activations('y', m, dy, 3, 4, 0.6);
      // correlate Y with X through a shared projection of the first min(dx, dy) columns
      for (let r = 0; r < m; r++) for (let j = 0; j < Math.min(dx, dy); j++) b.data[r * dy + j] += 0.8 * a.data[r * dx + j];
      const rows = Array.from({ length: m }, (_, i) => i).filter((i) => i % 3 !== 1);
      const ref = runEvalPy<{ all: number; rows: number }>('cka', tmp.dir, {
        X: { dtype: 'float32', shape: [m, dx], data: a.data },
        Y: { dtype: 'float32', shape: [m, dy], data: b.data },
        rows: { dtype: 'int32', shape: [rows.length], data: Int32Array.from(rows) },
      });
      expect(Math.abs(linearCka(a.data, dx, b.data, dy) - ref.all)).toBeLessThan(tol);
      expect(Math.abs(linearCka(a.data, dx, b.data, dy, rows) - ref.rows)).toBeLessThan(tol);
    }
  });

  it('NeurIPS 2023 forget score F (per-example ε and F) agrees with the metric.py port; final score uses it', () => {
    const N = 10;
    const l = layout(30, 60, 30, 5, 21);
    const unlearned = Array.from({ length: N }, (_, s) => modelOutputs(l, 300 + s, { forgetBonus: 2.5, noise: 1 }));
    const retrained = Array.from({ length: N }, (_, s) => modelOutputs(l, 400 + s, { forgetBonus: 1.5, noise: 1 }));
    const rows = rowsOf(l as ModelOutputs, 'forget');
    const conf = (ms: ModelOutputs[]) => ms.map((m) => Float64Array.from(rows, (i) => phiAll(m)[i]));
    const u = conf(unlearned);
    const r = conf(retrained);
    const flat = (a: Float64Array[]) => Float64Array.from(a.flatMap((x) => Array.from(x)));
    const ref = runEvalPy<{ F: number; eps: number[] }>('fq', tmp.dir, {
      u: { dtype: 'float64', shape: [N, rows.length], data: flat(u) },
      r: { dtype: 'float64', shape: [N, rows.length], data: flat(r) },
    });
    const ours = forgetScoreFromConfs(u, r);
    let dEps = 0;
    ours.epsilons.forEach((e, i) => (dEps = Math.max(dEps, Math.abs(e - ref.eps[i]))));
    console.log(`F: lethe ${ours.score}, metric.py port ${ref.F}; max |Δε| ${dEps.toExponential(2)} (float32 rates in the reference)`);
    expect(Math.abs(ours.score - ref.F)).toBeLessThan(tol);
    expect(dEps).toBeLessThan(1e-5);
    expect(ours.score).toBeGreaterThan(0);
    expect(ours.score).toBeLessThan(1);
    const all = computeMetrics({ model: unlearned[0], ensemble: { unlearned, retrained } }, ['forgetting-quality', 'final-score']);
    expect(Math.abs(all['forgetting-quality'].value! - ref.F)).toBeLessThan(tol);
    expect(all['forgetting-quality'].extra!.N).toBe(N);
    const acc = (ms: ModelOutputs[], s: 'retain' | 'test') => ms.reduce((a, m) => a + (computeMetrics({ model: m }, [`${s}-accuracy`])[`${s}-accuracy`].value as number), 0) / ms.length;
    const expected = ref.F * (acc(unlearned, 'retain') / acc(retrained, 'retain')) * (acc(unlearned, 'test') / acc(retrained, 'test'));
    expect(Math.abs(all['final-score'].value! - expected)).toBeLessThan(tol);
  });

  it('KLoM per row agrees with data-unlearning-bench compute_binned_KL_div', () => {
    const N = 6;
    const l = layout(40, 120, 40, 10, 31);
    const unlearned = Array.from({ length: N }, (_, s) => modelOutputs(l, 500 + s, { forgetBonus: 2.5 }));
    const retrained = Array.from({ length: N }, (_, s) => modelOutputs(l, 600 + s, { forgetBonus: 1.2 }));
    const stack = (ms: ModelOutputs[]) => ({ dtype: 'float32' as const, shape: [N, l.n, l.numClasses], data: Float32Array.from(ms.flatMap((m) => Array.from(m.logits))) });
    const ref = runEvalPy<{ klom: (number | null)[] }>('klom', tmp.dir, {
      labels: { dtype: 'int32', shape: [l.n], data: l.labels },
      u_logits: stack(unlearned),
      r_logits: stack(retrained),
    });
    const res = computeMetrics({ model: unlearned[0], ensemble: { unlearned, retrained } }, ['klom']).klom;
    const ours = Array.from(klomPerRow(unlearned, retrained));
    let d = 0;
    ours.forEach((v, i) => (d = Math.max(d, Math.abs(v - (ref.klom[i] as number)))));
    expect(d).toBeLessThan(tol);
    const forgetVals = rowsOf(l as ModelOutputs, 'forget').map((i) => ref.klom[i] as number).sort((a, b) => a - b);
    const mid = (forgetVals.length - 1) / 2;
    const refMedian = (forgetVals[Math.floor(mid)] + forgetVals[Math.ceil(mid)]) / 2;
    expect(Math.abs(res.value! - refMedian)).toBeLessThan(tol);
  });

  it('meanCI uses exact Student t quantiles (scipy.stats.t.ppf)', () => {
    const dfs = [1, 2, 3, 4, 5, 7, 9, 14, 29, 99];
    const ref = runEvalPy<{ t975: number[] }>('tq', tmp.dir, { df: { dtype: 'int32', shape: [dfs.length], data: Int32Array.from(dfs) } });
    dfs.forEach((df, i) => {
      const vals = Array.from({ length: df + 1 }, (_, k) => (k % 2 ? 1 : -1) * (k + 1) * 0.1);
      const ci = meanCI(vals);
      const t = ((ci.hi - ci.mean) * Math.sqrt(ci.n)) / ci.sd;
      expect(Math.abs(t - ref.t975[i]) / ref.t975[i]).toBeLessThan(1e-9);
    });
  });
});
