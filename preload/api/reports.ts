// Audit reports: the API contract (types only). Implemented by main/backend/services/reports-api.ts on
// top of the reports service (main/backend/services/reports.ts), which the CLI (`lethe report create /
// verify`) uses too, so a report made in the app and one made by the CLI for the same comparison carry
// the same metrics and hashes.
//
// A report's files are handed to the page as bytes ('reports.file'), so saving one works the same over
// Electron IPC and the web transport: the page offers them as a download (the desktop app asks where to
// save it).

import type { MethodDef } from './common';
import type { JobInfo } from './jobs';

export type ReportVerdict = 'pass' | 'fail' | 'incomplete' | 'none';

export interface ReportSummary {
  id: string;
  comparison: { id: string; name: string };
  createdAt: string;
  /** absolute path of the PDF */
  pdfPath: string;
  /** true when the app made it (its files live in the workspace); false for a folder or file the CLI wrote */
  inWorkspace: boolean;
  pdfSha256: string;
  manifestSha256: string;
  /** SHA-256 of the signing public key (DER), as printed in the PDF */
  publicKeySha256: string;
  /**
   * against the thresholds fixed before the runs: 'fail' when any unlearned model failed one,
   * 'incomplete' when a value was missing, 'pass' when all passed, 'none' when no thresholds were fixed;
   * null when the manifest can no longer be read where the report was written
   */
  verdict: ReportVerdict | null;
  /** per unlearned model (entry label) */
  verdicts: { label: string; status: ReportVerdict; failed: string[] }[];
}

export interface ReportCreateArgs {
  /** comparison id */
  comparison: string;
  /** path of a PEM Ed25519 private key; default: the workspace's own key (generated on first use) */
  sign?: string;
  /** who made the report (printed in it) */
  operator?: string;
}

export interface ReportVerifyResult {
  ok: boolean;
  /** what changed or failed, by item (file, model, signature) */
  problems: { item: string; message: string }[];
  /** what was checked and found intact */
  checked: string[];
}

export type ReportFileKind = 'pdf' | 'manifest' | 'signature' | 'publicKey';

export interface ReportFileResult {
  /** the file's name, e.g. report.pdf */
  name: string;
  mime: string;
  sha256: string;
  size: number;
  /** the file's bytes, base64 */
  base64: string;
}

export interface ReportMethods {
  /**
   * submits a 'report.create' job that writes the PDF, its signed manifest, the public key and a README
   * into the workspace (its result names the report); an unknown comparison is refused at once
   */
  'reports.create': MethodDef<ReportCreateArgs, JobInfo<'report.create'>>;
  /** newest first; made in the app or by `lethe report create` */
  'reports.list': MethodDef<{ comparison?: string }, ReportSummary[]>;
  /** re-hashes the PDF and the manifest and checks the signature, naming what changed */
  'reports.verify': MethodDef<{ id: string }, ReportVerifyResult>;
  /** one file of a report, to save where the user chooses */
  'reports.file': MethodDef<{ id: string; file: ReportFileKind }, ReportFileResult>;
}
