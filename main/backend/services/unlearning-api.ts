// API handlers for unlearning.*, runs.* and comparisons.* (spread into the backend's handler table;
// their zod schemas are in unlearning-schemas.ts). The computing happens in jobs
// (jobs/kinds/unlearn.ts); this file lists what the engine offers (methods, metrics), plans a set of
// jobs (planUnlearning), and reads the run and comparison records.

import { createHash } from 'node:crypto';
import { ApiError } from '../../../preload/api/common';
import type { JobInfo, JobSubmit } from '../../../preload/api/jobs';
import type {
  UnlearningSweepArgs,
  UnlearningSweepResult,
  SweepSummary,
  ComparisonSummary,
  MetricInfo,
  RunDetail,
  RunSummary,
  UnlearningMethods,
  UnlearningPlanArgs,
  UnlearningPlanResult,
} from '../../../preload/api/unlearning';
import { METRICS } from '../../engine/eval';
import { listMethods, getMethod } from '../../engine/unlearn/registry';
import { canonicalJson } from '../../engine/util/canonical-json';
import { outputsCsv, encodeOutputs } from '../../engine/runs/outputs';
import type { ComparisonManifest, RunManifest, SweepManifest } from '../../engine/runs/contract-types';
import { expandSweep } from '../../engine/unlearn/sweep';
import { validateThreshold } from '../../engine/runs/thresholds';
import type { Threshold } from '../../engine/runs/contract-types';
import { engineToApiError } from '../errors';
import type { Workspace } from '../workspace/types';
import { writeFileAtomic } from '../workspace/atomic';
import type { MethodHandlers } from './datasets';
import { MAX_PLAN_SEEDS } from './unlearning-schemas';
import { findForgetSet } from './forget-sets';
import { getModelRecord } from './models';
import { checkOutputFile } from './output-target';
import { getRun, runOutputs, validateUnlearnParams, type RunRecord } from './unlearning';
import { getComparison } from './comparisons';
import { comparisonAttack, comparisonCharts } from './dashboard';
import { comparisonEmbedding } from './embedding';
import { changedExamples, comparisonExample } from './examples';

// ---------- catalogue ----------

export function metricInfos(): MetricInfo[] {
  return METRICS.map((m) => ({ id: m.id, name: m.name, unit: m.unit, formula: m.formula, source: m.source, better: m.better }));
}

// ---------- plan ----------

export interface PlanDeps {
  workspace: Workspace;
  submitJob(job: JobSubmit): Promise<JobInfo>;
  /** cancels what was already submitted when a later submission is refused */
  cancelJob?(id: string): Promise<unknown>;
  /** queued and running jobs (comparisons.embedding joins a job already computing) */
  listJobs?(): Promise<JobInfo[]>;
}

interface PlannedRun {
  methodId: string;
  methodName: string;
  params: Record<string, unknown>;
}

/** Every method's parameters, the seeds and the guardrail, checked before anything is submitted. */
export function validatePlan(a: UnlearningPlanArgs): { seeds: number; runs: PlannedRun[] } {
  const seeds = a.seeds ?? 1;
  if (!Number.isInteger(seeds) || seeds < 1 || seeds > MAX_PLAN_SEEDS) {
    throw new ApiError('invalid_argument', `seeds must be a whole number from 1 to ${MAX_PLAN_SEEDS}, got ${seeds}.`);
  }
  const runs: PlannedRun[] = [];
  const seen = new Set<string>();
  const add = (id: string, raw: Record<string, unknown> | undefined) => {
    let checked: ReturnType<typeof validateUnlearnParams>;
    let name: string;
    try {
      const m = getMethod(id);
      name = m.name;
      checked = validateUnlearnParams({ model: a.model, forgetSet: a.forgetSet, method: m.id, params: raw, guardrail: a.guardrail });
    } catch (e) {
      throw engineToApiError(e);
    }
    const key = canonicalJson({ id, params: checked.params });
    if (seen.has(key)) {
      if (id === 'retrain') return; // the reference asked for twice (includeRetrain and in the list)
      throw new ApiError('invalid_argument', `${name} appears twice with the same parameters; give each setting once.`);
    }
    seen.add(key);
    runs.push({ methodId: id, methodName: name, params: checked.params });
  };
  if (a.includeRetrain ?? true) add('retrain', undefined);
  // an explicit retrain in the list joins the reference at the front
  for (const m of a.methods) if (m.id === 'retrain') add(m.id, m.params);
  for (const m of a.methods) if (m.id !== 'retrain') add(m.id, m.params);
  return { seeds, runs };
}

/**
 * Submit one 'unlearn.run' job per (method, seed), the retrain reference first, and one
 * 'unlearn.compare' job that depends on all of them. Nothing is submitted when any method's
 * parameters, the seeds, the guardrail, the model or the forget set are refused.
 */
export async function planUnlearning(deps: PlanDeps, a: UnlearningPlanArgs): Promise<UnlearningPlanResult> {
  const { seeds, runs } = validatePlan(a);
  let thresholds: Threshold[] | undefined;
  try {
    thresholds = a.thresholds?.map((t) => validateThreshold(t, METRICS.map((m) => m.id)));
  } catch (e) {
    throw engineToApiError(e);
  }
  // fixed now, before any run of this plan starts
  const fixedAt = new Date().toISOString();
  const ws = deps.workspace;
  const model = await getModelRecord(ws, a.model).catch((e) => {
    throw engineToApiError(e);
  });
  const fs = await findForgetSet(ws, a.forgetSet);
  const submitted: JobInfo[] = [];
  try {
    for (const r of runs) {
      for (let seed = 0; seed < seeds; seed++) {
        const params = {
          model: model.id,
          forgetSet: fs.id,
          method: r.methodId,
          params: r.params,
          seed,
          ...(a.guardrail ? { guardrail: a.guardrail } : {}),
        };
        const what = r.methodId === 'retrain' ? 'Retrain reference' : r.methodName;
        submitted.push(await deps.submitJob({ kind: 'unlearn.run', title: `${what} on '${model.id}' forgetting '${fs.data.name}' (seed ${seed})`, params }));
      }
    }
    const compare = await deps.submitJob({
      kind: 'unlearn.compare',
      title: `Compare ${runs.length} ${runs.length === 1 ? 'method' : 'methods'} on '${fs.data.name}'${seeds > 1 ? ` over ${seeds} seeds` : ''}`,
      params: { model: model.id, forgetSet: fs.id, ...(a.name ? { name: a.name } : {}), ...(thresholds ? { thresholds: { fixedAt, items: thresholds } } : {}) },
      dependsOn: submitted.map((j) => j.id),
    });
    return { jobs: [...submitted, compare], compareJobId: compare.id };
  } catch (e) {
    // leave no half-planned pipeline behind
    for (const j of submitted) await deps.cancelJob?.(j.id).catch(() => {});
    throw e;
  }
}

// ---------- sweeps ----------

export async function planSweep(deps: PlanDeps, a: UnlearningSweepArgs): Promise<UnlearningSweepResult> {
  let trials: Record<string, unknown>[];
  try {
    trials = expandSweep({ method: a.method, base: a.base, space: a.space, mode: a.mode, trials: a.trials, seed: a.seed, objective: a.objective });
    validateUnlearnParams({ model: a.model, forgetSet: a.forgetSet, method: 'retrain', guardrail: a.guardrail });
  } catch (e) {
    throw engineToApiError(e);
  }
  const ws = deps.workspace;
  const model = await getModelRecord(ws, a.model).catch((e) => {
    throw engineToApiError(e);
  });
  const fs = await findForgetSet(ws, a.forgetSet);
  const method = getMethod(a.method);
  const submitted: JobInfo[] = [];
  try {
    submitted.push(await deps.submitJob({ kind: 'unlearn.run', title: `Retrain reference on '${model.id}' forgetting '${fs.data.name}'`, params: { model: model.id, forgetSet: fs.id, method: 'retrain', params: {}, seed: 0 } }));
    for (let i = 0; i < trials.length; i++) {
      submitted.push(
        await deps.submitJob({
          kind: 'unlearn.run',
          title: `${method.name} sweep trial ${i + 1}/${trials.length} on '${fs.data.name}'`,
          params: { model: model.id, forgetSet: fs.id, method: method.id, params: trials[i], seed: 0, ...(a.guardrail ? { guardrail: a.guardrail } : {}) },
        }),
      );
    }
    const sweep = await deps.submitJob({
      kind: 'unlearn.sweep',
      title: `${method.name} sweep (${trials.length} trials) on '${fs.data.name}'`,
      params: { model: model.id, forgetSet: fs.id, spec: { method: method.id, base: a.base ?? {}, space: a.space, mode: a.mode, ...(a.trials !== undefined ? { trials: a.trials } : {}), seed: a.seed ?? 0, objective: a.objective }, ...(a.guardrail ? { guardrail: a.guardrail } : {}), ...(a.name ? { name: a.name } : {}) },
      dependsOn: submitted.map((j) => j.id),
    });
    return { jobs: [...submitted, sweep], sweepJobId: sweep.id, trials: trials.length };
  } catch (e) {
    for (const j of submitted) await deps.cancelJob?.(j.id).catch(() => {});
    throw e;
  }
}

export async function listSweeps(ws: Workspace): Promise<SweepSummary[]> {
  const recs = await ws.listRecords<SweepManifest>('sweeps');
  return recs
    .map((r) => ({
      id: r.id,
      name: r.data.name,
      method: r.data.method.id,
      objective: r.data.spec.objective,
      trials: r.data.trials.length,
      best: r.data.best === null ? null : r.data.trials[r.data.best].params,
      bestObjective: r.data.best === null ? null : r.data.trials[r.data.best].objective,
      createdAt: r.createdAt,
    }))
    .sort((x, y) => y.createdAt.localeCompare(x.createdAt));
}

// ---------- runs ----------

export function summarizeRun(r: RunRecord): RunSummary {
  const d = r.data;
  return {
    id: r.id,
    type: d.type,
    method: d.method ? { id: d.method.id, name: d.method.name, exact: d.method.exact } : null,
    seed: d.seed,
    model: d.refs.original.id,
    forgetSet: d.refs.forgetSet.id,
    output: d.refs.output?.id ?? null,
    summary: { ...d.summary },
    seconds: d.seconds,
    guardrailTripped: d.guardrail?.tripped ?? false,
    createdAt: r.createdAt,
  };
}

const newestFirst = (a: { createdAt: string; id: string }, b: { createdAt: string; id: string }) => b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id);

export async function listRuns(ws: Workspace, filter: { forgetSet?: string; model?: string } = {}): Promise<RunSummary[]> {
  const fsId = filter.forgetSet ? (await findForgetSet(ws, filter.forgetSet)).id : null;
  const recs = await ws.listRecords<RunManifest>('runs');
  return recs
    .filter((r) => (fsId === null || r.data.refs.forgetSet.id === fsId) && (!filter.model || r.data.refs.original.id === filter.model))
    .map(summarizeRun)
    .sort(newestFirst);
}

export async function runDetail(ws: Workspace, id: string): Promise<RunDetail> {
  const r = await getRun(ws, id);
  return { id: r.id, createdAt: r.createdAt, ...structuredClone(r.data) };
}

export async function exportRunOutputs(ws: Workspace, a: { id: string; path: string; format: 'npz' | 'csv'; overwrite?: boolean }) {
  await checkOutputFile(a.path, { overwrite: a.overwrite === true, overwriteHint: 'confirm replacing it (overwrite: true)', what: 'The outputs file path' });
  const run = await getRun(ws, a.id);
  const outputs = await runOutputs(ws, run).catch((e) => {
    throw engineToApiError(e);
  });
  const bytes = a.format === 'npz' ? encodeOutputs(outputs, false) : new TextEncoder().encode(outputsCsv(outputs));
  await writeFileAtomic(a.path, bytes);
  return { id: run.id, path: a.path, format: a.format, rows: outputs.n, sha256: createHash('sha256').update(bytes).digest('hex'), sizeBytes: bytes.length };
}

// ---------- comparisons ----------

export function summarizeComparison(r: { id: string; createdAt: string; data: ComparisonManifest }): ComparisonSummary {
  const d = r.data;
  return {
    id: r.id,
    name: d.name,
    model: d.refs.original.id,
    forgetSet: d.refs.forgetSet.id,
    forgetSetName: d.forgetSetName,
    datasetName: d.datasetName,
    seeds: d.seeds,
    entries: d.entries.map((e) => e.label),
    createdAt: d.createdAt ?? r.createdAt,
  };
}

export async function listComparisons(ws: Workspace): Promise<ComparisonSummary[]> {
  return (await ws.listRecords<ComparisonManifest>('comparisons')).map(summarizeComparison).sort(newestFirst);
}

// ---------- handlers ----------

export function unlearningHandlers(deps: PlanDeps): MethodHandlers<UnlearningMethods> {
  const ws = deps.workspace;
  return {
    'unlearning.methods': async () => listMethods(),
    'unlearning.metrics': async () => metricInfos(),
    'unlearning.plan': async (a) => planUnlearning(deps, a),
    'runs.list': async (a) => listRuns(ws, a),
    'runs.get': async ({ id }) => runDetail(ws, id),
    'runs.exportOutputs': async (a) => exportRunOutputs(ws, a),
    'comparisons.list': async () => listComparisons(ws),
    'unlearning.sweep': async (a) => planSweep(deps, a),
    'sweeps.list': async () => listSweeps(ws),
    'sweeps.get': async ({ id }) => {
      const r = await ws.getRecord<SweepManifest>('sweeps', id);
      if (!r) throw new ApiError('not_found', `There is no sweep '${id}'.`);
      return { id: r.id, ...r.data };
    },
    'comparisons.get': async ({ id }) => {
      const r = await getComparison(ws, id);
      return { id: r.id, ...structuredClone(r.data) };
    },
    'comparisons.charts': async ({ id, charts }) => comparisonCharts(ws, id, charts),
    'comparisons.attack': async ({ id, feature }) => comparisonAttack(ws, id, feature),
    'comparisons.embedding': async (a) => comparisonEmbedding(deps, a),
    'comparisons.example': async (a) => comparisonExample(ws, a),
    'comparisons.changedExamples': async (a) => changedExamples(ws, a),
  };
}
