// Shared helpers for the PyTorch parity tests: locate Debian's python3 with torch, run the reference
// scripts in test/parity/py, exchange arrays as NPZ; and referenceGate, which decides whether an
// acceptance suite needing torch or a Debian dataset runs, skips, or (LETHE_REQUIRE_REFERENCES=1) fails.

import { spawnSync } from 'node:child_process';
import { it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Npz, readNpz, writeNpz } from '../../main/engine/io/npz';
import { type Model, numel } from '../../main/engine/onnx/ir';

export const PYTHON = process.env.LETHE_PARITY_PYTHON ?? '/usr/bin/python3';
export const PY_DIR = join(dirname(fileURLToPath(import.meta.url)), 'py');

let torchStatus: { ok: boolean; why: string } | undefined;

/** Whether python3 with torch and onnx is available; the reason when not. */
export function torchAvailable(): { ok: boolean; why: string } {
  if (torchStatus) return torchStatus;
  if (!existsSync(PYTHON)) return (torchStatus = { ok: false, why: `${PYTHON} not found (install Debian python3-torch python3-onnx)` });
  const r = spawnSync(PYTHON, ['-c', 'import torch, onnx, numpy; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) return (torchStatus = { ok: false, why: `python3-torch is not installed (${(r.stderr || '').trim().split('\n').pop()})` });
  return (torchStatus = { ok: true, why: `torch ${r.stdout.trim()}` });
}

/**
 * LETHE_REQUIRE_REFERENCES=1 (set by .ci/run): acceptance tests whose references are missing (python3
 * with torch and onnx, Debian's dataset-fashion-mnist) fail with the reason instead of skipping, so a
 * broken install cannot pass CI.
 */
export function referencesRequired(): boolean {
  return process.env.LETHE_REQUIRE_REFERENCES === '1';
}

/**
 * Gate for an acceptance suite that needs an external reference; use as `describe.skipIf(referenceGate(...))`.
 * Returns false (run) when `status.ok`. Otherwise returns true (skip the suite) and either warns, or, when
 * LETHE_REQUIRE_REFERENCES=1, registers a failing test that states what is missing.
 */
export function referenceGate(label: string, status: { ok: boolean; why: string }): boolean {
  if (status.ok) return false;
  if (referencesRequired()) {
    it(`${label}: its reference is available (required by LETHE_REQUIRE_REFERENCES=1)`, () => {
      throw new Error(`${label} cannot run: ${status.why}. LETHE_REQUIRE_REFERENCES=1 makes a missing reference a failure (see .ci/run for the Debian packages).`);
    });
  } else {
    console.warn(`[${label}] SKIPPED: ${status.why} (set LETHE_REQUIRE_REFERENCES=1 to make this a failure)`);
  }
  return true;
}

/** Run a script from test/parity/py; throws with its stderr on failure. */
export function runPy(script: string, args: string[], timeoutMs = 180_000): string {
  const r = spawnSync(PYTHON, [join(PY_DIR, script), ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '2' },
  });
  if (r.status !== 0) throw new Error(`${script} failed (exit ${r.status}${r.signal ? `, ${r.signal}` : ''}):\n${r.stderr}`);
  return r.stdout;
}

export function tempDir(prefix = 'lethe-parity-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function saveNpz(path: string, arrays: Npz): void {
  writeFileSync(path, writeNpz(arrays));
}

export function loadNpz(path: string): Npz {
  return readNpz(readFileSync(path), { name: path });
}

/** max |a - b| and max |b| over two equal-length arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; scale: number } {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { diff, scale };
}

/** Seeded uniform floats in [lo, hi) (mulberry32), for test inputs and perturbed weights. */
export function seededFloats(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

/** Replace normalisation parameters and statistics with seeded random values (in place, new arrays). */
export function randomizeNormalization(model: Model, seed: number): void {
  const g = model.graph;
  const role = new Map<string, 'scale' | 'bias' | 'mean' | 'var'>();
  for (const n of g.nodes) {
    if (n.op === 'BatchNormalization') {
      role.set(n.inputs[1], 'scale').set(n.inputs[2], 'bias').set(n.inputs[3], 'mean').set(n.inputs[4], 'var');
    } else if (n.op === 'LayerNormalization') {
      role.set(n.inputs[1], 'scale');
      if (n.inputs[2]) role.set(n.inputs[2], 'bias');
    }
  }
  let k = seed;
  for (const t of g.initializers) {
    const r = role.get(t.name) ?? (t.name === 'cls_token' ? 'bias' : undefined);
    if (!r) continue;
    const n = numel(t.dims);
    const [lo, hi] = r === 'scale' ? [0.5, 1.5] : r === 'var' ? [0.5, 2] : [-0.5, 0.5];
    t.data = seededFloats(n, ++k, lo, hi);
  }
}

