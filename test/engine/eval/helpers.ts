// Helpers for the evaluation-suite parity tests: Debian's python3 with numpy, scipy and scikit-learn
// is the oracle (test/engine/eval/py/eval_ref.py); skipped when absent unless LETHE_REQUIRE_REFERENCES=1.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PYTHON, saveNpz } from '../../parity/helpers';
import type { Npz } from '../../../main/engine/io/npz';

export const EVAL_PY = join(dirname(fileURLToPath(import.meta.url)), 'py', 'eval_ref.py');

let status: { ok: boolean; why: string } | undefined;

/** Whether python3 with numpy, scipy and scikit-learn is available; the reason when not. */
export function sklearnAvailable(): { ok: boolean; why: string } {
  if (status) return status;
  if (!existsSync(PYTHON)) return (status = { ok: false, why: `${PYTHON} not found (install Debian python3-sklearn python3-numpy python3-scipy)` });
  const r = spawnSync(PYTHON, ['-c', 'import sklearn, numpy, scipy; print(sklearn.__version__)'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) return (status = { ok: false, why: `python3-sklearn is not installed (${(r.stderr || '').trim().split('\n').pop()})` });
  return (status = { ok: true, why: `scikit-learn ${r.stdout.trim()}` });
}

/** Write `arrays` to dir/name.npz, run eval_ref.py TASK on it, parse its JSON. */
export function runEvalPy<T>(task: string, dir: string, arrays: Npz): T {
  const path = join(dir, `${task}.npz`);
  saveNpz(path, arrays);
  const r = spawnSync(PYTHON, [EVAL_PY, task, path], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
  });
  if (r.status !== 0) throw new Error(`eval_ref.py ${task} failed (exit ${r.status}${r.signal ? `, ${r.signal}` : ''}):\n${r.stderr}`);
  return JSON.parse(r.stdout.replace(/\bNaN\b/g, 'null').replace(/-?Infinity/g, 'null')) as T;
}
