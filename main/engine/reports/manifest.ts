// The report folder's manifest and its Ed25519 signature (node:crypto), and verification of a folder.
// manifest.json holds the canonical JSON of the manifest (these exact bytes are signed); manifest.sig
// holds the raw 64-byte signature; public-key.pem the key. The key's fingerprint is also in the PDF.

import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { canonicalJson } from '../util/canonical-json';

/** The file names of a report folder. */
export const REPORT_FILES = { pdf: 'report.pdf', manifest: 'manifest.json', signature: 'manifest.sig', publicKey: 'public-key.pem', readme: 'README.txt' };

export type ReportFiles = typeof REPORT_FILES;

/**
 * The file names of a report written as a PDF file (`audit.pdf`) rather than into a folder: its
 * companions sit beside it under the same stem (`audit.manifest.json`, `audit.manifest.sig`,
 * `audit.public-key.pem`, `audit.README.txt`).
 */
export function reportFilesBeside(pdfName: string): ReportFiles {
  const stem = pdfName.replace(/\.pdf$/i, '');
  return { pdf: `${stem}.pdf`, manifest: `${stem}.manifest.json`, signature: `${stem}.manifest.sig`, publicKey: `${stem}.public-key.pem`, readme: `${stem}.README.txt` };
}

/**
 * Where the report at `path` is: a report folder (manifest.json inside, or exactly one
 * `<stem>.manifest.json`), or a PDF (its `<stem>.manifest.json` beside it, else the folder layout of
 * the folder it is in). Null when `path` names neither.
 */
export async function locateReport(path: string): Promise<{ folder: string; files: ReportFiles } | null> {
  const st = await stat(path).catch(() => null);
  const exists = async (p: string) => (await stat(p).catch(() => null))?.isFile() === true;
  if (st?.isDirectory()) {
    if (await exists(join(path, REPORT_FILES.manifest))) return { folder: path, files: REPORT_FILES };
    const stems = (await readdir(path)).filter((n) => n.endsWith('.manifest.json')).map((n) => n.slice(0, -'.manifest.json'.length));
    if (stems.length === 1) return { folder: path, files: reportFilesBeside(`${stems[0]}.pdf`) };
    return stems.length ? null : { folder: path, files: REPORT_FILES };
  }
  if (st?.isFile() && /\.pdf$/i.test(path)) {
    const folder = dirname(path);
    const beside = reportFilesBeside(basename(path));
    if (await exists(join(folder, beside.manifest))) return { folder, files: beside };
    if (basename(path) === REPORT_FILES.pdf) return { folder, files: REPORT_FILES };
  }
  return null;
}

export interface ReportArtifact {
  /** what it is: 'model', 'outputs', 'forget-set ID list', 'dataset manifest', 'comparison record' */
  type: 'model' | 'outputs' | 'forget-set' | 'dataset' | 'comparison';
  /** workspace id (model name, run id, forget-set id, dataset id, comparison id) */
  id: string;
  label: string;
  sha256: string;
  /** models: SHA-256 of the file `lethe model export <id>` writes */
  exportSha256?: string;
  /** the file name `lethe report verify --artifacts DIR` looks for (models and outputs) */
  file?: string;
}

export interface ReportManifest {
  format: 'lethe.report/1';
  createdAt: string;
  comparison: { id: string; name: string; manifestSha256: string };
  pdf: { file: string; sha256: string; size: number };
  artifacts: ReportArtifact[];
  /** the numbers the report shows, for machine comparison: entry label -> metric id -> mean, CI, gap */
  metrics: Record<string, Record<string, { mean: number | null; lo: number | null; hi: number | null; gapToRetrain: number | null }>>;
  verdicts: Record<string, { status: string; failed: string[] }>;
  publicKey: { algorithm: 'Ed25519'; pem: string; sha256: string };
  app: string;
}

export const sha256Hex = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

/** SHA-256 of the DER (SPKI) encoding of a public key: the fingerprint printed in the PDF. */
export function publicKeyFingerprint(key: KeyObject): string {
  return sha256Hex(key.export({ type: 'spki', format: 'der' }));
}

export function publicKeyPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/** Parse a PEM private key and insist on Ed25519. */
export function ed25519PrivateKey(pem: string | Buffer, where: string): KeyObject {
  let k: KeyObject;
  try {
    k = createPrivateKey(pem);
  } catch (e) {
    throw new Error(`${where} is not a readable PEM private key (${(e as Error).message})`);
  }
  if (k.asymmetricKeyType !== 'ed25519') throw new Error(`${where} is a ${k.asymmetricKeyType} key; reports are signed with Ed25519 (openssl genpkey -algorithm ed25519 -out key.pem)`);
  return k;
}

export function manifestBytes(m: ReportManifest): Buffer {
  return Buffer.from(canonicalJson(m), 'utf8');
}

export function signManifest(bytes: Uint8Array, key: KeyObject): Buffer {
  return sign(null, bytes, key);
}

export interface VerifyProblem {
  item: string;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  problems: VerifyProblem[];
  /** what was checked and found intact */
  checked: string[];
  manifest: ReportManifest | null;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

async function hashFile(p: string): Promise<string> {
  return sha256Hex(await readFile(p));
}

/**
 * Verify a report folder: the signature over manifest.json (with the key in the manifest, and, when
 * `key` is given, that it is that key), the PDF's hash and the key fingerprint it carries, and any
 * exported artifacts in `artifacts` (files named as the manifest says are compared; others are
 * matched by hash, and a file matching nothing is named).
 */
export async function verifyReportFolder(folder: string, opts: { artifacts?: string; publicKeyPem?: string; files?: ReportFiles } = {}): Promise<VerifyResult> {
  const F = opts.files ?? REPORT_FILES;
  const problems: VerifyProblem[] = [];
  const checked: string[] = [];
  const read = async (name: string): Promise<Buffer | null> => {
    try {
      return await readFile(join(folder, name));
    } catch {
      problems.push({ item: name, message: `${name} is missing from ${folder}` });
      return null;
    }
  };
  const mBytes = await read(F.manifest);
  const sig = await read(F.signature);
  const pdf = await read(F.pdf);
  let manifest: ReportManifest | null = null;
  if (mBytes) {
    try {
      manifest = JSON.parse(mBytes.toString('utf8')) as ReportManifest;
      if (manifest.format !== 'lethe.report/1') throw new Error(`unknown format '${String(manifest.format)}'`);
    } catch (e) {
      problems.push({ item: F.manifest, message: `${F.manifest} is not a valid report manifest (${(e as Error).message}): it was changed or damaged` });
      manifest = null;
    }
  }
  if (manifest && mBytes) {
    let pub: KeyObject | null = null;
    try {
      pub = createPublicKey(manifest.publicKey.pem);
    } catch {
      problems.push({ item: 'public key', message: `the public key in ${F.manifest} cannot be read` });
    }
    if (pub) {
      const fp = publicKeyFingerprint(pub);
      if (fp !== manifest.publicKey.sha256) problems.push({ item: 'public key', message: `the public key in ${F.manifest} has fingerprint ${fp}, not the ${manifest.publicKey.sha256} it states` });
      if (opts.publicKeyPem) {
        let want: string | null = null;
        try {
          want = publicKeyFingerprint(createPublicKey(opts.publicKeyPem));
        } catch {
          problems.push({ item: 'expected key', message: 'the key given to check against is not a readable PEM key' });
        }
        if (want && want !== fp) problems.push({ item: 'signature', message: `the report was signed with key ${fp}, not with the expected key ${want}` });
        else if (want) checked.push(`signing key is the expected key (${want})`);
      }
      if (sig) {
        const good = (() => {
          try {
            return verify(null, mBytes, pub, sig);
          } catch {
            return false;
          }
        })();
        if (!good) problems.push({ item: 'signature', message: `the Ed25519 signature in ${F.signature} does not match ${F.manifest} under key ${fp}: ${F.manifest} was changed, or it was signed with another key` });
        else checked.push(`${F.manifest}: Ed25519 signature valid (key ${fp})`);
      }
      const pemFile = await readFile(join(folder, F.publicKey), 'utf8').catch(() => null);
      if (pemFile !== null && pemFile.trim() !== manifest.publicKey.pem.trim()) problems.push({ item: F.publicKey, message: `${F.publicKey} differs from the key in ${F.manifest}` });
    }
    if (pdf) {
      const h = sha256Hex(pdf);
      if (h !== manifest.pdf.sha256) problems.push({ item: F.pdf, message: `${F.pdf} has SHA-256 ${h}, but the manifest lists ${manifest.pdf.sha256}: the PDF was changed` });
      else {
        checked.push(`${F.pdf}: SHA-256 ${h}`);
        if (!pdf.includes(`lethe-report-key-sha256:${manifest.publicKey.sha256}`)) problems.push({ item: 'public key', message: `the key in ${F.manifest} is not the key printed in ${F.pdf}: the manifest was re-signed with another key` });
      }
    }
  }
  if (opts.artifacts && manifest) {
    const files = await filesUnder(opts.artifacts).catch(() => null);
    if (!files) problems.push({ item: opts.artifacts, message: `cannot read the artifacts folder ${opts.artifacts}` });
    else {
      const byName = new Map(manifest.artifacts.filter((a) => a.file).map((a) => [a.file!, a]));
      const byHash = new Map<string, ReportArtifact>();
      for (const a of manifest.artifacts) {
        byHash.set(a.sha256, a);
        if (a.exportSha256) byHash.set(a.exportSha256, a);
      }
      for (const f of files) {
        const rel = relative(opts.artifacts, f);
        const h = await hashFile(f);
        const named = byName.get(rel) ?? byName.get(rel.split(/[\\/]/).pop()!);
        if (named) {
          if (h === named.sha256 || h === named.exportSha256) checked.push(`${named.type} '${named.id}' (${rel}): SHA-256 ${h}`);
          else problems.push({ item: `${named.type} '${named.id}' (${rel})`, message: `${rel} has SHA-256 ${h}, but the report lists ${named.exportSha256 && named.exportSha256 !== named.sha256 ? `${named.exportSha256} (export) / ${named.sha256}` : named.sha256}: it was changed` });
        } else if (byHash.has(h)) {
          const a = byHash.get(h)!;
          checked.push(`${a.type} '${a.id}' (${rel}): SHA-256 ${h}`);
        } else if ((await stat(f)).size > 0) problems.push({ item: rel, message: `${rel} (SHA-256 ${h}) matches no artifact of the report: changed, or not part of it` });
      }
    }
  }
  return { ok: problems.length === 0, problems, checked, manifest };
}
