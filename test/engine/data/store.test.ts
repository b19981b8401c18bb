import { describe, expect, it } from 'vitest';
import { exampleImages } from '../../../main/backend/services/datasets';
import { DatasetImportError } from '../../../main/engine/data/errors';
import { DatasetReader, DatasetWriter } from '../../../main/engine/data/store';
import { tempWorkspace } from './helpers';

describe('dataset store', () => {
  it('writes blobs + manifest, reads rows by index through the chunk cache, lists many source files as a sha256sum blob', async () => {
    const w = await tempWorkspace();
    try {
      const n = 5000;
      const writer = new DatasetWriter({ kind: 'image', sampleShape: [10, 10, 3], xDtype: 'uint8', classNames: ['a', 'b', 'c'], idScheme: 'test', metadataColumns: [{ name: 'tag', type: 'category' }] });
      for (let i = 0; i < n; i++) {
        const x = new Uint8Array(300).fill(i % 256);
        x[0] = i >> 8;
        await writer.add({ x, label: i % 3, split: i % 10 === 0 ? 'test' : 'train', id: `e${i}`, meta: [i % 2 ? 'odd' : null] });
      }
      const files = Array.from({ length: 1500 }, (_, i) => ({ path: `f${i}.png`, size: 10, sha256: 'ab'.repeat(32) }));
      const rec = await writer.finalize(w.ws, {
        id: 'ds-test',
        name: 'synthetic',
        source: { format: 'folder', location: '/x', options: {}, files },
        splitPolicy: { testFraction: 0.2, seed: 0 },
        startedAt: Date.now(),
      });
      const m = rec.data;
      expect(m.counts.totals).toEqual({ train: 4500, test: 500, all: 5000 });
      expect(m.arrays.x.byteLength).toBe(n * 300);
      expect(m.source.files).toHaveLength(1000);
      expect(m.source.fileList).toMatchObject({ count: 1500, totalBytes: 15000 });
      const list = new TextDecoder().decode(await w.ws.getBlob(rec.blobs.sourceFiles.sha256));
      expect(list.split('\n')[1499]).toBe(`${'ab'.repeat(32)}  f1499.png`);
      expect(m.metadata.map((c) => c.name)).toEqual(['tag', 'mean_intensity']);
      const r = await DatasetReader.open(w.ws, rec, { cacheBytes: 1 << 20 });
      // random access across chunk boundaries, in any order, repeated
      const idx = [4999, 0, 873, 874, 2500, 873, 4999];
      const rows = await r.readRowBytes(idx);
      idx.forEach((i, k) => {
        expect(rows[k * 300]).toBe(i >> 8);
        expect(rows[k * 300 + 299]).toBe(i % 256);
      });
      expect(r.metaValue(r.metadata[0], 1)).toBe('odd');
      expect(r.metaValue(r.metadata[0], 2)).toBeNull();
      expect(r.splitIndices('test')).toHaveLength(500);
      await expect(r.readRowBytes([5000])).rejects.toThrow(RangeError);
      const f = await r.readBatchFloat32([1], { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
      expect(f.dims).toEqual([1, 3, 10, 10]);
      expect(f.data[1]).toBeCloseTo((1 / 255 - 0.5) / 0.5, 6);
      await r.close();

      // gallery: 200 PNG thumbnails in one call
      const ids = Array.from({ length: 200 }, (_, i) => `e${i * 7}`);
      const t0 = performance.now();
      const imgs = await exampleImages(w.ws, { id: 'synthetic', ids, scale: 2 });
      console.log(`200 PNG thumbnails in ${(performance.now() - t0).toFixed(0)} ms`);
      expect(imgs.map((x) => x.id)).toEqual(ids);
      expect(imgs[0].png).toMatch(/^data:image\/png;base64,/);
    } finally {
      await w.cleanup();
    }
  });

  it('refuses inconsistent input: wrong row size, label out of range, bad ids, duplicates, mixed splits, limits', async () => {
    const spec = { kind: 'tabular' as const, sampleShape: [2], xDtype: 'float32' as const, classNames: ['x', 'y'], idScheme: 't' };
    const x = new Float32Array([1, 2]);
    const expectCode = async (fn: (wr: DatasetWriter) => Promise<unknown>, code: string, limits?: { maxExamples: number; maxSampleBytes: number }) => {
      const w = await tempWorkspace();
      const wr = new DatasetWriter(spec, limits);
      try {
        const e = await fn(wr).then(
          () => null,
          (err) => err,
        );
        expect(e).toBeInstanceOf(DatasetImportError);
        expect((e as DatasetImportError).code).toBe(code);
      } finally {
        await wr.abort();
        await w.cleanup();
      }
    };
    const fin = (wr: DatasetWriter) => tempWorkspace().then(async (w) => {
      try {
        return await wr.finalize(w.ws, { id: 'd', name: 'd', source: { format: 'csv', location: '', options: {}, files: [] }, splitPolicy: { testFraction: 0.2, seed: 0 }, startedAt: 0 });
      } finally {
        await w.cleanup();
      }
    });
    await expectCode((wr) => wr.add({ x: new Float32Array(3), label: 0, split: null, id: 'a' }), 'size_mismatch');
    await expectCode((wr) => wr.add({ x, label: 2, split: null, id: 'a' }), 'label_range');
    await expectCode((wr) => wr.add({ x, label: 0, split: null, id: 'a\nb' }), 'bad_value');
    await expectCode((wr) => wr.add({ x, label: 0, split: null, id: '' }), 'bad_value');
    await expectCode(async (wr) => {
      await wr.add({ x, label: 0, split: null, id: 'a' });
      await wr.add({ x, label: 1, split: null, id: 'a' });
      return fin(wr);
    }, 'bad_value');
    await expectCode(async (wr) => {
      await wr.add({ x, label: 0, split: 'train', id: 'a' });
      await wr.add({ x, label: 1, split: null, id: 'b' });
      return fin(wr);
    }, 'bad_value');
    await expectCode((wr) => fin(wr), 'empty');
    await expectCode(async (wr) => {
      for (let i = 0; i < 3; i++) await wr.add({ x, label: 0, split: null, id: `e${i}` });
    }, 'too_large', { maxExamples: 2, maxSampleBytes: 1e9 });
  });
});
