import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetImportError } from '../../../main/engine/data/errors';
import { importDataset } from '../../../main/engine/data/import';
import { DEBIAN_FASHION_MNIST_DIR } from '../../../main/engine/data/importers/builtin';
import { readIdxFile } from '../../../main/engine/data/importers/idx';
import { DatasetReader } from '../../../main/engine/data/store';
import { KNOWN_CODES, runStrict, tempDir, tempWorkspace } from './helpers';
import { propertyParams } from '../../property';

function idx(type: number, dims: number[], data: Uint8Array, ndimsByte = dims.length): Uint8Array {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = type;
  head[3] = ndimsByte;
  dims.forEach((d, i) => head.writeUInt32BE(d >>> 0, 4 + 4 * i));
  return Buffer.concat([head, data]);
}

function writeSet(dir: string, split: 'train' | 't10k', images: Uint8Array, labels: Uint8Array, n: number, rows: number, cols: number, gz: boolean) {
  mkdirSync(dir, { recursive: true });
  const put = (name: string, bytes: Uint8Array) => writeFileSync(join(dir, name + (gz ? '.gz' : '')), gz ? gzipSync(bytes) : bytes);
  put(`${split}-images-idx3-ubyte`, idx(8, [n, rows, cols], images));
  put(`${split}-labels-idx1-ubyte`, idx(8, [n], labels));
}

function randomBytes(n: number, max = 256, seed = 1): Uint8Array {
  const a = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    a[i] = (s >>> 16) % max;
  }
  return a;
}

describe('IDX importer', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  for (const gz of [false, true]) {
    it(`round-trips a valid ${gz ? 'gzipped' : 'raw'} IDX folder into the store`, async () => {
      const dir = join(t.dir, gz ? 'valid-gz' : 'valid-raw');
      const [n1, n2, r, c] = [40, 12, 7, 5];
      const img1 = randomBytes(n1 * r * c, 256, 3);
      const lab1 = randomBytes(n1, 10, 4);
      const img2 = randomBytes(n2 * r * c, 256, 5);
      const lab2 = randomBytes(n2, 10, 6);
      writeSet(dir, 'train', img1, lab1, n1, r, c, gz);
      writeSet(dir, 't10k', img2, lab2, n2, r, c, gz);
      const w = await tempWorkspace();
      try {
        const rec = await importDataset(w.ws, { format: 'idx', source: dir, name: 'tiny' });
        const m = rec.data;
        expect(m.count).toBe(n1 + n2);
        expect(m.sampleShape).toEqual([r, c, 1]);
        expect(m.splits.origin).toBe('source');
        expect(m.counts.totals).toEqual({ train: n1, test: n2, all: n1 + n2 });
        expect(m.source.files.map((f) => f.path).sort()).toHaveLength(4);
        expect(m.arrays.x.sha256).toMatch(/^[0-9a-f]{64}$/);
        const reader = await DatasetReader.open(w.ws, rec);
        expect(reader.ids[0]).toBe('train-0');
        expect(reader.ids[n1]).toBe('test-0');
        const rows = await reader.readRowBytes([0, n1 - 1, n1, n1 + n2 - 1]);
        expect([...rows.subarray(0, r * c)]).toEqual([...img1.subarray(0, r * c)]);
        expect([...rows.subarray(r * c, 2 * r * c)]).toEqual([...img1.subarray((n1 - 1) * r * c)]);
        expect([...rows.subarray(2 * r * c, 3 * r * c)]).toEqual([...img2.subarray(0, r * c)]);
        expect([...rows.subarray(3 * r * c)]).toEqual([...img2.subarray((n2 - 1) * r * c)]);
        expect([...reader.labels.subarray(0, n1)]).toEqual([...lab1]);
        // re-import of the same source gives the same IDs and array hashes (stable identity)
        const again = await importDataset(w.ws, { format: 'idx', source: dir, name: 'tiny-2' });
        expect(again.data.arrays).toEqual(m.arrays);
        await reader.close();
      } finally {
        await w.cleanup();
      }
    });
  }

  it.runIf(existsSync(join(DEBIAN_FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz')))(
    "imports Debian's Fashion-MNIST: exactly 60,000 train and 10,000 test, 6,000 and 1,000 per class",
    async () => {
      const w = await tempWorkspace();
      try {
        const rec = await importDataset(w.ws, { format: 'builtin', source: 'fashion-mnist-debian', name: 'fmnist' });
        const m = rec.data;
        expect(m.counts.totals).toEqual({ train: 60000, test: 10000, all: 70000 });
        expect(m.counts.train).toEqual(new Array(10).fill(6000));
        expect(m.counts.test).toEqual(new Array(10).fill(1000));
        expect(m.classNames[9]).toBe('Ankle boot');
        expect(m.splits.origin).toBe('source');
        expect(m.source.files).toHaveLength(4);
      } finally {
        await w.cleanup();
      }
    },
  );

  it('property: random IDX headers and sizes give either the exact tensor or a typed error (D1)', async () => {
    const dir = join(t.dir, 'prop');
    mkdirSync(dir, { recursive: true });
    const CAP = 1 << 16;
    let k = 0;
    let accepted = 0;
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          zero0: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
          zero1: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
          type: fc.oneof({ weight: 6, arbitrary: fc.constant(8) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
          ndims: fc.oneof({ weight: 6, arbitrary: fc.constant(3) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
          dims: fc.oneof(
            { weight: 4, arbitrary: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 3, maxLength: 3 }) },
            { weight: 1, arbitrary: fc.array(fc.oneof(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 0xffffffff })), { minLength: 0, maxLength: 5 }) },
          ),
          delta: fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -40, max: 40 }) }),
          gz: fc.boolean(),
          truncateGz: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
        }),
        async (c) => {
          const head = Buffer.alloc(4 + 4 * c.dims.length);
          head[0] = c.zero0;
          head[1] = c.zero1;
          head[2] = c.type;
          head[3] = c.ndims;
          c.dims.forEach((d, i) => head.writeUInt32BE(d >>> 0, 4 + 4 * i));
          let prod = c.dims.reduce((a, b) => a * b, 1);
          if (!Number.isFinite(prod) || prod > 4096) prod = 64;
          const body = randomBytes(Math.max(0, prod + c.delta), 256, k + 1);
          let bytes: Uint8Array = Buffer.concat([head, body]);
          if (c.gz) {
            bytes = gzipSync(bytes);
            if (c.truncateGz && bytes.length > 12) bytes = bytes.subarray(0, bytes.length - 5);
          }
          const file = join(dir, `f${k++}`);
          writeFileSync(file, bytes);
          try {
            const arr = await readIdxFile(file, 3, CAP);
            // accepted: the header is valid and the size rule holds exactly. The file is read as IDX
            // defines it: 3 dims in bytes 4-15, then the data. When more "dims" were generated than the
            // header declares (ndims 3), the extra ones are data bytes, and when fewer were generated,
            // the first data bytes are read as dims (seed 2026892465: dims [2,4,1,0,0] is a valid
            // 2x4x1 file whose 8 data bytes are the two trailing zero "dims").
            const raw = Buffer.concat([head, body]);
            expect(c.zero0 === 0 && c.zero1 === 0 && c.type === 8 && c.ndims === 3).toBe(true);
            expect(raw.length).toBeGreaterThanOrEqual(16);
            const dims = [raw.readUInt32BE(4), raw.readUInt32BE(8), raw.readUInt32BE(12)];
            expect(arr.dims).toEqual(dims);
            expect(16 + dims.reduce((a, b) => a * b, 1)).toBe(raw.length);
            expect([...arr.data]).toEqual([...raw.subarray(16)]);
            accepted++;
          } catch (e) {
            if (!(e instanceof DatasetImportError)) throw e;
            expect(KNOWN_CODES.has(e.code)).toBe(true);
            expect(e.message.length).toBeGreaterThan(10);
            rejected++;
          }
        },
      ),
      propertyParams('idx-header', 600),
    );
    expect(rejected).toBeGreaterThan(100);
    expect(accepted).toBeGreaterThan(30);
  });

  it('rejects at least 50 malformed IDX folders with a clear typed error', async () => {
    const cases: { name: string; build(dir: string): void; code: string }[] = [];
    const [n, r, c] = [6, 4, 4];
    const img = randomBytes(n * r * c);
    const lab = randomBytes(n, 10);
    const put = (dir: string, name: string, bytes: Uint8Array) => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, name), bytes);
    };
    const good = (dir: string, skip: string[] = []) => {
      const files: Record<string, Uint8Array> = {
        'train-images-idx3-ubyte': idx(8, [n, r, c], img),
        'train-labels-idx1-ubyte': idx(8, [n], lab),
        't10k-images-idx3-ubyte': idx(8, [n, r, c], img),
        't10k-labels-idx1-ubyte': idx(8, [n], lab),
      };
      for (const [k, v] of Object.entries(files)) if (!skip.includes(k)) put(dir, k, v);
    };
    cases.push({ name: 'empty folder', build: (d) => mkdirSync(d, { recursive: true }), code: 'not_found' });
    for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'])
      cases.push({ name: `missing ${f}`, build: (d) => good(d, [f]), code: 'not_found' });
    for (let cut = 0; cut < 20; cut++)
      cases.push({
        name: `images truncated by ${cut * 3 + 1}`,
        build: (d) => {
          good(d, ['train-images-idx3-ubyte']);
          const full = idx(8, [n, r, c], img);
          put(d, 'train-images-idx3-ubyte', full.subarray(0, full.length - (cut * 3 + 1)));
        },
        code: 'size_mismatch',
      });
    for (let extra = 1; extra <= 10; extra++)
      cases.push({
        name: `labels with ${extra} extra bytes`,
        build: (d) => {
          good(d, ['train-labels-idx1-ubyte']);
          put(d, 'train-labels-idx1-ubyte', Buffer.concat([idx(8, [n], lab), Buffer.alloc(extra)]));
        },
        code: 'size_mismatch',
      });
    for (let m = 1; m <= 5; m++)
      cases.push({
        name: `count mismatch ${n} images vs ${n + m} labels`,
        build: (d) => {
          good(d, ['t10k-labels-idx1-ubyte']);
          put(d, 't10k-labels-idx1-ubyte', idx(8, [n + m], randomBytes(n + m, 10)));
        },
        code: 'count_mismatch',
      });
    for (const bad of [10, 11, 99, 200, 255])
      cases.push({
        name: `label ${bad}`,
        build: (d) => {
          good(d, ['train-labels-idx1-ubyte']);
          const l = lab.slice();
          l[2] = bad;
          put(d, 'train-labels-idx1-ubyte', idx(8, [n], l));
        },
        code: 'label_range',
      });
    for (const type of [9, 0x0b, 0x0c, 0x0d, 0x0e, 0x42])
      cases.push({
        name: `element type ${type}`,
        build: (d) => {
          good(d, ['train-images-idx3-ubyte']);
          put(d, 'train-images-idx3-ubyte', idx(type, [n, r, c], img));
        },
        code: type === 0x42 ? 'bad_magic' : 'unsupported',
      });
    cases.push({
      name: 'images with 2 dims',
      build: (d) => {
        good(d, ['train-images-idx3-ubyte']);
        put(d, 'train-images-idx3-ubyte', idx(8, [n, r * c], img));
      },
      code: 'bad_header',
    });
    cases.push({
      name: 'gzip bomb: header claims 1 TiB',
      build: (d) => {
        good(d, ['train-images-idx3-ubyte']);
        put(d, 'train-images-idx3-ubyte.gz', gzipSync(Buffer.concat([idx(8, [65536, 65536, 256], new Uint8Array(0)), Buffer.alloc(1 << 20)])));
      },
      code: 'too_large',
    });
    cases.push({
      name: 'gzip claims 4 GiB but inflates to 1 MiB (no up-front allocation)',
      build: (d) => {
        good(d, ['train-images-idx3-ubyte']);
        put(d, 'train-images-idx3-ubyte.gz', gzipSync(Buffer.concat([idx(8, [65536, 256, 256], new Uint8Array(0)), Buffer.alloc(1 << 20)])));
      },
      code: 'size_mismatch',
    });
    cases.push({
      name: 'gzip stream longer than the header claims',
      build: (d) => {
        good(d, ['train-images-idx3-ubyte']);
        put(d, 'train-images-idx3-ubyte.gz', gzipSync(Buffer.concat([idx(8, [n, r, c], img), Buffer.alloc(1 << 20)])));
      },
      code: 'size_mismatch',
    });
    cases.push({
      name: 'corrupt gzip',
      build: (d) => {
        good(d, ['train-images-idx3-ubyte']);
        const g = gzipSync(idx(8, [n, r, c], img));
        g[g.length >> 1] ^= 0xff;
        g[(g.length >> 1) + 1] ^= 0xff;
        put(d, 'train-images-idx3-ubyte.gz', g);
      },
      code: '*',
    });
    cases.push({
      name: 'different image sizes in the two splits',
      build: (d) => {
        good(d, ['t10k-images-idx3-ubyte']);
        put(d, 't10k-images-idx3-ubyte', idx(8, [n, r + 1, c], randomBytes(n * (r + 1) * c)));
      },
      code: 'bad_header',
    });
    expect(cases.length).toBeGreaterThanOrEqual(50);
    for (const [i, cs] of cases.entries()) {
      const dir = join(t.dir, `bad-${i}`);
      cs.build(dir);
      const res = await runStrict('idx', dir);
      expect(res.ok, cs.name).toBe(false);
      if (!res.ok) {
        if (cs.code !== '*') expect(res.error.code, `${cs.name}: ${res.error.message}`).toBe(cs.code);
        else expect(KNOWN_CODES.has(res.error.code), res.error.message).toBe(true);
        expect(res.error.message.length).toBeGreaterThan(15);
      }
    }
  });
});

