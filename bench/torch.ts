// PyTorch reference runs for the benchmark, found as on a user's machine (findTorch):
//   1. LETHE_TORCH_PYTHON: the Python interpreter to use (it must import torch and numpy);
//   2. `python3` on PATH, when it imports torch;
//   3. this project's machine image: the PyTorch 2.13 CPU wheel it carries, installed once, offline, into
//      a venv under ~/.cache/lethe; then Debian's python3-torch 1.13 (/usr/bin/python3).
// In a full run Debian's torch (when present and not the main one) is a second reference.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
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
  return torchProbe(python)?.version ?? null;
}

/** torch version and the interpreter's real path, or null when `python` cannot import torch and numpy. */
function torchProbe(python: string): { version: string; executable: string } | null {
  if (python.includes('/') && !existsSync(python)) return null;
  const r = spawnSync(python, ['-c', 'import sys, torch, numpy; print(torch.__version__); print(sys.executable)'], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0 || r.error) return null;
  const [version, executable] = r.stdout.trim().split('\n');
  return { version: version.trim(), executable: (executable ?? python).trim() };
}

/**
 * The main PyTorch reference, found as on a user's machine (see the header); logs which one and why.
 * Null when none is found (or LETHE_TORCH_PYTHON names a Python without torch: an error is logged).
 */
export function findTorch(log: (s: string) => void): TorchEnv | null {
  const envPy = process.env.LETHE_TORCH_PYTHON;
  if (envPy) {
    const p = torchProbe(envPy);
    if (!p) {
      log(`LETHE_TORCH_PYTHON=${envPy} cannot import torch and numpy: no PyTorch reference`);
      return null;
    }
    log(`PyTorch ${p.version} from LETHE_TORCH_PYTHON (${p.executable})`);
    return { python: envPy, version: p.version, label: `PyTorch ${p.version} (LETHE_TORCH_PYTHON=${envPy})` };
  }
  const onPath = torchProbe('python3');
  if (onPath) {
    log(`PyTorch ${onPath.version} from python3 on PATH (${onPath.executable})`);
    return { python: onPath.executable, version: onPath.version, label: `PyTorch ${onPath.version} (python3 on PATH: ${onPath.executable})` };
  }
  log('python3 on PATH has no torch (set LETHE_TORCH_PYTHON to choose a Python); trying the machine image\'s PyTorch');
  const t213 = ensureTorch213(log);
  if (t213) {
    log(`using ${t213.label}`);
    return t213;
  }
  const deb = debianTorch();
  if (deb) log(`using ${deb.label}`);
  return deb;
}

/** CPU model, core count and the vector extensions that matter for these kernels (from /proc/cpuinfo). */
/**
 * The microarchitecture of an x86 CPU from its vendor, family and model numbers (virtual machines often
 * report a bare "AMD EPYC" or "Intel Xeon Processor" as the model name). Only the server parts the
 * benchmark is likely to meet; null when not known.
 */
export function microarchitecture(vendor: string, family: number, model: number): string | null {
  if (vendor === 'AuthenticAMD') {
    if (family === 23) return model >= 0x30 ? 'Zen 2' : 'Zen / Zen+';
    if (family === 25) return (model >= 0x10 && model <= 0x1f) || (model >= 0x60 && model <= 0x7f) || (model >= 0xa0 && model <= 0xaf) ? 'Zen 4' : 'Zen 3';
    if (family === 26) return 'Zen 5';
  }
  if (vendor === 'GenuineIntel' && family === 6) {
    const intel: Record<number, string> = {
      0x55: 'Skylake-SP / Cascade Lake',
      0x6a: 'Ice Lake-SP',
      0x6c: 'Ice Lake-D',
      0x8f: 'Sapphire Rapids',
      0xcf: 'Emerald Rapids',
      0xad: 'Granite Rapids',
      0xaf: 'Sierra Forest',
    };
    return intel[model] ?? null;
  }
  return null;
}

export function cpuDescription(): string {
  let model = cpus()[0]?.model ?? 'unknown CPU';
  let ext = 'vector extensions unknown';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const m = info.match(/^model name\s*:\s*(.+)$/m);
    if (m) model = m[1].trim();
    const vendor = info.match(/^vendor_id\s*:\s*(\S+)/m)?.[1] ?? '';
    const fam = Number(info.match(/^cpu family\s*:\s*(\d+)/m)?.[1]);
    const mod = Number(info.match(/^model\s*:\s*(\d+)/m)?.[1]);
    if (Number.isFinite(fam) && Number.isFinite(mod)) {
      const arch = microarchitecture(vendor, fam, mod);
      model += ` (family ${fam} model ${mod}${arch ? `: ${arch}` : ''})`;
    }
    const flags = new Set((info.match(/^flags\s*:\s*(.+)$/m)?.[1] ?? '').trim().split(/\s+/));
    const want = ['avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_tile', 'amx_bf16', 'amx_int8'];
    const have = want.filter((f) => flags.has(f));
    ext = have.length ? have.join(' ') : 'no AVX2/AVX-512/AMX';
  } catch {
    /* not Linux */
  }
  return `${model}, ${cpus().length} cores (${ext})`;
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
