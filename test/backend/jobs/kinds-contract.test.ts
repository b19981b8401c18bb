// The contract's list of built-in job kinds (preload/api/jobs.ts JOB_KINDS_BUILTIN) is exactly the
// runner's registry (main/backend/jobs/kinds/index.ts JOB_KINDS), the handlers' parameter and result
// types are the contract's (checked at compile time by `npm run typecheck`), and plug-in kinds still load.

import { describe, expect, it } from 'vitest';
import { JOB_KINDS_BUILTIN, isBuiltinJobKind, type BuiltinJobTypes, type JobInfo, type JobKindName, type JobSubmit } from '../../../preload/api/jobs';
import { JOB_KINDS, loadJobKinds } from '../../../main/backend/jobs/kinds';
import type { JobHandler } from '../../../main/backend/jobs/types';
import type { datasetImport } from '../../../main/backend/jobs/kinds/dataset-import';
import type { diagnosticsStress } from '../../../main/backend/jobs/kinds/diagnostics-stress';
import type { forgetSetScore } from '../../../main/backend/jobs/kinds/forget-set-score';
import type { modelTrain } from '../../../main/backend/jobs/kinds/model-train';
import type { workspaceVerify } from '../../../main/backend/jobs/kinds/workspace-verify';
import type { unlearnDemo } from '../../../main/backend/jobs/kinds/demo';
import { TEST_KINDS } from './helpers';

// ---- compile-time checks: a handler's types must be the contract's ----
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Params<H> = H extends JobHandler<infer P, unknown> ? P : never;
type Result<H> = H extends JobHandler<unknown, infer R> ? R : never;
type Typed = {
  'workspace.verify': typeof workspaceVerify;
  'diagnostics.stress': typeof diagnosticsStress;
  'dataset.import': typeof datasetImport;
  'forgetSet.score': typeof forgetSetScore;
  'model.train': typeof modelTrain;
  'unlearn.demo': typeof unlearnDemo;
};
type ResultsMatch = { [K in keyof Typed]: Same<Result<Typed[K]>, BuiltinJobTypes[K]['result']> };
type ParamsMatch = { [K in Exclude<keyof Typed, 'model.train'>]: Same<Params<Typed[K]>, BuiltinJobTypes[K]['params']> };
const resultsMatch: ResultsMatch = { 'workspace.verify': true, 'diagnostics.stress': true, 'dataset.import': true, 'forgetSet.score': true, 'model.train': true, 'unlearn.demo': true };
const paramsMatch: ParamsMatch = { 'workspace.verify': true, 'diagnostics.stress': true, 'dataset.import': true, 'forgetSet.score': true, 'unlearn.demo': true };
// every built-in kind has an entry in BuiltinJobTypes, and nothing else does
const typesCoverKinds: Same<keyof BuiltinJobTypes, JobKindName> = true;

describe('job kinds in the contract', () => {
  it('JOB_KINDS_BUILTIN equals the kinds the runner registers', async () => {
    expect(JOB_KINDS.map((h) => h.kind)).toEqual([...JOB_KINDS_BUILTIN]);
    expect([...(await loadJobKinds()).keys()].sort()).toEqual([...JOB_KINDS_BUILTIN].sort());
    expect(new Set(JOB_KINDS_BUILTIN).size).toBe(JOB_KINDS_BUILTIN.length);
    expect(resultsMatch && paramsMatch && typesCoverKinds).toBeTruthy();
  });

  it('plug-in kinds (any string) still load next to the built-in ones', async () => {
    const kinds = await loadJobKinds([TEST_KINDS]);
    const extra = [...kinds.keys()].filter((k) => !isBuiltinJobKind(k));
    expect(extra.length).toBeGreaterThan(0);
    for (const k of JOB_KINDS_BUILTIN) expect(kinds.has(k)).toBe(true);
    // a plug-in kind is a valid JobSubmit / JobInfo kind; a built-in one types its params and result
    const plugin: JobSubmit = { kind: extra[0], params: { anything: 1 } };
    const typed: JobSubmit<'forgetSet.score'> = { kind: 'forgetSet.score', params: { datasetId: 'd', model: { modelId: 'm' }, metric: 'margin' } };
    const info = { kind: 'forgetSet.score', result: { datasetId: 'd', metric: 'margin', scored: 3, key: 'k', min: 0, mean: 1, max: 2, seconds: 0 } } as Pick<JobInfo<'forgetSet.score'>, 'kind' | 'result'>;
    expect(plugin.kind).toBe(extra[0]);
    expect(typed.params.metric).toBe('margin');
    expect(info.result?.scored).toBe(3);
  });
});
