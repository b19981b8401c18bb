// Sweeps: every trial of a method's hyperparameter grid or random search is an ordinary unlearning
// run (cached, so a restarted sweep reuses finished trials), judged against the retrain reference;
// the sweep record holds the table and the best setting.

import { randomBytes } from 'node:crypto';
import { ApiError } from '../../../preload/api/common';
import type { Workspace, RecordEnvelope } from '../workspace/types';
import type { SweepManifest, SweepTrial, TypedRef } from '../../engine/runs/contract-types';
import { computeMetrics, loadSvm } from '../../engine/eval';
import { primeFromCache, saveToCache } from './metric-cache';
import { bestTrial, expandSweep, type SweepSpec } from '../../engine/unlearn/sweep';
import { getMethod } from '../../engine/unlearn/registry';
import { getRun, runOutputs, runUnlearning, type Hooks, type Session } from './unlearning';
import type { GuardrailSettings } from '../../engine/unlearn/guardrail';

export type SweepRecord = RecordEnvelope<SweepManifest>;

export interface SweepRequest extends Session {
  name?: string;
  model: string;
  forgetSet: string;
  spec: SweepSpec;
  guardrail?: Partial<GuardrailSettings>;
}

/** The sweep record from finished runs: the retrain reference and one run per trial (in trial order). */
export async function summarizeSweep(ws: Workspace, req: SweepRequest, retrainRunId: string, trialRunIds: string[]): Promise<SweepRecord> {
  const method = getMethod(req.spec.method);
  const ref = await getRun(ws, retrainRunId);
  if (ref.data.method?.id !== 'retrain') throw new ApiError('invalid_argument', `run '${retrainRunId}' is not a retrain run.`);
  await loadSvm();
  const refOut = await runOutputs(ws, ref);
  await primeFromCache(ws, ref.blobs.outputs.sha256, refOut);
  const trials: SweepTrial[] = [];
  for (const id of trialRunIds) {
    const r = await getRun(ws, id);
    if (r.data.refs.forgetSet.id !== ref.data.refs.forgetSet.id || r.data.refs.original.sha256 !== ref.data.refs.original.sha256) throw new ApiError('invalid_argument', `run '${id}' is not on the same model and forget set as the reference.`);
    const out = await runOutputs(ws, r);
    await primeFromCache(ws, r.blobs.outputs.sha256, out);
    const v = computeMetrics({ model: out, reference: refOut }, ['tow', 'avg-gap', 'mia-efficacy']);
    await saveToCache(ws, r.blobs.outputs.sha256, out);
    await saveToCache(ws, ref.blobs.outputs.sha256, refOut);
    const tow = v['tow']?.value ?? null;
    const avgGap = v['avg-gap']?.value ?? null;
    trials.push({
      params: r.data.method!.params,
      run: { kind: 'runs', id: r.id, sha256: r.manifestSha256 },
      model: r.data.refs.output!,
      metrics: { tow, avgGap, forgetAccuracy: r.data.summary.forgetAccuracy, retainAccuracy: r.data.summary.retainAccuracy, testAccuracy: r.data.summary.testAccuracy, miaEfficacy: v['mia-efficacy']?.value ?? null },
      objective: req.spec.objective === 'tow' ? tow : avgGap,
      guardrail: r.data.guardrail ? { tripped: r.data.guardrail.tripped, stopped: r.data.guardrail.stopped } : null,
      seconds: r.data.seconds,
    });
  }
  const best = bestTrial(
    req.spec.objective,
    trials.map((t) => ({ objective: t.objective, guardrailTripped: !!t.guardrail?.tripped })),
  );
  const data: SweepManifest = {
    format: 'lethe.sweep/1',
    name: req.name ?? `${method.id} sweep on ${req.forgetSet}`,
    refs: { original: ref.data.refs.original, forgetSet: ref.data.refs.forgetSet, dataset: ref.data.refs.dataset, reference: { kind: 'runs', id: ref.id, sha256: ref.manifestSha256 } },
    method: { id: method.id, name: method.name },
    spec: { mode: req.spec.mode, space: req.spec.space as Record<string, unknown>, base: req.spec.base ?? {}, trials: trials.length, seed: req.spec.seed ?? 0, objective: req.spec.objective },
    trials,
    best,
    createdAt: new Date().toISOString(),
  };
  const refs: Record<string, TypedRef> = { ...data.refs };
  trials.forEach((t, i) => (refs[`trial:${i + 1}`] = t.run));
  return ws.putRecord<SweepManifest>('sweeps', `sweep-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(4).toString('hex')}`, data, {}, refs);
}

/** The whole sweep in this process (the CLI): retrain reference, every trial, the summary. */
export async function runSweep(ws: Workspace, req: SweepRequest, h: Hooks = {}): Promise<SweepRecord> {
  const trials = expandSweep(req.spec);
  const s = { provider: req.provider, threads: req.threads };
  const total = trials.length + 1;
  const ref = await runUnlearning(ws, { model: req.model, forgetSet: req.forgetSet, method: 'retrain', seed: 0, ...s }, { signal: h.signal, progress: (f, m) => h.progress?.(f / total, `retrain: ${m}`), log: h.log });
  const ids: string[] = [];
  for (let i = 0; i < trials.length; i++) {
    const r = await runUnlearning(ws, { model: req.model, forgetSet: req.forgetSet, method: req.spec.method, params: trials[i], seed: 0, guardrail: req.guardrail, ...s }, { signal: h.signal, progress: (f, m) => h.progress?.((i + 1 + f) / total, `trial ${i + 1}/${trials.length}: ${m}`), log: h.log });
    ids.push(r.run.id);
  }
  return summarizeSweep(ws, req, ref.run.id, ids);
}

export function sweepTable(s: SweepManifest): string {
  const names = Object.keys(s.spec.space);
  const head = ['#', ...names, s.spec.objective === 'tow' ? 'ToW' : 'Avg. Gap', 'Forget %', 'Retain %', 'Test %', 'Guardrail'];
  const rows = s.trials.map((t, i) => [
    `${i + 1}${i === s.best ? '*' : ''}`,
    ...names.map((n) => String(t.params[n])),
    t.objective === null ? '-' : t.objective.toFixed(4),
    t.metrics.forgetAccuracy.toFixed(2),
    t.metrics.retainAccuracy.toFixed(2),
    t.metrics.testAccuracy.toFixed(2),
    t.guardrail?.tripped ? (t.guardrail.stopped ? 'stopped' : 'flagged') : 'ok',
  ]);
  const all = [head, ...rows];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((v, i) => v.padStart(w[i])).join('  ');
  const best = s.best === null ? 'No trial passed the guardrail with a score.' : `Best (*): ${JSON.stringify(Object.fromEntries(names.map((n) => [n, s.trials[s.best!].params[n]])))}`;
  return [line(head), ...rows.map(line), '', best, `Objective: ${s.spec.objective === 'tow' ? 'ToW against the retrain reference (higher is better)' : 'Avg. Gap against the retrain reference (lower is better)'}; trials whose guardrail tripped never win.`].join('\n');
}
