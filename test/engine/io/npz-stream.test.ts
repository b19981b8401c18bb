// Streaming .npz/.npy reading (openZipFile, openNpzFile, openNpyFile, npyRows) against the in-memory
// readers, malformed archives (lying sizes, corrupt bytes, truncation), and memory on a large file.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { previewImport } from '../../../main/engine/data/import';
import { type NdArray, NpyError, type NpyRowChunk, openNpyFile, readNpy, readNpyFile, writeNpy } from '../../../main/engine/io/npy';
import { openNpzFile, readNpz, readNpzFile, writeNpz } from '../../../main/engine/io/npz';
import { extractZipEntry, listZip, openZipFile } from '../../../main/engine/io/zip';
import { runStrict } from '../data/helpers';

const PY = '/usr/bin/python3';
const hasNumpy = (() => {
  try {
    execFileSync(PY, ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const requireRefs = process.env.LETHE_REQUIRE_REFERENCES === '1';

const bytesOf = (a: NdArray['data']) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function sampleArrays(): Record<string, NdArray> {
  const n = 37;
  return {
    x: { dtype: 'uint8', shape: [n, 3, 4, 5], data: Uint8Array.from({ length: n * 60 }, (_, i) => (i * 31 + 7) % 256) },
    f: { dtype: 'float32', shape: [n, 6], data: Float32Array.from({ length: n * 6 }, (_, i) => Math.sin(i) * 1e3) },
    d: { dtype: 'float64', shape: [n, 2], data: Float64Array.from({ length: n * 2 }, (_, i) => i / 3) },
    y: { dtype: 'int64', shape: [n], data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 5)) },
    h: { dtype: 'float16', shape: [n, 3], data: Uint16Array.from({ length: n * 3 }, (_, i) => i * 97) },
    b: { dtype: 'bool', shape: [n], data: Uint8Array.from({ length: n }, (_, i) => i & 1) },
    e: { dtype: 'int32', shape: [0, 4], data: new Int32Array(0) },
  };
}

async function collectRows(it: AsyncIterable<NpyRowChunk>): Promise<{ bytes: Buffer; starts: number[]; counts: number[] }> {
  const parts: Buffer[] = [];
  const starts: number[] = [];
  const counts: number[] = [];
  for await (const c of it) {
    parts.push(Buffer.from(bytesOf(c.data)));
    starts.push(c.start);
    counts.push(c.count);
  }
  return { bytes: Buffer.concat(parts), starts, counts };
}

async function drain(it: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of it) void _;
}

/** the central-directory record of the first entry named `name` */
function cenOffset(zip: Uint8Array, name: string): number {
  const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  for (let o = 0; o + 46 <= zip.length; o++) {
    if (dv.getUint32(o, true) !== 0x02014b50) continue;
    const len = dv.getUint16(o + 28, true);
    if (Buffer.from(zip.subarray(o + 46, o + 46 + len)).toString('latin1') === name) return o;
  }
  throw new Error(`no central-directory record for ${name}`);
}

describe('streaming .npz reader', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lethe-npzs-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives byte-identical arrays to the in-memory reader, stored and deflated, in any run size', async () => {
    const arrays = sampleArrays();
    for (const compress of [false, true]) {
      const bytes = writeNpz(arrays, { compress });
      const file = join(dir, `s-${compress}.npz`);
      writeFileSync(file, bytes);
      const mem = readNpz(bytes);
      // zip layer: every entry, in odd chunk sizes, equals extractZipEntry
      const zip = await openZipFile(file);
      try {
        expect(zip.entries).toEqual(listZip(bytes));
        for (const e of zip.entries) {
          const want = Buffer.from(extractZipEntry(bytes, e));
          for (const cb of [7, 4096, undefined]) {
            const parts: Buffer[] = [];
            for await (const c of zip.entryChunks(e, cb)) parts.push(Buffer.from(c));
            expect(Buffer.concat(parts).equals(want), `${e.name} chunk ${cb}`).toBe(true);
          }
          expect(Buffer.from(await zip.readEntry(e)).equals(want)).toBe(true);
        }
      } finally {
        await zip.close();
      }
      // npz layer
      const f = await openNpzFile(file);
      try {
        expect(f.keys).toEqual(Object.keys(arrays));
        for (const [key, arr] of Object.entries(arrays)) {
          const h = await f.header(key);
          expect({ dtype: h.dtype, shape: h.shape, nbytes: h.nbytes }).toEqual({ dtype: arr.dtype, shape: arr.shape, nbytes: arr.data.byteLength });
          const whole = await f.readArray(key);
          expect(whole.dtype).toBe(mem[key].dtype);
          expect(whole.data.constructor).toBe(mem[key].data.constructor);
          expect(bytesOf(whole.data).equals(bytesOf(mem[key].data))).toBe(true);
          for (const r of [1, 5, 36, 37, 1000]) {
            const got = await collectRows(f.rows(key, r));
            expect(got.bytes.equals(bytesOf(arr.data)), `${key} rows ${r}`).toBe(true);
            const n = arr.shape[0];
            expect(got.counts.reduce((a, b) => a + b, 0)).toBe(n);
            expect(got.starts).toEqual(Array.from({ length: Math.ceil(n / r) }, (_, i) => i * r));
          }
        }
        await expect(f.header('nope')).rejects.toThrow(/missing key\(s\) 'nope'/);
      } finally {
        await f.close();
      }
      const viaFile = await readNpzFile(file);
      for (const key of Object.keys(arrays)) expect(bytesOf(viaFile[key].data).equals(bytesOf(mem[key].data))).toBe(true);
      expect(Object.keys(await readNpzFile(file, { keys: ['y', 'b'] }))).toEqual(['y', 'b']);
      await expect(readNpzFile(file, { keys: ['y', 'zz'] })).rejects.toThrow(/missing key\(s\) 'zz'/);
    }
  });

  it('streams a .npy file the same as readNpy', async () => {
    const { f } = sampleArrays();
    const file = join(dir, 'f.npy');
    writeFileSync(file, writeNpy(f));
    const h = await openNpyFile(file);
    try {
      expect(h.header.shape).toEqual([37, 6]);
      const got = await collectRows(h.rows(8));
      expect(got.bytes.equals(bytesOf(readNpy(readFileSync(file)).data))).toBe(true);
    } finally {
      await h.close();
    }
    expect(bytesOf((await readNpyFile(file)).data).equals(bytesOf(f.data))).toBe(true);
  });

  it.skipIf(!hasNumpy && !requireRefs)('reads numpy savez and savez_compressed archives like the in-memory reader', async () => {
    if (!hasNumpy) throw new Error(`LETHE_REQUIRE_REFERENCES=1 but ${PY} cannot import numpy`);
    for (const fn of ['savez', 'savez_compressed']) {
      const file = join(dir, `np-${fn}.npz`);
      execFileSync(PY, [
        '-c',
        `import numpy as np, sys
n = 3000
x = (np.arange(n * 3 * 8 * 8, dtype=np.int64) * 7 % 251).astype(np.uint8).reshape(n, 3, 8, 8)
np.${fn}(sys.argv[1], x=x, y=np.arange(n) % 10, f=np.linspace(0, 1, n * 4).reshape(n, 4), split=(np.arange(n) % 4 == 0).astype(np.uint8))`,
        file,
      ]);
      const mem = readNpz(readFileSync(file));
      expect(Object.keys(mem).sort()).toEqual(['f', 'split', 'x', 'y']);
      const xs = mem.x.data as Uint8Array;
      expect(xs[5]).toBe((5 * 7) % 251);
      const f = await openNpzFile(file);
      try {
        for (const key of f.keys) {
          expect(bytesOf((await f.readArray(key)).data).equals(bytesOf(mem[key].data)), key).toBe(true);
          expect((await collectRows(f.rows(key, 1000))).bytes.equals(bytesOf(mem[key].data)), key).toBe(true);
        }
      } finally {
        await f.close();
      }
      const res = await runStrict('npz', file);
      expect(res.ok).toBe(true);
      if (res.ok) expect(res.sink.count).toBe(3000);
    }
  });

  it('stops a deflated entry whose declared size is too small at that size; reports one that is too large', async () => {
    const big = writeNpy({ dtype: 'uint8', shape: [5_000_000], data: new Uint8Array(5_000_000) });
    const bomb = zipSync({ 'x.npy': [big, { level: 9 }] });
    const o = cenOffset(bomb, 'x.npy');
    new DataView(bomb.buffer).setUint32(o + 24, 100_000, true);
    const file = join(dir, 'bomb.npz');
    writeFileSync(file, bomb);
    const zip = await openZipFile(file);
    let produced = 0;
    try {
      const err = await (async () => {
        try {
          for await (const c of zip.entryChunks(zip.entries[0], 16 * 1024)) produced += c.length;
        } catch (e) {
          return e as Error;
        }
        return null;
      })();
      expect(err?.message).toMatch(/inflates to more than 100000 bytes, header says 100000/);
      expect(produced).toBeLessThanOrEqual(100_000);
    } finally {
      await zip.close();
    }
    // through the npz layer the header says the array needs 5,000,000 bytes: refused before inflating
    const f = await openNpzFile(file);
    try {
      await expect(f.header('x')).rejects.toThrow(/header claims|data is truncated/);
    } finally {
      await f.close();
    }
    // declared size too large: the stream ends short
    const small = zipSync({ 'x.npy': [writeNpy({ dtype: 'uint8', shape: [4000], data: new Uint8Array(4000).fill(3) }), { level: 6 }] });
    const o2 = cenOffset(small, 'x.npy');
    const realSize = new DataView(small.buffer).getUint32(o2 + 24, true);
    new DataView(small.buffer).setUint32(o2 + 24, realSize + 10, true);
    const file2 = join(dir, 'short.npz');
    writeFileSync(file2, small);
    const z2 = await openZipFile(file2);
    try {
      await expect(drain(z2.entryChunks(z2.entries[0]))).rejects.toThrow(`inflates to ${realSize} bytes, header says ${realSize + 10}`);
    } finally {
      await z2.close();
    }
  });

  it('reports a corrupted byte as a CRC-32 error in the stream, the preview and the import', async () => {
    const n = 20_000; // more than one 8192-row run
    const x: NdArray = { dtype: 'uint8', shape: [n, 4, 4], data: Uint8Array.from({ length: n * 16 }, (_, i) => i % 199) };
    const y: NdArray = { dtype: 'int64', shape: [n], data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 3)) };
    const bytes = writeNpz({ x, y });
    const e = listZip(bytes).find((z) => z.name === 'x.npy')!;
    bytes[e.localOffset + 30 + 5 + 128 + n * 12] ^= 0x40; // a pixel near the end of x
    const file = join(dir, 'crc.npz');
    writeFileSync(file, bytes);
    expect(() => readNpz(bytes)).toThrow(/fails its CRC-32 check/);
    const f = await openNpzFile(file);
    try {
      const err = await drain(f.rows('x', 8192)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(NpyError);
      expect((err as NpyError).code).toBe('bad_archive');
      expect((err as Error).message).toMatch(/entry 'x\.npy' fails its CRC-32 check/);
    } finally {
      await f.close();
    }
    const full = await runStrict('npz', file);
    const prev = await previewImport({ format: 'npz', source: file }, { maxSamples: 4 });
    expect(full.ok).toBe(false);
    if (!full.ok) {
      expect(full.error.message).toMatch(/fails its CRC-32 check/);
      expect(prev.error).toEqual(full.error.toJSON());
    }
  });

  it('reports truncation inside x in both the preview and the import', async () => {
    const n = 10_000;
    const x: NdArray = { dtype: 'uint8', shape: [n, 2, 2], data: Uint8Array.from({ length: n * 4 }, (_, i) => i % 7) };
    const y: NdArray = { dtype: 'int64', shape: [n], data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 2)) };
    const cases: { file: string; message: RegExp; code: string }[] = [];
    // (1) an .npy entry whose data stops early (a consistent ZIP around a cut array)
    const cut = writeNpy(x).subarray(0, 128 + n * 2);
    const f1 = join(dir, 'cut-entry.npz');
    writeFileSync(f1, zipSync({ 'x.npy': [cut, { level: 0 }], 'y.npy': [writeNpy(y), { level: 0 }] }));
    cases.push({ file: f1, message: /data is truncated \(shape \(10000, 2, 2\) needs 40000 bytes, found 20000\)/, code: 'size_mismatch' });
    // (2) an archive cut in the middle of x, its central directory re-attached: x runs past the end
    const good = writeNpz({ x, y });
    const ents = listZip(good);
    const cdStart = Math.min(...ents.map((z) => cenOffset(good, z.name)));
    const cutAt = ents[0].localOffset + 30 + 5 + 128 + n;
    const cd = Buffer.from(good.subarray(cdStart));
    cd.writeUInt32LE(cutAt, cd.length - 22 + 16);
    const f2 = join(dir, 'cut-archive.npz');
    writeFileSync(f2, Buffer.concat([good.subarray(0, cutAt), cd]));
    cases.push({ file: f2, message: /entry 'x\.npy' runs past the end of the archive \(truncated\?\)/, code: 'bad_header' });
    // (3) an archive simply cut short
    const f3 = join(dir, 'cut-short.npz');
    writeFileSync(f3, good.subarray(0, cutAt));
    cases.push({ file: f3, message: /no end-of-central-directory record; truncated\?/, code: 'bad_header' });
    // (4) a folder whose x.npy is cut
    const d4 = join(dir, 'cut-folder');
    mkdirSync(d4);
    writeFileSync(join(d4, 'x.npy'), cut);
    writeFileSync(join(d4, 'y.npy'), writeNpy(y));
    cases.push({ file: d4, message: /data is truncated/, code: 'size_mismatch' });
    for (const c of cases) {
      const full = await runStrict('npz', c.file);
      const prev = await previewImport({ format: 'npz', source: c.file }, { maxSamples: 3 });
      expect(full.ok, c.file).toBe(false);
      if (!full.ok) {
        expect(full.error.message, c.file).toMatch(c.message);
        expect(full.error.code, c.file).toBe(c.code);
        expect(prev.error, c.file).toEqual(full.error.toJSON());
      }
    }
  });
});

/** a stored .npz (x uint8 [n, 3, 32, 32] with a varying first byte per row, y int64 [n] = i % 10), written in runs */
async function writeBigNpz(path: string, n: number): Promise<number> {
  const row = 3 * 32 * 32;
  const RUN = 4096;
  const run = new Uint8Array(RUN * row);
  for (let i = 0; i < run.length; i++) run[i] = (i * 7) & 255;
  const dict = `{'descr': '|u1', 'fortran_order': False, 'shape': (${n}, 3, 32, 32), }`;
  const hlen = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const xh = Buffer.alloc(hlen, 0x20);
  xh.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  xh.writeUInt16LE(hlen - 10, 8);
  xh.write(dict, 10, 'latin1');
  xh[hlen - 1] = 0x0a;
  const fh = await open(path, 'w');
  let pos = 0;
  const cen: Buffer[] = [];
  const put = async (b: Uint8Array) => {
    await fh.write(b, 0, b.length, pos);
    pos += b.length;
  };
  const entry = async (name: string, parts: () => Iterable<Uint8Array>, size: number) => {
    const lo = pos;
    const local = Buffer.alloc(30 + name.length);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(size, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.write(name, 30, 'latin1');
    await put(local);
    let crc = 0;
    for (const p of parts()) {
      crc = crc32(p, crc);
      await put(p);
    }
    const c4 = Buffer.alloc(4);
    c4.writeUInt32LE(crc >>> 0);
    await fh.write(c4, 0, 4, lo + 14);
    const c = Buffer.alloc(46 + name.length);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt32LE(crc >>> 0, 16);
    c.writeUInt32LE(size, 20);
    c.writeUInt32LE(size, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(lo, 42);
    c.write(name, 46, 'latin1');
    cen.push(c);
  };
  await entry(
    'x.npy',
    function* () {
      yield xh;
      for (let s = 0; s < n; s += RUN) {
        const k = Math.min(RUN, n - s);
        for (let i = 0; i < k; i++) run[i * row] = (s + i) & 255;
        yield run.subarray(0, k * row);
      }
    },
    hlen + n * row,
  );
  const y = writeNpy({ dtype: 'int64', shape: [n], data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 10)) });
  await entry('y.npy', () => [y], y.length);
  const cdOff = pos;
  for (const c of cen) await put(c);
  const e = Buffer.alloc(22);
  e.writeUInt32LE(0x06054b50, 0);
  e.writeUInt16LE(cen.length, 8);
  e.writeUInt16LE(cen.length, 10);
  e.writeUInt32LE(pos - cdOff, 12);
  e.writeUInt32LE(cdOff, 16);
  await put(e);
  await fh.close();
  return pos;
}

describe('memory on a large archive', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lethe-npzbig-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // ~307 MB: large enough that reading the archive whole (as before) grows RSS by more than the file,
  // small enough for a CI machine's temp space
  it('previews a ~300 MB stored .npz with RSS growth far below the file size', { timeout: 60_000 }, async () => {
    const n = 100_000;
    const file = join(dir, 'big.npz');
    const size = await writeBigNpz(file, n);
    expect(statSync(file).size).toBe(size);
    expect(size).toBeGreaterThan(300e6);
    const base = process.memoryUsage().rss;
    let peak = base;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    try {
      const t0 = Date.now();
      const prev = await previewImport({ format: 'npz', source: file }, { maxSamples: 5 });
      peak = Math.max(peak, process.memoryUsage().rss);
      console.log(`[npz-stream] preview of ${(size / 1e6).toFixed(0)} MB: ${Date.now() - t0} ms, RSS growth ${((peak - base) / 1e6).toFixed(0)} MB`);
      expect(prev.error).toBeNull();
      expect(prev.count).toBe(n);
      expect(prev.classCounts?.unsplit).toEqual(Array(10).fill(n / 10));
      expect(prev.spec?.sampleShape).toEqual([32, 32, 3]);
      // CHW -> HWC of the first rows: channel 0 of pixel 0 is the varying first byte
      expect(prev.samples.map((s) => s.x[0])).toEqual([0, 1, 2, 3, 4]);
      // streaming holds one 8192-row run (25 MB) and its conversions, not the 307 MB archive
      expect(peak - base).toBeLessThan(0.6 * size);
    } finally {
      clearInterval(timer);
      rmSync(file, { force: true });
    }
  });
});
