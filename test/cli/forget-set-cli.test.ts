// Spawns the real CLI on a temp workspace: forget-set create/show/list, and the hash identity of the
// same deletion-request list given as a text file and as a CSV file.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idListSha256 } from '../../main/engine/data/hash';
import { openWorkspace } from '../../main/backend/workspace';
import { DatasetReader, type DatasetManifest } from '../../main/engine/data/store';

const ROOT = join(__dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'lethe-cli-fs-'));
const ws = join(tmp, 'ws');

function lethe(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'main/cli/index.ts'), '--workspace', ws, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function trainIds(n: number): Promise<string[]> {
  const w = await openWorkspace(ws);
  try {
    const rec = (await w.listRecords<DatasetManifest>('datasets'))[0];
    const r = await DatasetReader.open(w, rec);
    const ids = r.splitIndices('train').slice(0, n).map((i) => r.ids[i]);
    await r.close();
    return ids;
  } finally {
    await w.close();
  }
}

describe('lethe forget-set', () => {
  beforeAll(() => {
    const lines = ['id,x1,x2,group,label'];
    for (let i = 0; i < 120; i++) lines.push(`u${i},${i % 9},${(i * 7) % 13},${i % 2 ? 'a' : 'b'},${['cat', 'dog', 'fox'][i % 3]}`);
    writeFileSync(join(tmp, 'toy.csv'), lines.join('\n'));
    const r = lethe(['dataset', 'import', '--format', 'csv', '--source', join(tmp, 'toy.csv'), '--name', 'toy', '--id-column', 'id', '--test-fraction', '0.25', '--split-seed', '4']);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('gives identical hashes for the same ID list from a text file and a CSV file', async () => {
    // pick training IDs (the split is seeded) by reading the workspace in-process between CLI runs
    const ids = await trainIds(6);
    writeFileSync(join(tmp, 'requests.txt'), `# requests\n${ids.join('\r\n')}\n${ids[0]}\n`);
    writeFileSync(join(tmp, 'requests.csv'), `ticket,id\n${ids.map((id, k) => `T${k},"${id}"`).join('\n')}\n`);
    const a = lethe(['--json', 'forget-set', 'create', '--dataset', 'toy', '--kind', 'ids', '--ids-file', join(tmp, 'requests.txt'), '--name', 'from-text']);
    const b = lethe(['--json', 'forget-set', 'create', '--dataset', 'toy', '--kind', 'ids', '--ids-file', join(tmp, 'requests.csv'), '--name', 'from-csv']);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const ha = JSON.parse(a.stdout).idsSha256;
    expect(ha).toBe(JSON.parse(b.stdout).idsSha256);
    expect(ha).toBe(idListSha256(ids));
    expect(JSON.parse(a.stdout).manifest.report.duplicateCount).toBe(1);

    const human = lethe(['forget-set', 'show', 'from-csv']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`ids sha256 ${ha}`);
    expect(human.stdout).toMatch(/class\s+name\s+forget\s+retain/);

    const list = JSON.parse(lethe(['--json', 'forget-set', 'list', '--dataset', 'toy']).stdout) as { name: string; idsSha256: string }[];
    expect(list.map((f) => f.name).sort()).toEqual(['from-csv', 'from-text']);
  });

  it('creates random, filter and coreset sets, and reports bad requests clearly', () => {
    const r = lethe(['--json', 'forget-set', 'create', '--dataset', 'toy', '--kind', 'random', '--count', '10%', '--stratify', '--seed', '2', '--name', 'r10']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).count).toBe(9);
    const f = lethe(['--json', 'forget-set', 'create', '--dataset', 'toy', '--kind', 'filter', '--where', 'group=a', '--where', 'class in cat|dog', '--name', 'f1']);
    expect(f.code, f.stderr).toBe(0);
    expect(JSON.parse(f.stdout).manifest.forgetCounts[2]).toBe(0);
    const c = lethe(['--json', 'forget-set', 'create', '--dataset', 'toy', '--kind', 'coreset', '--source', 'r10', '--fraction', '0.5', '--name', 'c1']);
    expect(c.code, c.stderr).toBe(0);
    expect(JSON.parse(c.stdout).count).toBe(5);

    writeFileSync(join(tmp, 'bad.txt'), 'u1\nnot-an-id\n');
    const bad = lethe(['forget-set', 'create', '--dataset', 'toy', '--kind', 'ids', '--ids-file', join(tmp, 'bad.txt'), '--name', 'bad']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^lethe: .*do not exist in the dataset \(first: not-an-id\)/);
    const kind = lethe(['forget-set', 'create', '--dataset', 'toy', '--kind', 'psychic', '--name', 'x']);
    expect(kind.code).toBe(2);
    expect(kind.stderr).toMatch(/--kind must be one of/);
  });

  it('exports a forget set as a folder that sha256sum -c verifies; --out is required; a non-empty folder is refused', () => {
    const out = join(tmp, 'audit-export');
    const r = lethe(['--json', 'forget-set', 'export', 'from-text', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.files.map((f: { name: string }) => f.name)).toContain('SHA256SUMS');
    expect(createHash('sha256').update(readFileSync(join(out, 'ids.txt'))).digest('hex')).toBe(j.idsSha256);
    expect(spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: out, encoding: 'utf8' }).status).toBe(0);
    const human = lethe(['forget-set', 'export', 'from-csv', '--out', join(tmp, 'audit-export-2')]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/Exported forget set 'from-csv'[\s\S]*ids\.txt[\s\S]*sha256sum -c SHA256SUMS/);
    const again = lethe(['forget-set', 'export', 'from-text', '--out', out]);
    expect(again.code).not.toBe(0);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(again.stderr).toMatch(/is not empty/);
    const noOut = lethe(['forget-set', 'export', 'from-text']);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/--out <folder> is required/);

    // the auditor's side: verify the folder (no workspace needed) against their own requests
    const ok = lethe(['forget-set', 'verify', out]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^OK {3}SHA256SUMS/m);
    const ids = readFileSync(join(out, 'ids.txt'), 'utf8').split('\n');
    const retained = readFileSync(join(out, 'retain-ids.txt'), 'utf8').split('\n')[0];
    writeFileSync(join(tmp, 'audit-requests.txt'), [ids[0], retained, 'nobody'].join('\n'));
    const bad = lethe(['--json', 'forget-set', 'verify', out, '--requests', join(tmp, 'audit-requests.txt')]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).requests).toEqual({ total: 3, forgotten: 1, retained: [retained], absent: ['nobody'] });
    expect(bad.stderr.trim()).toBe('lethe: forget-set verify: 1 check(s) failed');
  });
});
