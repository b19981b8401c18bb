// The evaluation dashboards' data: chart options built by the engine's chart builders (the same
// functions the PDF report calls) and the attack simulation computed from every model's stored
// outputs. Only binned counts, member rates and sampled ROC curves leave the backend, never the
// per-example logits (70,000 rows × every model).

import { performance } from 'node:perf_hooks';
import { ApiError } from '../../../preload/api/common';
import type { Workspace } from '../workspace/types';
import type { ComparisonManifest, RunManifest } from '../../engine/runs/contract-types';
import type { ModelOutputs } from '../../engine/eval/types';
import type { AttackData, AttackFeature, ChartSpec, ComparisonChartRequest } from '../../engine/reports/contract-types';
import { ATTACK_FEATURES, attackEdges, attackSummary, splitScores, type SplitScores } from '../../engine/eval/attack';
// each builder from its own module (the barrel charts/index.ts re-exports them for the PDF)
import { attackHistogramChart, attackRocChart } from '../../engine/reports/charts/attack';
import { ckaChart } from '../../engine/reports/charts/cka';
import { confusionChart } from '../../engine/reports/charts/confusion';
import { trainingCurveChart, unlearningCurvesChart } from '../../engine/reports/charts/curves';
import { epsilonChart } from '../../engine/reports/charts/epsilon';
import { gapsChart } from '../../engine/reports/charts/gaps';
import { perClassChart } from '../../engine/reports/charts/per-class';
import { relearnChart } from '../../engine/reports/charts/relearn';
import { runTimesChart } from '../../engine/reports/charts/run-times';
import { tradeoffChart } from '../../engine/reports/charts/tradeoff';
import { getComparison } from './comparisons';
import { getRun, runOutputs } from './unlearning';
import { getModelRecord } from './models';

/** Attack data of the last few (comparison, feature) pairs: comparisons never change once written. */
const attackCache = new Map<string, Promise<AttackData>>();
const ATTACK_CACHE_SIZE = 6;

export async function comparisonAttack(ws: Workspace, id: string, feature: AttackFeature): Promise<AttackData> {
  const key = `${ws.root}\u0000${id}\u0000${feature}`;
  let hit = attackCache.get(key);
  if (hit) {
    attackCache.delete(key);
    attackCache.set(key, hit);
    return hit;
  }
  hit = computeAttack(ws, id, feature);
  attackCache.set(key, hit);
  hit.catch(() => attackCache.delete(key));
  while (attackCache.size > ATTACK_CACHE_SIZE) attackCache.delete(attackCache.keys().next().value!);
  return hit;
}

/**
 * Decoded outputs of recently used runs (split, labels, logits only: ~2.8 MB per 70,000 × 10 model), so
 * switching the attack's score does not decode every NPZ again. Runs never change once written.
 */
const outputsCache = new Map<string, Promise<ModelOutputs>>();
const OUTPUTS_CACHE_SIZE = 16;

function cachedOutputs(ws: Workspace, runId: string): Promise<ModelOutputs> {
  const key = `${ws.root}\u0000${runId}`;
  let hit = outputsCache.get(key);
  if (hit) {
    outputsCache.delete(key);
  } else {
    hit = getRun(ws, runId)
      .then((r) => runOutputs(ws, r))
      .then(({ split, labels, logits, numClasses, n }) => ({ split, labels, logits, numClasses, n }));
    hit.catch(() => outputsCache.delete(key));
  }
  outputsCache.set(key, hit);
  while (outputsCache.size > OUTPUTS_CACHE_SIZE) outputsCache.delete(outputsCache.keys().next().value!);
  return hit;
}

async function computeAttack(ws: Workspace, id: string, feature: AttackFeature): Promise<AttackData> {
  const t0 = performance.now();
  const cmp = (await getComparison(ws, id)).data;
  const info = ATTACK_FEATURES[feature];
  const scored: { e: ComparisonManifest['entries'][number]; s: SplitScores }[] = [];
  let numClasses = cmp.classNames.length;
  for (const e of cmp.entries) {
    const first = e.runs[0];
    if (!first) continue;
    const outputs = await cachedOutputs(ws, first.run.id);
    numClasses = outputs.numClasses;
    scored.push({ e, s: splitScores(outputs, feature) });
  }
  const { edges, clipped } = attackEdges(
    feature,
    numClasses,
    scored.flatMap((x) => [x.s.forget, x.s.retain, x.s.test]),
  );
  const models = scored.map(({ e, s }) => ({ key: e.key, label: e.label, role: e.role, ...attackSummary(s, edges, info.memberWhen) }));
  return {
    comparisonId: id,
    feature,
    featureName: info.name,
    definition: info.definition,
    unit: info.unit,
    memberWhen: info.memberWhen,
    edges,
    clipped,
    models,
    computeMs: Math.round(performance.now() - t0),
  };
}

/** The run manifests of every entry's runs (run times, unlearning curves). */
async function runManifests(ws: Workspace, cmp: ComparisonManifest): Promise<Record<string, RunManifest>> {
  const out: Record<string, RunManifest> = {};
  for (const e of cmp.entries) {
    for (const r of e.runs) {
      const rec = await getRun(ws, r.run.id).catch(() => null);
      if (rec) out[r.run.id] = rec.data;
    }
  }
  return out;
}

/** Builds the requested charts of one comparison, in order, each by its one engine function. */
export async function comparisonCharts(ws: Workspace, id: string, requests: ComparisonChartRequest[]): Promise<ChartSpec[]> {
  const cmp = (await getComparison(ws, id)).data;
  let runs: Record<string, RunManifest> | null = null;
  const runsOf = async () => (runs ??= await runManifests(ws, cmp));
  const out: ChartSpec[] = [];
  for (const r of requests) {
    try {
      out.push(await buildChart(ws, id, cmp, r, runsOf));
    } catch (e) {
      if (e instanceof ApiError) throw e;
      throw new ApiError('invalid_argument', `The ${r.kind} chart could not be built: ${(e as Error).message}.`);
    }
  }
  return out;
}

async function buildChart(ws: Workspace, id: string, cmp: ComparisonManifest, r: ComparisonChartRequest, runsOf: () => Promise<Record<string, RunManifest>>): Promise<ChartSpec> {
  switch (r.kind) {
    case 'tradeoff':
      return tradeoffChart(cmp, { y: r.y });
    case 'gaps':
      return gapsChart(cmp);
    case 'per-class':
      return perClassChart(cmp, r.a, r.b, r.split);
    case 'confusion':
      return confusionChart(cmp, r.model, r.split);
    case 'relearn':
      return relearnChart(cmp);
    case 'run-times':
      return runTimesChart(cmp, await runsOf());
    case 'cka':
      return ckaChart(cmp, r.model, r.split);
    case 'epsilon':
      return epsilonChart(cmp);
    case 'training-curve': {
      const model = cmp.refs.original.id;
      const rec = await getModelRecord(ws, model).catch(() => null);
      return trainingCurveChart(model, rec?.data.training ?? null);
    }
    case 'unlearning-curves':
      return unlearningCurvesChart(cmp, await runsOf());
    case 'attack-histogram':
      return attackHistogramChart(await comparisonAttack(ws, id, r.feature), r.model, r.threshold);
    case 'attack-roc':
      return attackRocChart(await comparisonAttack(ws, id, r.feature), r.pair);
  }
}
