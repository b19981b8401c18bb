// Job dependencies: a job waits for every job it depends on, receives their results, and fails
// (naming the dependency) when one fails or is cancelled; the order survives a restart.

import { afterEach, describe, expect, it } from 'vitest';
import { harness, type Harness } from './helpers';

let h: Harness | null = null;
afterEach(async () => {
  await h?.dispose();
  h = null;
});

describe('job dependencies', () => {
  it('runs a job after its dependencies and hands it their results', async () => {
    h = await harness({ concurrency: 2 });
    const a = await h.runner.submit({ kind: 'test.steps', params: { steps: 3, ms: 30 } });
    const b = await h.runner.submit({ kind: 'test.deps', params: { tag: 'b' } });
    const c = await h.runner.submit({ kind: 'test.deps', params: { tag: 'c' }, dependsOn: [a.id, b.id] });
    expect(c.dependsOn).toEqual([a.id, b.id]);
    const done = await h.until(c.id, ['succeeded', 'failed']);
    expect(done.state).toBe('succeeded');
    const r = done.result as { tag: string; saw: { id: string; kind: string; result: unknown }[] };
    expect(r.saw.map((d) => d.id)).toEqual([a.id, b.id]);
    expect(r.saw[0].result).toEqual({ stepsRun: [0, 1, 2] });
    expect((r.saw[1].result as { tag: string }).tag).toBe('b');
    const started = Date.parse(done.startedAt!);
    expect(started).toBeGreaterThanOrEqual(Date.parse((await h.runner.get(a.id))!.endedAt!));
  });

  it('fails a dependent job, naming the dependency that failed, and cascades', async () => {
    h = await harness({ concurrency: 1 });
    const a = await h.runner.submit({ kind: 'test.fail', params: {} });
    const b = await h.runner.submit({ kind: 'test.deps', params: { tag: 'b' }, dependsOn: [a.id] });
    const c = await h.runner.submit({ kind: 'test.deps', params: { tag: 'c' }, dependsOn: [b.id] });
    const fb = await h.until(b.id, ['failed', 'succeeded']);
    expect(fb.state).toBe('failed');
    expect(fb.reason).toContain(a.id);
    expect(fb.reason).toContain('not a valid dataset');
    const fc = await h.until(c.id, ['failed', 'succeeded']);
    expect(fc.state).toBe('failed');
    expect(fc.reason).toContain(b.id);
  });

  it('refuses unknown dependencies', async () => {
    h = await harness();
    await expect(h.runner.submit({ kind: 'test.deps', params: { tag: 'x' }, dependsOn: ['job-nope'] })).rejects.toThrow(/does not exist/);
  });

  it('keeps a dependent job queued across a restart and runs it after its dependency', async () => {
    h = await harness({ concurrency: 1 });
    const a = await h.runner.submit({ kind: 'test.steps', params: { steps: 200, ms: 20 } });
    const b = await h.runner.submit({ kind: 'test.deps', params: { tag: 'b' }, dependsOn: [a.id] });
    await h.untilProgress(a.id, 3);
    await h.restart();
    expect((await h.runner.get(b.id))!.state).toBe('queued');
    expect((await h.runner.get(a.id))!.state).toBe('interrupted');
    await h.runner.resume(a.id);
    const done = await h.until(b.id, ['succeeded', 'failed'], 60_000);
    expect(done.state).toBe('succeeded');
  });
});
