// The shape of the unlearning engine and the methods built on the shared training loop: each does
// what its paper says on a small MLP over seeded synthetic classes (fast, no machine-speed
// dependence). Methods built on other engine pieces have their own test files.

import { beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildMlp } from '../../../main/engine/models';
import { Trainer, evaluateModel, makeDataset, type ArrayDataset } from '../../../main/engine/train';
import type { Model } from '../../../main/engine/onnx/ir';
import { runMethod, type RunMethodInput } from '../../../main/engine/unlearn/run';
import { METHODS, getMethod, listMethods } from '../../../main/engine/unlearn/registry';
import { describeParams, parseMethodParams, parseParamAssignments } from '../../../main/engine/unlearn/params';
import { Rng } from '../../../main/engine/train/rng';

const C = 4;
const D = 16;

/** Gaussian blobs: class k centred at 2.5 * e_k, noise 1 (seeded). */
function blobs(n: number, seed: number): ArrayDataset {
  const rng = new Rng(seed, 1);
  const x = new Float32Array(n * D);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % C;
    for (let d = 0; d < D; d++) x[i * D + d] = rng.nextNormal() + (d === y[i] ? 2.5 : 0);
  }
  return makeDataset(x, [n, D], y);
}

function subset(ds: ArrayDataset, keep: (i: number) => boolean): ArrayDataset {
  const idx: number[] = [];
  for (let i = 0; i < ds.n; i++) if (keep(i)) idx.push(i);
  const x = new Float32Array(idx.length * D);
  idx.forEach((j, k) => x.set(ds.x.subarray(j * D, (j + 1) * D), k * D));
  return makeDataset(x, [idx.length, D], Int32Array.from(idx, (j) => Number(ds.y[j])));
}

let init: Model;
let original: Model;
let trainable: string[];
let train: ArrayDataset;
let test: ArrayDataset;
const recipe = { optimizer: { kind: 'sgd' as const, momentum: 0.9 }, lr: 0.05, schedule: null, epochs: 8, batchSize: 32, seed: 0 };

beforeAll(async () => {
  init = buildMlp({ inputShape: [D], hidden: [32], classes: C, seed: 0 });
  train = blobs(480, 1);
  test = blobs(200, 2);
  const t = await Trainer.create({ model: init, optimizer: recipe.optimizer, lr: recipe.lr, batchSize: recipe.batchSize, seed: 0 });
  await t.fit(train, { epochs: recipe.epochs });
  original = t.inferenceModel();
  trainable = t.trainable;
  await t.dispose();
});

async function acc(m: Model, ds: ArrayDataset) {
  return (await evaluateModel(m, ds)).accuracy * 100;
}
async function loss(m: Model, ds: ArrayDataset) {
  return (await evaluateModel(m, ds)).meanLoss;
}
function weightsOf(m: Model): Record<string, Float32Array> {
  return Object.fromEntries(m.graph.initializers.filter((t) => trainable.includes(t.name)).map((t) => [t.name, t.data as Float32Array]));
}

function input(kind: 'class' | 'random', over: Partial<RunMethodInput> = {}): RunMethodInput {
  const isForget = kind === 'class' ? (i: number) => Number(train.y[i]) === 2 : (i: number) => i % 20 === 3;
  const retainAll = subset(train, (i) => !isForget(i));
  return {
    methodId: 'ft',
    model: original,
    initModel: init,
    trainable,
    recipe,
    recipeKnown: true,
    forget: subset(train, isForget),
    retain: subset(retainAll, (i) => i % 10 !== 0),
    retainSlice: subset(retainAll, (i) => i % 10 === 0),
    numClasses: C,
    forgottenClasses: kind === 'class' ? [2] : [],
    seed: 0,
    ...over,
  };
}

describe('the method registry and parameter schemas', () => {
  it('lists every method once, each in its own file, with valid defaults, descriptions and sources', () => {
    const ids = METHODS.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    const files = readdirSync(join(import.meta.dirname, '../../../main/engine/unlearn/methods')).filter((f) => f !== 'common.ts').map((f) => f.replace(/\.ts$/, ''));
    for (const m of METHODS) {
      expect(m.id).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(files).toContain(m.id);
      expect(m.description.length).toBeGreaterThan(60);
      expect(m.source.length).toBeGreaterThan(10);
      const specs = describeParams(m.params);
      const defaults = parseMethodParams(m.id, m.params, {});
      for (const s of specs) expect(defaults[s.name]).toEqual(s.default);
    }
    expect(listMethods().find((m) => m.id === 'salun')!.params.map((p) => [p.name, p.default])).toEqual(
      expect.arrayContaining([
        ['maskFraction', 0.5],
        ['lr', 0.013],
        ['epochs', 10],
      ]),
    );
  });

  it('refuses unknown methods, unknown and out-of-range parameters in one sentence', () => {
    expect(() => getMethod('nope')).toThrow(/Unknown unlearning method 'nope'; known: retrain, ft/);
    const ga = getMethod('ga');
    expect(() => parseMethodParams('ga', ga.params, { lr: -1 })).toThrow(/^ga: 'lr': number must be greater than 0\.$/);
    expect(() => parseMethodParams('ga', ga.params, { epochs: 2.5 })).toThrow(/'epochs'/);
    expect(() => parseMethodParams('ga', ga.params, { speed: 3 })).toThrow(/unknown parameter\(s\) 'speed'/);
    expect(parseParamAssignments('ga', describeParams(ga.params), ['lr=5e-4', 'epochs=3'])).toEqual({ lr: 5e-4, epochs: 3 });
    expect(() => parseParamAssignments('ga', describeParams(ga.params), ['lr=fast'])).toThrow(/'lr' must be a number/);
    expect(() => parseParamAssignments('ga', describeParams(ga.params), ['lr'])).toThrow(/key=value/);
  });
});

describe('methods on a small model', () => {
  it('the original learned the task', async () => {
    expect(await acc(original, test)).toBeGreaterThan(85);
  });

  it('Retrain (exact) never sees the forget class: 0% forget accuracy, and trains from the starting weights', async () => {
    const inp = input('class', { methodId: 'retrain' });
    const r = await runMethod(inp);
    expect(await acc(r.model, inp.forget)).toBe(0);
    expect(await acc(r.model, inp.retain)).toBeGreaterThan(85);
    expect(r.guardrail).toBeNull();
  });

  it('GA raises the forget loss (gradient ascent on D_f only)', async () => {
    const inp = input('random', { methodId: 'ga', params: { lr: 0.01, epochs: 5 }, guardrail: { action: 'off' } });
    const r = await runMethod(inp);
    expect(await loss(r.model, inp.forget)).toBeGreaterThan((await loss(original, inp.forget)) + 0.05);
    expect(r.steps).toBe(5 * Math.ceil(inp.forget.n / 256));
  });

  it('NegGrad+ and RL remove a forgotten class while keeping the retain set', async () => {
    for (const id of ['neggrad-plus', 'rl']) {
      const inp = input('class', { methodId: id, params: { epochs: id === 'rl' ? 4 : 10, lr: 0.02, batchSize: 32 }, guardrail: { action: 'flag' } });
      const r = await runMethod(inp);
      expect(await acc(r.model, inp.forget), id).toBeLessThan(25);
      expect(await acc(r.model, inp.retain), id).toBeGreaterThan(80);
    }
  });

  it('SalUn leaves every masked-out weight bit-identical to the original and trains about maskFraction of them', async () => {
    const inp = input('class', { methodId: 'salun', params: { epochs: 2, maskFraction: 0.3 }, guardrail: { action: 'off' } });
    const r = await runMethod(inp);
    const before = weightsOf(original);
    const after = weightsOf(r.model);
    let same = 0;
    let total = 0;
    for (const k of Object.keys(before)) {
      for (let i = 0; i < before[k].length; i++) {
        total++;
        if (Object.is(before[k][i], after[k][i])) same++;
      }
    }
    expect(r.stats.salientWeights).toBe(Math.round(total * 0.3));
    // every weight outside the mask is unchanged (those inside almost all change)
    expect(same).toBeGreaterThanOrEqual(total - r.stats.salientWeights);
    expect(same).toBeLessThan(total - 0.9 * r.stats.salientWeights);
    expect(await acc(r.model, inp.forget)).toBeLessThan(await acc(original, inp.forget));
  });

  it('Amnesiac and FT keep retain accuracy', async () => {
    for (const id of ['amnesiac', 'ft']) {
      const inp = input('random', { methodId: id, params: { epochs: 2 } });
      const r = await runMethod(inp);
      expect(await acc(r.model, inp.retain), id).toBeGreaterThan(80);
    }
  });

  it('every guardrail check also reports forget accuracy (a seeded sample of D_f, watched not judged), falling as a class is forgotten', async () => {
    const seen: { retain?: number; forget?: number }[] = [];
    const inp = input('class', { methodId: 'neggrad-plus', params: { epochs: 10, lr: 0.02, batchSize: 32 }, guardrail: { action: 'flag' }, progress: (p) => {
      if (p.retainAccuracy !== undefined) seen.push({ retain: p.retainAccuracy, forget: p.forgetAccuracy });
    } });
    const r = await runMethod(inp);
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.every((c) => typeof c.forget === 'number')).toBe(true);
    // the report keeps both curves; the last check matches the final model on the (whole, small) forget set
    expect(r.guardrail!.checks.map((c) => c.forgetAccuracy)).toEqual(seen.map((c) => c.forget));
    expect(seen[seen.length - 1].forget!).toBeLessThan(seen[0].forget! + 1e-9);
    expect(seen[seen.length - 1].forget!).toBeLessThan(25);
  });

  it('the guardrail stops a collapsing run and keeps the last weights that passed, and says so', async () => {
    const inp = input('random', { methodId: 'ga', params: { lr: 1, epochs: 20, batchSize: 4 }, guardrail: { action: 'stop', maxDropPoints: 5 } });
    const r = await runMethod(inp);
    expect(r.guardrail!.tripped).toBe(true);
    expect(r.guardrail!.stopped).toBe(true);
    expect(r.notes.join(' ')).toMatch(/guardrail stopped the run/);
    // the kept weights passed the check: within 5 points of the baseline on the slice
    expect(await acc(r.model, inp.retainSlice)).toBeGreaterThanOrEqual(r.guardrail!.baseline - 5);
    // 'flag' runs to the end and reports it
    const f = await runMethod({ ...inp, guardrail: { action: 'flag', maxDropPoints: 5 }, params: { lr: 1, epochs: 2, batchSize: 4 } });
    expect(f.guardrail!.tripped).toBe(true);
    expect(f.guardrail!.stopped).toBe(false);
  });

  it('a diverging run fails with one sentence naming the method and keeps nothing', async () => {
    const inp = input('random', { methodId: 'ga', params: { lr: 10, epochs: 200, batchSize: 1 }, guardrail: { action: 'off' } });
    await expect(runMethod(inp)).rejects.toThrow(/GA \(gradient ascent\) (diverged|produced a non-finite weight).*smaller learning rate/);
  });

  it('a class-only method refuses a forget set that is not whole classes', async () => {
    const cls = METHODS.find((m) => m.scope === 'class');
    if (!cls) return;
    await expect(runMethod(input('random', { methodId: cls.id }))).rejects.toThrow(/forgets whole classes only/);
  });

  it('the same seed gives the same unlearned weights (CPU, 1 thread)', async () => {
    const a = await runMethod(input('random', { methodId: 'rl', params: { epochs: 1 } }));
    const b = await runMethod(input('random', { methodId: 'rl', params: { epochs: 1 } }));
    const wa = weightsOf(a.model);
    const wb = weightsOf(b.model);
    for (const k of Object.keys(wa)) expect(Buffer.from(wa[k].buffer).equals(Buffer.from(wb[k].buffer))).toBe(true);
  });
});
