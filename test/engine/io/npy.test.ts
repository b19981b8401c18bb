import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { readNpy, writeNpy, NpyError, type NdArray, readNpyFile, writeNpyFile } from '../../../main/engine/io/npy';
import { readNpz, writeNpz, readNpzFile, writeNpzFile } from '../../../main/engine/io/npz';

const PY = '/usr/bin/python3';
const hasNumpy = (() => {
  try {
    execFileSync(PY, ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function sample(): Record<string, NdArray> {
  return {
    f32: { dtype: 'float32', shape: [2, 3], data: Float32Array.from([1.5, -2, 3.25, 0, 1e-8, -7]) },
    f64: { dtype: 'float64', shape: [3], data: Float64Array.from([Math.PI, -1e300, 5e-324]) },
    i64: { dtype: 'int64', shape: [2, 2], data: BigInt64Array.from([0n, -1n, 9223372036854775807n, -9223372036854775808n]) },
    i32: { dtype: 'int32', shape: [1, 2, 2], data: Int32Array.from([1, -2, 2147483647, -2147483648]) },
    i8: { dtype: 'int8', shape: [2], data: Int8Array.from([-128, 127]) },
    u8: { dtype: 'uint8', shape: [4], data: Uint8Array.from([0, 1, 128, 255]) },
    b1: { dtype: 'bool', shape: [3], data: Uint8Array.from([1, 0, 1]) },
    f16: { dtype: 'float16', shape: [2], data: Uint16Array.from([0x3c00, 0xc000]) }, // 1.0, -2.0
    scalar: { dtype: 'float32', shape: [], data: Float32Array.from([42]) },
    empty: { dtype: 'float32', shape: [0, 5], data: new Float32Array(0) },
  };
}

function bytesOf(a: NdArray): number[] {
  return [...new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength)];
}

describe('npy round trip', () => {
  it('writes and reads back every supported dtype exactly', () => {
    for (const [k, arr] of Object.entries(sample())) {
      const bytes = writeNpy(arr);
      // data starts on a 64-byte boundary like numpy's own files
      const hl = bytes[8] | (bytes[9] << 8);
      expect((10 + hl) % 64, k).toBe(0);
      const back = readNpy(bytes);
      expect(back.dtype, k).toBe(arr.dtype);
      expect(back.shape, k).toEqual(arr.shape);
      expect(bytesOf(back), k).toEqual(bytesOf(arr));
    }
  });

  it('npz round trip, stored and deflated, is deterministic', () => {
    for (const compress of [false, true]) {
      const bytes = writeNpz(sample(), { compress });
      expect(writeNpz(sample(), { compress })).toEqual(bytes);
      const back = readNpz(bytes);
      expect(Object.keys(back).sort()).toEqual(Object.keys(sample()).sort());
      for (const [k, arr] of Object.entries(sample())) {
        expect(back[k].shape).toEqual(arr.shape);
        expect(bytesOf(back[k])).toEqual(bytesOf(arr));
      }
    }
    const only = readNpz(writeNpz(sample()), { keys: ['f32'] });
    expect(Object.keys(only)).toEqual(['f32']);
    expect(() => readNpz(writeNpz(sample()), { keys: ['nope'] })).toThrow(/missing key\(s\) 'nope'/);
  });

  it('refuses inconsistent arrays on write', () => {
    expect(() => writeNpy({ dtype: 'float32', shape: [3], data: new Float32Array(2) })).toThrow(/needs 3 elements, data has 2/);
    expect(() => writeNpy({ dtype: 'int64', shape: [2], data: new Float64Array(2) })).toThrow(/must be a BigInt64Array/);
    expect(() => writeNpy({ dtype: 'float32', shape: [-1], data: new Float32Array(0) })).toThrow(/invalid dimension -1/);
    expect(() => writeNpz({ '': sample().f32 })).toThrow(/non-empty/);
  });
});

describe('npy/npz malformed input', () => {
  const good = writeNpy(sample().f32);
  const header = (h: string, major = 1) => {
    const pad = h + ' '.repeat((64 - ((10 + h.length + 1) % 64)) % 64) + '\n';
    const out = new Uint8Array(10 + pad.length);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
    out[8] = pad.length & 0xff;
    out[9] = pad.length >> 8;
    for (let i = 0; i < pad.length; i++) out[10 + i] = pad.charCodeAt(i);
    return out;
  };
  const withData = (h: Uint8Array, n: number) => {
    const o = new Uint8Array(h.length + n);
    o.set(h);
    return o;
  };
  const cases: [string, Uint8Array, string, RegExp][] = [
    ['empty', new Uint8Array(0), 'bad_magic', /not a \.npy file/],
    ['bad magic', Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), 'bad_magic', /signature/],
    ['version 9', Uint8Array.from([...good.slice(0, 6), 9, 0, ...good.slice(8)]), 'bad_version', /version 9\.0/],
    ['truncated data', good.slice(0, good.length - 3), 'truncated', /needs 24 bytes, found 21/],
    ['truncated header', good.slice(0, 30), 'truncated', /header claims/],
    ['trailing data', Uint8Array.from([...good, 0, 0]), 'trailing_data', /2 unexpected bytes/],
    ['big endian', withData(header("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }"), 8), 'big_endian', /big-endian/],
    ['fortran', withData(header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }"), 24), 'fortran_order', /Fortran/],
    ['object', withData(header("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }"), 16), 'unsupported_dtype', /pickle/],
    ['structured', withData(header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }"), 8), 'unsupported_dtype', /structured/],
    ['complex', withData(header("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }"), 8), 'unsupported_dtype', /'<c8' is not supported/],
    ['negative dim', header("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }"), 'bad_shape', /invalid dimension -2/],
    ['huge shape', header("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000, 100000), }"), 'too_large', /exceeds the limit|too many/],
    ['no shape', header("{'descr': '<f4', 'fortran_order': False, }"), 'bad_header', /no 'shape'/],
    ['garbage header', header('import os; os.system("x")'), 'bad_header', /not a valid numpy header/],
    ['unterminated', header("{'descr': '<f4"), 'bad_header', /unterminated string/],
    ['deep nesting', header("{'a': " + '('.repeat(40) + ')'.repeat(40) + '}'), 'bad_header', /nesting too deep/],
  ];
  for (const [name, bytes, code, msg] of cases) {
    it(`rejects ${name}`, () => {
      let err: unknown;
      try {
        readNpy(bytes);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(NpyError);
      expect((err as NpyError).code).toBe(code);
      expect((err as Error).message).toMatch(msg);
    });
  }

  it('accepts a 1-D array marked fortran_order (the layout is identical)', () => {
    const b = withData(header("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }"), 8);
    expect(readNpy(b).shape).toEqual([2]);
  });

  it('rejects broken npz archives with bad_archive', () => {
    const npz = writeNpz(sample());
    const expectArchive = (b: Uint8Array, re: RegExp) => {
      let err: unknown;
      try {
        readNpz(b);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(NpyError);
      expect((err as Error).message).toMatch(re);
    };
    expectArchive(new Uint8Array(3), /no ZIP signature/);
    expectArchive(good, /single \.npy array/);
    expectArchive(npz.slice(0, npz.length - 30), /end-of-central-directory|truncated|corrupt/);
    // corrupt one data byte inside the first stored entry: CRC must catch it
    const flipped = npz.slice();
    flipped[30 + "f32.npy".length + 130] ^= 0xff; // inside the first entry's array bytes
    expectArchive(flipped, /CRC-32|corrupt|not a valid|header/);
    // an entry that is not .npy
    expectArchive(zipSync({ 'readme.txt': new Uint8Array([1]) }), /not a \.npy array/);
    // zip bomb: a deflated entry whose header lies about its size
    const bomb = zipSync({ 'x.npy': [new Uint8Array(5_000_000), { level: 9 }] });
    const entries = bomb.slice();
    // patch uncompressed size in the central directory (offset 24 of the CEN record) to 100 bytes
    const dv = new DataView(entries.buffer);
    for (let o = entries.length - 22; o >= 0; o--) {
      if (dv.getUint32(o, true) === 0x02014b50) {
        dv.setUint32(o + 24, 100, true);
        break;
      }
    }
    expectArchive(entries, /inflates to more than|cannot be inflated/);
  });
});

describe.skipIf(!hasNumpy)('numpy compatibility', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lethe-npy-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('numpy.load reads what Lethe writes (npy, npz stored, npz compressed)', async () => {
    const s = sample();
    await writeNpyFile(join(dir, 'a.npy'), s.i64);
    await writeNpzFile(join(dir, 'b.npz'), s);
    await writeNpzFile(join(dir, 'c.npz'), s, { compress: true });
    const script = `
import numpy as np, json, sys
d = sys.argv[1]
out = {}
a = np.load(d + '/a.npy')
out['a'] = [str(a.dtype), list(a.shape), [int(x) for x in a.ravel()]]
for f in ['b', 'c']:
    z = np.load(d + '/' + f + '.npz', allow_pickle=False)
    out[f] = {k: [str(z[k].dtype), list(z[k].shape), z[k].astype('float64').ravel().tolist() if z[k].dtype.kind != 'i' else [int(x) for x in z[k].ravel()]] for k in z.files}
print(json.dumps(out))
`;
    const res = JSON.parse(execFileSync(PY, ['-c', script, dir], { encoding: 'utf8' }));
    expect(res.a[0]).toBe('int64');
    expect(res.a[2]).toEqual([0n, -1n, 9223372036854775807n, -9223372036854775808n].map(Number));
    const npDtype: Record<string, string> = { float32: 'float32', float64: 'float64', int64: 'int64', int32: 'int32', int8: 'int8', uint8: 'uint8', bool: 'bool', float16: 'float16' };
    for (const f of ['b', 'c']) {
      for (const [k, arr] of Object.entries(s)) {
        const [dt, shape, vals] = res[f][k];
        expect(dt, `${f}/${k}`).toBe(npDtype[arr.dtype]);
        expect(shape, `${f}/${k}`).toEqual(arr.shape);
        if (arr.dtype === 'float16') expect(vals).toEqual([1, -2]);
        else if (arr.dtype === 'bool') expect(vals).toEqual([1, 0, 1]);
        else if (arr.dtype !== 'int64') expect(vals, `${f}/${k}`).toEqual([...(arr.data as Float32Array)].map(Number));
      }
    }
  });

  it('reads what numpy writes (v1/v2/v3 headers, savez, savez_compressed) and refuses what it cannot represent', async () => {
    const script = `
import numpy as np, sys
from numpy.lib import format as F
d = sys.argv[1]
x = np.arange(12, dtype='<f4').reshape(3, 4) / 7
for v in [(1, 0), (2, 0), (3, 0)]:
    with open(d + '/v%d.npy' % v[0], 'wb') as fh:
        F.write_array(fh, x, version=v)
np.save(d + '/bool.npy', np.array([True, False, True]))
np.save(d + '/scalar.npy', np.float64(2.5))
np.save(d + '/fortran.npy', np.asfortranarray(x))
np.save(d + '/big.npy', x.astype('>f4'))
np.save(d + '/obj.npy', np.array([{'a': 1}], dtype=object), allow_pickle=True)
np.savez(d + '/s.npz', x=x, y=np.array([3, 1, 2], dtype=np.int64))
np.savez_compressed(d + '/z.npz', x=x, y=np.array([3, 1, 2], dtype=np.int64))
`;
    execFileSync(PY, ['-c', script, dir]);
    const x = Array.from({ length: 12 }, (_, i) => Math.fround(Math.fround(i) / 7));
    for (const v of [1, 2, 3]) {
      const a = await readNpyFile(join(dir, `v${v}.npy`));
      expect(a.dtype).toBe('float32');
      expect(a.shape).toEqual([3, 4]);
      expect([...a.data]).toEqual(x);
    }
    expect([...(await readNpyFile(join(dir, 'bool.npy'))).data]).toEqual([1, 0, 1]);
    const sc = await readNpyFile(join(dir, 'scalar.npy'));
    expect(sc.shape).toEqual([]);
    expect([...sc.data]).toEqual([2.5]);
    await expect(readNpyFile(join(dir, 'fortran.npy'))).rejects.toMatchObject({ code: 'fortran_order' });
    await expect(readNpyFile(join(dir, 'big.npy'))).rejects.toMatchObject({ code: 'big_endian' });
    await expect(readNpyFile(join(dir, 'obj.npy'))).rejects.toMatchObject({ code: 'unsupported_dtype' });
    for (const f of ['s.npz', 'z.npz']) {
      const z = await readNpzFile(join(dir, f));
      expect([...z.x.data]).toEqual(x);
      expect(z.y.dtype).toBe('int64');
      expect([...z.y.data]).toEqual([3n, 1n, 2n]);
    }
    expect(existsSync(join(dir, 'z.npz'))).toBe(true);
    // the compressed archive really is deflated
    expect(readFileSync(join(dir, 'z.npz')).length).toBeLessThan(readFileSync(join(dir, 's.npz')).length);
    writeFileSync(join(dir, 'junk.npz'), 'hello');
    await expect(readNpzFile(join(dir, 'junk.npz'))).rejects.toMatchObject({ code: 'bad_archive' });
  });
});
