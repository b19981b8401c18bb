// Comparisons: one record holding the original, the retrain reference and any number of unlearned
// models on one forget set, with every metric of the evaluation suite per seed, its mean and 95%
// confidence interval over seeds, and its gap to the retrain reference. The dashboards and the PDF
// report read these records.
//
// Which reference each model is judged against:
//   unlearned model at seed s -> retrain at seed s (retrain seed 0 when there are fewer retrain seeds);
//   the original               -> retrain seed 0;
//   retrain at seed s          -> retrain at seed s+1 (mod N) when N >= 2: the natural seed-to-seed
//                                 variation, the floor any method can reach; with N = 1 nothing.
// Ensemble metrics (forgetting quality F, final score, KLoM) need N >= 2 unlearned and N retrained
// models (seeds 0..N-1) and are computed for unlearned models only.

import { randomBytes } from 'node:crypto';
import { ApiError } from '../../../preload/api/common';
import type { Workspace, RecordEnvelope } from '../workspace/types';
import { computeMetrics, loadSvm, METRICS, meanCI } from '../../engine/eval';
import { ensureMiaAll, primeFromCache, saveToCache } from './metric-cache';
import { judge as judgeThresholds, validateThreshold } from '../../engine/runs/thresholds';
import type { Threshold } from '../../engine/runs/contract-types';
import type { EvalInputs, LayerActivations, MetricValue, ModelOutputs } from '../../engine/eval/types';
import type { ComparisonEntry, ComparisonManifest, MetricSummary, RunManifest, TypedRef } from '../../engine/runs/contract-types';
import type { StoredOutputs } from '../../engine/runs/outputs';
import { evaluateOnForgetSet, getRun, resolveBasis, runOutputs, type Hooks, type RunRecord, type Session } from './unlearning';
import { loadRegisteredModel } from './models';
import { loadArrays } from '../../engine/unlearn/data';
import { relearningProbe } from '../../engine/unlearn/relearn';
import type { ArrayDataset } from '../../engine/train/data';
import { findForgetSet } from './forget-sets';

export type ComparisonRecord = RecordEnvelope<ComparisonManifest>;

export interface CompareRequest extends Session {
  name?: string;
  /** the original model (θ_o) */
  model: string;
  forgetSet: string;
  /** unlearning runs (any methods, any seeds, including retrain runs) on this model and forget set */
  runs: string[];
  /** metric ids to compute (default: every metric); the others are recorded as not computed */
  metrics?: string[];
  /** pass/fail thresholds fixed when the runs were planned */
  thresholds?: { fixedAt: string; items: Threshold[] };
}

function groupKey(r: RunManifest): string {
  return `${r.method!.id}:${JSON.stringify(r.method!.params)}`;
}

function summarize(values: (number | null)[], missing?: string): MetricSummary {
  const ok = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (!ok.length) return { values, mean: null, sd: null, lo: null, hi: null, n: 0, gapToRetrain: null, ...(missing ? { missing } : {}) };
  const ci = meanCI(ok);
  return { values, mean: ci.mean, sd: ci.sd, lo: ci.lo, hi: ci.hi, n: ci.n, gapToRetrain: null };
}

function withSplit(o: StoredOutputs): { outputs: ModelOutputs; acts: LayerActivations[]; sampleSplit: Uint8Array } {
  return { outputs: o, acts: o.activations, sampleSplit: Uint8Array.from(o.sample, (r) => o.split[r]) };
}

export async function buildComparison(ws: Workspace, req: CompareRequest, h: Hooks = {}): Promise<ComparisonRecord> {
  const fs = await findForgetSet(ws, req.forgetSet);
  if (!req.runs.length) throw new ApiError('invalid_argument', 'A comparison needs at least one unlearning run.');
  const runs: RunRecord[] = [];
  for (const id of req.runs) {
    const r = await getRun(ws, id);
    if (r.data.type !== 'unlearn' || !r.data.method) throw new ApiError('invalid_argument', `Run '${id}' is not an unlearning run.`);
    if (r.data.refs.forgetSet.id !== fs.id) throw new ApiError('invalid_argument', `Run '${id}' unlearned forget set '${r.data.refs.forgetSet.id}', not '${fs.data.name}'.`);
    if (r.data.refs.original.id !== req.model) throw new ApiError('invalid_argument', `Run '${id}' started from model '${r.data.refs.original.id}', not '${req.model}'.`);
    runs.push(r);
  }
  h.progress?.(0.02, 'evaluating the original model');
  const origRun = (await evaluateOnForgetSet(ws, { model: req.model, forgetSet: fs.id, provider: req.provider, threads: req.threads, deferMia: true }, { signal: h.signal })).run;
  await loadSvm();
  const origOut = withSplit(await runOutputs(ws, origRun));
  const shaOf = new Map<ModelOutputs, string>();
  shaOf.set(origOut.outputs, origRun.blobs.outputs.sha256);
  await primeFromCache(ws, origRun.blobs.outputs.sha256, origOut.outputs);

  // group runs by method + parameters; seeds ordered
  const groups = new Map<string, RunRecord[]>();
  for (const r of runs) {
    const k = groupKey(r.data);
    const g = groups.get(k) ?? [];
    if (g.some((x) => x.data.seed === r.data.seed)) throw new ApiError('invalid_argument', `Two runs of ${r.data.method!.name} with the same parameters have seed ${r.data.seed}.`);
    g.push(r);
    groups.set(k, g);
  }
  for (const g of groups.values()) g.sort((a, b) => a.data.seed - b.data.seed);
  const retrainGroups = [...groups.entries()].filter(([, g]) => g[0].data.method!.id === 'retrain');
  if (retrainGroups.length > 1) throw new ApiError('invalid_argument', 'A comparison takes one retrain reference (one recipe); several were given.');
  const retrain = retrainGroups[0]?.[1] ?? [];
  const outCache = new Map<string, ReturnType<typeof withSplit>>();
  const outputsOf = async (r: RunRecord) => {
    let o = outCache.get(r.id);
    if (!o) {
      outCache.set(r.id, (o = withSplit(await runOutputs(ws, r))));
      shaOf.set(o.outputs, r.blobs.outputs.sha256);
      await primeFromCache(ws, r.blobs.outputs.sha256, o.outputs);
    }
    return o;
  };
  const retrainOuts = await Promise.all(retrain.map(outputsOf));
  const N = Math.max(1, ...[...groups.values()].map((g) => g.length));

  const entries: ComparisonEntry[] = [];
  const all = METRICS.map((m) => m.id);
  for (const id of req.metrics ?? []) if (!all.includes(id)) throw new ApiError('invalid_argument', `Unknown metric '${id}'; known: ${all.join(', ')}.`);
  const metricIds = req.metrics ? all.filter((id) => req.metrics!.includes(id)) : all;
  const skipped = all.filter((id) => !metricIds.includes(id));
  // every model's MIA SVC fits first, side by side on worker threads (one per thread this comparison
  // may use); judge() then reads them from the memo
  const miaFeatures = [...new Set(METRICS.filter((m) => metricIds.includes(m.id)).flatMap((m) => m.mia ?? []))];
  if (miaFeatures.length) {
    h.progress?.(0.03, `membership-inference attacks (SVC) on ${runs.length + 1} models`);
    const outs = [origOut, ...(await Promise.all(runs.map(outputsOf)))];
    await ensureMiaAll(
      ws,
      outs.map((o) => ({ outputsSha: shaOf.get(o.outputs)!, outputs: o.outputs })),
      { features: miaFeatures, concurrency: req.threads ?? 1, ...(h.signal ? { signal: h.signal } : {}) },
    );
  }
  const total = runs.length + 1;
  let done = 0;
  // the relearning probe needs the models themselves and D_f
  const wantRelearn = metricIds.includes('relearn-forget-accuracy');
  let forgetData: ArrayDataset | null = null;
  const relearnOf = async (modelName: string): Promise<EvalInputs['relearning']> => {
    if (!wantRelearn) return undefined;
    if (!forgetData) {
      const b = await resolveBasis(ws, req.model, fs.id);
      forgetData = await loadArrays(b.reader, b.indices.forget);
    }
    const m = await loadRegisteredModel(ws, modelName);
    const r = await relearningProbe(m.model, forgetData, { seed: 0, provider: req.provider, threads: req.threads, signal: h.signal });
    return r ?? undefined;
  };
  const judge = async (model: ReturnType<typeof withSplit>, ref: ReturnType<typeof withSplit> | null, ensemble: EvalInputs['ensemble'] | undefined, runSeconds: number | undefined, modelName: string) => {
    const relearning = await relearnOf(modelName);
    const inputs: EvalInputs = {
      ...(relearning ? { relearning } : {}),
      model: model.outputs,
      original: origOut.outputs,
      ...(ref ? { reference: ref.outputs } : {}),
      ...(ensemble ? { ensemble } : {}),
      activations: { model: model.acts, original: origOut.acts, ...(ref ? { reference: ref.acts } : {}), sampleSplit: model.sampleSplit },
      ...(runSeconds !== undefined ? { runSeconds } : {}),
    };
    const r = computeMetrics(inputs, metricIds);
    for (const o of [model.outputs, ref?.outputs, origOut.outputs]) if (o && shaOf.has(o)) await saveToCache(ws, shaOf.get(o)!, o);
    for (const id of skipped) r[id] = { value: null, missing: 'not computed in this comparison (not requested)' };
    done++;
    h.progress?.(0.05 + (0.9 * done) / total, `metrics: ${done} of ${total} models`);
    return r;
  };
  const entryOf = (key: string, label: string, role: ComparisonEntry['role'], method: ComparisonEntry['method'], runsOf: ComparisonEntry['runs'], perSeed: Record<string, MetricValue>[]): ComparisonEntry => {
    const metrics: Record<string, MetricSummary> = {};
    const extras: Record<string, Record<string, unknown>> = {};
    for (const id of all) {
      const vals = perSeed.map((s) => s[id]?.value ?? null);
      metrics[id] = summarize(vals, perSeed.find((s) => s[id]?.missing)?.[id]?.missing);
      const ex = perSeed[0]?.[id]?.extra;
      if (ex) extras[id] = ex;
    }
    return { key, label, role, method, runs: runsOf, metrics, extras };
  };
  const runRef = (r: RunRecord): TypedRef => ({ kind: 'runs', id: r.id, sha256: r.manifestSha256 });

  // the original
  const origMetrics = await judge(origOut, retrainOuts[0] ?? null, undefined, undefined, req.model);
  entries.push(
    entryOf('original', `Original (${req.model})`, 'original', null, [{ seed: 0, run: runRef(origRun), model: origRun.data.refs.original, seconds: null, guardrail: null, notes: origRun.data.notes }], [origMetrics]),
  );
  // the retrain reference and the methods
  const ordered = [...groups.entries()].sort(([, a], [, b]) => Number(b[0].data.method!.id === 'retrain') - Number(a[0].data.method!.id === 'retrain'));
  const labels = new Map<string, number>();
  for (const [key, g] of ordered) {
    const m = g[0].data.method!;
    const isRef = m.id === 'retrain';
    const outs = await Promise.all(g.map(outputsOf));
    const ensemble = !isRef && outs.length >= 2 && retrainOuts.length >= 2 ? { unlearned: outs.map((o) => o.outputs), retrained: retrainOuts.map((o) => o.outputs) } : undefined;
    const perSeed: Record<string, MetricValue>[] = [];
    for (let i = 0; i < g.length; i++) {
      const ref = isRef ? (retrainOuts.length >= 2 ? retrainOuts[(i + 1) % retrainOuts.length] : null) : (retrainOuts[i] ?? retrainOuts[0] ?? null);
      perSeed.push(await judge(outs[i], ref, ensemble, g[i].data.seconds ?? undefined, g[i].data.refs.output!.id));
    }
    const nth = (labels.get(m.id) ?? 0) + 1;
    labels.set(m.id, nth);
    entries.push(
      entryOf(
        key,
        isRef ? 'Retrain (reference)' : nth > 1 ? `${m.name} #${nth}` : m.name,
        isRef ? 'reference' : 'unlearned',
        m,
        g.map((r) => ({ seed: r.data.seed, run: runRef(r), model: r.data.refs.output!, seconds: r.data.seconds, guardrail: r.data.guardrail ? { tripped: r.data.guardrail.tripped, stopped: r.data.guardrail.stopped } : null, notes: r.data.notes })),
        perSeed,
      ),
    );
  }
  const refEntry = entries.find((e) => e.role === 'reference');
  for (const e of entries) {
    if (!refEntry || e === refEntry) continue;
    for (const id of all) {
      const a = e.metrics[id]?.mean;
      const b = refEntry.metrics[id]?.mean;
      if (a !== null && a !== undefined && b !== null && b !== undefined) e.metrics[id].gapToRetrain = Math.abs(a - b);
    }
  }
  const runsBeforeThresholds: string[] = [];
  if (req.thresholds) {
    const items = req.thresholds.items.map((t) => validateThreshold(t, all));
    const fixed = Date.parse(req.thresholds.fixedAt);
    if (!Number.isFinite(fixed)) throw new ApiError('invalid_argument', 'thresholds.fixedAt must be an ISO date-time.');
    // thresholds are pre-registered for runs that started after they were fixed; runs reused from
    // earlier (their results may have been seen) are named, so a report can say so
    runsBeforeThresholds.push(...runs.filter((r) => Date.parse(r.data.startedAt) < fixed).map((r) => r.id));
    if (runsBeforeThresholds.length) h.log?.('warn', `${runsBeforeThresholds.length} run(s) started before the thresholds were fixed (reused from earlier).`);
    for (const e of entries) if (e.role === 'unlearned') e.verdicts = judgeThresholds(e, items);
  }
  const first = runs[0].data;
  const data: ComparisonManifest = {
    format: 'lethe.comparison/1',
    name: req.name ?? `${req.model} / ${fs.data.name}`,
    refs: { forgetSet: first.refs.forgetSet, dataset: first.refs.dataset, original: first.refs.original },
    forgetSetName: fs.data.name,
    datasetName: fs.data.dataset.name,
    classNames: fs.data.classNames,
    counts: first.counts,
    seeds: N,
    metrics: METRICS.map((m) => ({ id: m.id, name: m.name, unit: m.unit, formula: m.formula, source: m.source, better: m.better })),
    entries,
    ...(req.thresholds ? { thresholds: { fixedAt: req.thresholds.fixedAt, items: req.thresholds.items, runsStartedBefore: runsBeforeThresholds } } : {}),
    createdAt: new Date().toISOString(),
  };
  const id = `cmp-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(4).toString('hex')}`;
  h.progress?.(1, 'saved');
  const refs: Record<string, TypedRef> = { ...data.refs };
  for (const e of entries) for (const r of e.runs) refs[`run:${e.key === 'original' ? 'original' : e.method?.id}:${r.seed}:${r.run.id}`] = r.run;
  return ws.putRecord<ComparisonManifest>('comparisons', id, data, {}, refs);
}

export async function getComparison(ws: Workspace, id: string): Promise<ComparisonRecord> {
  const r = await ws.getRecord<ComparisonManifest>('comparisons', id);
  if (!r) throw new ApiError('not_found', `There is no comparison '${id}'.`);
  return r;
}
