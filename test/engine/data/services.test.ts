// The datasets.* / forgetSets.* handlers and the dataset.import job kind, in-process.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetHandlers } from '../../../main/backend/services/datasets';
import { forgetSetHandlers } from '../../../main/backend/services/forget-sets';
import { datasetImport } from '../../../main/backend/jobs/kinds/dataset-import';
import type { JobContext } from '../../../main/backend/jobs/types';
import { validateArgs } from '../../../main/backend/validation';
import { ApiError } from '../../../preload/api/common';
import type { JobSubmit } from '../../../preload/api/jobs';
import { tempWorkspace } from './helpers';

function idxFile(dims: number[], data: Uint8Array) {
  const h = Buffer.alloc(4 + 4 * dims.length);
  h[2] = 8;
  h[3] = dims.length;
  dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
  return gzipSync(Buffer.concat([h, data]));
}

describe('dataset and forget-set API handlers', () => {
  let w: Awaited<ReturnType<typeof tempWorkspace>>;
  let submitted: JobSubmit[] = [];
  let h: ReturnType<typeof datasetHandlers> & ReturnType<typeof forgetSetHandlers>;
  const src = () => join(w.dir, 'idx');

  beforeAll(async () => {
    w = await tempWorkspace();
    submitted = [];
    h = {
      ...datasetHandlers({ workspace: w.ws, submitJob: async (job) => (submitted.push(job), { id: 'job-1' } as never) }),
      ...forgetSetHandlers({ workspace: w.ws, submitJob: async (job) => (submitted.push(job), { id: 'job-1' } as never) }),
    };
    mkdirSync(src());
    const n = 30;
    const img = Uint8Array.from({ length: n * 16 }, (_, i) => (i * 5) % 256);
    const lab = Uint8Array.from({ length: n }, (_, i) => i % 3);
    writeFileSync(join(src(), 'train-images-idx3-ubyte.gz'), idxFile([n, 4, 4], img));
    writeFileSync(join(src(), 'train-labels-idx1-ubyte.gz'), idxFile([n], lab));
    writeFileSync(join(src(), 't10k-images-idx3-ubyte.gz'), idxFile([6, 4, 4], img.subarray(0, 96)));
    writeFileSync(join(src(), 't10k-labels-idx1-ubyte.gz'), idxFile([6], lab.subarray(0, 6)));
  });
  afterAll(async () => w.cleanup());

  it('previewImport validates without storing and returns a PNG sample grid and a histogram', async () => {
    const p = await h['datasets.previewImport']({ format: 'idx', source: src(), options: { numClasses: 3 }, maxSamples: 5 });
    expect(p.ok).toBe(true);
    expect(p.count).toBe(36);
    expect(p.classCounts!.train).toEqual([10, 10, 10]);
    expect(p.samples).toHaveLength(5);
    expect(p.samples[0].png).toMatch(/^data:image\/png;base64,iVBORw0KGgo/);
    expect((await h['datasets.list']({})).length).toBe(0);
    const bad = await h['datasets.previewImport']({ format: 'idx', source: join(w.dir, 'nowhere') });
    expect(bad.ok).toBe(false);
    expect(bad.error!.message).toMatch(/not found/i);
    const labels = await h['datasets.previewImport']({ format: 'idx', source: src(), options: { numClasses: 2 } });
    expect(labels.error).toMatchObject({ code: 'label_range' });
  });

  it('datasets.import submits a dataset.import job; the job kind imports with progress', async () => {
    await h['datasets.import']({ format: 'idx', source: src(), name: 'tiny', options: { numClasses: 3, classNames: ['a', 'b', 'c'] } });
    expect(submitted[0].kind).toBe('dataset.import');
    const params = datasetImport.validate(submitted[0].params);
    const progress: number[] = [];
    const ctx: JobContext = {
      jobId: 'job-1',
      workspaceRoot: w.ws.root,
      signal: new AbortController().signal,
      progress: (p) => progress.push(p.step),
      log: () => {},
      checkpoint: null,
      saveCheckpoint: async () => {},
      settings: { executionProvider: 'cpu', intraOpThreads: 1 },
      dependencies: [],
    };
    const res = await datasetImport.run(params, ctx);
    expect(res).toMatchObject({ name: 'tiny', count: 36, counts: { train: 30, test: 6 } });
    expect(progress.at(-1)).toBe(36);
    expect(() => datasetImport.validate({ format: 'idx' })).toThrow(ApiError);
    await expect(h['datasets.import']({ format: 'idx', source: src(), name: 'tiny' })).rejects.toMatchObject({ code: 'conflict' });
  });

  it('datasets.get / examples / images / thumbnail page, filter and render the stored examples', async () => {
    const d = await h['datasets.get']({ id: 'tiny' });
    expect(d.counts.train).toEqual([10, 10, 10]);
    expect(d.manifestSha256).toMatch(/^[0-9a-f]{64}$/);
    const page = await h['datasets.examples']({ id: 'tiny', offset: 2, limit: 4, split: 'train', classes: ['b'] });
    expect(page.total).toBe(10);
    expect(page.items.map((e) => e.id)).toEqual(['train-7', 'train-10', 'train-13', 'train-16']);
    expect(page.items[0]).toMatchObject({ className: 'b', split: 'train' });
    expect(typeof page.items[0].metadata.mean_intensity).toBe('number');
    const f = await h['datasets.examples']({ id: d.id, filters: [{ column: 'mean_intensity', op: 'range', min: 200 }] });
    for (const it of f.items) expect(it.metadata.mean_intensity as number).toBeGreaterThanOrEqual(200);
    const imgs = await h['datasets.images']({ id: 'tiny', ids: ['train-0', 'test-5'], encoding: 'raw' });
    expect(Buffer.from(imgs[0].rawBase64!, 'base64')).toEqual(Buffer.from(Uint8Array.from({ length: 16 }, (_, i) => (i * 5) % 256)));
    const png = await h['datasets.thumbnail']({ id: 'tiny', exampleId: 'train-3', scale: 4 });
    expect(png.png).toMatch(/^data:image\/png;base64,/);
    await expect(h['datasets.images']({ id: 'tiny', ids: ['nope'] })).rejects.toMatchObject({ code: 'not_found' });
    // the forget/retain views of a forget set
    const fs = await h['forgetSets.create']({ datasetId: 'tiny', name: 'class-a', rule: { kind: 'class', classes: ['a'] } });
    const forget = await h['datasets.examples']({ id: 'tiny', limit: 1000, forgetSet: { id: fs.id, part: 'forget' } });
    const retain = await h['datasets.examples']({ id: 'tiny', limit: 1000, forgetSet: { id: 'class-a', part: 'retain' } });
    expect(forget.total).toBe(10);
    expect(retain.total).toBe(20);
    expect(forget.items.every((e) => e.className === 'a')).toBe(true);
    await expect(h['datasets.delete']({ id: 'tiny' })).rejects.toMatchObject({ code: 'conflict' });
    await h['forgetSets.delete']({ id: 'class-a' });
    expect(await h['forgetSets.list']({})).toEqual([]);
  });

  it('argument schemas reject malformed calls before any handler runs', () => {
    const bad: [string, unknown][] = [
      ['datasets.previewImport', { format: 'exe', source: 'x' }],
      ['datasets.import', { format: 'idx', source: '', name: 'x' }],
      ['datasets.examples', { id: 'x', limit: 5000 }],
      ['datasets.images', { id: 'x', ids: Array.from({ length: 600 }, (_, i) => `e${i}`) }],
      ['datasets.thumbnail', { id: 'x', exampleId: 'e', scale: 100 }],
      ['forgetSets.create', { datasetId: 'x', rule: { kind: 'random', count: 1 } }],
    ];
    for (const [m, a] of bad) expect(() => validateArgs(m as never, a), m).toThrow(ApiError);
  });

  it('builtins lists the npm samples and the Debian folder with their presence', async () => {
    const b = await h['datasets.builtins']({});
    expect(b.map((x) => x.name)).toEqual(['fashion-mnist-sample', 'mnist-sample', 'fashion-mnist-debian']);
    expect(b[0].present).toBe(true);
    expect(b[1].present).toBe(true);
  });
});
