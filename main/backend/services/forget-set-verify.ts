// Verification of an exported forget-set folder (forget-set-export.ts), without a workspace: what an
// auditor runs on the folder they were given, optionally against their own list of deletion requests.
//   - every file listed in SHA256SUMS is present and intact (and SHA256SUMS lists the export's files);
//   - ids.txt and retain-ids.txt are in canonical form (no empty line, strictly increasing code-point
//     order, no final newline), hash to the manifest's idsSha256 / retain.idsSha256 and have its counts;
//   - the two lists are disjoint (no example is both forgotten and retained);
//   - forget-set.csv has one row per forget ID;
//   - with requests: each requested ID is forgotten (in ids.txt), retained (in retain-ids.txt: the
//     request was NOT honoured), or in neither (not a training example of that dataset).
// Every check is reported; `ok` is false when any fails or any request was retained.

import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError } from '../../../preload/api/common';
import { compareCodePoints, sha256Hex } from '../../engine/data/hash';
import { idsFromRule } from '../../engine/data/forget-sets';
import { EXPORT_FILES } from './forget-set-export';

export interface VerifyCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface RequestsReport {
  /** distinct requested IDs */
  total: number;
  forgotten: number;
  /** requested but retained: the request was not honoured */
  retained: string[];
  /** requested but in neither list: not a training example of the dataset */
  absent: string[];
}

export interface ForgetSetVerifyReport {
  ok: boolean;
  folder: string;
  name: string | null;
  idsSha256: string | null;
  checks: VerifyCheck[];
  requests?: RequestsReport;
}

/** Problems with a canonical ID list file's bytes; [] when it is canonical. */
function canonicalProblems(lines: string[], text: string): string[] {
  const out: string[] = [];
  if (text.endsWith('\n')) out.push('it ends with a newline (the canonical form has none)');
  if (text.includes('\r')) out.push('it contains carriage returns');
  for (let i = 0; i < lines.length && out.length < 3; i++) {
    if (lines[i] === '') out.push(`line ${i + 1} is empty`);
    else if (i > 0 && compareCodePoints(lines[i - 1], lines[i]) >= 0) out.push(`line ${i + 1} (${JSON.stringify(lines[i].slice(0, 40))}) is not after line ${i} in code-point order`);
  }
  return out;
}

/** Records in an RFC 4180 text (line breaks inside quoted cells do not end a record). */
function csvRecordCount(text: string): number {
  let n = 0;
  let inQuotes = false;
  let rowHasData = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') inQuotes = !inQuotes;
    if (!inQuotes && (c === '\n' || c === '\r')) {
      if (rowHasData) n++;
      rowHasData = false;
      if (c === '\r' && text[i + 1] === '\n') i++;
    } else rowHasData = true;
  }
  return rowHasData ? n + 1 : n;
}

export async function verifyForgetSetExport(folder: string, opts: { requestsFile?: string } = {}): Promise<ForgetSetVerifyReport> {
  const names = await readdir(folder).catch((e: NodeJS.ErrnoException) => {
    throw new ApiError(e.code === 'ENOENT' ? 'not_found' : 'invalid_argument', `Cannot read the folder ${folder}: ${e.code === 'ENOENT' ? 'it does not exist' : e.message}.`);
  });
  const checks: VerifyCheck[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const bytes = new Map<string, Buffer>();
  for (const f of [...EXPORT_FILES, 'SHA256SUMS']) if (names.includes(f)) bytes.set(f, await readFile(join(folder, f)));

  // 1. SHA256SUMS
  const sums = bytes.get('SHA256SUMS');
  if (!sums) check('SHA256SUMS', false, 'missing: this is not a complete Lethe forget-set export (SHA256SUMS is written last)');
  else {
    const listed = new Map<string, string>();
    const bad: string[] = [];
    for (const line of sums.toString('utf8').split('\n')) {
      if (!line) continue;
      const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
      if (!m) bad.push(`unreadable line ${JSON.stringify(line.slice(0, 60))}`);
      else listed.set(m[2], m[1]);
    }
    for (const f of EXPORT_FILES) {
      const want = listed.get(f);
      const have = bytes.get(f);
      if (!want) bad.push(`${f} is not listed`);
      else if (!have) bad.push(`${f} is listed but missing`);
      else if (sha256Hex(have) !== want) bad.push(`${f} does not match its SHA-256 (changed after export)`);
    }
    for (const f of listed.keys()) if (!(EXPORT_FILES as readonly string[]).includes(f)) bad.push(`lists an unexpected file ${JSON.stringify(f)}`);
    check('SHA256SUMS', bad.length === 0, bad.length ? bad.join('; ') : `${EXPORT_FILES.length} files intact`);
  }

  // 2. manifest
  let manifest: { name?: string; format?: string; idsSha256?: string; count?: number; retain?: { idsSha256?: string; count?: number } } | null = null;
  const mb = bytes.get('manifest.json');
  if (!mb) check('manifest.json', false, 'missing');
  else {
    try {
      manifest = JSON.parse(mb.toString('utf8'));
      const fmtOk = manifest?.format === 'lethe.forget-set/1' && typeof manifest.idsSha256 === 'string' && typeof manifest.retain?.idsSha256 === 'string';
      check('manifest.json', fmtOk, fmtOk ? `forget set '${manifest!.name}', format ${manifest!.format}` : 'not a Lethe forget-set manifest (format lethe.forget-set/1 with idsSha256 and retain.idsSha256)');
      if (!fmtOk) manifest = null;
    } catch (e) {
      check('manifest.json', false, `not valid JSON (${(e as Error).message})`);
    }
  }

  // 3. the two ID lists
  const lists: Record<string, string[] | null> = { 'ids.txt': null, 'retain-ids.txt': null };
  for (const [file, key] of [
    ['ids.txt', 'forget'],
    ['retain-ids.txt', 'retain'],
  ] as const) {
    const b = bytes.get(file);
    if (!b) {
      check(file, false, 'missing');
      continue;
    }
    const text = b.toString('utf8');
    const lines = text === '' ? [] : text.split('\n');
    const problems = canonicalProblems(text.endsWith('\n') ? lines.slice(0, -1) : lines, text);
    const want = key === 'forget' ? manifest?.idsSha256 : manifest?.retain?.idsSha256;
    const count = key === 'forget' ? manifest?.count : manifest?.retain?.count;
    const got = sha256Hex(b);
    if (want && got !== want) problems.push(`SHA-256 ${got} is not the manifest's ${want}`);
    if (typeof count === 'number' && lines.length !== count) problems.push(`${lines.length} IDs, the manifest counts ${count}`);
    check(file, problems.length === 0, problems.length ? problems.join('; ') : `${lines.length} IDs, canonical, SHA-256 ${got} = manifest`);
    lists[file] = lines;
  }
  const forget = lists['ids.txt'];
  const retain = lists['retain-ids.txt'];
  if (forget && retain) {
    const r = new Set(retain);
    const both = forget.filter((id) => r.has(id));
    check('disjoint', both.length === 0, both.length ? `${both.length} IDs are both forgotten and retained (first: ${JSON.stringify(both[0])})` : 'no ID is both forgotten and retained');
  }

  // 4. the spreadsheet view
  const csv = bytes.get('forget-set.csv');
  if (!csv) check('forget-set.csv', false, 'missing');
  else if (forget) {
    const rows = csvRecordCount(csv.toString('utf8')) - 1;
    check('forget-set.csv', rows === forget.length, `${rows} rows for ${forget.length} IDs`);
  }

  // 5. the auditor's own deletion requests
  let requests: RequestsReport | undefined;
  if (opts.requestsFile) {
    const raw = await readFile(opts.requestsFile, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new ApiError('invalid_argument', `Cannot read the requests file ${opts.requestsFile}: ${e.code === 'ENOENT' ? 'it does not exist' : e.message}.`);
    });
    const asked = [...new Set(idsFromRule(/\.csv$/i.test(opts.requestsFile) ? { kind: 'ids', csv: raw } : { kind: 'ids', text: raw }))];
    const f = new Set(forget ?? []);
    const r = new Set(retain ?? []);
    requests = { total: asked.length, forgotten: asked.filter((id) => f.has(id)).length, retained: asked.filter((id) => r.has(id)), absent: asked.filter((id) => !f.has(id) && !r.has(id)) };
    check(
      'requests',
      requests.retained.length === 0 && forget !== null && retain !== null,
      `${requests.forgotten} of ${requests.total} requested IDs are forgotten; ${requests.retained.length} are RETAINED` +
        (requests.retained.length ? ` (${requests.retained.slice(0, 10).map((s) => JSON.stringify(s)).join(', ')}${requests.retained.length > 10 ? ', ...' : ''})` : '') +
        `; ${requests.absent.length} are not training examples of this dataset` +
        (requests.absent.length ? ` (${requests.absent.slice(0, 10).map((s) => JSON.stringify(s)).join(', ')}${requests.absent.length > 10 ? ', ...' : ''})` : ''),
    );
  }

  return { ok: checks.every((c) => c.ok), folder, name: manifest?.name ?? null, idsSha256: manifest?.idsSha256 ?? null, checks, ...(requests ? { requests } : {}) };
}
