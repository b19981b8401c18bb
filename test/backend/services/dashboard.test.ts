// comparisons.charts / comparisons.attack on a workspace holding a comparison of three models whose
// stored outputs are written here: the attack is computed from every row (counts add up to the
// splits, member rates match a direct count), charts come from the engine builders, unknown models
// and bad arguments are refused in one sentence.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparisonAttack, comparisonCharts } from '../../../main/backend/services/dashboard';
import { validateArgs } from '../../../main/backend/validation';
import { encodeOutputs, type StoredOutputs } from '../../../main/engine/runs/outputs';
import type { ComparisonEntry, ComparisonManifest, RunManifest } from '../../../main/engine/runs/contract-types';
import { ApiError } from '../../../preload/api/common';
import { tempWorkspace } from '../../engine/data/helpers';

let w: Awaited<ReturnType<typeof tempWorkspace>>;
const ref = (kind: 'models' | 'forgetSets' | 'datasets' | 'runs', id: string) => ({ kind, id, sha256: 'a'.repeat(64) });
const N = { forget: 30, retain: 120, test: 60 };

/** logits of a 3-class model: `sharp` scales how confident it is on each split */
function outputs(sharp: { forget: number; retain: number; test: number }): StoredOutputs {
  const n = N.forget + N.retain + N.test;
  const split = new Uint8Array(n);
  const labels = new Int32Array(n);
  const logits = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const s = i < N.forget ? 0 : i < N.forget + N.retain ? 1 : 2;
    split[i] = s;
    labels[i] = i % 3;
    const k = [sharp.forget, sharp.retain, sharp.test][s] * (0.5 + ((i * 7919) % 100) / 100);
    logits[i * 3 + (i % 3)] = k;
  }
  return { ids: Array.from({ length: n }, (_, i) => `e${i}`), split, labels, logits, numClasses: 3, n, sample: new Int32Array(0), activations: [] };
}

const manifest = (id: string, method: string | null): RunManifest => ({
  format: 'lethe.run/1',
  type: method ? 'unlearn' : 'evaluate',
  cacheKey: id,
  refs: { original: ref('models', 'orig'), forgetSet: ref('forgetSets', 'fs'), dataset: ref('datasets', 'ds'), outputs: ref('runs', id) },
  method: method ? { id: method, name: method, exact: method === 'retrain', params: {} } : null,
  seed: 0,
  guardrail: method === 'ga' ? { settings: { maxDropPoints: 5, action: 'stop', sliceSize: 10 }, sliceSize: 10, baseline: 90, lowest: 85, tripped: false, trippedAtStep: null, stopped: false, checks: [{ step: 1, accuracy: 88 }, { step: 2, accuracy: 85 }] } : null,
  seconds: 2,
  steps: 2,
  timings: { load: 0.1, method: 2, evaluate: 0.3, save: 0.1 },
  stats: {},
  notes: [],
  counts: { train: 150, forget: N.forget, retain: N.retain, heldOut: 0, test: N.test, notTrained: 0 },
  summary: { forgetAccuracy: 0, retainAccuracy: 0, testAccuracy: 0 },
  environment: { provider: 'cpu', threads: 1, app: '0', onnxruntime: '1', node: '22', os: 'linux', cpu: 'x' },
  startedAt: '2026-01-01T00:00:00.000Z',
  endedAt: '2026-01-01T00:00:01.000Z',
});

const entry = (key: string, role: ComparisonEntry['role'], run: string): ComparisonEntry => ({
  key,
  label: key,
  role,
  method: null,
  runs: [{ seed: 0, run: ref('runs', run), model: ref('models', key), seconds: 2, guardrail: null, notes: [] }],
  metrics: { 'forget-accuracy': { values: [50], mean: 50, sd: null, lo: 50, hi: 50, n: 1, gapToRetrain: 1 } },
  extras: {},
});

beforeAll(async () => {
  w = await tempWorkspace();
  const models = { orig: { forget: 6, retain: 6, test: 2 }, retrain: { forget: 2, retain: 6, test: 2 }, ga: { forget: 3, retain: 6, test: 2 } };
  for (const [key, sharp] of Object.entries(models)) {
    const blob = await w.ws.putBlob(encodeOutputs(outputs(sharp)));
    await w.ws.putRecord<RunManifest>('runs', `run-${key}`, manifest(`run-${key}`, key === 'orig' ? null : key), { outputs: blob });
  }
  const cmp: ComparisonManifest = {
    format: 'lethe.comparison/1',
    name: 'dash',
    refs: { forgetSet: ref('forgetSets', 'fs'), dataset: ref('datasets', 'ds'), original: ref('models', 'orig') },
    forgetSetName: 'fs',
    datasetName: 'ds',
    classNames: ['a', 'b', 'c'],
    counts: manifest('x', null).counts,
    seeds: 1,
    metrics: [{ id: 'forget-accuracy', name: 'Forget accuracy', unit: '%', formula: 'f', source: 's', better: 'closer-to-retrain' }],
    entries: [entry('orig', 'original', 'run-orig'), entry('retrain', 'reference', 'run-retrain'), entry('ga', 'unlearned', 'run-ga')],
    createdAt: '2026-01-02T00:00:00.000Z',
  };
  await w.ws.putRecord<ComparisonManifest>('comparisons', 'cmp-dash', cmp);
});
afterAll(async () => w?.cleanup());

describe('comparisons.attack', () => {
  it('histograms every row of every model on shared bins; member rates are exact shares; ROC per pair', async () => {
    const a = await comparisonAttack(w.ws, 'cmp-dash', 'confidence');
    expect(a.models.map((m) => m.key)).toEqual(['orig', 'retrain', 'ga']);
    expect(a.edges).toHaveLength(51);
    for (const m of a.models) {
      expect(m.totals).toEqual(N);
      expect(m.counts.retain.reduce((x, y) => x + y, 0)).toBe(N.retain);
      expect(m.counts.forget.reduce((x, y) => x + y, 0)).toBe(N.forget);
      expect(m.memberRate.retain[0]).toBe(1);
      expect(m.roc['retain-vs-test'].auc).toBeGreaterThan(0.5); // sharper on retain than on test
    }
    // the original is as sure on the forget set as on the retain set; the retrain reference is not
    const rate = (k: string) => a.models.find((m) => m.key === k)!.memberRate.forget[40];
    expect(rate('orig')).toBeGreaterThan(rate('retrain'));
    expect(await comparisonAttack(w.ws, 'cmp-dash', 'confidence')).toBe(a); // cached
    const e = await comparisonAttack(w.ws, 'cmp-dash', 'entropy');
    expect(e.memberWhen).toBe('lower');
    expect(e.models[0].memberRate.retain.at(-1)).toBe(1);
  });
});

describe('comparisons.charts', () => {
  it('builds every dashboard chart through the engine builders, in the order asked', async () => {
    const charts = await comparisonCharts(w.ws, 'cmp-dash', [
      { kind: 'tradeoff' },
      { kind: 'gaps' },
      { kind: 'run-times' },
      { kind: 'unlearning-curves' },
      { kind: 'attack-histogram', model: 'ga', feature: 'confidence', threshold: 40 },
      { kind: 'attack-roc', feature: 'logit-confidence', pair: 'forget-vs-test' },
      { kind: 'epsilon' },
      { kind: 'training-curve' },
      { kind: 'cka', model: 'ga' },
    ]);
    expect(charts.map((c) => c.id)).toEqual(['tradeoff', 'gaps', 'run-times', 'unlearning-curves', 'attack-histogram-confidence-ga', 'attack-roc-logit-confidence-forget-vs-test', 'epsilon', 'training-curve', 'cka-ga-all']);
    expect(charts[2].table.rows.find((r) => r[0] === 'ga')).toEqual(['ga', 1, 0.1, 2, 0.3, 0.1]);
    expect(charts[3].table.rows).toEqual([['ga', 1, 88, null], ['ga', 2, 85, null]]);
    expect(charts[6].empty).toMatch(/N ≥ 3/);
    expect(charts[7].empty).toMatch(/no recorded training/);
    for (const c of charts) expect(JSON.parse(JSON.stringify(c))).toEqual(c);
  });

  it('refuses an unknown model or comparison, and bad arguments before any work', async () => {
    await expect(comparisonCharts(w.ws, 'cmp-dash', [{ kind: 'confusion', model: 'nope' }])).rejects.toThrow(/confusion chart could not be built: .*no model 'nope'/);
    await expect(comparisonCharts(w.ws, 'cmp-none', [{ kind: 'gaps' }])).rejects.toMatchObject({ code: 'not_found' });
    const bad = (m: 'comparisons.charts' | 'comparisons.attack', a: unknown) => {
      try {
        validateArgs(m, a);
      } catch (e) {
        return e instanceof ApiError ? e.code : 'other';
      }
      return 'accepted';
    };
    expect(bad('comparisons.charts', { id: 'cmp-dash', charts: [{ kind: 'gaps' }] })).toBe('accepted');
    expect(bad('comparisons.charts', { id: 'cmp-dash', charts: [] })).toBe('invalid_argument');
    expect(bad('comparisons.charts', { id: 'cmp-dash', charts: [{ kind: 'pie' }] })).toBe('invalid_argument');
    expect(bad('comparisons.charts', { id: 'cmp-dash', charts: [{ kind: 'gaps', extra: 1 }] })).toBe('invalid_argument');
    expect(bad('comparisons.attack', { id: 'cmp-dash', feature: 'loss' })).toBe('invalid_argument');
    expect(bad('comparisons.attack', { id: '../x', feature: 'entropy' })).toBe('invalid_argument');
  });
});
