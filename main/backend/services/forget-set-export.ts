// Export of a forget set as a folder an auditor can check without Lethe:
//   ids.txt          the forget IDs in canonical form (code-point order, '\n'-joined, no final newline):
//                    its SHA-256 is the manifest's idsSha256
//   retain-ids.txt   the retain IDs (training examples not forgotten) in the same form: SHA-256 =
//                    manifest.retain.idsSha256
//   manifest.json    the forget set's manifest as stored (rule, parameters, seed, dataset hash, counts)
//   forget-set.csv   one row per forget ID with class, split and the dataset's metadata columns, for
//                    spreadsheets (formula-like cells neutralised; ids.txt holds the exact IDs)
//   README.txt       what each file is and how to verify it
//   SHA256SUMS       `sha256sum -c SHA256SUMS` checks every file above
// Both ID lists are re-derived from the stored blobs and checked against the manifest before anything
// is written, so a damaged workspace is reported instead of exported.

import { join } from 'node:path';
import { ApiError } from '../../../preload/api/common';
import type { ForgetSetExportResult } from '../../../preload/api/datasets';
import { csvDocument } from '../../engine/data/csv-export';
import { canonicalIdBytes, sha256Hex } from '../../engine/data/hash';
import { writeFileAtomic } from '../workspace/atomic';
import type { Workspace } from '../workspace/types';
import { findDataset, openReader } from './datasets';
import { findForgetSet } from './forget-sets';
import { prepareExportFolder } from './output-target';

/** The files of an export, in the order written (SHA256SUMS, which lists them, comes last). */
export const EXPORT_FILES = ['ids.txt', 'retain-ids.txt', 'manifest.json', 'forget-set.csv', 'README.txt'] as const;

function damaged(what: string, name: string, want: string, got: string): ApiError {
  return new ApiError(
    'internal',
    `The stored ${what} of forget set '${name}' hashes to ${got.slice(0, 12)}…, not ${want.slice(0, 12)}… as its manifest records: the workspace is damaged (run \`lethe workspace verify\`). Nothing was exported.`,
  );
}

/** A stored blob of the forget set; a missing or corrupt one is reported as a damaged workspace. */
async function storedBlob(ws: Workspace, sha256: string, what: string, name: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await ws.getBlob(sha256));
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ApiError('internal', `The stored ${what} of forget set '${name}' cannot be read (${why}): the workspace is damaged (run \`lethe workspace verify\`). Nothing was exported.`);
  }
}

export async function exportForgetSet(ws: Workspace, idOrName: string, dir: string): Promise<ForgetSetExportResult> {
  const rec = await findForgetSet(ws, idOrName);
  const m = rec.data;
  // 1. re-derive and check everything before the folder is touched
  const idBytes = await storedBlob(ws, rec.blobs.ids.sha256, 'ID list', m.name);
  const idsSha = sha256Hex(idBytes);
  if (idsSha !== m.idsSha256) throw damaged('ID list', m.name, m.idsSha256, idsSha);
  const ids = m.count === 0 ? [] : new TextDecoder().decode(idBytes).split('\n');
  if (ids.length !== m.count) throw new ApiError('internal', `Forget set '${m.name}' lists ${ids.length} IDs but its manifest counts ${m.count}. Nothing was exported.`);
  const ds = await findDataset(ws, m.dataset.id).catch(() => {
    throw new ApiError('not_found', `Forget set '${m.name}' was built on dataset '${m.dataset.name}' (${m.dataset.id}), which is no longer in the workspace; its retain set cannot be listed.`);
  });
  const reader = await openReader(ws, ds);
  const bitmap = await storedBlob(ws, rec.blobs.retain.sha256, 'retain bitmap', m.name);
  const bitmapSha = sha256Hex(bitmap);
  if (bitmapSha !== m.retain.bitmapSha256) throw damaged('retain bitmap', m.name, m.retain.bitmapSha256, bitmapSha);
  const retain: string[] = [];
  for (const i of reader.canonicalOrder()) if ((bitmap[i >> 3] >> (i & 7)) & 1) retain.push(reader.ids[i]);
  const retainBytes = canonicalIdBytes(retain);
  const retainSha = sha256Hex(retainBytes);
  if (retainSha !== m.retain.idsSha256) throw damaged('retain ID list', m.name, m.retain.idsSha256, retainSha);

  // 2. the spreadsheet view: class, split and metadata per forget ID
  const cols = reader.metadata;
  const rows = ids.map((id) => {
    const i = reader.indexOfId(id);
    if (i === undefined) return [id, null, null, null, ...cols.map(() => null)];
    const label = reader.labels[i];
    return [id, label, reader.manifest.classNames[label] ?? null, reader.splits[i] === 0 ? 'train' : 'test', ...cols.map((c) => reader.metaValue(c, i))];
  });
  const csv = csvDocument(['id', 'class_index', 'class', 'split', ...cols.map((c) => c.name)], rows);

  const manifestJson = JSON.stringify(m, null, 2) + '\n';
  const readme = [
    `Forget set '${m.name}' (${rec.id}), exported by Lethe on ${new Date().toISOString()}.`,
    `Dataset: '${m.dataset.name}' (${m.dataset.id}), dataset manifest SHA-256 ${m.dataset.manifestSha256}.`,
    `Rule: ${m.kind}${m.seed === null ? '' : `, seed ${m.seed}`}. ${m.count} IDs to forget, ${m.retain.count} training examples retained.`,
    '',
    'Files',
    `  ids.txt          the forget IDs in canonical form: de-duplicated, sorted by Unicode code point,`,
    `                   joined by a line feed, no final newline, UTF-8. SHA-256 = idsSha256 =`,
    `                   ${m.idsSha256}`,
    `  retain-ids.txt   the retained training IDs in the same form. SHA-256 = retain.idsSha256 =`,
    `                   ${m.retain.idsSha256}`,
    '  manifest.json    the manifest as stored in the workspace (rule, parameters, seed, counts, hashes).',
    '  forget-set.csv   one row per forget ID with its class, split and metadata, for spreadsheets.',
    "                   Text cells starting with = + - @, tab or CR are prefixed with ' so that no",
    '                   spreadsheet runs them as formulas; ids.txt holds the exact IDs.',
    '  SHA256SUMS       the SHA-256 of every file above.',
    '',
    'Verify',
    '  sha256sum -c SHA256SUMS            (every file is intact)',
    '  sha256sum ids.txt retain-ids.txt   (equal to idsSha256 and retain.idsSha256 in manifest.json)',
    '  To check your own deletion list: LC_ALL=C sort -u your-list.txt | head -c -1 | sha256sum',
    '  (code-point order equals byte order of UTF-8; `head -c -1` drops the final newline).',
    '',
  ].join('\n');

  const enc = new TextEncoder();
  const content: Record<(typeof EXPORT_FILES)[number], Uint8Array> = {
    'ids.txt': idBytes,
    'retain-ids.txt': retainBytes,
    'manifest.json': enc.encode(manifestJson),
    'forget-set.csv': enc.encode(csv),
    'README.txt': enc.encode(readme),
  };
  const files = EXPORT_FILES.map((name) => ({ name: name as string, bytes: content[name] }));
  const sums = files.map((f) => `${sha256Hex(f.bytes)}  ${f.name}\n`).join('');
  files.push({ name: 'SHA256SUMS', bytes: enc.encode(sums) });

  // 3. write (each file atomically; SHA256SUMS last, so its presence means the export completed)
  await prepareExportFolder(dir);
  for (const f of files) await writeFileAtomic(join(dir, f.name), f.bytes);
  return {
    id: rec.id,
    name: m.name,
    path: dir,
    idsSha256: m.idsSha256,
    retainIdsSha256: m.retain.idsSha256,
    files: files.map((f) => ({ name: f.name, sha256: sha256Hex(f.bytes), bytes: f.bytes.length })),
  };
}
