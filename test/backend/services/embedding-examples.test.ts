// comparisons.embedding / comparisons.example / comparisons.changedExamples on a tiny real comparison
// built in process (a 4×4-pixel IDX dataset of 3 classes -> MLP trained 3 epochs -> class forget set
// -> retrain + GA -> compare): the embedding call submits one 'comparison.embedding' job for what is
// not cached (and joins it when asked again), the job's worker code caches one PCA projection per
// model which equals PCA of the model's penultimate features computed directly, and the drill-down's
// numbers are the engine's per-example definitions of the stored logits.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetHandlers, openReader } from '../../../main/backend/services/datasets';
import { forgetSetHandlers } from '../../../main/backend/services/forget-sets';
import { createModel, loadRegisteredModel, saveDerivedModel } from '../../../main/backend/services/models';
import { cloneModel } from '../../../main/engine/onnx/ir';
import { encodeModel } from '../../../main/engine/onnx/codec';
import type { ComparisonManifest } from '../../../main/engine/runs/contract-types';
import { submitTraining } from '../../../main/backend/services/models-api';
import { unlearningHandlers } from '../../../main/backend/services/unlearning-api';
import { runUnlearning, getRun, runOutputs } from '../../../main/backend/services/unlearning';
import { buildComparison } from '../../../main/backend/services/comparisons';
import { projectionKey } from '../../../main/backend/services/embedding';
import { datasetImport } from '../../../main/backend/jobs/kinds/dataset-import';
import { modelTrain } from '../../../main/backend/jobs/kinds/model-train';
import { comparisonEmbedding } from '../../../main/backend/jobs/kinds/comparison-embedding';
import type { JobContext } from '../../../main/backend/jobs/types';
import { validateArgs } from '../../../main/backend/validation';
import { penultimateFeatures, project2d } from '../../../main/engine/eval/features';
import { loadArrays } from '../../../main/engine/unlearn/data';
import { ApiError } from '../../../preload/api/common';
import type { JobInfo, JobSubmit } from '../../../preload/api/jobs';
import { tempWorkspace } from '../../engine/data/helpers';

function idxFile(dims: number[], data: Uint8Array) {
  const h = Buffer.alloc(4 + 4 * dims.length);
  h[2] = 8;
  h[3] = dims.length;
  dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
  return gzipSync(Buffer.concat([h, data]));
}

/** n 4×4 images whose class shows as a bright quadrant, plus noise */
function images(n: number, seed: number) {
  const img = new Uint8Array(n * 16);
  const lab = new Uint8Array(n);
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) % 80;
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    lab[i] = c;
    for (let p = 0; p < 16; p++) img[i * 16 + p] = rnd() + ((p % 4 < 2) === (c === 0) && (p < 8) === (c !== 2) ? 160 : 0);
  }
  return { img, lab };
}

const ctx = (root: string, over: Partial<JobContext> = {}): JobContext =>
  ({ jobId: 'j', workspaceRoot: root, signal: new AbortController().signal, progress: () => {}, log: () => {}, checkpoint: null, saveCheckpoint: async () => {}, settings: { executionProvider: 'cpu', intraOpThreads: 1 }, dependencies: [], ...over }) as JobContext;

let w: Awaited<ReturnType<typeof tempWorkspace>>;
let cmpId = '';
let submitted: JobSubmit[] = [];
let running: JobInfo[] = [];
const fakeJob = (s: JobSubmit, n: number): JobInfo => ({ id: `job-${n}`, kind: s.kind, title: s.title ?? s.kind, params: s.params, state: 'queued', createdAt: '', startedAt: null, endedAt: null, progress: null, reason: null, result: null, resumable: false, attempt: 1, dependsOn: [] });
let h: ReturnType<typeof unlearningHandlers>;

beforeAll(async () => {
  w = await tempWorkspace();
  const src = join(w.dir, 'idx');
  mkdirSync(src);
  const tr = images(90, 1);
  const te = images(24, 2);
  writeFileSync(join(src, 'train-images-idx3-ubyte.gz'), idxFile([90, 4, 4], tr.img));
  writeFileSync(join(src, 'train-labels-idx1-ubyte.gz'), idxFile([90], tr.lab));
  writeFileSync(join(src, 't10k-images-idx3-ubyte.gz'), idxFile([24, 4, 4], te.img));
  writeFileSync(join(src, 't10k-labels-idx1-ubyte.gz'), idxFile([24], te.lab));
  const jobs: JobSubmit[] = [];
  const dh = datasetHandlers({ workspace: w.ws, submitJob: async (j) => (jobs.push(j), { id: 'j' } as never) });
  await dh['datasets.import']({ format: 'idx', source: src, name: 'tiny', options: { numClasses: 3, classNames: ['a', 'b', 'c'] } });
  await datasetImport.run(datasetImport.validate(jobs[0].params), ctx(w.ws.root));
  await forgetSetHandlers({ workspace: w.ws, submitJob: async () => ({}) as never })['forgetSets.create']({ datasetId: 'tiny', name: 'class a', rule: { kind: 'class', classes: ['a'] } });
  await createModel(w.ws, { name: 'mlp', arch: 'mlp', classes: 3, inputShape: [1, 4, 4], seed: 0 });
  let train: JobSubmit | null = null;
  await submitTraining(w.ws, async (j) => ((train = j), { id: 't' } as never), { modelId: 'mlp', datasetId: 'tiny', epochs: 3, batchSize: 16, lr: 0.05, saveAs: 'mlp-t' });
  await modelTrain.run(modelTrain.validate(train!.params), ctx(w.ws.root));
  const re = await runUnlearning(w.ws, { model: 'mlp-t', forgetSet: 'class a', method: 'retrain' });
  const ga = await runUnlearning(w.ws, { model: 'mlp-t', forgetSet: 'class a', method: 'ga', params: { epochs: 1 } });
  const cmp = await buildComparison(w.ws, { model: 'mlp-t', forgetSet: 'class a', runs: [re.run.id, ga.run.id], metrics: ['forget-accuracy', 'retain-accuracy', 'test-accuracy'] });
  cmpId = cmp.id;
  h = unlearningHandlers({
    workspace: w.ws,
    submitJob: async (s) => {
      // the real runner validates a kind's params at submission: so does this fake
      if (s.kind === 'comparison.embedding') comparisonEmbedding.validate(s.params);
      submitted.push(s);
      const j = fakeJob(s, submitted.length);
      running.push(j);
      return j;
    },
    listJobs: async () => running,
  });
}, 240_000);
afterAll(async () => w?.cleanup());

async function refused(p: Promise<unknown>, message: RegExp, code = 'invalid_argument'): Promise<void> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e, 'expected a refusal').toBeInstanceOf(ApiError);
  expect((e as ApiError).code).toBe(code);
  expect((e as ApiError).message).toMatch(message);
}

describe('comparisons.embedding', () => {
  it('submits one comparison.embedding job for the missing projections, joins it when asked again, and draws nothing yet', async () => {
    submitted = [];
    running = [];
    const r = await h['comparisons.embedding']({ id: cmpId });
    expect(r.status).toBe('computing');
    expect(submitted).toHaveLength(1);
    expect(submitted[0]).toMatchObject({ kind: 'comparison.embedding', params: { comparisonId: cmpId } });
    expect(r.job?.id).toBe('job-1');
    expect(r.data.models.map((m) => m.role)).toEqual(['original', 'reference', 'unlearned']);
    expect(r.data.models.every((m) => !m.computed && m.points === null)).toBe(true);
    // default pair: the retrain reference and the first unlearned model
    expect([r.a, r.b]).toEqual([r.data.models[1].key, r.data.models[2].key]);
    expect(r.charts.map((c) => c.empty)).toEqual(['the projection is being computed', 'the projection is being computed']);
    const again = await h['comparisons.embedding']({ id: cmpId });
    expect(again.job?.id).toBe('job-1');
    expect(submitted).toHaveLength(1);
    running = [];
    const lazy = await h['comparisons.embedding']({ id: cmpId, compute: false });
    expect(lazy).toMatchObject({ status: 'incomplete', job: null });
    expect(submitted).toHaveLength(1);
  });

  it('the fixed sample takes every forget example and is class-stratified in the other splits', async () => {
    const { data } = await h['comparisons.embedding']({ id: cmpId, compute: false });
    const s = data.sample;
    const cmp = await h['comparisons.get']({ id: cmpId });
    expect(s.split.filter((x) => x === 'forget')).toHaveLength(cmp.counts.forget);
    expect(s.split.filter((x) => x === 'test')).toHaveLength(cmp.counts.test);
    expect(s.split.filter((x) => x === 'retain')).toHaveLength(cmp.counts.retain);
    expect(s.labels.filter((y, i) => s.split[i] === 'forget').every((y) => y === 0)).toBe(true);
    expect(s.idsSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('the job caches one PCA projection per model, equal to PCA of its penultimate features computed directly', async () => {
    const progress: number[] = [];
    const res = await comparisonEmbedding.run(comparisonEmbedding.validate({ comparisonId: cmpId }), ctx(w.ws.root, { progress: (p) => void progress.push(p.step) }));
    expect(res).toMatchObject({ comparisonId: cmpId, computed: 3, cached: 0, unavailable: 0 });
    expect(progress.at(-1)).toBe(3);
    submitted = [];
    running = [];
    const r = await h['comparisons.embedding']({ id: cmpId, a: 'original' });
    expect(r.status).toBe('ready');
    expect(submitted).toHaveLength(0);
    expect(r.a).toBe('original');
    const n = r.data.sample.ids.length;
    const [ma, mb, mc] = r.data.models;
    expect(ma.points).toHaveLength(n);
    expect(mb.points).toBeNull(); // not asked for: only a and b travel
    expect(mc.points).toHaveLength(n);
    expect(mc.computed && mb.computed).toBe(true);
    expect(mc.dim).toBeGreaterThan(1);
    expect(mc.explainedVarianceRatio![0]).toBeGreaterThanOrEqual(mc.explainedVarianceRatio![1]);
    const file = join(w.ws.root, 'cache', 'embeddings', `${projectionKey(mc.model.sha256, r.data.sample.idsSha256)}.json`);
    expect(existsSync(file)).toBe(true);

    // the same numbers straight from the engine
    const cmp = await h['comparisons.get']({ id: cmpId });
    const reader = await openReader(w.ws, (await w.ws.getRecord('datasets', cmp.refs.dataset.id)) as never);
    const idx = r.data.sample.ids.map((id) => reader.ids.indexOf(id));
    const ds = await loadArrays(reader, idx);
    const model = await loadRegisteredModel(w.ws, mc.model.id);
    const p = project2d(await penultimateFeatures(model.model, ds));
    for (let i = 0; i < n; i++) {
      expect(mc.points![i][0]).toBeCloseTo(p.points[2 * i], 4);
      expect(mc.points![i][1]).toBeCloseTo(p.points[2 * i + 1], 4);
    }
    // the chart: one series per class, forget examples as diamonds, [x, y, sample index] values, a data table
    const chart = r.charts[1];
    expect(chart.empty).toBeUndefined();
    expect(chart.title).toMatch(/^Penultimate features \(PCA\): /);
    const series = chart.option.series as { name: string; data: { name: string; value: number[]; symbol?: string }[] }[];
    expect(series.map((s) => s.name)).toEqual(['a', 'b', 'c']);
    const forgetItems = series.flatMap((s) => s.data).filter((d) => d.symbol === 'diamond');
    expect(forgetItems).toHaveLength(cmp.counts.forget);
    expect(forgetItems.every((d) => r.data.sample.split[d.value[2]] === 'forget')).toBe(true);
    const all = series.flatMap((s) => s.data);
    expect(all.map((d) => d.value[2]).sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
    for (const d of all) expect(d.name).toBe(r.data.sample.ids[d.value[2]]);
    expect(all.find((d) => d.value[2] === 5)!.value.slice(0, 2)).toEqual([Math.round(mc.points![5][0] * 1e4) / 1e4, Math.round(mc.points![5][1] * 1e4) / 1e4]);
    expect((chart.option.xAxis as { name: string }).name).toMatch(/^PC 1 \(feature units; \d+\.\d% of variance\)$/);
    expect(chart.table.rows).toHaveLength(n);
    expect(chart.table.columns).toEqual(['example', 'split', 'class', 'PC 1', 'PC 2']);

    // a second run of the job finds everything cached
    expect(await comparisonEmbedding.run({ comparisonId: cmpId }, ctx(w.ws.root))).toMatchObject({ computed: 0, cached: 3 });
  }, 120_000);

  it('refuses unknown comparisons and models, and bad arguments', async () => {
    await refused(h['comparisons.embedding']({ id: 'cmp-nope' }), /no comparison 'cmp-nope'/, 'not_found');
    await refused(h['comparisons.embedding']({ id: cmpId, a: 'nope' }), /has no model 'nope'/, 'not_found');
    expect(() => validateArgs('comparisons.embedding', { id: cmpId, extra: 1 })).toThrow();
    expect(() => validateArgs('comparisons.embedding', { id: cmpId, compute: 'yes' })).toThrow();
    expect(() => comparisonEmbedding.validate({})).toThrow(/comparisonId/);
  });
});

describe('comparisons.example and comparisons.changedExamples', () => {
  it('gives one example under every model: softmax probabilities, cross-entropy loss and attack scores of its stored logits', async () => {
    const cmp = await h['comparisons.get']({ id: cmpId });
    const run = await getRun(w.ws, cmp.entries[2].runs[0].run.id);
    const o = await runOutputs(w.ws, run);
    const row = o.split.findIndex((s) => s === 0);
    const id = o.ids[row];
    const ex = await h['comparisons.example']({ id: cmpId, exampleId: id });
    expect(ex).toMatchObject({ exampleId: id, split: 'forget', label: 0, className: 'a', classNames: ['a', 'b', 'c'], datasetId: cmp.refs.dataset.id });
    expect(ex.models.map((m) => m.key)).toEqual(cmp.entries.map((e) => e.key));
    const m = ex.models[2];
    const z = Array.from(o.logits.subarray(row * 3, row * 3 + 3));
    const mx = Math.max(...z);
    const lse = mx + Math.log(z.reduce((a, v) => a + Math.exp(v - mx), 0));
    const p = z.map((v) => Math.exp(v - lse));
    p.forEach((v, k) => expect(m.probabilities[k]).toBeCloseTo(v, 10));
    expect(m.predicted).toBe(z.indexOf(mx));
    expect(m.loss).toBeCloseTo(lse - z[0], 10);
    expect(m.scores.confidence).toBeCloseTo(p[0], 10);
    expect(m.scores.entropy).toBeCloseTo(-p.reduce((a, v) => a + (v > 0 ? v * Math.log(v) : 0), 0), 10);
    expect(m.scores.logitConfidence).toBeCloseTo(Math.log(p[0]) - Math.log(p[1] + p[2]), 6);
    expect(Number.isFinite(m.scores.mEntropy)).toBe(true);
    expect(ex.definitions.loss).toMatch(/−log p_y/);
    expect(ex.chart.title).toBe(`Predicted probabilities of ${id} (true class: a)`);
    expect((ex.chart.option.series as unknown[]).length).toBe(3);
    expect(ex.chart.table.rows).toHaveLength(3);
    await refused(h['comparisons.example']({ id: cmpId, exampleId: 'no-such-example' }), /'no-such-example' is not among/, 'not_found');
  });

  it('lists the forget examples whose true-class confidence changed most, largest change first', async () => {
    const r = await h['comparisons.changedExamples']({ id: cmpId, limit: 5 });
    const cmp = await h['comparisons.get']({ id: cmpId });
    expect(r.key).toBe(cmp.entries[2].key);
    expect(r.examples).toHaveLength(5);
    const abs = r.examples.map((e) => Math.abs(e.change));
    expect(abs).toEqual([...abs].sort((a, b) => b - a));
    const first = r.examples[0];
    expect(first.change).toBeCloseTo(first.model - first.original, 12);
    const ex = await h['comparisons.example']({ id: cmpId, exampleId: first.exampleId });
    expect(ex.models[0].scores.confidence).toBeCloseTo(first.original, 10);
    expect(ex.models[2].scores.confidence).toBeCloseTo(first.model, 10);
    expect((await h['comparisons.changedExamples']({ id: cmpId, key: cmp.entries[1].key })).label).toBe('Retrain (reference)');
    await refused(h['comparisons.changedExamples']({ id: cmpId, key: 'nope' }), /has no model 'nope'/, 'not_found');
    expect(() => validateArgs('comparisons.changedExamples', { id: cmpId, limit: 0 })).toThrow();
  });
});

describe('a model whose features cannot be projected', () => {
  it('is recorded as unavailable with the reason (cached, not retried); the other models are drawn', async () => {
    const rec = (await w.ws.getRecord<ComparisonManifest>('comparisons', cmpId))!;
    const bad = cloneModel((await loadRegisteredModel(w.ws, 'mlp-t')).model);
    for (const t of bad.graph.initializers) if (t.data instanceof Float32Array) t.data.fill(NaN);
    const saved = await saveDerivedModel(w.ws, encodeModel(bad), { name: 'mlp-nan', source: 'unlearned', arch: 'mlp', archOptions: null });
    const data = structuredClone(rec.data);
    data.entries[2].runs[0].model = { kind: 'models', id: 'mlp-nan', sha256: saved.sha256 };
    await w.ws.putRecord<ComparisonManifest>('comparisons', 'cmp-nan', data);
    const logs: string[] = [];
    expect(await comparisonEmbedding.run({ comparisonId: 'cmp-nan' }, ctx(w.ws.root, { log: (_l, m) => void logs.push(m) }))).toMatchObject({ computed: 0, cached: 2, unavailable: 1 });
    expect(logs.join('\n')).toMatch(/could not be projected: PCA: row 0, column 0 is not a finite number/);
    submitted = [];
    running = [];
    const r = await h['comparisons.embedding']({ id: 'cmp-nan' });
    expect(r.status).toBe('ready');
    expect(submitted).toHaveLength(0);
    expect(r.data.models[2]).toMatchObject({ computed: false, points: null });
    expect(r.data.models[2].missing).toMatch(/^its penultimate features could not be projected/);
    expect(r.charts[0].empty).toBeUndefined();
    expect(r.charts[1].empty).toMatch(/could not be projected/);
    // the failure is cached with the model's hash: a second job does not retry it
    expect(await comparisonEmbedding.run({ comparisonId: 'cmp-nan' }, ctx(w.ws.root))).toMatchObject({ computed: 0, cached: 2, unavailable: 1 });
  }, 60_000);
});

describe('a model that is gone', () => {
  it('is reported as unavailable (chart empty with the reason), no job is submitted for it, and the job skips it', async () => {
    const cmp = await h['comparisons.get']({ id: cmpId });
    const ga = cmp.entries[2].runs[0].model;
    const { data } = await h['comparisons.embedding']({ id: cmpId, compute: false });
    rmSync(join(w.ws.root, 'cache', 'embeddings', `${projectionKey(ga.sha256, data.sample.idsSha256)}.json`));
    await w.ws.deleteRecord('models', ga.id);
    submitted = [];
    running = [];
    const r = await h['comparisons.embedding']({ id: cmpId });
    expect(r.status).toBe('ready');
    expect(submitted).toHaveLength(0);
    expect(r.data.models[2]).toMatchObject({ computed: false, points: null, missing: `model '${ga.id}' is no longer in the workspace` });
    expect(r.charts[1].empty).toBe(`model '${ga.id}' is no longer in the workspace`);
    const logs: string[] = [];
    expect(await comparisonEmbedding.run({ comparisonId: cmpId }, ctx(w.ws.root, { log: (_l, m) => void logs.push(m) }))).toMatchObject({ computed: 0, cached: 2, unavailable: 1 });
    expect(logs.some((m) => m.includes('no longer in the workspace'))).toBe(true);
  });
});
