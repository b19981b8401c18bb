// API handlers for reports.* (spread into the backend's handler table; schemas in reports-schemas.ts).
// The reports service (reports.ts) writes and verifies; this file turns its records into the list the
// app shows and hands a report's files to the page as bytes.

import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { ApiError } from '../../../preload/api/common';
import type { JobInfo, JobSubmit } from '../../../preload/api/jobs';
import type { ReportFileKind, ReportMethods, ReportSummary, ReportVerdict } from '../../../preload/api/reports';
import { sha256Hex } from '../../engine/reports/manifest';
import type { Workspace } from '../workspace/types';
import type { MethodHandlers } from './datasets';
import { getComparison } from './comparisons';
import { getReport, listReportRecords, readReportManifest, reportFilesOf, verifyReportRecord, type ReportRecord } from './reports';

const MIME: Record<ReportFileKind, string> = { pdf: 'application/pdf', manifest: 'application/json', signature: 'application/octet-stream', publicKey: 'application/x-pem-file' };

/** The report's overall verdict from its per-model verdicts: any fail, else any incomplete, else pass; none without thresholds. */
export function overallVerdict(statuses: string[]): ReportVerdict {
  if (statuses.includes('fail')) return 'fail';
  if (statuses.includes('incomplete')) return 'incomplete';
  if (statuses.length && statuses.every((s) => s === 'pass')) return 'pass';
  return 'none';
}

function inside(root: string, path: string): boolean {
  const rel = relative(resolve(root), resolve(path));
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

export async function summarizeReport(ws: Workspace, r: ReportRecord): Promise<ReportSummary> {
  const manifest = await readReportManifest(r);
  const verdicts = manifest ? Object.entries(manifest.verdicts).map(([label, v]) => ({ label, status: v.status as ReportVerdict, failed: v.failed })) : [];
  return {
    id: r.id,
    comparison: { id: r.data.refs.comparison.id, name: manifest?.comparison.name ?? r.data.refs.comparison.id },
    createdAt: r.createdAt,
    pdfPath: join(r.data.folder, reportFilesOf(r).pdf),
    inWorkspace: inside(ws.root, r.data.folder),
    pdfSha256: r.data.pdfSha256,
    manifestSha256: r.data.manifestSha256,
    publicKeySha256: r.data.publicKeySha256,
    verdict: manifest ? overallVerdict(verdicts.map((v) => v.status)) : null,
    verdicts,
  };
}

export function reportHandlers(deps: { workspace: Workspace; submitJob(job: JobSubmit): Promise<JobInfo> }): MethodHandlers<ReportMethods> {
  const ws = deps.workspace;
  return {
    'reports.create': async (a) => {
      const cmp = await getComparison(ws, a.comparison);
      const params = { comparison: cmp.id, ...(a.sign ? { sign: a.sign } : {}), ...(a.operator ? { operator: a.operator } : {}) };
      return (await deps.submitJob({ kind: 'report.create', title: `Report of comparison '${cmp.data.name}'`, params })) as JobInfo<'report.create'>;
    },
    'reports.list': async (a) => {
      const recs = (await listReportRecords(ws)).filter((r) => !a.comparison || r.data.refs.comparison.id === a.comparison);
      const out = await Promise.all(recs.map((r) => summarizeReport(ws, r)));
      return out.sort((x, y) => y.createdAt.localeCompare(x.createdAt) || x.id.localeCompare(y.id));
    },
    'reports.verify': async ({ id }) => {
      const v = await verifyReportRecord(ws, id);
      return { ok: v.ok, problems: v.problems, checked: v.checked };
    },
    'reports.file': async ({ id, file }) => {
      const r = await getReport(ws, id);
      const name = reportFilesOf(r)[file];
      const bytes = await readFile(join(r.data.folder, name)).catch((e: NodeJS.ErrnoException) => {
        throw new ApiError('not_found', `${name} of report '${id}' cannot be read from ${r.data.folder} (${e.code ?? e.message}).`);
      });
      return { name, mime: MIME[file], sha256: sha256Hex(bytes), size: bytes.length, base64: bytes.toString('base64') };
    },
  };
}
