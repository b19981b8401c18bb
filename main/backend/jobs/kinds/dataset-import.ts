// dataset.import: import a dataset source (IDX, CIFAR, image folder, CSV, NPZ, built-in sample) into
// the workspace store, with progress. Not resumable: an interrupted import leaves no record (blobs
// written so far are unreferenced and content-addressed) and is simply run again.

import type { BuiltinJobTypes, DatasetImportResult } from '../../../../preload/api/jobs';
import { datasetArgSchemas } from '../../services/datasets-schemas';
import type { JobContext, JobHandler } from '../types';
import { parseJobParams } from './params';

// the contract (preload/api/jobs.ts) defines this kind's parameter and result types
export type DatasetImportParams = BuiltinJobTypes['dataset.import']['params'];
export type { DatasetImportResult };

export const datasetImport: JobHandler<DatasetImportParams, DatasetImportResult> = {
  kind: 'dataset.import',
  description: 'Import a dataset (IDX, CIFAR, image folder, CSV, NPZ or a built-in sample) into the workspace',
  resumable: false,
  validate(params: unknown): DatasetImportParams {
    return parseJobParams('dataset.import', datasetArgSchemas['datasets.import'], params) as DatasetImportParams;
  },
  async run(params: DatasetImportParams, ctx: JobContext): Promise<DatasetImportResult> {
    const { openWorkspace } = await import('../../workspace');
    const { runDatasetImport, closeReaders } = await import('../../services/datasets');
    const ws = await openWorkspace(ctx.workspaceRoot, { mode: 'worker' });
    const t0 = Date.now();
    let last = 0;
    try {
      ctx.log('info', `Importing ${params.format} source ${params.source} as '${params.name}'.`);
      const rec = await runDatasetImport(ws, params, {
        signal: ctx.signal,
        progress: (p) => {
          const now = Date.now();
          if (now - last < 100 && p.total === null) return;
          last = now;
          ctx.progress({
            step: p.done,
            total: p.total,
            fraction: p.total ? Math.min(1, p.done / p.total) : null,
            message: p.message ?? `${p.done} examples read`,
          });
        },
      });
      const m = rec.data;
      for (const w of m.warnings.slice(0, 20)) ctx.log('warn', w);
      ctx.progress({ step: m.count, total: m.count, fraction: 1, message: `imported ${m.count} examples` });
      return { datasetId: rec.id, name: m.name, count: m.count, counts: { train: m.counts.totals.train, test: m.counts.totals.test }, seconds: (Date.now() - t0) / 1000 };
    } finally {
      await closeReaders(ws).catch(() => {});
      await ws.close();
    }
  },
};
