// PyTorch reference runs for the benchmark. The current PyTorch (2.13 CPU wheel carried by the machine
// image) is preferred: it is installed once, offline, into a venv under ~/.cache/lethe. Debian's
// python3-torch 1.13 (/usr/bin/python3) is the fallback and, in a full run, a second reference.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TorchEnv {
  python: string;
  version: string;
  label: string;
}

const HERE = dirname(fileURLToPath(import.meta.url));
const WHEEL_DIRS = ['/opt/wheels'];
const PY311 = '/root/.pyenv/versions/3.11.7/bin/python';

function torchVersion(python: string): string | null {
  if (!existsSync(python)) return null;
  const r = spawnSync(python, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8', timeout: 120_000 });
  return r.status === 0 ? r.stdout.trim() : null;
}

function findWheel(): string | null {
  for (const d of WHEEL_DIRS) {
    if (!existsSync(d)) continue;
    const f = readdirSync(d).find((n) => /^torch-2\.13.*cp311.*\.whl$/.test(n));
    if (f) return join(d, f);
  }
  return null;
}

/** The torch 2.13 venv, created offline from the image's wheel when needed; null when impossible. */
export function ensureTorch213(log: (s: string) => void): TorchEnv | null {
  const venv = join(process.env.LETHE_TORCH_VENV ?? join(homedir(), '.cache', 'lethe', 'torch-2.13-venv'));
  const py = join(venv, 'bin', 'python');
  let v = torchVersion(py);
  if (!v) {
    const wheel = findWheel();
    if (!wheel || !existsSync(PY311)) return null;
    log(`creating ${venv} with ${wheel} (offline, once)`);
    // system site packages provide numpy/sympy/networkx/jinja2 for the wheel's imports
    let r = spawnSync(PY311, ['-m', 'venv', '--system-site-packages', venv], { encoding: 'utf8' });
    if (r.status !== 0) return log(`venv creation failed: ${r.stderr}`), null;
    r = spawnSync(py, ['-m', 'pip', 'install', '--no-index', '--no-deps', '--quiet', wheel], { encoding: 'utf8', timeout: 600_000 });
    if (r.status !== 0) return log(`offline pip install failed: ${r.stderr}`), null;
    v = torchVersion(py);
    if (!v) return null;
  }
  return { python: py, version: v, label: `PyTorch ${v} (pip wheel, venv ${venv})` };
}

export function debianTorch(): TorchEnv | null {
  const v = torchVersion('/usr/bin/python3');
  return v ? { python: '/usr/bin/python3', version: v, label: `PyTorch ${v} (Debian python3-torch)` } : null;
}

export function runTorchBench(env: TorchEnv, spec: object): Record<string, unknown> {
  const r = spawnSync(env.python, [join(HERE, 'torch_bench.py'), JSON.stringify(spec)], {
    encoding: 'utf8',
    timeout: 1_800_000,
    env: { ...process.env, OMP_NUM_THREADS: String((spec as { threads: number }).threads) },
  });
  if (r.status !== 0) throw new Error(`torch_bench.py (${env.label}) failed: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}
