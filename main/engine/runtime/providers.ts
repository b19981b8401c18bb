// Execution providers: which ones this machine can use, decided from the platform, the backends that
// onnxruntime-node reports, the presence of optional add-on libraries, and (for WebGPU, whose adapter
// search can hang or crash on odd drivers) a time-limited probe in a child process.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as ortTypes from 'onnxruntime-node';

export type ProviderName = 'cpu' | 'cuda' | 'webgpu' | 'dml' | 'coreml';
export const PROVIDER_NAMES: readonly ProviderName[] = ['cpu', 'cuda', 'webgpu', 'dml', 'coreml'];

export interface ProviderStatus {
  name: ProviderName;
  /** Whether a session may be attempted with this provider (a failed attempt still falls back to cpu). */
  available: boolean;
  /** Why it is not available (null if available). */
  reason: string | null;
}

const require = createRequire(import.meta.url);
let ortModule: typeof ortTypes | undefined;
/** onnxruntime-node, loaded on first use (keeps importing this module cheap). */
export function ort(): typeof ortTypes {
  if (!ortModule) ortModule = require('onnxruntime-node') as typeof ortTypes;
  return ortModule;
}

/** Folder holding onnxruntime-node's native libraries for this platform. */
export function ortNativeDir(): string | null {
  try {
    const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
    return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return null;
  }
}

function cudaLibraryPresent(): boolean {
  const dir = ortNativeDir();
  if (!dir) return false;
  const name = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  return existsSync(join(dir, name));
}

export const CUDA_INSTALL_HINT =
  'install the CUDA add-on with `npm install onnxruntime-node --onnxruntime-node-install=cuda12` (or env ONNXRUNTIME_NODE_INSTALL=cuda12) on Linux/Windows with an NVIDIA GPU';

/** Static availability check (no session is created). WebGPU additionally needs probeProvider(). */
export function providerStatus(name: ProviderName, platform: NodeJS.Platform = process.platform): ProviderStatus {
  const no = (reason: string): ProviderStatus => ({ name, available: false, reason });
  if (!PROVIDER_NAMES.includes(name)) return no(`unknown execution provider '${String(name)}'`);
  if (name === 'cpu') return { name, available: true, reason: null };
  let backends: { name: string; bundled: boolean }[] = [];
  try {
    backends = ort().listSupportedBackends() as { name: string; bundled: boolean }[];
  } catch (e) {
    return no(`onnxruntime-node cannot list its backends (${(e as Error).message})`);
  }
  const listed = backends.find((b) => b.name === name);
  switch (name) {
    case 'dml':
      if (platform !== 'win32') return no('DirectML is only available on Windows');
      break;
    case 'coreml':
      if (platform !== 'darwin') return no('CoreML is only available on macOS');
      break;
    case 'cuda':
      if (platform !== 'linux' && platform !== 'win32') return no('CUDA is only available on Linux and Windows');
      if (!listed) return no('this onnxruntime-node build has no CUDA backend');
      if (!listed.bundled && !cudaLibraryPresent()) return no(`the onnxruntime-node CUDA add-on is not installed; ${CUDA_INSTALL_HINT}`);
      return { name, available: true, reason: null };
    case 'webgpu':
      break;
  }
  if (!listed) return no(`this onnxruntime-node build has no '${name}' backend`);
  return { name, available: true, reason: null };
}

/** Status of every provider on this machine (static checks only). */
export function listProviders(): ProviderStatus[] {
  return PROVIDER_NAMES.map((n) => providerStatus(n));
}

// ---------------------------------------------------------------------------------------------------
// Child-process probe

export interface ProbeResult {
  ok: boolean;
  reason: string | null;
  ms: number;
}

const probeCache = new Map<ProviderName, Promise<ProbeResult>>();

// A one-node model (Relu over float32 [1,4]) built by hand so the probe needs no project code.
const PROBE_MODEL_B64 = (() => {
  const enc = (s: string) => [...Buffer.from(s)];
  const str = (field: number, s: string) => [(field << 3) | 2, s.length, ...enc(s)];
  const msg = (field: number, body: number[]) => [(field << 3) | 2, body.length, ...body];
  const shape = [...msg(1, [0x08, 1]), ...msg(1, [0x08, 4])]; // TensorShapeProto{dim:[1,4]}
  const tensorType = msg(1, [0x08, 1, ...msg(2, shape)]); // TypeProto{tensor_type{elem_type: FLOAT, shape}}
  const vi = (name: string) => [...str(1, name), ...msg(2, tensorType)];
  const node = [...str(1, 'x'), ...str(2, 'y'), ...str(4, 'Relu')];
  const graph = [...msg(1, node), ...str(2, 'probe'), ...msg(11, vi('x')), ...msg(12, vi('y'))];
  const model = [0x08, 8, ...msg(7, graph), ...msg(8, [0x10, 17])];
  return Buffer.from(model).toString('base64');
})();

const PROBE_SCRIPT = `
const ort = require(process.env.LETHE_ORT_PATH);
const ep = process.env.LETHE_PROBE_EP;
const bytes = Buffer.from(process.env.LETHE_PROBE_MODEL, 'base64');
ort.InferenceSession.create(bytes, { executionProviders: [ep], logSeverityLevel: 4 })
  .then(async (s) => {
    const x = new ort.Tensor('float32', new Float32Array([1, -1, 2, -2]), [1, 4]);
    const out = await s.run({ x });
    const y = Array.from(out.y.data);
    if (y.join(',') !== '1,0,2,0') throw new Error('wrong result ' + y.join(','));
    process.stdout.write(JSON.stringify({ ok: true }) + '\\n');
    process.exit(0);
  })
  .catch((e) => {
    process.stdout.write(JSON.stringify({ ok: false, reason: String(e && e.message || e).split('\\n')[0].slice(0, 500) }) + '\\n');
    process.exit(0);
  });
`;

/**
 * Create and run a tiny session with `name` in a child process, so a hang or a native crash in the
 * provider cannot take this process down. Cached per process. In Electron this needs a Node-capable
 * child (ELECTRON_RUN_AS_NODE is set for the child); the job runner already runs engine code in one.
 */
export function probeProvider(name: ProviderName, timeoutMs = 20_000): Promise<ProbeResult> {
  const hit = probeCache.get(name);
  if (hit) return hit;
  const p = new Promise<ProbeResult>((resolveProbe) => {
    const t0 = Date.now();
    let ortPath: string;
    try {
      ortPath = require.resolve('onnxruntime-node');
    } catch {
      resolveProbe({ ok: false, reason: 'onnxruntime-node is not installed', ms: 0 });
      return;
    }
    const child = spawn(process.execPath, ['-e', PROBE_SCRIPT], {
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', LETHE_ORT_PATH: ortPath, LETHE_PROBE_EP: name, LETHE_PROBE_MODEL: PROBE_MODEL_B64 },
      stdio: ['ignore', 'pipe', 'ignore'],
      windowsHide: true,
    });
    let out = '';
    let done = false;
    const finish = (r: Omit<ProbeResult, 'ms'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolveProbe({ ...r, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish({ ok: false, reason: `the ${name} provider did not initialise within ${timeoutMs} ms (killed)` });
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (e) => finish({ ok: false, reason: `the ${name} probe could not start (${e.message})` }));
    child.on('exit', (code, signal) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        const r = JSON.parse(line) as { ok: boolean; reason?: string };
        finish({ ok: r.ok, reason: r.ok ? null : `the ${name} provider failed to initialise: ${r.reason}` });
      } catch {
        finish({ ok: false, reason: `the ${name} probe process ended abnormally (${signal ?? `exit code ${code}`})` });
      }
    });
  });
  probeCache.set(name, p);
  return p;
}

/** Forget cached probe results (tests, or after the user installs a driver). */
export function clearProbeCache(): void {
  probeCache.clear();
}
