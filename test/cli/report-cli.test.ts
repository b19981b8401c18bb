// Audit reports end to end on a small real comparison (CSV toy data -> MLP -> class forget set ->
// retrain + RL -> compare): the CLI writes the folder, the PDF renders and carries the hashes,
// verification passes untouched and names every tampered item, a wrong key fails, and the engine call
// gives the same metrics and hashes.

import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './model-helpers';
import { Rng } from '../../main/engine/train/rng';
import { openWorkspace } from '../../main/backend/workspace';
import { createReport } from '../../main/backend/services/reports';
import { sha256Hex } from '../../main/engine/reports/manifest';
import { createBackend } from '../../main/backend/service';

const tmp = mkdtempSync(join(tmpdir(), 'lethe-cli-report-'));
const wsDir = join(tmp, 'ws');
const run = (...args: string[]) => cli(['--workspace', wsDir, ...args]);
let cmpId = '';
const hasPoppler = spawnSync('pdftotext', ['-v']).status === 0;

function toyCsv(file: string) {
  const rng = new Rng(1, 5);
  const lines = ['id,f1,f2,f3,f4,label'];
  for (let i = 0; i < 450; i++) {
    const c = i % 3;
    lines.push(`r${i},${[0, 1, 2, 3].map((d) => (rng.nextNormal() + (d === c ? 3 : 0)).toFixed(4)).join(',')},${['cat', 'dog', 'fox'][c]}`);
  }
  writeFileSync(file, lines.join('\n'));
}

beforeAll(async () => {
  toyCsv(join(tmp, 'toy.csv'));
  for (const args of [
    ['dataset', 'import', '--format', 'csv', '--source', join(tmp, 'toy.csv'), '--name', 'toy', '--id-column', 'id', '--test-fraction', '0.25', '--split-seed', '0'],
    ['model', 'create', '--arch', 'mlp', '--name', 'mlp', '--input', '4', '--classes', '3', '--hidden', '16'],
    ['model', 'train', '--model', 'mlp', '--dataset', 'toy', '--epochs', '4', '--batch-size', '32', '--optimizer', 'sgd', '--momentum', '0.9', '--lr', '0.05', '--save-as', 'toy-mlp'],
    ['forget-set', 'create', '--dataset', 'toy', '--kind', 'class', '--classes', 'cat', '--name', 'cats'],
    ['unlearn', '--model', 'toy-mlp', '--forget-set', 'cats', '--method', 'retrain'],
    ['unlearn', '--model', 'toy-mlp', '--forget-set', 'cats', '--method', 'rl', '--param', 'epochs=2', '--param', 'batchSize=32'],
  ]) {
    const r = await run(...args);
    expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(0);
  }
  const c = await run('--json', 'compare', '--forget-set', 'cats', '--models', 'toy-mlp-retrain-s0,toy-mlp-rl-s0', '--threshold', 'forget-accuracy gap<= 5', '--threshold', 'retain-accuracy >= 50');
  expect(c.code, c.err).toBe(0);
  cmpId = JSON.parse(c.out).id;
}, 300_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const flipByte = (file: string, at?: number) => {
  const b = readFileSync(file);
  const i = at ?? Math.floor(b.length / 2);
  b[i] ^= 0x01;
  writeFileSync(file, b);
};

describe('lethe report create / verify', () => {
  const out = join(tmp, 'audit');
  const artifacts = join(tmp, 'exported');
  let created: { pdfSha256: string; manifest: { artifacts: { type: string; id: string; sha256: string; exportSha256?: string; file?: string }[]; metrics: unknown; verdicts: unknown; publicKey: { sha256: string } } };

  it('writes the folder; the workspace key is kept under keys/ with mode 0600; an existing non-empty folder is refused', async () => {
    const r = await run('--json', 'report', 'create', '--comparison', cmpId, '--out', out);
    expect(r.code, r.err).toBe(0);
    created = JSON.parse(r.out);
    expect(readdirSync(out).sort()).toEqual(['README.txt', 'manifest.json', 'manifest.sig', 'public-key.pem', 'report.pdf']);
    expect(sha256Hex(readFileSync(join(out, 'report.pdf')))).toBe(created.pdfSha256);
    const key = join(wsDir, 'keys', 'report-signing-ed25519.pem');
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(created.manifest.artifacts.map((a) => a.type).sort()).toEqual(['comparison', 'dataset', 'forget-set', 'model', 'model', 'model', 'outputs', 'outputs', 'outputs']);
    const again = await run('report', 'create', '--comparison', cmpId, '--out', out);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/not empty/);
    expect(readFileSync(join(out, 'README.txt'), 'utf8')).toMatch(/openssl pkeyutl -verify/);
  }, 120_000);

  it('the PDF renders; its text holds every model hash, Greek letters and the key fingerprint; exported models hash to it', async () => {
    if (!hasPoppler) return;
    const text = spawnSync('pdftotext', [join(out, 'report.pdf'), '-'], { encoding: 'utf8' }).stdout;
    mkdirSync(artifacts);
    for (const a of created.manifest.artifacts.filter((x) => x.type === 'model')) {
      expect(text).toContain(a.sha256);
      const e = await run('model', 'export', a.id, '--out', join(artifacts, a.file!));
      expect(e.code, e.err).toBe(0);
      expect(sha256Hex(readFileSync(join(artifacts, a.file!)))).toBe(a.exportSha256);
    }
    expect(text).toContain(created.manifest.publicKey.sha256);
    expect(text).toMatch(/ε/);
    expect(text).toMatch(/δ|θ/);
    expect(text).toMatch(/PASS|FAIL/);
    expect(text).toMatch(/Approximate unlearning/);
    const pages = join(tmp, 'pages');
    mkdirSync(pages);
    const r = spawnSync('pdftoppm', ['-png', '-r', '50', join(out, 'report.pdf'), join(pages, 'p')]);
    expect(r.status).toBe(0);
    expect(readdirSync(pages).length).toBeGreaterThanOrEqual(6);
    if (process.env.LETHE_KEEP_REPORT) cpSync(out, process.env.LETHE_KEEP_REPORT, { recursive: true });
  }, 120_000);

  it('verify passes unchanged (with the exported models and the right key), and openssl agrees', async () => {
    const r = await run('report', 'verify', out, ...(existsSync(artifacts) ? ['--artifacts', artifacts] : []), '--key', join(out, 'public-key.pem'));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/Report intact/);
    if (existsSync(artifacts)) expect(r.out).toMatch(/model 'toy-mlp-rl-s0'/);
    const o = spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', join(out, 'public-key.pem'), '-rawin', '-in', join(out, 'manifest.json'), '-sigfile', join(out, 'manifest.sig')], { encoding: 'utf8' });
    if (o.status !== null && !o.error) expect(o.stdout).toMatch(/Signature Verified Successfully/);
  }, 60_000);

  it('one flipped byte in the PDF, the manifest or an artifact fails and names it; a wrong key fails', async () => {
    const copy = (name: string) => {
      const d = join(tmp, name);
      cpSync(out, d, { recursive: true });
      return d;
    };
    const pdfT = copy('t-pdf');
    flipByte(join(pdfT, 'report.pdf'));
    let r = await run('report', 'verify', pdfT);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/report\.pdf.*changed/);

    const manT = copy('t-manifest');
    const m = readFileSync(join(manT, 'manifest.json'), 'utf8');
    const i = m.indexOf(created.manifest.artifacts[0].sha256) + 5;
    flipByte(join(manT, 'manifest.json'), i);
    r = await run('report', 'verify', manT);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/signature:.*manifest\.json was changed/);

    if (existsSync(artifacts)) {
      const artT = join(tmp, 't-art');
      cpSync(artifacts, artT, { recursive: true });
      flipByte(join(artT, 'toy-mlp-rl-s0.onnx'));
      r = await run('report', 'verify', out, '--artifacts', artT);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/model 'toy-mlp-rl-s0' \(toy-mlp-rl-s0\.onnx\).*changed/);
    }

    const other = generateKeyPairSync('ed25519');
    writeFileSync(join(tmp, 'other.pub.pem'), other.publicKey.export({ type: 'spki', format: 'pem' }));
    r = await run('report', 'verify', out, '--key', join(tmp, 'other.pub.pem'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/signature: the report was signed with key/);

    // a signature made by another key over the same manifest
    const sigT = copy('t-sig');
    const { sign } = await import('node:crypto');
    writeFileSync(join(sigT, 'manifest.sig'), sign(null, readFileSync(join(sigT, 'manifest.json')), other.privateKey));
    r = await run('report', 'verify', sigT);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/signature: the Ed25519 signature/);
  }, 60_000);

  it('a user key signs; the engine call gives the same metrics, hashes and PDF bytes as the CLI', async () => {
    const k = generateKeyPairSync('ed25519');
    const pem = join(tmp, 'mine.pem');
    writeFileSync(pem, k.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const viaCli = await run('--json', 'report', 'create', '--comparison', cmpId, '--out', join(tmp, 'cli2'), '--sign', pem);
    expect(viaCli.code, viaCli.err).toBe(0);
    const a = JSON.parse(viaCli.out);
    const ws = await openWorkspace(wsDir);
    try {
      const b = await createReport(ws, { comparison: cmpId, out: join(tmp, 'engine2'), sign: pem });
      expect(b.manifest.metrics).toEqual(a.manifest.metrics);
      expect(b.manifest.artifacts).toEqual(a.manifest.artifacts);
      expect(b.manifest.verdicts).toEqual(a.manifest.verdicts);
      expect(b.pdfSha256).toBe(a.pdfSha256);
      expect(b.manifestSha256).toBe(a.manifestSha256);
    } finally {
      await ws.close();
    }
    // the workspace key and the user key differ; both reports list the same artifacts
    expect(a.manifest.publicKey.sha256).not.toBe(created.manifest.publicKey.sha256);
    expect(a.manifest.artifacts).toEqual(created.manifest.artifacts);
    const bad = await run('report', 'create', '--comparison', cmpId, '--out', join(tmp, 'cli3'), '--sign', join(tmp, 'other.pub.pem'));
    expect(bad.code).toBe(2);
  }, 120_000);
});

describe('lethe report create --out <file>.pdf, and the report the app makes (reports.create)', () => {
  const pdf = join(tmp, 'single', 'audit.pdf');
  let cliReport: { pdf: string; pdfSha256: string; manifest: { pdf: { file: string; sha256: string }; metrics: unknown; artifacts: unknown; verdicts: unknown; publicKey: { sha256: string } } };

  it('writes the PDF at the given path with its manifest, signature, key and README beside it; verify takes the PDF or its folder', async () => {
    mkdirSync(join(tmp, 'single'));
    const r = await run('--json', 'report', 'create', '--comparison', cmpId, '--out', pdf);
    expect(r.code, r.err).toBe(0);
    cliReport = JSON.parse(r.out);
    expect(cliReport.pdf).toBe(pdf);
    expect(readdirSync(join(tmp, 'single')).sort()).toEqual(['audit.README.txt', 'audit.manifest.json', 'audit.manifest.sig', 'audit.pdf', 'audit.public-key.pem']);
    expect(sha256Hex(readFileSync(pdf))).toBe(cliReport.pdfSha256);
    expect(cliReport.manifest.pdf.file).toBe('audit.pdf');
    expect(readFileSync(join(tmp, 'single', 'audit.README.txt'), 'utf8')).toMatch(/-in audit\.manifest\.json -sigfile audit\.manifest\.sig/);
    for (const target of [pdf, join(tmp, 'single')]) {
      const v = await run('report', 'verify', target);
      expect(v.code, `${target}: ${v.err}`).toBe(0);
      expect(v.out).toMatch(/ok {2}audit\.pdf: SHA-256/);
    }
    // never written over
    const again = await run('report', 'create', '--comparison', cmpId, '--out', pdf);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/already exists/);
    expect(again.err.trim().split('\n')).toHaveLength(1);
    // a changed byte of the PDF fails and names it, given the PDF or the folder
    const t = join(tmp, 'single-t');
    cpSync(join(tmp, 'single'), t, { recursive: true });
    flipByte(join(t, 'audit.pdf'));
    for (const target of [join(t, 'audit.pdf'), t]) {
      const v = await run('report', 'verify', target);
      expect(v.code).toBe(1);
      expect(v.err).toMatch(/audit\.pdf.*changed/);
    }
    const none = await run('report', 'verify', join(tmp, 'toy.csv'));
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/neither a report folder nor a report PDF/);
  }, 120_000);

  it('the report made through the API (reports.create, a report.create job) carries the same metrics and hashes as the CLI one; reports.list, verify and file', async () => {
    const backend = await createBackend({ workspaceRoot: wsDir, shell: 'cli', log: () => {} });
    try {
      const call = async (method: string, args: unknown) => {
        const env = await backend.dispatch(method, args);
        if (!env.ok) throw new Error(`${method}: ${env.error.message}`);
        return env.result as never;
      };
      // the API submits a report.create job; the job runner's worker process writes the report
      const job: { id: string; kind: string } = await call('reports.create', { comparison: cmpId });
      expect(job.kind).toBe('report.create');
      let ended: { state: string; reason: string | null; result: { reportId: string } | null } | null = null;
      for (let i = 0; i < 600 && !ended; i++) {
        const j: { state: string; reason: string | null; result: { reportId: string } | null } = await call('jobs.get', { id: job.id });
        if (!['queued', 'running'].includes(j.state)) ended = j;
        else await new Promise((r) => setTimeout(r, 100));
      }
      expect(ended?.state, ended?.reason ?? 'the job did not end').toBe('succeeded');
      const result = ended!.result!;
      const list0: { id: string; inWorkspace: boolean; pdfPath: string; pdfSha256: string; verdict: string | null }[] = await call('reports.list', {});
      const made = list0.find((r) => r.id === result.reportId)!;
      expect(made.inWorkspace).toBe(true);
      expect(made.pdfPath.startsWith(wsDir)).toBe(true);
      const file = async (kind: string): Promise<{ name: string; sha256: string; base64: string }> => call('reports.file', { id: made.id, file: kind });
      const m = await file('manifest');
      const manifest = JSON.parse(Buffer.from(m.base64, 'base64').toString('utf8'));
      // the same numbers and the same hashes as the CLI's report of this comparison
      expect(manifest.metrics).toEqual(cliReport.manifest.metrics);
      expect(manifest.artifacts).toEqual(cliReport.manifest.artifacts);
      expect(manifest.verdicts).toEqual(cliReport.manifest.verdicts);
      expect(manifest.publicKey.sha256).toBe(cliReport.manifest.publicKey.sha256);
      // same key, same comparison: the very same PDF bytes
      const p = await file('pdf');
      expect(p.name).toBe('report.pdf');
      expect(sha256Hex(Buffer.from(p.base64, 'base64'))).toBe(cliReport.pdfSha256);
      expect(made.pdfSha256).toBe(cliReport.pdfSha256);
      expect(made.verdict).toMatch(/^(pass|fail|incomplete)$/);

      const list: { id: string; inWorkspace: boolean; comparison: { id: string } }[] = await call('reports.list', { comparison: cmpId });
      expect(list.map((r) => r.id)).toContain(made.id);
      expect(list.filter((r) => !r.inWorkspace).length).toBeGreaterThanOrEqual(1); // the CLI's
      expect((await call('reports.verify', { id: made.id }) as { ok: boolean }).ok).toBe(true);
      flipByte(made.pdfPath);
      const v: { ok: boolean; problems: { item: string }[] } = await call('reports.verify', { id: made.id });
      expect(v.ok).toBe(false);
      expect(v.problems.map((x) => x.item)).toContain('report.pdf');
      const bad = await backend.dispatch('reports.create', { comparison: 'cmp-none' });
      expect(bad.ok ? null : bad.error.code).toBe('not_found');
    } finally {
      await backend.close();
    }
  }, 120_000);
});
