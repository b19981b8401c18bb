// Forget-set export: a folder an auditor can verify without Lethe (sha256sum -c), ID lists re-derived
// and checked before writing, CSV cells that a spreadsheet would run as formulas neutralised (RELIABILITY
// D4), never overwriting files, and a damaged workspace reported instead of exported.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createForgetSet } from '../../../main/backend/services/forget-sets';
import { exportForgetSet } from '../../../main/backend/services/forget-set-export';
import { verifyForgetSetExport } from '../../../main/backend/services/forget-set-verify';
import { csvCell, csvDocument } from '../../../main/engine/data/csv-export';
import { importDataset } from '../../../main/engine/data/import';
import { tempWorkspace } from './helpers';

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

describe('csvCell', () => {
  it('neutralises every text cell a spreadsheet would treat as a formula, and quotes per RFC 4180', () => {
    for (const bad of ['=1+1', '+1', '-2', '@SUM(A1)', '\t=cmd', '\r=x', '=HYPERLINK("http://x","y")', '-', '\tplain']) {
      const c = csvCell(bad);
      const unquoted = c.startsWith('"') ? c.slice(1, -1).replace(/""/g, '"') : c;
      expect(unquoted.startsWith("'"), `${JSON.stringify(bad)} -> ${c}`).toBe(true);
      expect(unquoted.slice(1)).toBe(bad);
    }
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('ok-1')).toBe('ok-1');
    // numbers written by the exporter are not text and stay numbers
    expect(csvCell(-3.5)).toBe('-3.5');
    expect(csvCell(Number.NaN)).toBe('');
    expect(csvCell(null)).toBe('');
    expect(csvDocument(['a', 'b'], [['=x', 1]])).toBe("a,b\r\n'=x,1\r\n");
  });
});

describe('forget-set export', () => {
  let w: Awaited<ReturnType<typeof tempWorkspace>>;
  let datasetId: string;
  const HOSTILE = ['=HYPERLINK("http://evil","x")', '+1', '-5', '@SUM(A1)'];
  const IDS = [...HOSTILE, ...Array.from({ length: 36 }, (_, i) => `u${i}`)];

  beforeAll(async () => {
    w = await tempWorkspace();
    const lines = ['id,f,note,score,label,split'];
    IDS.forEach((id, i) => {
      const cell = id.includes('"') || id.includes(',') ? `"${id.replace(/"/g, '""')}"` : id;
      lines.push(`${cell},${i},${i % 2 ? '=cmd|calc' : 'plain'},${i % 3 === 0 ? -i : i},c${i % 3},${i % 8 === 7 ? 'test' : 'train'}`);
    });
    writeFileSync(join(w.dir, 'd.csv'), lines.join('\n'));
    const rec = await importDataset(w.ws, { format: 'csv', source: join(w.dir, 'd.csv'), name: 'hostile', options: { idColumn: 'id', splitColumn: 'split', featureColumns: ['f'] } });
    datasetId = rec.id;
  });
  afterAll(async () => w.cleanup());

  it('writes ids.txt and retain-ids.txt whose hashes are the manifest hashes; sha256sum -c passes; the CSV is safe', async () => {
    const forget = [...HOSTILE, 'u4', 'u5', 'u6'];
    const fs = await createForgetSet(w.ws, { datasetId, name: 'requests', rule: { kind: 'ids', ids: forget } });
    const out = join(w.dir, 'export-1');
    const r = await exportForgetSet(w.ws, 'requests', out);
    expect(r.files.map((f) => f.name)).toEqual(['ids.txt', 'retain-ids.txt', 'manifest.json', 'forget-set.csv', 'README.txt', 'SHA256SUMS']);
    expect(readdirSync(out).sort()).toEqual([...r.files.map((f) => f.name)].sort());
    const ids = readFileSync(join(out, 'ids.txt'));
    expect(sha(ids)).toBe(fs.manifest.idsSha256);
    expect(ids.toString('utf8').split('\n')).toEqual([...forget].sort());
    const retain = readFileSync(join(out, 'retain-ids.txt'));
    expect(sha(retain)).toBe(fs.manifest.retain.idsSha256);
    const trainIds = IDS.filter((_, i) => i % 8 !== 7);
    expect(retain.toString('utf8').split('\n')).toEqual(trainIds.filter((id) => !forget.includes(id)).sort());
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(fs.manifest)));
    // an independent tool verifies the folder
    expect(execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: out, encoding: 'utf8' })).toMatch(/ids\.txt: OK[\s\S]*SHA256SUMS|ids\.txt: OK/);
    // the CSV: header, one row per forget ID, and no cell a spreadsheet would evaluate
    const csv = readFileSync(join(out, 'forget-set.csv'), 'utf8');
    const rows = csv.trimEnd().split('\r\n');
    expect(rows[0]).toBe('id,class_index,class,split,note,score');
    expect(rows).toHaveLength(1 + forget.length);
    const cells = rows.slice(1).flatMap((row) => row.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((c) => c.replace(/,$/, '')).filter((c, k, a) => k < a.length - 1 || c !== ''));
    for (const c of cells) {
      const text = c.startsWith('"') ? c.slice(1, -1).replace(/""/g, '"') : c;
      if (/^-?\d+(\.\d+)?$/.test(text)) continue; // numbers (a negative score stays a number)
      expect(/^[=+\-@\t\r]/.test(text), `cell ${JSON.stringify(c)}`).toBe(false);
    }
    expect(csv).toContain(`"'=HYPERLINK(""http://evil"",""x"")",0,c0,train,plain,0`);
    expect(csv).toContain("'=cmd|calc");
    expect(csv).toMatch(/\r\n'-5,2,c2,train,plain,2\r\n/);
    const readme = readFileSync(join(out, 'README.txt'), 'utf8');
    expect(readme).toContain(fs.manifest.idsSha256);
    expect(readme).toContain('sha256sum -c SHA256SUMS');
  });

  it('never overwrites: a non-empty folder, a file, a relative path and a missing parent are refused', async () => {
    await createForgetSet(w.ws, { datasetId, name: 'small', rule: { kind: 'ids', ids: ['u10'] } });
    const full = join(w.dir, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'keep.txt'), 'mine');
    await expect(exportForgetSet(w.ws, 'small', full)).rejects.toThrow(/is not empty/);
    expect(readdirSync(full)).toEqual(['keep.txt']);
    await expect(exportForgetSet(w.ws, 'small', join(full, 'keep.txt'))).rejects.toThrow(/is a file/);
    await expect(exportForgetSet(w.ws, 'small', 'relative/out')).rejects.toThrow(/absolute path/);
    await expect(exportForgetSet(w.ws, 'small', join(w.dir, 'no', 'such', 'parent'))).rejects.toThrow(/does not exist/);
    await expect(exportForgetSet(w.ws, 'no-such-set', join(w.dir, 'x'))).rejects.toThrow(/no forget set 'no-such-set'/);
    // an existing empty folder is fine
    const empty = join(w.dir, 'empty');
    mkdirSync(empty);
    const r = await exportForgetSet(w.ws, 'small', empty);
    expect(r.files).toHaveLength(6);
  });

  it('a damaged ID list in the workspace is reported and nothing is written', async () => {
    const fs = await createForgetSet(w.ws, { datasetId, name: 'to-damage', rule: { kind: 'ids', ids: ['u20', 'u21'] } });
    const rec = await w.ws.getRecord('forgetSets', fs.id);
    const blob = await w.ws.blobPath(rec!.blobs.ids.sha256);
    chmodSync(blob, 0o644);
    writeFileSync(blob, 'u20\nu22');
    const out = join(w.dir, 'damaged-out');
    await expect(exportForgetSet(w.ws, 'to-damage', out)).rejects.toThrow(/ID list of forget set 'to-damage' cannot be read \(Blob [0-9a-f]+ is corrupt on disk[\s\S]*workspace is damaged[\s\S]*Nothing was exported/);
    expect(existsSync(out)).toBe(false);
    // a record whose manifest hash disagrees with its (intact) ids blob: caught by the export's own check
    const other = await createForgetSet(w.ws, { datasetId, name: 'mismatch', rule: { kind: 'ids', ids: ['u24'] } });
    const orec = await w.ws.getRecord('forgetSets', other.id);
    const wrong = await w.ws.putBlob(new TextEncoder().encode('u25'));
    await w.ws.putRecord('forgetSets', other.id, orec!.data, { ...orec!.blobs, ids: wrong });
    await expect(exportForgetSet(w.ws, 'mismatch', out)).rejects.toThrow(/ID list of forget set 'mismatch' hashes to [0-9a-f]{12}…, not [0-9a-f]{12}…[\s\S]*Nothing was exported/);
    expect(existsSync(out)).toBe(false);
  });

  it('verify: an untouched export passes; one flipped byte in any file, a deleted file or a non-canonical list is named', async () => {
    await createForgetSet(w.ws, { datasetId, name: 'to-verify', rule: { kind: 'ids', ids: ['u8', 'u9', 'u10', 'u14', '@SUM(A1)'] } });
    const good = join(w.dir, 'verify-good');
    await exportForgetSet(w.ws, 'to-verify', good);
    const ok = await verifyForgetSetExport(good);
    expect(ok.ok, JSON.stringify(ok.checks)).toBe(true);
    expect(ok.checks.map((c) => c.name)).toEqual(['SHA256SUMS', 'manifest.json', 'ids.txt', 'retain-ids.txt', 'disjoint', 'forget-set.csv']);
    const variant = (name: string, change: (dir: string) => void) => {
      const dir = join(w.dir, `verify-${name}`);
      rmSync(dir, { recursive: true, force: true });
      cpSync(good, dir, { recursive: true });
      for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
      change(dir);
      return verifyForgetSetExport(dir);
    };
    const flip = (file: string, at = 0.5) => (dir: string) => {
      const b = readFileSync(join(dir, file));
      const k = Math.floor(b.length * at);
      b[k] ^= 0x01;
      writeFileSync(join(dir, file), b);
    };
    const failed = (r: Awaited<ReturnType<typeof verifyForgetSetExport>>) => r.checks.filter((c) => !c.ok).map((c) => c.name);
    // every file, one flipped bit each: the verifier fails and names the file
    for (const f of ['ids.txt', 'retain-ids.txt', 'manifest.json', 'forget-set.csv', 'README.txt']) {
      const r = await variant(`flip-${f}`, flip(f));
      expect(r.ok, f).toBe(false);
      expect(r.checks.find((c) => c.name === 'SHA256SUMS')!.detail, f).toContain(`${f} does not match its SHA-256`);
    }
    expect(failed(await variant('flip-ids-2', flip('ids.txt')))).toContain('ids.txt'); // also against the manifest hash
    const sums = await variant('flip-sums', flip('SHA256SUMS', 0.1));
    expect(sums.ok).toBe(false);
    expect(failed(sums)).toEqual(['SHA256SUMS']);
    const gone = await variant('deleted', (dir) => rmSync(join(dir, 'retain-ids.txt')));
    expect(failed(gone)).toEqual(expect.arrayContaining(['SHA256SUMS', 'retain-ids.txt']));
    expect(gone.checks.find((c) => c.name === 'SHA256SUMS')!.detail).toContain('retain-ids.txt is listed but missing');
    // a forger who rewrites ids.txt out of order and makes SHA256SUMS and the manifest agree is still caught: not canonical
    const reordered = await variant('reordered', (dir) => {
      const ids = readFileSync(join(dir, 'ids.txt'), 'utf8').split('\n').reverse().join('\n');
      writeFileSync(join(dir, 'ids.txt'), ids);
      const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      m.idsSha256 = sha(ids);
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 2) + '\n');
      const names = ['ids.txt', 'retain-ids.txt', 'manifest.json', 'forget-set.csv', 'README.txt'];
      writeFileSync(join(dir, 'SHA256SUMS'), names.map((n) => `${sha(readFileSync(join(dir, n)))}  ${n}\n`).join(''));
    });
    expect(failed(reordered)).toEqual(['ids.txt']);
    expect(reordered.checks.find((c) => c.name === 'ids.txt')!.detail).toMatch(/not after line 1 in code-point order/);
    await expect(verifyForgetSetExport(join(w.dir, 'no-such-folder'))).rejects.toThrow(/does not exist/);
  });

  it('verify --requests: forgotten, retained (the request was not honoured) and absent IDs are told apart', async () => {
    const dir = join(w.dir, 'verify-good');
    const req = join(w.dir, 'requests.txt');
    writeFileSync(req, '# requests\nu8\n@SUM(A1)\nu13\nnobody\nu8\n');
    const r = await verifyForgetSetExport(dir, { requestsFile: req });
    expect(r.requests).toEqual({ total: 4, forgotten: 2, retained: ['u13'], absent: ['nobody'] });
    expect(r.ok).toBe(false);
    expect(r.checks.at(-1)).toMatchObject({ name: 'requests', ok: false });
    expect(r.checks.at(-1)!.detail).toMatch(/2 of 4 requested IDs are forgotten; 1 are RETAINED \("u13"\); 1 are not training examples of this dataset \("nobody"\)/);
    const csvReq = join(w.dir, 'requests.csv');
    writeFileSync(csvReq, 'ticket,id\nT1,u9\nT2,u10\n');
    const c = await verifyForgetSetExport(dir, { requestsFile: csvReq });
    expect(c.ok).toBe(true);
    expect(c.requests).toMatchObject({ total: 2, forgotten: 2, retained: [], absent: [] });
  });
});
