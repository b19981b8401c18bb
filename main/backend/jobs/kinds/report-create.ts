// report.create: the audit report of a comparison written into the workspace (<workspace>/report-files/
// <id>/) by the reports service, the same one `lethe report create` runs. A job because building the PDF
// (charts rendered to SVG, fonts, pdfkit) takes seconds of synchronous work that must not stall the API
// process. Not resumable: a report is written whole or not at all.

import { z } from 'zod';
import type { ReportCreateJobResult } from '../../../../preload/api/jobs';
import type { JobContext, JobHandler } from '../types';
import { parseJobParams } from './params';

const schema = z
  .object({
    comparison: z.string().min(1).max(128),
    sign: z.string().min(1).max(4096).optional(),
    operator: z.string().min(1).max(200).optional(),
  })
  .strict();

export type ReportCreateParams = z.output<typeof schema>;

export const reportCreate: JobHandler<ReportCreateParams, ReportCreateJobResult> = {
  kind: 'report.create',
  description: 'Write the signed audit report (PDF, manifest, signature, public key) of a comparison into the workspace',
  resumable: false,
  validate(params: unknown): ReportCreateParams {
    return parseJobParams('report.create', schema, params);
  },
  async run(p: ReportCreateParams, ctx: JobContext): Promise<ReportCreateJobResult> {
    const { openWorkspace } = await import('../../workspace');
    const { createReport } = await import('../../services/reports');
    const ws = await openWorkspace(ctx.workspaceRoot, { mode: 'worker' });
    try {
      ctx.progress({ step: 0, total: 1, fraction: 0, message: `writing the report of ${p.comparison}` });
      const r = await createReport(ws, { comparison: p.comparison, ...(p.sign ? { sign: p.sign } : {}), ...(p.operator ? { operator: p.operator } : {}) });
      ctx.log('info', `Report ${r.id} written to ${r.pdf} (PDF SHA-256 ${r.pdfSha256}).`);
      ctx.progress({ step: 1, total: 1, fraction: 1, message: 'done' });
      return { reportId: r.id, comparisonId: p.comparison, pdfSha256: r.pdfSha256, manifestSha256: r.manifestSha256 };
    } finally {
      await ws.close();
    }
  },
};
