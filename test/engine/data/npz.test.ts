import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NdArray } from '../../../main/engine/io/npy';
import { writeNpy } from '../../../main/engine/io/npy';
import { writeNpz } from '../../../main/engine/io/npz';
import { importDataset } from '../../../main/engine/data/import';
import { DatasetReader } from '../../../main/engine/data/store';
import { KNOWN_CODES, runStrict, tempDir, tempWorkspace } from './helpers';

const u8 = (shape: number[], f = (i: number) => i % 251): NdArray => ({ dtype: 'uint8', shape, data: Uint8Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => f(i)) });
const i64 = (vals: number[]): NdArray => ({ dtype: 'int64', shape: [vals.length], data: BigInt64Array.from(vals.map(BigInt)) });
const f32 = (shape: number[], f = (i: number) => i / 10): NdArray => ({ dtype: 'float32', shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => f(i)) });

describe('NPY/NPZ importer', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  it('round-trips uint8 images with a split array; CHW is converted to HWC', async () => {
    const file = join(t.dir, 'imgs.npz');
    const x = u8([6, 3, 2, 2]); // N, C, H, W
    writeFileSync(file, writeNpz({ x, y: i64([0, 1, 2, 0, 1, 2]), split: u8([6], (i) => (i >= 4 ? 1 : 0)) }));
    const w = await tempWorkspace();
    try {
      const rec = await importDataset(w.ws, { format: 'npz', source: file, name: 'n' });
      expect(rec.data.sampleShape).toEqual([2, 2, 3]);
      expect(rec.data.counts.totals).toEqual({ train: 4, test: 2, all: 6 });
      const r = await DatasetReader.open(w.ws, rec);
      const row = await r.readRowBytes([1]);
      const src = x.data as Uint8Array;
      // HWC pixel (0,1) channel 2 = CHW [c=2, h=0, w=1]
      expect(row[1 * 3 + 2]).toBe(src[12 + 2 * 4 + 1]);
      expect(r.ids[5]).toBe('x-5');
      await r.close();
    } finally {
      await w.cleanup();
    }
  });

  it('imports float features from a folder of .npy files', async () => {
    const dir = join(t.dir, 'tab');
    mkdirSync(dir);
    writeFileSync(join(dir, 'x.npy'), writeNpy(f32([5, 3])));
    writeFileSync(join(dir, 'y.npy'), writeNpy(i64([1, 0, 1, 0, 1])));
    const res = await runStrict('npz', dir, { classNames: ['neg', 'pos'] });
    expect(res.ok).toBe(true);
    if (res.ok) {
      expect(res.sink.spec.kind).toBe('tabular');
      expect(res.sink.classCounts.unsplit).toEqual([2, 3]);
      expect([...res.sink.samples[1].x]).toEqual([...Float32Array.from([0.3, 0.4, 0.5])]);
    }
  });

  it('rejects at least 50 malformed NPZ/NPY sources with a typed error', async () => {
    const good = writeNpz({ x: u8([4, 2, 2]), y: i64([0, 1, 0, 1]) });
    const cases: { name: string; bytes: Uint8Array; opts?: Record<string, unknown>; code?: string }[] = [];
    for (let k = 0; k < 20; k++) cases.push({ name: `truncated at ${k * 17 + 5}`, bytes: good.subarray(0, k * 17 + 5) });
    for (let k = 0; k < 10; k++) {
      const b = Uint8Array.from(good);
      b[30 + k * 13] ^= 0x5a;
      b[31 + k * 13] ^= 0xa5;
      cases.push({ name: `corrupted byte ${30 + k * 13}`, bytes: b });
    }
    cases.push({ name: 'missing x', bytes: writeNpz({ y: i64([0]) }), code: 'not_found' });
    cases.push({ name: 'missing y', bytes: writeNpz({ x: u8([1, 2, 2]) }), code: 'not_found' });
    cases.push({ name: 'count mismatch', bytes: writeNpz({ x: u8([3, 2, 2]), y: i64([0, 1]) }), code: 'count_mismatch' });
    cases.push({ name: 'negative label', bytes: writeNpz({ x: u8([2, 2, 2]), y: i64([0, -1]) }), code: 'label_range' });
    cases.push({ name: 'huge label', bytes: writeNpz({ x: u8([2, 2, 2]), y: i64([0, 2 ** 40]) }), code: 'label_range' });
    cases.push({ name: 'label beyond classNames', bytes: writeNpz({ x: u8([2, 2, 2]), y: i64([0, 5]) }), opts: { classNames: ['a', 'b'] }, code: 'label_range' });
    cases.push({ name: 'float labels', bytes: writeNpz({ x: u8([2, 2, 2]), y: f32([2]) }), code: 'unsupported' });
    cases.push({ name: '2-D labels', bytes: writeNpz({ x: u8([2, 2, 2]), y: { dtype: 'int32', shape: [2, 1], data: Int32Array.from([0, 1]) } }), code: 'bad_header' });
    cases.push({ name: '1-D x', bytes: writeNpz({ x: u8([4]), y: i64([0, 1, 0, 1]) }), code: 'bad_header' });
    cases.push({ name: '5-D x', bytes: writeNpz({ x: u8([2, 2, 2, 2, 2]), y: i64([0, 1]) }), code: 'unsupported' });
    cases.push({ name: 'no channel axis', bytes: writeNpz({ x: u8([2, 5, 5, 5]), y: i64([0, 1]) }), code: 'unsupported' });
    cases.push({ name: 'float image out of [0,1]', bytes: writeNpz({ x: f32([2, 2, 2], (i) => i), y: i64([0, 1]) }), code: 'bad_value' });
    cases.push({ name: 'NaN feature', bytes: writeNpz({ x: f32([2, 2], () => NaN), y: i64([0, 1]) }), code: 'bad_value' });
    cases.push({ name: 'int16-like float16 x', bytes: writeNpz({ x: { dtype: 'float16', shape: [2, 2], data: new Uint16Array(4) }, y: i64([0, 1]) }), code: 'unsupported' });
    cases.push({ name: 'split value 2', bytes: writeNpz({ x: u8([2, 2, 2]), y: i64([0, 1]), split: u8([2], () => 2) }), code: 'bad_value' });
    cases.push({ name: 'split length', bytes: writeNpz({ x: u8([2, 2, 2]), y: i64([0, 1]), split: u8([3], () => 0) }), code: 'count_mismatch' });
    cases.push({ name: 'named split key missing', bytes: good, opts: { splitKey: 'part' }, code: 'not_found' });
    cases.push({ name: 'zero examples', bytes: writeNpz({ x: u8([0, 2, 2]), y: i64([]) }), code: 'empty' });
    cases.push({ name: 'a plain .npy instead of .npz', bytes: writeNpy(u8([2, 2, 2])) });
    cases.push({ name: 'text file', bytes: new TextEncoder().encode('x,y\n1,2\n') });
    cases.push({ name: 'empty file', bytes: new Uint8Array(0) });
    for (let k = 0; k < 5; k++) cases.push({ name: `zip with garbage entry ${k}`, bytes: Uint8Array.from([0x50, 0x4b, 0x03, 0x04, ...Array.from({ length: 40 + k }, (_, i) => (i * 13 + k) % 256)]) });
    expect(cases.length).toBeGreaterThanOrEqual(50);
    for (const [i, cs] of cases.entries()) {
      const file = join(t.dir, `bad-${i}.npz`);
      writeFileSync(file, cs.bytes);
      const res = await runStrict('npz', file, cs.opts ?? {});
      if (res.ok && cs.code === undefined && cs.name.startsWith('corrupted')) continue; // a flipped byte in stored data can still be a valid array
      expect(res.ok, cs.name).toBe(false);
      if (!res.ok) {
        expect(KNOWN_CODES.has(res.error.code), `${cs.name}: ${res.error.code} ${res.error.message}`).toBe(true);
        if (cs.code) expect(res.error.code, `${cs.name}: ${res.error.message}`).toBe(cs.code);
        expect(res.error.message.length).toBeGreaterThan(10);
      }
    }
  });

  it('streams x across 8192-row runs: deflated equals stored, row numbers in errors are global', async () => {
    const n = 20_000;
    const x = u8([n, 3, 2, 2], (i) => (i * 13) % 256);
    const y = i64(Array.from({ length: n }, (_, i) => i % 4));
    const split = u8([n], (i) => (i % 3 === 0 ? 1 : 0));
    const results = [];
    for (const compress of [false, true]) {
      const file = join(t.dir, `runs-${compress}.npz`);
      writeFileSync(file, writeNpz({ x, y, split }, { compress }));
      const res = await runStrict('npz', file);
      expect(res.ok).toBe(true);
      if (res.ok) results.push(res.sink);
    }
    const [stored, deflated] = results;
    expect(stored.count).toBe(n);
    expect(deflated.classCounts).toEqual(stored.classCounts);
    const src = x.data as Uint8Array;
    for (const i of [0, 8191, 8192, 16384, n - 1]) {
      const a = stored.samples[i];
      expect(a.id).toBe(`x-${i}`);
      expect(a.split).toBe(i % 3 === 0 ? 'test' : 'train');
      expect([...deflated.samples[i].x]).toEqual([...a.x]);
      // HWC pixel 3, channel 1 = CHW [c=1, p=3]
      expect(a.x[3 * 3 + 1]).toBe(src[i * 12 + 4 + 3]);
    }
    // a bad value in the third run names its row in the whole array
    const feats = Float64Array.from({ length: n * 2 }, (_, i) => i / n);
    feats[2 * 17_000 + 1] = Infinity;
    const file = join(t.dir, 'nonfinite.npz');
    writeFileSync(file, writeNpz({ x: { dtype: 'float64', shape: [n, 2], data: feats }, y }, { compress: true }));
    const bad = await runStrict('npz', file);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.message).toMatch(/non-finite value at row 17000\./);
  });
});
