// trainLoop hands its steps to the trainer in runs of stepsPerRun (train/unroll.ts): every trainLoop
// method ends with byte-identical weights, the same guardrail checks at the same steps and the same
// progress reports whether a run holds 1 step or several (retain and forget streams, relabelling,
// per-step learning rates, the L1 coefficient per epoch). So do the methods that step through
// GuardedSteps.run (SCRUB, Bad Teacher, NPO), SISA's shard training, retrain (fit) and the relearning
// probe, which also train in runs.

import { describe, expect, it } from 'vitest';
import { getMethod } from '../../../main/engine/unlearn/registry';
import { runMethod } from '../../../main/engine/unlearn/run';
import { relearningProbe } from '../../../main/engine/unlearn/relearn';
import { setUnrollTuning } from '../../../main/engine/train/unroll';
import { parseMethodParams } from '../../../main/engine/unlearn/params';
import type { Guardrail } from '../../../main/engine/unlearn/guardrail';
import type { MethodContext } from '../../../main/engine/unlearn/types';
import { methodContext, smallWorkbench, subset, type Workbench } from './helpers';

function context(w: Workbench, stepsPerRun: number, checks: number[], messages: string[], unrolled: boolean[]): MethodContext {
  const guardrail = {
    active: true,
    check: async (_t: unknown, step: number) => {
      checks.push(step);
      return 99;
    },
    latest: () => ({}),
  } as unknown as Guardrail;
  const base = methodContext(w, { seed: 3, forgottenClasses: w.forgottenClasses, guardrail, progress: (p) => messages.push(`${p.fraction.toFixed(6)} ${p.message} ${p.loss ?? ''}`) }, { stepsPerRun });
  return {
    ...base,
    createTrainer: async (o) => {
      const t = await base.createTrainer(o);
      const dispose = t.dispose.bind(t);
      t.dispose = async () => {
        unrolled.push((t as unknown as { unrolled: unknown }).unrolled !== null);
        await dispose();
      };
      return t;
    },
  };
}

const bytes = (w: Record<string, Float32Array>) => Object.fromEntries(Object.entries(w).map(([k, v]) => [k, Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')]));

describe('trainLoop and GuardedSteps.run in runs of several steps', () => {
  const methods: [string, Record<string, unknown>][] = [
    ['ft', { epochs: 2, batchSize: 16 }],
    ['l1-sparse', { epochs: 3, batchSize: 16, noL1Epochs: 1 }],
    ['rl', { epochs: 1, batchSize: 16 }],
    ['neggrad-plus', { epochs: 1, batchSize: 16 }],
    ['ga', { epochs: 2, batchSize: 8 }],
    // GuardedSteps.run: teacher logits per row, KL and NPO terms
    ['scrub', { epochs: 3, msteps: 2, retainBatchSize: 16, forgetBatchSize: 16 }],
    ['bad-teacher', { epochs: 1, batchSize: 16 }],
    ['npo', { epochs: 2, forgetBatchSize: 8, retainBatchSize: 8 }],
  ];
  for (const [id, raw] of methods) {
    it(`${id}: 3 steps per run = 1 step per run, byte for byte, with the same checks and progress`, async () => {
      const w = await smallWorkbench({ forget: { kind: 'random', fraction: 0.2 } });
      const m = getMethod(id);
      const params = parseMethodParams(id, m.params, raw);
      const out: { weights: Record<string, string>; checks: number[]; messages: string[]; unrolled: boolean[] }[] = [];
      for (const k of [1, 3]) {
        const checks: number[] = [];
        const messages: string[] = [];
        const unrolled: boolean[] = [];
        const r = await m.run(context(w, k, checks, messages, unrolled), params);
        out.push({ weights: bytes(r.weights), checks, messages, unrolled });
      }
      const [one, three] = out;
      expect(three.unrolled.some((u) => u)).toBe(true);
      expect(one.unrolled.some((u) => u)).toBe(false);
      expect(three.checks.length).toBeGreaterThan(2);
      expect(three.checks).toEqual(one.checks);
      expect(three.messages).toEqual(one.messages);
      expect(three.weights).toEqual(one.weights);
    });
  }
});

describe('SISA, retrain and the relearning probe in runs of several steps', () => {
  /** the same call with the automatic choice set to 1 and to 3 steps per run */
  async function both<T>(f: () => Promise<T>): Promise<[T, T]> {
    const prev = setUnrollTuning({ steps: 1 });
    try {
      const one = await f();
      setUnrollTuning({ steps: 3 });
      return [one, await f()];
    } finally {
      setUnrollTuning(prev);
    }
  }

  it('SISA (class forgetting, every shard retrains) and retrain give the same model bytes', async () => {
    const w = await smallWorkbench({ forget: { kind: 'class', classes: [0] } });
    const retainAll = subset(w.train, Array.from({ length: w.train.n }, (_, j) => j).filter((j) => Number(w.train.y[j]) !== 0));
    const inp = { ...w.input, retain: retainAll, retainSlice: subset(w.train, []) };
    for (const methodId of ['sisa', 'retrain']) {
      const [one, three] = await both(() => runMethod({ ...inp, methodId }));
      const inits = (m: typeof one.model) => bytes(Object.fromEntries(m.graph.initializers.filter((t) => t.dtype === 'float32').map((t) => [t.name, t.data as Float32Array])));
      expect(inits(three.model), methodId).toEqual(inits(one.model));
      expect(three.steps, methodId).toBe(one.steps);
      const counts = (st: Record<string, number>) => Object.fromEntries(Object.entries(st).filter(([k]) => !/seconds/i.test(k)));
      expect(counts(three.stats), methodId).toEqual(counts(one.stats));
    }
  });

  it('the relearning probe measures the same curve', async () => {
    const w = await smallWorkbench({ forget: { kind: 'random', fraction: 0.3 } });
    const [one, three] = await both(() => relearningProbe(w.original, w.forget, { seed: 2, settings: { steps: 23, checkpoints: [0, 1, 4, 12, 20, 23], fraction: 0.3 } }));
    expect(one!.steps).toEqual([0, 1, 4, 12, 20, 23]);
    expect(three).toEqual(one);
  });
});
