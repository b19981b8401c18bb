// 'unlearning.estimate' on a small real workspace (CSV toy data -> MLP trained by the CLI -> class
// forget set -> retrain reference and RL runs): a run already made is reused at no cost, a method
// measured on this model is scaled from its recorded time, one never run here is estimated from the
// model's training speed, and each says so; nothing is submitted; bad plans are refused in one sentence.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../../cli/model-helpers';
import { Rng } from '../../../main/engine/train/rng';
import { createBackend, type Backend } from '../../../main/backend/service';
import { estimateCompare, jobOverhead } from '../../../main/backend/services/plan-estimate';
import type { RunManifest } from '../../../main/engine/runs/contract-types';
import type { JobInfo } from '../../../preload/api';
import type { UnlearningPlanEstimate } from '../../../preload/api';
import { createFakeRunner } from '../../transport/fake-runner';

const tmp = mkdtempSync(join(tmpdir(), 'lethe-estimate-'));
const wsDir = join(tmp, 'ws');
const run = (...args: string[]) => cli(['--workspace', wsDir, ...args]);
let backend: Backend;

beforeAll(async () => {
  const rng = new Rng(3, 5);
  const lines = ['id,f1,f2,f3,f4,label'];
  for (let i = 0; i < 300; i++) {
    const c = i % 3;
    lines.push(`r${i},${[0, 1, 2, 3].map((d) => (rng.nextNormal() + (d === c ? 3 : 0)).toFixed(4)).join(',')},${['cat', 'dog', 'fox'][c]}`);
  }
  writeFileSync(join(tmp, 'toy.csv'), lines.join('\n'));
  for (const args of [
    ['dataset', 'import', '--format', 'csv', '--source', join(tmp, 'toy.csv'), '--name', 'toy', '--id-column', 'id', '--test-fraction', '0.25', '--split-seed', '0'],
    ['model', 'create', '--arch', 'mlp', '--name', 'mlp', '--input', '4', '--classes', '3', '--hidden', '8'],
    ['model', 'train', '--model', 'mlp', '--dataset', 'toy', '--epochs', '2', '--batch-size', '32', '--lr', '0.05', '--save-as', 'toy-mlp'],
    ['forget-set', 'create', '--dataset', 'toy', '--kind', 'class', '--classes', 'cat', '--name', 'cats'],
    ['unlearn', '--model', 'toy-mlp', '--forget-set', 'cats', '--method', 'retrain'],
    ['unlearn', '--model', 'toy-mlp', '--forget-set', 'cats', '--method', 'rl', '--param', 'epochs=1', '--param', 'batchSize=32'],
    // a second original of the same architecture and size, never unlearned
    ['model', 'train', '--model', 'mlp', '--dataset', 'toy', '--epochs', '1', '--batch-size', '32', '--lr', '0.05', '--seed', '1', '--save-as', 'toy-mlp-b'],
  ]) {
    const r = await run(...args);
    expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(0);
  }
  backend = await createBackend({ workspaceRoot: wsDir, shell: 'cli', createJobRunner: () => createFakeRunner(), log: () => {} });
}, 300_000);
afterAll(async () => {
  await backend?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('unlearning.estimate', () => {
  it('reuses what is stored, scales what was measured, falls back on the training speed, and says which', async () => {
    const env = await backend.dispatch('unlearning.estimate', {
      model: 'toy-mlp',
      forgetSet: 'cats',
      methods: [
        { id: 'rl', params: { epochs: 1, batchSize: 32 } },
        { id: 'rl', params: { epochs: 3, batchSize: 32 } },
        { id: 'ft', params: { epochs: 2 } },
      ],
      seeds: 2,
    });
    expect(env.ok, JSON.stringify(env)).toBe(true);
    const e = (env as { result: UnlearningPlanEstimate }).result;
    const at = (method: string, seed: number, epochs?: number) => e.runs.filter((r) => r.method === method && r.seed === seed)[epochs === 3 ? 1 : 0];
    if (process.env.LETHE_SHOW) console.log(JSON.stringify(e, null, 1));
    expect(e.runs).toHaveLength(8); // (retrain, rl×2, ft) × 2 seeds
    expect(at('retrain', 0).basis).toBe('reused');
    expect(at('retrain', 0).seconds).toBe(0);
    expect(at('retrain', 0).reusedRun).toMatch(/^retrain-/);
    expect(at('rl', 0).basis).toBe('reused');
    // seed 1 was never run: the seed-0 run's measured time
    expect(at('retrain', 1).basis).toBe('run');
    expect(at('retrain', 1).detail).toMatch(/^measured: Retrain took [\d.]+ s on this model on this machine \(run retrain-/);
    // three epochs instead of one: scaled from the measured one-epoch run
    const rl3 = at('rl', 0, 3);
    expect(rl3.basis).toBe('run');
    expect(rl3.detail).toMatch(/scaled for 1 → 3 epochs/);
    const rl1s1 = at('rl', 1);
    expect(rl3.seconds!).toBeGreaterThan(rl1s1.seconds!);
    // FT never ran on this model: the model's training speed on this machine
    expect(at('ft', 0).basis).toBe('training');
    expect(at('ft', 0).detail).toMatch(/no FT .*run on this model yet; 2 passes over D_f \+ D_r at this model's training speed here \([\d,]+ examples\/s\)/);
    // no comparison job has finished here (the fake runner ran none): the total is the runs'
    expect(e.compare).toEqual({ seconds: null, detail: 'not measured: no comparison has finished on this machine yet' });
    expect(e.totalSeconds).toBeCloseTo(e.runs.reduce((s, r) => s + (r.seconds ?? 0), 0), 6);
    expect(e.unknown).toBe(0);
    expect(e.counts.forget).toBeGreaterThan(0);
    // nothing was submitted
    expect(await backend.handlers["jobs.list"]({})).toEqual([]);
  }, 60_000);

  it('a model never unlearned borrows the measured time of the same method on a model of the same architecture and size', async () => {
    const env = await backend.dispatch('unlearning.estimate', { model: 'toy-mlp-b', forgetSet: 'cats', methods: [{ id: 'rl', params: { epochs: 2, batchSize: 32 } }, { id: 'ft' }] });
    expect(env.ok, JSON.stringify(env)).toBe(true);
    const e = (env as { result: UnlearningPlanEstimate }).result;
    const rl = e.runs.find((r) => r.method === 'rl')!;
    expect(rl.basis).toBe('run');
    expect(rl.detail).toMatch(/^measured: RL \(random labels\) took [\d.]+ s on 'toy-mlp' \(same architecture and size\) on this machine \(run rl-.*scaled for 1 → 2 epochs$/);
    expect(e.runs.find((r) => r.method === 'retrain')!.detail).toMatch(/on 'toy-mlp' \(same architecture and size\)/);
    expect(e.runs.find((r) => r.method === 'ft')!.basis).toBe('training');
  });

  it('the comparison: the newest finished comparison job, per model and seed, scaled to the plan', () => {
    const job = (over: Partial<JobInfo>): JobInfo => ({ id: 'j', kind: 'unlearn.compare', title: '', params: {}, state: 'succeeded', createdAt: '', startedAt: '2026-12-03T10:00:00.000Z', endedAt: '2026-12-03T10:00:24.000Z', progress: null, reason: null, result: { comparisonId: 'c', entries: 4, seeds: 2 }, resumable: false, attempt: 1, dependsOn: [], ...over });
    expect(estimateCompare([], 3, 1)).toBeNull();
    const older = job({ id: 'old', endedAt: '2026-12-02T10:00:24.000Z', startedAt: '2026-12-02T10:00:00.000Z', result: { entries: 2, seeds: 1 } });
    const failed = job({ id: 'bad', state: 'failed', endedAt: '2026-12-04T00:00:00.000Z' });
    const other = job({ id: 'run', kind: 'unlearn.run', endedAt: '2026-12-04T00:00:00.000Z' });
    const c = estimateCompare([older, job({}), failed, other], 5, 3)!;
    // 24 s for 4 models × 2 seeds = 3 s per model and seed; 5 × 3 = 45 s
    expect(c.seconds).toBeCloseTo(45, 9);
    expect(c.detail).toBe('measured: a comparison of 4 models × 2 seeds took 24 s on this machine (job j, 2026-12-03), scaled to 5 models × 3 seeds');
  });

  it("a run job's own cost beyond its recorded phases: the median over finished, not reused run jobs", () => {
    const job = (id: string, wall: number, result: unknown, over: Partial<JobInfo> = {}): JobInfo => ({ id, kind: 'unlearn.run', title: '', params: {}, state: 'succeeded', createdAt: '', startedAt: '2026-12-03T10:00:00.000Z', endedAt: new Date(Date.parse('2026-12-03T10:00:00.000Z') + wall * 1000).toISOString(), progress: null, reason: null, result, resumable: false, attempt: 1, dependsOn: [], ...over });
    const run = (sum: number) => ({ timings: { load: sum / 4, method: sum / 4, evaluate: sum / 4, save: sum / 4 } }) as RunManifest;
    const runs = new Map([['a', run(4)], ['b', run(2)], ['c', run(10)], ['d', run(1)]]);
    expect(jobOverhead([], runs)).toBeNull();
    const jobs = [
      job('1', 7, { runId: 'a', cached: false }), // 3 s beyond
      job('2', 7, { runId: 'b', cached: false }), // 5 s
      job('3', 11, { runId: 'c', cached: false }), // 1 s
      job('4', 50, { runId: 'd', cached: true }), // reused: not counted
      job('5', 50, { runId: 'a', cached: false }, { state: 'failed' }),
      job('6', 50, { runId: 'zz', cached: false }), // its run is gone
    ];
    expect(jobOverhead(jobs, runs)).toEqual({ seconds: 3, jobs: 3 });
  });

  it('refuses what the plan would refuse, in one sentence', async () => {
    const bad = await backend.dispatch('unlearning.estimate', { model: 'toy-mlp', forgetSet: 'cats', methods: [{ id: 'ft', params: { epochs: -1 } }] });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error.code).toBe('invalid_argument');
      expect(bad.error.message).toMatch(/epochs/);
      expect(bad.error.message.split('\n')).toHaveLength(1);
    }
    const none = await backend.dispatch('unlearning.estimate', { model: 'nope', forgetSet: 'cats', methods: [{ id: 'ft' }] });
    expect(none.ok ? null : none.error.code).toBe('not_found');
  });
});
