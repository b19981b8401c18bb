import { describe, it, expect } from 'vitest';
import type { InferenceSession } from 'onnxruntime-node';
import { availableParallelism } from 'node:os';
import { GraphBuilder } from '../../../main/engine/onnx/builder';
import { encodeModel, makeModel } from '../../../main/engine/onnx/codec';
import { tensorF32 } from '../../../main/engine/onnx/ir';
import { createSession, SessionOptionsError } from '../../../main/engine/runtime/session';
import { listProviders, ort, probeProvider, providerStatus } from '../../../main/engine/runtime/providers';

function gemmModel(): Uint8Array {
  const b = new GraphBuilder();
  b.input('x', 'float32', ['N', 3]);
  b.initializer('w', tensorF32([3, 2], [1, 2, 3, 4, 5, 6]));
  b.initializer('bias', tensorF32([2], [0.5, -0.5]));
  const y = b.op('Gemm', ['x', 'w', 'bias']);
  const r = b.op('Relu', [y]);
  b.output(r, 'float32', ['N', 2]);
  return encodeModel(makeModel(b.toGraph()));
}

async function runGemm(session: InferenceSession): Promise<number[]> {
  const O = ort();
  const out = await session.run({ x: new O.Tensor('float32', Float32Array.from([1, 0, -1, 0, 1, 0]), [2, 3]) });
  return [...(out[session.outputNames[0]].data as Float32Array)];
}

describe('createSession', () => {
  it('runs on cpu and records the provider and threads used', async () => {
    const s = await createSession(gemmModel(), { provider: 'cpu' });
    expect(s.provider).toBe('cpu');
    expect(s.fallbackReason).toBeNull();
    expect(s.threads).toBe(availableParallelism());
    // x0 = [1,0,-1] -> [1-5+0.5, 2-6-0.5] = [-3.5, -4.5] -> relu 0,0 ; x1 = [0,1,0] -> [3.5, 3.5]
    expect(await runGemm(s.session)).toEqual([0, 0, 3.5, 3.5]);
    await s.session.release();
    const one = await createSession(gemmModel(), { intraOpThreads: 1, graphOptimization: 'disabled' });
    expect(one.threads).toBe(1);
    expect(one.graphOptimization).toBe('disabled');
    expect(await runGemm(one.session)).toEqual([0, 0, 3.5, 3.5]);
    await one.session.release();
  });

  for (const p of ['cuda', 'dml', 'coreml'] as const) {
    it(`asking for ${p} here falls back to cpu with a reason`, async () => {
      const st = providerStatus(p);
      const s = await createSession(gemmModel(), { provider: p, intraOpThreads: 2 });
      if (st.available) {
        // a machine that really has it: either it is used or the failure is explained
        expect(s.provider === p || (s.provider === 'cpu' && !!s.fallbackReason)).toBe(true);
      } else {
        expect(s.provider).toBe('cpu');
        expect(s.requestedProvider).toBe(p);
        expect(s.fallbackReason).toMatch(new RegExp(`^${p} is not available: .+; using cpu$`));
        if (p === 'dml' && process.platform !== 'win32') expect(s.fallbackReason).toMatch(/only available on Windows/);
        if (p === 'coreml' && process.platform !== 'darwin') expect(s.fallbackReason).toMatch(/only available on macOS/);
        if (p === 'cuda' && process.platform === 'linux') expect(s.fallbackReason).toMatch(/CUDA add-on is not installed|no CUDA backend/);
      }
      expect(s.threads).toBe(2);
      expect(await runGemm(s.session)).toEqual([0, 0, 3.5, 3.5]);
      await s.session.release();
    });
  }

  it('webgpu either works or falls back cleanly within its time limit', async () => {
    const t0 = Date.now();
    const s = await createSession(gemmModel(), { provider: 'webgpu', probeTimeoutMs: 20_000 });
    expect(Date.now() - t0).toBeLessThan(30_000);
    if (s.provider === 'webgpu') expect(s.fallbackReason).toBeNull();
    else {
      expect(s.provider).toBe('cpu');
      expect(s.fallbackReason).toMatch(/webgpu/);
      expect(s.fallbackReason).toMatch(/using cpu$/);
    }
    expect(await runGemm(s.session)).toEqual([0, 0, 3.5, 3.5]);
    await s.session.release();
    // cached: the second request does not probe again
    const t1 = Date.now();
    const again = await probeProvider('webgpu');
    expect(Date.now() - t1).toBeLessThan(50);
    expect(again.ok).toBe(s.provider === 'webgpu');
  });

  it('a probe that hangs is killed at its time limit', async () => {
    // 'coreml' is never probed by createSession here, so its cache is empty; a 1 ms limit cannot be met
    const r = await probeProvider('coreml', 1);
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/did not initialise within 1 ms|failed to initialise|ended abnormally/);
  });

  it('refuses bad options with a specific message', async () => {
    await expect(createSession(gemmModel(), { provider: 'tpu' as never })).rejects.toThrow(/unknown execution provider 'tpu'/);
    await expect(createSession(gemmModel(), { intraOpThreads: -1 })).rejects.toBeInstanceOf(SessionOptionsError);
    await expect(createSession(gemmModel(), { interOpThreads: 1.5 })).rejects.toThrow(/interOpThreads must be an integer/);
    await expect(createSession(gemmModel(), { graphOptimization: 'max' as never })).rejects.toThrow(/graphOptimization/);
    await expect(createSession(new Uint8Array(0))).rejects.toThrow(/non-empty/);
  });

  it('lists every provider with a reason when unavailable', () => {
    const all = listProviders();
    expect(all.map((p) => p.name)).toEqual(['cpu', 'cuda', 'webgpu', 'dml', 'coreml']);
    expect(all[0]).toEqual({ name: 'cpu', available: true, reason: null });
    for (const p of all) if (!p.available) expect(p.reason).toBeTruthy();
  });
});
