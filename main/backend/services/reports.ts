// Audit reports: a folder with report.pdf, manifest.json (every artifact's SHA-256, including the
// PDF's), manifest.sig (Ed25519 over manifest.json), public-key.pem and README.txt, plus a 'reports'
// record in the workspace with typed refs to the comparison. The signing key is a PEM the user gives,
// or the workspace's own (generated once under <workspace>/keys/, private key mode 0600).
// `out` may also name the PDF itself (audit.pdf): its companions then sit beside it under the same stem
// (audit.manifest.json, ...). Without `out` (the app) the folder is <workspace>/report-files/<id>/.

import { generateKeyPairSync, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ApiError } from '../../../preload/api/common';
import type { Workspace } from '../workspace/types';
import type { TypedRef, RunManifest } from '../../engine/runs/contract-types';
import { getComparison } from './comparisons';
import { getRun } from './unlearning';
import { findForgetSet } from './forget-sets';
import { inferenceBytes, loadRegisteredModel } from './models';
import { APP_VERSION } from './app';
import { comparisonAttack } from './dashboard';
import { buildReportPdf, entryVerdict, type ReportModel } from '../../engine/reports/pdf';
import { ed25519PrivateKey, locateReport, manifestBytes, publicKeyFingerprint, publicKeyPem, REPORT_FILES, reportFilesBeside, sha256Hex, signManifest, verifyReportFolder, type ReportArtifact, type ReportFiles, type ReportManifest, type VerifyResult } from '../../engine/reports/manifest';
import { writeFileAtomic } from '../../engine/util/atomic-write';

export interface ReportRecordData {
  format: 'lethe.report/1';
  refs: { comparison: TypedRef };
  folder: string;
  /** the file names inside `folder` (absent: the folder layout, REPORT_FILES) */
  files?: ReportFiles;
  pdfSha256: string;
  manifestSha256: string;
  publicKeySha256: string;
  createdAt: string;
}

export interface CreateReportRequest {
  comparison: string;
  /** a new or empty folder, or the path of a new PDF file (never overwritten); default: <workspace>/report-files/<id>/ */
  out?: string;
  /** path of a PEM Ed25519 private key; default: the workspace's key */
  sign?: string;
  operator?: string;
}

export const WORKSPACE_KEY = 'report-signing-ed25519.pem';

/** The workspace's signing key, generated on first use under <workspace>/keys/ (private key file mode 0600). */
export async function workspaceSigningKey(ws: Workspace): Promise<KeyObject> {
  const dir = join(ws.root, 'keys');
  const file = join(dir, WORKSPACE_KEY);
  const existing = await readFile(file).catch(() => null);
  if (existing) return ed25519PrivateKey(existing, file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  await writeFile(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  await chmod(file, 0o600);
  await writeFile(join(dir, 'report-signing-ed25519.pub.pem'), publicKeyPem(publicKey));
  return privateKey;
}

/** Where a report goes: a new or empty folder, or a new PDF file whose companions go beside it. */
async function reportTarget(out: string): Promise<{ folder: string; files: ReportFiles }> {
  if (/\.pdf$/i.test(out)) {
    const files = reportFilesBeside(basename(out));
    const folder = dirname(out);
    const dir = await stat(folder).catch(() => null);
    if (dir && !dir.isDirectory()) throw new ApiError('invalid_argument', `${folder} is not a folder`);
    for (const f of Object.values(files)) {
      if (await stat(join(folder, f)).catch(() => null)) throw new ApiError('invalid_argument', `${join(folder, f)} already exists; a report is never written over existing files (give a new file name)`);
    }
    return { folder, files };
  }
  const st = await stat(out).catch(() => null);
  if (st && !st.isDirectory()) throw new ApiError('invalid_argument', `${out} exists and is not a folder; give a new or empty folder, or a path ending in .pdf`);
  if (st && (await readdir(out)).length) throw new ApiError('invalid_argument', `${out} is not empty; a report is never written over existing files (give a new or empty folder)`);
  return { folder: out, files: REPORT_FILES };
}

function readme(m: ReportManifest, F: ReportFiles = REPORT_FILES): string {
  const models = m.artifacts.filter((a) => a.type === 'model');
  return [
    'Lethe unlearning audit report',
    '=============================',
    '',
    `Comparison ${m.comparison.id} (${m.comparison.name}), created ${m.createdAt}.`,
    '',
    'Files',
    `  ${F.pdf}   the report`,
    `  ${F.manifest}   every artifact with its SHA-256 (this PDF included), as canonical JSON`,
    `  ${F.signature}   Ed25519 signature (64 raw bytes) over the exact bytes of ${F.manifest}`,
    `  ${F.publicKey}   the public key that signed it; its SHA-256 (of the DER key) is printed in the PDF:`,
    `                  ${m.publicKey.sha256}`,
    '',
    'Verify with Lethe',
    `  lethe report verify ${F === REPORT_FILES ? '<this folder>' : F.pdf} [--key expected-public-key.pem] [--artifacts DIR]`,
    '',
    'Verify by hand (openssl 3, sha256sum)',
    '  1. the signature:',
    `       openssl pkeyutl -verify -pubin -inkey ${F.publicKey} -rawin -in ${F.manifest} -sigfile ${F.signature}`,
    '     ("Signature Verified Successfully"). Check the key is the one you expect:',
    `       openssl pkey -pubin -in ${F.publicKey} -outform DER | sha256sum`,
    `  2. the PDF: sha256sum ${F.pdf}  must equal "pdf.sha256" in ${F.manifest}:`,
    `       ${m.pdf.sha256}`,
    '  3. the models: export each from the workspace and hash it:',
    ...models.map((a) => `       lethe model export ${a.id} --out DIR/${a.file}   # sha256sum: ${a.exportSha256 ?? a.sha256}`),
    '     then `lethe report verify <this folder> --artifacts DIR` checks them all (files are matched by',
    '     name, else by hash; a file that matches nothing is named).',
    '  4. stored outputs, the forget-set ID list and the dataset manifest are listed with their SHA-256',
    '     (workspace blobs and record hashes); `lethe workspace verify` re-hashes them in the workspace.',
    '',
  ].join('\n');
}

export interface CreatedReport {
  id: string;
  folder: string;
  files: ReportFiles;
  /** absolute path of the PDF */
  pdf: string;
  manifest: ReportManifest;
  pdfSha256: string;
  manifestSha256: string;
}

/** The directory under which reports made without `out` (from the app) are kept. */
export const WORKSPACE_REPORTS_DIR = 'report-files';

function newReportId(): string {
  return `rep-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(4).toString('hex')}`;
}

export async function createReport(ws: Workspace, req: CreateReportRequest): Promise<CreatedReport> {
  const id = newReportId();
  const { folder: out, files: F } = await reportTarget(req.out ? resolve(req.out) : join(ws.root, WORKSPACE_REPORTS_DIR, id));
  const cmpRec = await getComparison(ws, req.comparison);
  const cmp = cmpRec.data;
  let key: KeyObject;
  if (req.sign) {
    const pem = await readFile(req.sign).catch((e: NodeJS.ErrnoException) => {
      throw new ApiError('invalid_argument', `cannot read the signing key ${req.sign}: ${e.code ?? e.message}`);
    });
    try {
      key = ed25519PrivateKey(pem, req.sign);
    } catch (e) {
      throw new ApiError('invalid_argument', (e as Error).message);
    }
  } else key = await workspaceSigningKey(ws);
  const pub = createPublicKey(key);
  const publicKey = { pem: publicKeyPem(pub), fingerprint: publicKeyFingerprint(pub) };

  const runs: Record<string, RunManifest> = {};
  const outputs: ReportArtifact[] = [];
  for (const e of cmp.entries)
    for (const r of e.runs) {
      const run = await getRun(ws, r.run.id);
      runs[run.id] = run.data;
      if (run.blobs.outputs) outputs.push({ type: 'outputs', id: run.id, label: `stored outputs of run ${run.id} (${e.label}, seed ${r.seed})`, sha256: run.blobs.outputs.sha256, file: `${run.id}.outputs` });
    }
  const models: ReportModel[] = [];
  const seen = new Set<string>();
  for (const e of cmp.entries)
    for (const r of e.runs) {
      if (seen.has(r.model.id)) continue;
      seen.add(r.model.id);
      const m = await loadRegisteredModel(ws, r.model.id);
      if (m.manifest.sha256 !== r.model.sha256) throw new ApiError('conflict', `model '${r.model.id}' has SHA-256 ${m.manifest.sha256} now, but the comparison recorded ${r.model.sha256}: it changed since`);
      const exportSha256 = sha256Hex(inferenceBytes(m.model, m.bytes).bytes);
      models.push({ role: e.role, label: e.label, id: r.model.id, seed: e.role === 'original' ? null : r.seed, sha256: r.model.sha256, exportSha256 });
    }
  const fs = await findForgetSet(ws, cmp.refs.forgetSet.id);
  const forgetSet = {
    id: fs.id,
    name: fs.data.name,
    kind: fs.data.kind,
    params: fs.data.params,
    seed: fs.data.seed,
    count: fs.data.count,
    idsSha256: fs.data.idsSha256,
    canonicalForm: fs.data.canonicalForm,
    forgetCounts: fs.data.forgetCounts,
    datasetName: fs.data.dataset.name,
    datasetManifestSha256: cmp.refs.dataset.sha256,
  };
  // the dashboard's attack simulation from the stored outputs (deterministic: the same PDF from the CLI and the app)
  const attack = await comparisonAttack(ws, cmpRec.id, 'confidence');
  const pdf = await buildReportPdf({ comparison: { id: cmpRec.id, manifestSha256: cmpRec.manifestSha256, data: cmp }, runs, forgetSet, models, publicKey, appVersion: APP_VERSION, attack, ...(req.operator ? { operator: req.operator } : {}) });
  const pdfSha256 = sha256Hex(pdf);
  const manifest: ReportManifest = {
    format: 'lethe.report/1',
    createdAt: cmp.createdAt,
    comparison: { id: cmpRec.id, name: cmp.name, manifestSha256: cmpRec.manifestSha256 },
    pdf: { file: F.pdf, sha256: pdfSha256, size: pdf.length },
    artifacts: [
      ...models.map((m): ReportArtifact => ({ type: 'model', id: m.id, label: `${m.label}${m.seed !== null ? ` seed ${m.seed}` : ''} (${m.role})`, sha256: m.sha256, exportSha256: m.exportSha256, file: `${m.id}.onnx` })),
      ...outputs,
      { type: 'forget-set', id: fs.id, label: `ID list of forget set '${fs.data.name}' (${fs.data.canonicalForm})`, sha256: fs.data.idsSha256 },
      { type: 'dataset', id: cmp.refs.dataset.id, label: `manifest of dataset '${cmp.datasetName}'`, sha256: cmp.refs.dataset.sha256 },
      { type: 'comparison', id: cmpRec.id, label: `comparison record '${cmp.name}'`, sha256: cmpRec.manifestSha256 },
    ],
    metrics: Object.fromEntries(cmp.entries.map((e) => [e.label, Object.fromEntries(Object.entries(e.metrics).map(([id, s]) => [id, { mean: s.mean, lo: s.lo, hi: s.hi, gapToRetrain: s.gapToRetrain }]))])),
    verdicts: Object.fromEntries(cmp.entries.filter((e) => e.role === 'unlearned').map((e) => [e.label, (({ status, failed }) => ({ status, failed }))(entryVerdict(e))])),
    publicKey: { algorithm: 'Ed25519', pem: publicKey.pem, sha256: publicKey.fingerprint },
    app: APP_VERSION,
  };
  const mBytes = manifestBytes(manifest);
  const sig = signManifest(mBytes, key);
  await mkdir(out, { recursive: true });
  try {
    await writeFileAtomic(join(out, F.pdf), pdf);
    await writeFileAtomic(join(out, F.manifest), mBytes);
    await writeFileAtomic(join(out, F.signature), sig);
    await writeFileAtomic(join(out, F.publicKey), publicKey.pem);
    await writeFileAtomic(join(out, F.readme), readme(manifest, F));
  } catch (e) {
    for (const f of Object.values(F)) await rm(join(out, f), { force: true }).catch(() => {});
    throw e;
  }
  const manifestSha256 = sha256Hex(mBytes);
  const data: ReportRecordData = {
    format: 'lethe.report/1',
    refs: { comparison: { kind: 'comparisons', id: cmpRec.id, sha256: cmpRec.manifestSha256 } },
    folder: out,
    ...(F !== REPORT_FILES ? { files: F } : {}),
    pdfSha256,
    manifestSha256,
    publicKeySha256: publicKey.fingerprint,
    createdAt: new Date().toISOString(),
  };
  await ws.putRecord<ReportRecordData>('reports', id, data);
  return { id, folder: out, files: F, pdf: join(out, F.pdf), manifest, pdfSha256, manifestSha256 };
}

/**
 * Re-hash the PDF, the manifest (signature) and any exported artifacts of the report at `path` (a
 * report folder or its PDF); `key`: a PEM (public or private) the signature must be made with.
 */
export async function verifyReport(path: string, opts: { artifacts?: string; key?: string } = {}): Promise<VerifyResult> {
  let pem: string | undefined;
  if (opts.key) {
    const raw = await readFile(opts.key, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new ApiError('invalid_argument', `cannot read the key ${opts.key}: ${e.code ?? e.message}`);
    });
    try {
      pem = publicKeyPem(createPublicKey(raw));
    } catch {
      throw new ApiError('invalid_argument', `${opts.key} is not a readable PEM key`);
    }
  }
  const where = await locateReport(path);
  if (!where) {
    if ((await stat(path).catch(() => null))?.isDirectory()) throw new ApiError('invalid_argument', `${path} holds more than one report (several *.manifest.json); give the PDF of the one to check`);
    throw new ApiError('invalid_argument', `${path} is neither a report folder nor a report PDF with its manifest beside it`);
  }
  return verifyReportFolder(where.folder, { files: where.files, ...(opts.artifacts ? { artifacts: opts.artifacts } : {}), ...(pem ? { publicKeyPem: pem } : {}) });
}

// ---------- the records, for the app's list ----------

export interface ReportRecord {
  id: string;
  createdAt: string;
  data: ReportRecordData;
}

export async function getReport(ws: Workspace, id: string): Promise<ReportRecord> {
  const r = await ws.getRecord<ReportRecordData>('reports', id);
  if (!r) throw new ApiError('not_found', `There is no report '${id}'.`);
  return { id: r.id, createdAt: r.data.createdAt ?? r.createdAt, data: r.data };
}

export async function listReportRecords(ws: Workspace): Promise<ReportRecord[]> {
  return (await ws.listRecords<ReportRecordData>('reports')).map((r) => ({ id: r.id, createdAt: r.data.createdAt ?? r.createdAt, data: r.data }));
}

/** The file names of a report record (records made before reports could be single PDFs: the folder layout). */
export function reportFilesOf(r: ReportRecord): ReportFiles {
  return r.data.files ?? REPORT_FILES;
}

/** The report's manifest as written beside its PDF, or null when it is gone or unreadable. */
export async function readReportManifest(r: ReportRecord): Promise<ReportManifest | null> {
  try {
    return JSON.parse(await readFile(join(r.data.folder, reportFilesOf(r).manifest), 'utf8')) as ReportManifest;
  } catch {
    return null;
  }
}

/** Re-hash a recorded report where it was written (the workspace's reports, or the CLI's folder or file). */
export async function verifyReportRecord(ws: Workspace, id: string): Promise<VerifyResult> {
  const r = await getReport(ws, id);
  return verifyReportFolder(r.data.folder, { files: reportFilesOf(r) });
}
