// How long an unlearning plan will take on this machine, before it is launched ('unlearning.estimate').
// Every number rests on something measured here, and says what:
//   1. a stored run with the same cache key is reused: it costs nothing;
//   2. else the newest run of the same method on the same model (same parameters preferred), or on
//      another model of the same architecture and size, its recorded wall time scaled to this plan's
//      data (D_f + D_r) and epochs;
//   3. else the model's own training on this machine: the retrain reference repeats the original's
//      recipe on D_r (training time × |D_r| / |D|); another method is taken as `epochs` passes over
//      D_f + D_r at the training speed (examples per second, forward and backward), a rough upper bound;
//   4. else nothing is measured yet and the estimate says so.
// A job's own cost beyond those phases (its worker, the membership-inference fit) is added from past
// run jobs, and the comparison job is estimated from past comparison jobs.

import type { JobInfo } from '../../../preload/api/jobs';
import type { PlanEstimateRun, UnlearningPlanEstimate } from '../../../preload/api/plan-estimate';
import type { UnlearningPlanArgs } from '../../../preload/api/unlearning';
import type { RunManifest } from '../../engine/runs/contract-types';
import { getMethod } from '../../engine/unlearn/registry';
import { canonicalJson } from '../../engine/util/canonical-json';
import { engineToApiError } from '../errors';
import type { Workspace } from '../workspace/types';
import type { ModelManifest } from './models';
import { validatePlan } from './unlearning-api';
import { findCached, resolveBasis, unlearnCacheKey, validateUnlearnParams } from './unlearning';

const s1 = (x: number) => (x < 10 ? x.toFixed(1) : Math.round(x).toString());

function epochsOf(params: Record<string, unknown> | undefined): number | null {
  const e = params?.epochs;
  return typeof e === 'number' && e > 0 ? e : null;
}

/**
 * The comparison that follows the runs, from the newest comparison job this machine finished (its wall
 * time per model and seed, times this plan's models and seeds); null when none is recorded.
 */
export function estimateCompare(pastJobs: readonly JobInfo[], models: number, seeds: number): { seconds: number; detail: string } | null {
  const done = pastJobs
    .filter((j) => j.kind === 'unlearn.compare' && j.state === 'succeeded' && j.startedAt && j.endedAt)
    .sort((x, y) => y.endedAt!.localeCompare(x.endedAt!));
  for (const j of done) {
    const r = j.result as { entries?: number; seeds?: number } | null;
    const seconds = (Date.parse(j.endedAt!) - Date.parse(j.startedAt!)) / 1000;
    if (!r?.entries || !r.seeds || !(seconds >= 0)) continue;
    const per = seconds / (r.entries * r.seeds);
    return { seconds: per * models * seeds, detail: `measured: a comparison of ${r.entries} models × ${r.seeds} ${r.seeds === 1 ? 'seed' : 'seeds'} took ${s1(seconds)} s on this machine (job ${j.id}, ${j.endedAt!.slice(0, 10)}), scaled to ${models} models × ${seeds} ${seeds === 1 ? 'seed' : 'seeds'}` };
  }
  return null;
}

/**
 * What a run job takes beyond its recorded phases (loading, method, evaluation, saving): starting its
 * worker, opening the data, the membership-inference fit. The median over this machine's finished,
 * not reused 'unlearn.run' jobs whose run record is known; null when there is none.
 */
export function jobOverhead(pastJobs: readonly JobInfo[], runs: ReadonlyMap<string, RunManifest>): { seconds: number; jobs: number } | null {
  const extra: number[] = [];
  for (const j of pastJobs) {
    if (j.kind !== 'unlearn.run' || j.state !== 'succeeded' || !j.startedAt || !j.endedAt) continue;
    const r = j.result as { runId?: string; cached?: boolean } | null;
    const t = r?.runId && !r.cached ? runs.get(r.runId)?.timings : undefined;
    if (!t) continue;
    const wall = (Date.parse(j.endedAt) - Date.parse(j.startedAt)) / 1000;
    const d = wall - (t.load + t.method + t.evaluate + t.save);
    if (d >= 0) extra.push(d);
  }
  if (!extra.length) return null;
  extra.sort((x, y) => x - y);
  const m = extra.length >> 1;
  return { seconds: extra.length % 2 ? extra[m] : (extra[m - 1] + extra[m]) / 2, jobs: extra.length };
}

export async function estimatePlan(ws: Workspace, a: UnlearningPlanArgs, pastJobs: readonly JobInfo[] = []): Promise<UnlearningPlanEstimate> {
  const { seeds, runs } = validatePlan(a);
  const b = await resolveBasis(ws, a.model, a.forgetSet).catch((e) => {
    throw engineToApiError(e);
  });
  const counts = { forget: b.indices.forget.length, retain: b.indices.retain.length, test: b.indices.test.length };
  const rows = counts.forget + counts.retain + counts.test;
  const allRuns = (await ws.listRecords<RunManifest>('runs'))
    .filter((r) => r.data.type === 'unlearn' && r.data.method && r.data.timings)
    .sort((x, y) => y.data.endedAt.localeCompare(x.data.endedAt));
  const past = allRuns.filter((r) => r.data.refs.original.sha256 === b.original.sha256);
  // runs on other models of the same architecture and size (another original trained the same way) time the same work
  const me = b.original.manifest;
  const models = new Map((await ws.listRecords<ModelManifest>('models')).map((m) => [m.id, m.data]));
  const sameShape = me.arch
    ? allRuns.filter((r) => {
        const o = models.get(r.data.refs.original.id);
        return r.data.refs.original.sha256 !== b.original.sha256 && o?.arch === me.arch && o.parameterCount === me.parameterCount;
      })
    : [];
  const training = b.original.manifest.training;
  // examples per second of one training step (forward and backward) of this model on this machine
  const speed = training && training.seconds > 0 ? (training.data.n * training.epochs) / training.seconds : null;
  // evaluating every example: measured by a past run on this model (scaled to the rows), else a forward pass at a third of a training step's cost
  const evalRun = past[0];
  const evalSeconds = evalRun?.data.timings
    ? (evalRun.data.timings.evaluate + evalRun.data.timings.load + evalRun.data.timings.save) * (rows / Math.max(1, evalRun.data.counts.forget + evalRun.data.counts.retain + evalRun.data.counts.test))
    : speed
      ? rows / (3 * speed)
      : null;

  const overhead = jobOverhead(pastJobs, new Map(allRuns.map((r) => [r.id, r.data])));
  const plusOverhead = (e: PlanEstimateRun): PlanEstimateRun =>
    overhead && e.seconds !== null ? { ...e, seconds: e.seconds + overhead.seconds, detail: `${e.detail}; plus ${s1(overhead.seconds)} s a job takes here besides (its worker, the membership-inference fit; median of ${overhead.jobs} ${overhead.jobs === 1 ? 'job' : 'jobs'})` } : e;

  const out: PlanEstimateRun[] = [];
  for (const r of runs) {
    const method = getMethod(r.methodId);
    const { guardrail } = validateUnlearnParams({ model: a.model, forgetSet: a.forgetSet, method: r.methodId, params: r.params, guardrail: a.guardrail });
    const pick = (list: typeof allRuns) => {
      const same = list.filter((p) => p.data.method!.id === r.methodId);
      return same.find((p) => canonicalJson(p.data.method!.params) === canonicalJson(r.params)) ?? same[0];
    };
    const measured = pick(past) ?? pick(sameShape);
    const onWhat = measured && measured.data.refs.original.sha256 !== b.original.sha256 ? `on '${measured.data.refs.original.id}' (same architecture and size)` : 'on this model';
    for (let seed = 0; seed < seeds; seed++) {
      const base = { method: r.methodId, methodName: r.methodName, seed };
      const hit = await findCached(ws, unlearnCacheKey(method, r.params, seed, guardrail, b));
      if (hit) {
        out.push({ ...base, reusedRun: hit.id, seconds: 0, basis: 'reused', detail: `reused: run ${hit.id} already did exactly this (${s1(hit.data.seconds ?? 0)} s of method time)` });
        continue;
      }
      if (measured?.data.timings) {
        const t = measured.data.timings;
        const c = measured.data.counts;
        const dataRatio = (counts.forget + counts.retain) / Math.max(1, c.forget + c.retain);
        const eNow = epochsOf(r.params);
        const eThen = epochsOf(measured.data.method!.params);
        const epochRatio = eNow !== null && eThen !== null ? eNow / eThen : 1;
        const rowRatio = rows / Math.max(1, c.forget + c.retain + c.test);
        const seconds = t.method * dataRatio * epochRatio + (t.load + t.evaluate + t.save) * rowRatio;
        const scaled = [Math.abs(dataRatio - 1) > 0.01 ? `${(c.forget + c.retain).toLocaleString('en-US')} → ${(counts.forget + counts.retain).toLocaleString('en-US')} examples` : '', epochRatio !== 1 ? `${eThen} → ${eNow} epochs` : ''].filter(Boolean);
        out.push(plusOverhead({
          ...base,
          reusedRun: null,
          seconds,
          basis: 'run',
          detail: `measured: ${measured.data.method!.name} took ${s1(t.load + t.method + t.evaluate + t.save)} s ${onWhat} on this machine (run ${measured.id}, ${measured.data.endedAt.slice(0, 10)})${scaled.length ? `, scaled for ${scaled.join(' and ')}` : ''}`,
        }));
        continue;
      }
      if (training && speed) {
        if (r.methodId === 'retrain') {
          const seconds = training.seconds * (counts.retain / Math.max(1, training.data.n)) + (evalSeconds ?? 0);
          out.push(plusOverhead({ ...base, reusedRun: null, seconds, basis: 'training', detail: `the original's training took ${s1(training.seconds)} s for ${training.data.n.toLocaleString('en-US')} examples on this machine; retraining repeats its recipe on the ${counts.retain.toLocaleString('en-US')} retained ones, plus evaluating every example` }));
          continue;
        }
        const epochs = epochsOf(r.params) ?? 1;
        const seconds = (epochs * (counts.forget + counts.retain)) / speed + (evalSeconds ?? 0);
        out.push(plusOverhead({
          ...base,
          reusedRun: null,
          seconds,
          basis: 'training',
          detail: `rough upper bound: no ${r.methodName} run on this model yet; ${epochs} ${epochs === 1 ? 'pass' : 'passes'} over D_f + D_r at this model's training speed here (${Math.round(speed).toLocaleString('en-US')} examples/s), plus evaluating every example`,
        }));
        continue;
      }
      out.push({ ...base, reusedRun: null, seconds: null, basis: 'none', detail: `not measured: neither a ${r.methodName} run on this model nor its training time is recorded on this machine` });
    }
  }
  const known = out.filter((r) => r.seconds !== null);
  // the comparison holds the original, the retrain reference and every method
  const compare = estimateCompare(pastJobs, runs.length + ((a.includeRetrain ?? true) ? 1 : 2), seeds);
  const runSeconds = known.reduce((s, r) => s + r.seconds!, 0);
  return {
    runs: out,
    compare: compare ?? { seconds: null, detail: 'not measured: no comparison has finished on this machine yet' },
    totalSeconds: known.length || compare ? runSeconds + (compare?.seconds ?? 0) : null,
    unknown: out.length - known.length,
    counts,
  };
}
