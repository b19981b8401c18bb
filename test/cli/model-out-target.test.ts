// `lethe model export --out` and `lethe model train --out` never replace an existing file without
// --force, and refuse special files (devices, FIFOs, folders, /proc) even with it: exit code 2 and one
// line on stderr, before any work is done (issue 9, point 3).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeNpz } from '../../main/engine/io/npz';
import { cli } from './model-helpers';

let dir = '';
let ws = '';
const W = () => ['--workspace', ws];

function oneLine(err: string): boolean {
  return err.trim().split('\n').length === 1 && !/\bat .*\.ts:\d+/.test(err);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lethe-model-out-'));
  ws = join(dir, 'ws');
  const c = await cli([...W(), 'model', 'create', '--arch', 'mlp', '--name', 'm1', '--input', '4', '--classes', '2', '--hidden', '4', '--seed', '1']);
  expect(c.code, c.err).toBe(0);
  const n = 16;
  const x = Float32Array.from({ length: n * 4 }, (_, i) => (i % 7) / 7);
  const y = BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 2));
  writeFileSync(join(dir, 'train.npz'), writeNpz({ x: { dtype: 'float32', shape: [n, 4], data: x }, y: { dtype: 'int64', shape: [n], data: y } }));
  execFileSync('mkfifo', [join(dir, 'pipe.onnx')]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lethe model export --out', () => {
  it('writes a new file, refuses an existing one without --force, replaces it with --force', async () => {
    const out = join(dir, 'm1.onnx');
    expect((await cli([...W(), 'model', 'export', 'm1', '--out', out])).code).toBe(0);
    writeFileSync(out, 'precious');
    const again = await cli([...W(), 'model', 'export', 'm1', '--out', out]);
    expect(again.code).toBe(2);
    expect(again.err.trim()).toBe(`lethe: ${out} already exists; add --force to replace it or give another file name.`);
    expect(readFileSync(out, 'utf8')).toBe('precious');
    const forced = await cli([...W(), 'model', 'export', 'm1', '--out', out, '--force']);
    expect(forced.code, forced.err).toBe(0);
    expect(statSync(out).size).toBeGreaterThan(100);
  });

  it.each(['/dev/null', '/proc/self/status', 'PIPE', 'DIR'])('refuses %s with one line and exit 2, even with --force', async (target) => {
    const p = target === 'PIPE' ? join(dir, 'pipe.onnx') : target === 'DIR' ? dir : target;
    for (const extra of [[], ['--force']]) {
      const r = await cli([...W(), 'model', 'export', 'm1', '--out', p, ...extra]);
      expect(r.code).toBe(2);
      expect(oneLine(r.err), r.err).toBe(true);
      expect(r.err).toMatch(/not a regular file|kernel file system/);
    }
  });
});

describe('lethe model train --out', () => {
  const train = () => ['model', 'train', '--model', 'm1', '--data', join(dir, 'train.npz'), '--epochs', '1', '--batch-size', '8'];

  it('refuses an existing --out before training unless --force', async () => {
    const out = join(dir, 'trained.onnx');
    writeFileSync(out, 'precious');
    const r = await cli([...W(), ...train(), '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe(`lethe: ${out} already exists; add --force to replace it or give another file name.`);
    expect(r.err).not.toMatch(/epoch/); // refused before any training
    expect(readFileSync(out, 'utf8')).toBe('precious');
    const forced = await cli([...W(), ...train(), '--out', out, '--force']);
    expect(forced.code, forced.err).toBe(0);
    expect(readFileSync(out).length).toBeGreaterThan(100);
    const forceAlone = await cli([...W(), ...train(), '--save-as', 'm1-t', '--force']);
    expect(forceAlone.code).toBe(2);
    expect(forceAlone.err.trim()).toBe('lethe: --force applies to --out only');
  });

  it('refuses a device, a FIFO and /proc even with --force', async () => {
    for (const p of ['/dev/null', join(dir, 'pipe.onnx'), '/proc/self/status']) {
      const r = await cli([...W(), ...train(), '--out', p, '--force']);
      expect(r.code).toBe(2);
      expect(oneLine(r.err), r.err).toBe(true);
      expect(r.err).toMatch(/not a regular file|kernel file system/);
    }
  });
});
