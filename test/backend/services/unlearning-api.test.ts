// unlearning.* / runs.* / comparisons.* handlers in-process on a tiny workspace (a 36-example IDX
// dataset, an MLP, a class forget set): plan validation refuses bad methods, parameters, seeds and
// guardrails before submitting anything; a valid plan submits one unlearn.run job per (method, seed),
// the retrain reference first, and an unlearn.compare job depending on all of them. Runs and
// comparisons are read from records written here (running real unlearning is tested elsewhere).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unzipSync } from 'fflate';
import { datasetHandlers } from '../../../main/backend/services/datasets';
import { forgetSetHandlers } from '../../../main/backend/services/forget-sets';
import { createModel } from '../../../main/backend/services/models';
import { planUnlearning, unlearningHandlers } from '../../../main/backend/services/unlearning-api';
import { datasetImport } from '../../../main/backend/jobs/kinds/dataset-import';
import { unlearnCompare, unlearnRun, unlearnSweep } from '../../../main/backend/jobs/kinds/unlearn';
import type { JobContext } from '../../../main/backend/jobs/types';
import { validateArgs } from '../../../main/backend/validation';
import { encodeOutputs, type StoredOutputs } from '../../../main/engine/runs/outputs';
import type { ComparisonManifest, RunManifest } from '../../../main/engine/runs/contract-types';
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

function fakeJob(n: number, s: JobSubmit): JobInfo {
  return {
    id: `job-${n}`,
    kind: s.kind,
    title: s.title ?? s.kind,
    params: s.params,
    state: 'queued',
    createdAt: new Date().toISOString(),
    startedAt: null,
    endedAt: null,
    progress: null,
    reason: null,
    result: null,
    resumable: false,
    attempt: 1,
    dependsOn: s.dependsOn ?? [],
  };
}

let w: Awaited<ReturnType<typeof tempWorkspace>>;
let submitted: JobSubmit[] = [];
let cancelled: string[] = [];
let failOn: ((s: JobSubmit, n: number) => boolean) | null = null;
const deps = () => ({
  workspace: w.ws,
  submitJob: async (s: JobSubmit) => {
    if (failOn?.(s, submitted.length)) throw new ApiError('unavailable', 'the queue is closed');
    // the real runner validates a kind's params at submission: so does this fake
    if (s.kind === 'unlearn.run') unlearnRun.validate(s.params);
    if (s.kind === 'unlearn.compare') unlearnCompare.validate(s.params);
    if (s.kind === 'unlearn.sweep') unlearnSweep.validate(s.params);
    submitted.push(s);
    return fakeJob(submitted.length, s);
  },
  cancelJob: async (id: string) => void cancelled.push(id),
});
let h: ReturnType<typeof unlearningHandlers>;

beforeAll(async () => {
  w = await tempWorkspace();
  const src = join(w.dir, 'idx');
  mkdirSync(src);
  const n = 30;
  const img = Uint8Array.from({ length: n * 16 }, (_, i) => (i * 5) % 256);
  const lab = Uint8Array.from({ length: n }, (_, i) => i % 3);
  writeFileSync(join(src, 'train-images-idx3-ubyte.gz'), idxFile([n, 4, 4], img));
  writeFileSync(join(src, 'train-labels-idx1-ubyte.gz'), idxFile([n], lab));
  writeFileSync(join(src, 't10k-images-idx3-ubyte.gz'), idxFile([6, 4, 4], img.subarray(0, 96)));
  writeFileSync(join(src, 't10k-labels-idx1-ubyte.gz'), idxFile([6], lab.subarray(0, 6)));
  const jobs: JobSubmit[] = [];
  const dh = datasetHandlers({ workspace: w.ws, submitJob: async (j) => (jobs.push(j), { id: 'j' } as never) });
  await dh['datasets.import']({ format: 'idx', source: src, name: 'tiny', options: { numClasses: 3, classNames: ['a', 'b', 'c'] } });
  const ctx = { jobId: 'j', workspaceRoot: w.ws.root, signal: new AbortController().signal, progress: () => {}, log: () => {}, checkpoint: null, saveCheckpoint: async () => {}, settings: { executionProvider: 'cpu', intraOpThreads: 1 }, dependencies: [] } as JobContext;
  await datasetImport.run(datasetImport.validate(jobs[0].params), ctx);
  await forgetSetHandlers({ workspace: w.ws, submitJob: async () => ({}) as never })['forgetSets.create']({ datasetId: 'tiny', name: 'class a', rule: { kind: 'class', classes: ['a'] } });
  await createModel(w.ws, { name: 'mlp-a', arch: 'mlp', classes: 3, inputShape: [1, 4, 4], seed: 0 });
  h = unlearningHandlers(deps());
}, 60_000);
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

describe('unlearning catalogue', () => {
  it('lists the registry methods with parameter specs drawn from their schemas', async () => {
    const methods = await h['unlearning.methods']({});
    expect(methods.map((m) => m.id)).toEqual(expect.arrayContaining(['retrain', 'ft', 'ga', 'salun']));
    const salun = methods.find((m) => m.id === 'salun')!;
    expect(salun.params.find((p) => p.name === 'maskFraction')).toMatchObject({ type: 'number', default: 0.5, max: 1, min: 0, minExclusive: true });
    expect(salun.params.find((p) => p.name === 'epochs')).toMatchObject({ type: 'integer', default: 10 });
    expect(JSON.parse(JSON.stringify(methods))).toEqual(methods); // plain data for the transports
  });

  it('lists every metric with its formula and source', async () => {
    const metrics = await h['unlearning.metrics']({});
    const ids = metrics.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['forget-accuracy', 'retain-accuracy', 'test-accuracy', 'mia-efficacy', 'avg-gap', 'tow', 'run-time']));
    for (const m of metrics) {
      expect(Object.keys(m).sort()).toEqual(['better', 'formula', 'id', 'name', 'source', 'unit']);
      expect(m.formula.length).toBeGreaterThan(5);
    }
  });
});

describe('unlearning.plan', () => {
  const base = { model: 'mlp-a', forgetSet: 'class a' };

  it('refuses an unknown method, out-of-range or unknown parameters, bad seeds and guardrails, submitting nothing', async () => {
    submitted = [];
    await refused(planUnlearning(deps(), { ...base, methods: [{ id: 'ft' }, { id: 'no-such-method' }] }), /Unknown unlearning method 'no-such-method'/);
    await refused(planUnlearning(deps(), { ...base, methods: [{ id: 'salun', params: { maskFraction: 1.5 } }] }), /salun: 'maskFraction'.*1/);
    await refused(planUnlearning(deps(), { ...base, methods: [{ id: 'salun', params: { epochs: 2.5 } }] }), /salun: 'epochs'.*integer/);
    await refused(planUnlearning(deps(), { ...base, methods: [{ id: 'ga', params: { lr: 0 } }] }), /ga: 'lr'/);
    await refused(planUnlearning(deps(), { ...base, methods: [{ id: 'ft', params: { momentum: 0.9 } }] }), /ft: unknown parameter\(s\) 'momentum'/);
    await refused(planUnlearning(deps(), { ...base, methods: [{ id: 'salun', params: { maskFraction: 'half' } }] }), /maskFraction/);
    for (const seeds of [0, 21, 1.5, -1]) await refused(planUnlearning(deps(), { ...base, methods: [{ id: 'ft' }], seeds }), /seeds must be a whole number from 1 to 20/);
    await refused(planUnlearning(deps(), { ...base, methods: [{ id: 'ft' }], guardrail: { maxDropPoints: 150 } }), /maxDropPoints/);
    await refused(planUnlearning(deps(), { ...base, methods: [{ id: 'ft' }, { id: 'ft', params: { epochs: 10 } }] }), /appears twice/);
    await refused(planUnlearning(deps(), { ...base, model: 'nope', methods: [{ id: 'ft' }] }), /no model named 'nope'/, 'not_found');
    await refused(planUnlearning(deps(), { ...base, forgetSet: 'nope', methods: [{ id: 'ft' }] }), /no forget set 'nope'/, 'not_found');
    expect(submitted).toEqual([]);
  });

  it('the argument schema refuses malformed plans before the handler runs', () => {
    expect(() => validateArgs('unlearning.plan', { ...base, methods: [] })).toThrow(/'methods' must have at least 1 items/);
    expect(() => validateArgs('unlearning.plan', { ...base, methods: [{ id: 'ft', extra: 1 }] })).toThrow(/unknown key 'extra'/);
    expect(() => validateArgs('unlearning.plan', { ...base, methods: [{ id: 'ft', params: { lr: [1] } }] })).toThrow(ApiError);
    expect(() => validateArgs('unlearning.plan', { ...base, methods: [{ id: 'ft' }], guardrail: { action: 'explode' } })).toThrow(/'guardrail.action' must be one of stop, flag, off/);
    expect(() => validateArgs('runs.exportOutputs', { id: 'r', path: '/tmp/x', format: 'xlsx' })).toThrow(/'format'/);
    expect(validateArgs('unlearning.plan', { ...base, methods: [{ id: 'ft', params: { lr: 0.1, epochs: 2 } }], seeds: 3 })).toMatchObject({ seeds: 3 });
  });

  it('submits retrain first, one unlearn.run per (method, seed), then a compare job that depends on all of them', async () => {
    submitted = [];
    const r = await h['unlearning.plan']({
      ...base,
      methods: [
        { id: 'salun', params: { maskFraction: 0.3 } },
        { id: 'ft', params: { epochs: 2 } },
      ],
      seeds: 2,
      guardrail: { maxDropPoints: 3, action: 'flag' },
      name: 'tiny comparison',
    });
    const runs = submitted.filter((s) => s.kind === 'unlearn.run');
    expect(runs.map((s) => [(s.params as { method: string }).method, (s.params as { seed: number }).seed])).toEqual([
      ['retrain', 0],
      ['retrain', 1],
      ['salun', 0],
      ['salun', 1],
      ['ft', 0],
      ['ft', 1],
    ]);
    const fsId = (runs[0].params as { forgetSet: string }).forgetSet;
    expect(fsId).not.toBe('class a'); // the record id, not the name
    // parameters are sent validated, with every default filled in
    expect(runs[2].params).toMatchObject({ model: 'mlp-a', forgetSet: fsId, params: { maskFraction: 0.3, epochs: 10, lr: 0.013 }, guardrail: { maxDropPoints: 3, action: 'flag' } });
    expect(runs[2].title).toMatch(/SalUn on 'mlp-a' forgetting 'class a' \(seed 0\)/);
    expect(runs[0].title).toMatch(/^Retrain reference/);
    const compare = submitted.at(-1)!;
    expect(compare.kind).toBe('unlearn.compare');
    expect(compare.params).toEqual({ model: 'mlp-a', forgetSet: fsId, name: 'tiny comparison' });
    expect(compare.dependsOn).toEqual(['job-1', 'job-2', 'job-3', 'job-4', 'job-5', 'job-6']);
    expect(r.jobs.map((j) => j.id)).toEqual(['job-1', 'job-2', 'job-3', 'job-4', 'job-5', 'job-6', 'job-7']);
    expect(r.compareJobId).toBe('job-7');
  });

  it('seeds default to 1; includeRetrain false leaves the reference out; an explicit retrain is not doubled', async () => {
    submitted = [];
    await planUnlearning(deps(), { ...base, methods: [{ id: 'ga' }], includeRetrain: false });
    expect(submitted.map((s) => `${s.kind}:${(s.params as { method?: string }).method ?? ''}`)).toEqual(['unlearn.run:ga', 'unlearn.compare:']);
    submitted = [];
    await planUnlearning(deps(), { ...base, methods: [{ id: 'ga' }, { id: 'retrain' }] });
    expect(submitted.map((s) => (s.params as { method?: string }).method ?? 'compare')).toEqual(['retrain', 'ga', 'compare']);
  });

  it('cancels what it submitted when a later submission is refused', async () => {
    submitted = [];
    cancelled = [];
    failOn = (s) => s.kind === 'unlearn.compare';
    try {
      await refused(planUnlearning(deps(), { ...base, methods: [{ id: 'ft' }] }), /queue is closed/, 'unavailable');
    } finally {
      failOn = null;
    }
    expect(cancelled).toEqual(['job-1', 'job-2']);
  });
});

describe('unlearning.sweep', () => {
  it('submits the retrain reference, one run per trial (validated, defaults filled) and a summary job depending on all', async () => {
    submitted = [];
    const r = await h['unlearning.sweep']({ model: 'mlp-a', forgetSet: 'class a', method: 'ga', space: { lr: { values: [1e-4, 1e-3] }, epochs: { values: [1, 2] } }, mode: 'grid', objective: 'tow', base: { batchSize: 16 } });
    expect(r.trials).toBe(4);
    const runs = submitted.filter((s) => s.kind === 'unlearn.run');
    expect((runs[0].params as { method: string }).method).toBe('retrain');
    expect(runs.slice(1).map((s) => (s.params as { params: Record<string, number> }).params)).toMatchObject([
      { lr: 1e-4, epochs: 1, batchSize: 16 },
      { lr: 1e-4, epochs: 2, batchSize: 16 },
      { lr: 1e-3, epochs: 1, batchSize: 16 },
      { lr: 1e-3, epochs: 2, batchSize: 16 },
    ]);
    const last = submitted.at(-1)!;
    expect(last.kind).toBe('unlearn.sweep');
    expect(last.dependsOn).toHaveLength(5);
    expect(r.sweepJobId).toBe(`job-${submitted.length}`);
  });

  it('refuses an unknown parameter or a bad range before submitting anything', async () => {
    submitted = [];
    await refused(h['unlearning.sweep']({ model: 'mlp-a', forgetSet: 'class a', method: 'ga', space: { speed: { values: [1] } }, mode: 'grid', objective: 'tow' }), /ga has no parameter 'speed'/);
    await refused(h['unlearning.sweep']({ model: 'mlp-a', forgetSet: 'class a', method: 'ga', space: { lr: { values: [-1] } }, mode: 'grid', objective: 'tow' }), /'lr'/);
    expect(submitted).toHaveLength(0);
    expect(await h['sweeps.list']({})).toEqual([]);
    await refused(h['sweeps.get']({ id: 'nope' }), /no sweep/, 'not_found');
  });
});

describe('runs and comparisons', () => {
  const outputs: StoredOutputs = {
    ids: ['train-0', 'train-1', 'test-0'],
    split: Uint8Array.from([0, 1, 2]),
    labels: Int32Array.from([0, 1, 2]),
    logits: Float32Array.from([2, 0, 0, 0, 1.5, 0, 0, 0, -1]),
    numClasses: 3,
    n: 3,
    sample: new Int32Array(0),
    activations: [],
  };
  const ref = (kind: 'models' | 'forgetSets' | 'datasets' | 'runs', id: string) => ({ kind, id, sha256: 'a'.repeat(64) });
  const manifest = (over: Partial<RunManifest>): RunManifest => ({
    format: 'lethe.run/1',
    type: 'unlearn',
    cacheKey: 'k',
    refs: { original: ref('models', 'mlp-a'), forgetSet: ref('forgetSets', 'fs-1'), dataset: ref('datasets', 'tiny'), output: ref('models', 'mlp-a-ft-s0'), outputs: ref('runs', 'r') },
    method: { id: 'ft', name: 'FT', exact: false, params: { epochs: 2 } },
    seed: 0,
    guardrail: null,
    seconds: 1.25,
    steps: 4,
    stats: {},
    notes: [],
    counts: { train: 30, forget: 10, retain: 20, heldOut: 0, test: 6, notTrained: 0 },
    summary: { forgetAccuracy: 10, retainAccuracy: 90, testAccuracy: 80 },
    environment: { provider: 'cpu', threads: 1, app: '0', onnxruntime: '1', node: '22', os: 'linux', cpu: 'x' },
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:00:01.000Z',
    ...over,
  });

  beforeAll(async () => {
    const blob = await w.ws.putBlob(encodeOutputs(outputs));
    await w.ws.putRecord<RunManifest>('runs', 'ft-run', manifest({}), { outputs: blob });
    await new Promise((r) => setTimeout(r, 5));
    const g = { settings: { maxDropPoints: 5, action: 'stop' as const, sliceSize: 100 }, sliceSize: 100, baseline: 90, lowest: 80, tripped: true, trippedAtStep: 3, stopped: true, checks: [] };
    await w.ws.putRecord<RunManifest>('runs', 'ga-run', manifest({ method: { id: 'ga', name: 'GA', exact: false, params: {} }, refs: { ...manifest({}).refs, original: ref('models', 'other') }, guardrail: g }), { outputs: blob });
    const cmp: ComparisonManifest = {
      format: 'lethe.comparison/1',
      name: 'first',
      refs: { forgetSet: ref('forgetSets', 'fs-1'), dataset: ref('datasets', 'tiny'), original: ref('models', 'mlp-a') },
      forgetSetName: 'class a',
      datasetName: 'tiny',
      classNames: ['a', 'b', 'c'],
      counts: manifest({}).counts,
      seeds: 1,
      metrics: [],
      entries: [],
      createdAt: '2026-01-02T00:00:00.000Z',
    };
    await w.ws.putRecord<ComparisonManifest>('comparisons', 'cmp-1', cmp);
  });

  it('runs.list summarises runs newest first and filters by model and forget set', async () => {
    const all = await h['runs.list']({});
    expect(all.map((r) => r.id)).toEqual(['ga-run', 'ft-run']);
    expect(all[1]).toEqual({
      id: 'ft-run',
      type: 'unlearn',
      method: { id: 'ft', name: 'FT', exact: false },
      seed: 0,
      model: 'mlp-a',
      forgetSet: 'fs-1',
      output: 'mlp-a-ft-s0',
      summary: { forgetAccuracy: 10, retainAccuracy: 90, testAccuracy: 80 },
      seconds: 1.25,
      guardrailTripped: false,
      createdAt: expect.any(String),
    });
    expect(all[0].guardrailTripped).toBe(true);
    expect((await h['runs.list']({ model: 'mlp-a' })).map((r) => r.id)).toEqual(['ft-run']);
    const fs = (await forgetSetHandlers({ workspace: w.ws, submitJob: async () => ({}) as never })['forgetSets.list']({}))[0];
    expect(await h['runs.list']({ forgetSet: fs.name })).toEqual([]);
    await refused(h['runs.list']({ forgetSet: 'nope' }), /no forget set/, 'not_found');
  });

  it('runs.get returns the manifest with its id; an unknown run is not_found', async () => {
    const r = await h['runs.get']({ id: 'ft-run' });
    expect(r).toMatchObject({ id: 'ft-run', format: 'lethe.run/1', method: { id: 'ft' }, seed: 0 });
    await refused(h['runs.get']({ id: 'nope' }), /no run 'nope'/, 'not_found');
  });

  it('runs.exportOutputs writes NPZ (ids, split, labels, logits; no activations) or CSV, and never overwrites silently', async () => {
    const npz = join(w.dir, 'out.npz');
    const r = await h['runs.exportOutputs']({ id: 'ft-run', path: npz, format: 'npz' });
    expect(r).toMatchObject({ id: 'ft-run', path: npz, format: 'npz', rows: 3 });
    expect(Object.keys(unzipSync(readFileSync(npz))).sort()).toEqual(['ids.npy', 'labels.npy', 'logits.npy', 'split.npy']);
    await refused(h['runs.exportOutputs']({ id: 'ft-run', path: npz, format: 'npz' }), /already exists/, 'conflict');
    await h['runs.exportOutputs']({ id: 'ft-run', path: npz, format: 'npz', overwrite: true });
    const csv = join(w.dir, 'out.csv');
    await h['runs.exportOutputs']({ id: 'ft-run', path: csv, format: 'csv' });
    const lines = readFileSync(csv, 'utf8').trim().split(/\r?\n/);
    expect(lines[0]).toBe('id,split,label,logit_0,logit_1,logit_2');
    expect(lines).toHaveLength(4);
    await refused(h['runs.exportOutputs']({ id: 'ft-run', path: 'relative.csv', format: 'csv' }), /must be absolute/);
    await refused(h['runs.exportOutputs']({ id: 'ft-run', path: w.dir, format: 'csv' }), /is a folder/);
  });

  it('comparisons.list and comparisons.get', async () => {
    expect(await h['comparisons.list']({})).toEqual([
      { id: 'cmp-1', name: 'first', model: 'mlp-a', forgetSet: 'fs-1', forgetSetName: 'class a', datasetName: 'tiny', seeds: 1, entries: [], createdAt: '2026-01-02T00:00:00.000Z' },
    ]);
    expect(await h['comparisons.get']({ id: 'cmp-1' })).toMatchObject({ id: 'cmp-1', name: 'first', format: 'lethe.comparison/1' });
    await refused(h['comparisons.get']({ id: 'nope' }), /no comparison 'nope'/, 'not_found');
  });
});
