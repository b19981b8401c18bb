// Registry of job kinds. Adding a kind: write kinds/<name>.ts exporting a JobHandler, import it here
// and add it to JOB_KINDS. The runner (main side) uses validate/description/resumable; the worker
// process runs `run`. Keep heavy imports (onnxruntime-node, ...) inside `run` via dynamic import so
// the main process does not load them.

import { pathToFileURL } from 'node:url';
import type { JobHandler } from '../types';
import { diagnosticsStress } from './diagnostics-stress';
import { datasetImport } from './dataset-import';
import { modelTrain } from './model-train';
import { forgetSetScore } from './forget-set-score';
import { workspaceVerify } from './workspace-verify';
import { unlearnCompare, unlearnEvaluate, unlearnRun, unlearnSweep } from './unlearn';
import { unlearnDemo } from './demo';
import { comparisonEmbedding } from './comparison-embedding';
import { reportCreate } from './report-create';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const JOB_KINDS: JobHandler<any, any>[] = [workspaceVerify, diagnosticsStress, datasetImport, modelTrain, forgetSetScore, unlearnRun, unlearnEvaluate, unlearnCompare, unlearnSweep, unlearnDemo, comparisonEmbedding, reportCreate];

function isHandler(v: unknown): v is JobHandler {
  const h = v as JobHandler | null;
  return !!h && typeof h === 'object' && typeof h.kind === 'string' && typeof h.run === 'function' && typeof h.validate === 'function';
}

/**
 * The built-in kinds plus every JobHandler exported by `extraModules` (absolute file paths; used by
 * tests and plug-ins). A kind registered twice is an error.
 */
export async function loadJobKinds(extraModules: string[] = []): Promise<Map<string, JobHandler>> {
  const map = new Map<string, JobHandler>();
  const add = (h: JobHandler, from: string) => {
    if (map.has(h.kind)) throw new Error(`Job kind ${h.kind} is registered twice (again in ${from}).`);
    map.set(h.kind, h);
  };
  for (const h of JOB_KINDS) add(h, 'kinds/index.ts');
  for (const mod of extraModules) {
    const m = (await import(pathToFileURL(mod).href)) as Record<string, unknown>;
    const found = Object.values(m).filter(isHandler);
    if (found.length === 0) throw new Error(`Module ${mod} exports no job handler.`);
    for (const h of found) add(h, mod);
  }
  return map;
}
