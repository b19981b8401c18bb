import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importDataset } from '../../../main/engine/data/import';
import { DatasetReader } from '../../../main/engine/data/store';
import { KNOWN_CODES, runStrict, tempDir, tempWorkspace } from './helpers';

function records(n: number, variant: 10 | 100, seed: number, labelOf?: (i: number) => [number, number]): Uint8Array {
  const rec = variant === 10 ? 3073 : 3074;
  const out = new Uint8Array(n * rec);
  let s = seed;
  for (let i = 0; i < n; i++) {
    const o = i * rec;
    const [coarse, fine] = labelOf ? labelOf(i) : [i % 20, i % (variant === 10 ? 10 : 100)];
    if (variant === 10) out[o] = fine;
    else {
      out[o] = coarse;
      out[o + 1] = fine;
    }
    for (let p = o + rec - 3072; p < o + rec; p++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      out[p] = s >>> 24;
    }
  }
  return out;
}

describe('CIFAR importer', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  it('round-trips CIFAR-10 batches (CHW -> HWC, labels, names, split from file names)', async () => {
    const dir = join(t.dir, 'c10');
    mkdirSync(dir);
    const b1 = records(7, 10, 1);
    const tb = records(3, 10, 2);
    writeFileSync(join(dir, 'data_batch_1.bin'), b1);
    writeFileSync(join(dir, 'data_batch_2.bin'), records(5, 10, 3));
    writeFileSync(join(dir, 'test_batch.bin'), tb);
    writeFileSync(join(dir, 'batches.meta.txt'), 'plane\ncar\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n');
    const w = await tempWorkspace();
    try {
      const rec = await importDataset(w.ws, { format: 'cifar', source: dir, name: 'c10' });
      expect(rec.data.counts.totals).toEqual({ train: 12, test: 3, all: 15 });
      expect(rec.data.classNames[1]).toBe('car');
      expect(rec.data.sampleShape).toEqual([32, 32, 3]);
      const r = await DatasetReader.open(w.ws, rec);
      expect(r.ids.slice(0, 2)).toEqual(['data_batch_1-0', 'data_batch_1-1']);
      const i = r.indexOfId('data_batch_1-4')!;
      const px = await r.readRowBytes([i]);
      const o = 4 * 3073 + 1;
      // pixel (row 0, col 5): R, G, B planes
      expect([px[15], px[16], px[17]]).toEqual([b1[o + 5], b1[o + 1024 + 5], b1[o + 2048 + 5]]);
      expect(r.labels[i]).toBe(b1[4 * 3073]);
      await r.close();
    } finally {
      await w.cleanup();
    }
  });

  it('round-trips CIFAR-100 with the coarse label as metadata', async () => {
    const dir = join(t.dir, 'c100');
    mkdirSync(dir);
    writeFileSync(join(dir, 'train.bin'), records(8, 100, 4, (i) => [i % 3, 90 + i]));
    writeFileSync(join(dir, 'test.bin'), records(2, 100, 5, () => [19, 99]));
    const res = await runStrict('cifar', dir);
    expect(res.ok).toBe(true);
    if (res.ok) {
      expect(res.sink.spec.classNames).toHaveLength(100);
      expect(res.sink.spec.metadataColumns).toEqual([{ name: 'coarse_label', type: 'category' }]);
      expect(res.sink.classCounts.test[99]).toBe(2);
      expect(res.sink.classCounts.train[97]).toBe(1);
    }
  });

  it('rejects at least 50 malformed CIFAR files with a clear typed error (D2)', async () => {
    const cases: { name: string; bytes?: Uint8Array; file?: string; extra?: Record<string, string>; variant?: string; code: string }[] = [];
    cases.push({ name: 'empty file', bytes: new Uint8Array(0), code: 'empty' });
    for (let k = 1; k <= 20; k++) cases.push({ name: `size ${3073 * 2 + k * 7}`, bytes: new Uint8Array(3073 * 2 + k * 7), code: 'size_mismatch' });
    for (let k = 1; k <= 10; k++) cases.push({ name: `short file ${k * 100}`, bytes: new Uint8Array(k * 100), code: 'size_mismatch' });
    for (const bad of [10, 11, 50, 128, 255]) cases.push({ name: `CIFAR-10 label ${bad}`, bytes: records(3, 10, 1, (i) => [0, i === 2 ? bad : 1]), code: 'label_range' });
    for (const bad of [100, 101, 200, 255]) cases.push({ name: `CIFAR-100 fine ${bad}`, file: 'train.bin', bytes: records(3, 100, 1, (i) => [1, i === 1 ? bad : 1]), code: 'label_range' });
    for (const bad of [20, 21, 99, 255]) cases.push({ name: `CIFAR-100 coarse ${bad}`, file: 'train.bin', bytes: records(3, 100, 1, (i) => [i === 0 ? bad : 1, 1]), code: 'label_range' });
    cases.push({ name: 'CIFAR-100 records read as CIFAR-10 (size divisible, labels garbage)', bytes: records(3073, 100, 1), variant: 'cifar10', code: 'label_range' });
    cases.push({ name: 'meta with 9 names', bytes: records(2, 10, 1), extra: { 'batches.meta.txt': 'a\nb\nc\nd\ne\nf\ng\nh\ni\n' }, code: 'bad_header' });
    cases.push({ name: 'meta not UTF-8', bytes: records(2, 10, 1), extra: { 'batches.meta.txt': '\u00ff' }, code: '*' });
    cases.push({ name: 'fine names 99', file: 'train.bin', bytes: records(2, 100, 1), extra: { 'fine_label_names.txt': Array.from({ length: 99 }, (_, i) => `c${i}`).join('\n') }, code: 'bad_header' });
    cases.push({ name: 'coarse names 21', file: 'train.bin', bytes: records(2, 100, 1), extra: { 'coarse_label_names.txt': Array.from({ length: 21 }, (_, i) => `c${i}`).join('\n') }, code: 'bad_header' });
    cases.push({ name: 'a folder without .bin files', code: 'not_found' });
    for (let k = 0; k < 3; k++) cases.push({ name: `random text ${k}`, bytes: new TextEncoder().encode('hello world '.repeat(k + 1)), code: 'size_mismatch' });
    expect(cases.length).toBeGreaterThanOrEqual(50);
    for (const [i, cs] of cases.entries()) {
      const dir = join(t.dir, `bad-${i}`);
      mkdirSync(dir);
      if (cs.bytes) writeFileSync(join(dir, cs.file ?? 'data_batch_1.bin'), cs.bytes);
      for (const [n, text] of Object.entries(cs.extra ?? {})) writeFileSync(join(dir, n), n === 'batches.meta.txt' && text === '\u00ff' ? Buffer.from([0xff, 0xfe, 0x0a]) : text);
      const res = await runStrict('cifar', dir, cs.variant ? { variant: cs.variant } : {});
      expect(res.ok, cs.name).toBe(false);
      if (!res.ok) {
        if (cs.code === '*') expect(KNOWN_CODES.has(res.error.code)).toBe(true);
        else expect(res.error.code, `${cs.name}: ${res.error.message}`).toBe(cs.code);
        expect(res.error.message.length).toBeGreaterThan(10);
      }
    }
  });
});
