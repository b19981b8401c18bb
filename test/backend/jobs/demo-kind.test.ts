// unlearn.demo: registered, its parameters validated by zod before queueing (the demo itself is not
// run here: it takes minutes; `lethe demo` and the e2e quick-start test exercise it).

import { describe, expect, it } from 'vitest';
import { JOB_KINDS, loadJobKinds } from '../../../main/backend/jobs/kinds';
import { unlearnDemo } from '../../../main/backend/jobs/kinds/demo';
import { ApiError } from '../../../preload/api/common';

describe('unlearn.demo job kind', () => {
  it('is registered, not resumable (its stages are cached instead) and described', async () => {
    expect(JOB_KINDS).toContain(unlearnDemo);
    const kinds = await loadJobKinds();
    expect(kinds.get('unlearn.demo')).toBe(unlearnDemo);
    expect(unlearnDemo.resumable).toBe(false);
    expect(unlearnDemo.description).toMatch(/demo/i);
  });

  it('accepts no parameters or the optional seeds, maxTrain, threads and provider', () => {
    expect(unlearnDemo.validate({})).toEqual({});
    expect(unlearnDemo.validate(undefined)).toEqual({});
    expect(unlearnDemo.validate({ seeds: 3, maxTrain: 0, threads: 2, provider: 'cpu' })).toEqual({ seeds: 3, maxTrain: 0, threads: 2, provider: 'cpu' });
    expect(unlearnDemo.validate({ preset: 'short' })).toEqual({ preset: 'short' });
  });

  it("the short demo is a smaller run of the same pipeline with its own original (the full demo never reuses it)", async () => {
    const { DEMO_PRESETS, DEMO_PRESET_IDS, runDemo } = await import('../../../main/backend/services/demo');
    expect(DEMO_PRESET_IDS).toEqual(['full', 'short']);
    expect(DEMO_PRESETS.short.original).not.toBe(DEMO_PRESETS.full.original);
    expect(DEMO_PRESETS.short.forgetSets).toEqual(['class']);
    expect(DEMO_PRESETS.short.maxTrain).toBeLessThan(DEMO_PRESETS.full.maxTrain);
    expect(DEMO_PRESETS.short.methods.map((m) => m.id)).toEqual(['ft', 'salun']);
    await expect(runDemo({} as never, { preset: 'tiny' as never })).rejects.toThrow(/Unknown demo size 'tiny'; known: full, short/);
  });

  it('rejects bad parameters with one plain sentence naming the kind and the parameter', () => {
    const bad: [unknown, RegExp][] = [
      [{ seeds: 0 }, /unlearn\.demo: 'seeds'/],
      [{ seeds: 1.5 }, /unlearn\.demo: 'seeds'/],
      [{ maxTrain: -1 }, /unlearn\.demo: 'maxTrain'/],
      [{ threads: 'four' }, /unlearn\.demo: 'threads'/],
      [{ provider: 'tpu' }, /unlearn\.demo: 'provider'/],
      [{ preset: 'tiny' }, /unlearn\.demo: 'preset'/],
      [{ epochs: 3 }, /unlearn\.demo: /],
      [[1, 2], /unlearn\.demo: /],
    ];
    for (const [params, re] of bad) {
      let err: unknown;
      try {
        unlearnDemo.validate(params);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(params)).toBeInstanceOf(ApiError);
      expect((err as ApiError).code).toBe('invalid_argument');
      expect((err as ApiError).message).toMatch(re);
    }
  });
});
