// `lethe report create` writes an audit report (PDF, signed manifest, public key, README) for a
// comparison, as report.pdf with its companions beside it (--out audit.pdf) or into a folder;
// `lethe report verify` re-hashes the PDF, the manifest and any exported artifacts and checks the
// signature (exit 1 naming what changed or whose signature failed).

import { resolve } from 'node:path';
import type { CliCommand } from '../types';
import { CliFailure } from '../types';
import { withWorkspace } from '../workspace';
import { str } from '../options';

export const reportCreateCommand: CliCommand = {
  name: 'report create',
  summary: 'Write the audit report of a comparison: the PDF, its manifest (every hash), the manifest\'s Ed25519 signature, the public key and a README',
  usage: '--comparison <id> --out <report.pdf|folder> [--sign key.pem] [--operator NAME]',
  options: {
    comparison: { type: 'string', required: true, description: 'comparison id (see lethe compare)' },
    out: { type: 'string', required: true, description: 'a new PDF file (audit.pdf; audit.manifest.json, audit.manifest.sig, audit.public-key.pem and audit.README.txt go beside it), or a new or empty folder; never overwritten' },
    sign: { type: 'string', description: "PEM Ed25519 private key (default: the workspace's key under <workspace>/keys/)" },
    operator: { type: 'string', description: 'who made the report (printed in it)' },
  },
  examples: ['lethe report create --comparison cmp-20260101-abcd1234 --out report.pdf', 'lethe report create --comparison cmp-20260101-abcd1234 --out audit/ --sign my-ed25519.pem'],
  async run(ctx) {
    const { createReport } = await import('../../backend/services/reports');
    const r = await withWorkspace(ctx, (ws) => createReport(ws, { comparison: str(ctx, 'comparison')!, out: resolve(str(ctx, 'out')!), ...(str(ctx, 'sign') ? { sign: str(ctx, 'sign')! } : {}), ...(str(ctx, 'operator') ? { operator: str(ctx, 'operator')! } : {}) }));
    ctx.print(
      { id: r.id, folder: r.folder, pdf: r.pdf, files: r.files, pdfSha256: r.pdfSha256, manifestSha256: r.manifestSha256, manifest: r.manifest },
      [
        `Report ${r.id} written to ${r.pdf}`,
        `  ${r.files.pdf}  sha256 ${r.pdfSha256}`,
        `  ${r.files.manifest}  sha256 ${r.manifestSha256}`,
        `  signed with Ed25519 key ${r.manifest.publicKey.sha256}`,
        `  ${r.manifest.artifacts.length} artifacts listed; see ${r.files.readme} to verify`,
      ].join('\n'),
    );
  },
};

export const reportVerifyCommand: CliCommand = {
  name: 'report verify',
  summary: 'Check a report (its PDF or its folder): the signature, the PDF hash and any exported artifacts (exit 1 naming what changed)',
  usage: '<report.pdf|folder> [--artifacts DIR] [--key public.pem]',
  positionals: [{ name: 'report', description: 'the report PDF (its manifest beside it) or the report folder', required: true }],
  options: {
    artifacts: { type: 'string', description: 'a folder with exported models (lethe model export <id> --out DIR/<id>.onnx) and other artifacts' },
    key: { type: 'string', description: 'the public key the report must be signed with' },
  },
  examples: ['lethe report verify report.pdf', 'lethe report verify audit/ --artifacts exported/ --key auditor.pub.pem'],
  async run(ctx) {
    const { verifyReport } = await import('../../backend/services/reports');
    const r = await verifyReport(resolve(ctx.positionals[0]), { ...(str(ctx, 'artifacts') ? { artifacts: resolve(str(ctx, 'artifacts')!) } : {}), ...(str(ctx, 'key') ? { key: resolve(str(ctx, 'key')!) } : {}) });
    if (!r.ok) {
      if (ctx.json) ctx.print({ ok: false, problems: r.problems, checked: r.checked });
      for (const p of r.problems) ctx.progress(`FAILED  ${p.item}: ${p.message}`);
      throw new CliFailure(`report verification failed: ${r.problems.length} problem(s) (${[...new Set(r.problems.map((p) => p.item))].join(', ')})`);
    }
    ctx.print({ ok: true, problems: [], checked: r.checked }, [`Report intact: ${r.checked.length} item(s) checked`, ...r.checked.map((c) => `  ok  ${c}`)].join('\n'));
  },
};

export const REPORT_COMMANDS: CliCommand[] = [reportCreateCommand, reportVerifyCommand];
