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
  });

  it('rejects bad parameters with one plain sentence naming the kind and the parameter', () => {
    const bad: [unknown, RegExp][] = [
      [{ seeds: 0 }, /unlearn\.demo: 'seeds'/],
      [{ seeds: 1.5 }, /unlearn\.demo: 'seeds'/],
      [{ maxTrain: -1 }, /unlearn\.demo: 'maxTrain'/],
      [{ threads: 'four' }, /unlearn\.demo: 'threads'/],
      [{ provider: 'tpu' }, /unlearn\.demo: 'provider'/],
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
