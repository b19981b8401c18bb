import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetArgSchemas } from '../../../main/backend/services/datasets-schemas';
import { importDataset } from '../../../main/engine/data/import';
import { ByteBudget } from '../../../main/engine/data/importers/folder';
import { DatasetReader } from '../../../main/engine/data/store';
import { KNOWN_CODES, runStrict, tempDir, tempWorkspace } from './helpers';

function pixels(w: number, h: number, c: number, seed: number): Buffer {
  const b = Buffer.alloc(w * h * c);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + seed * 17) % 256;
  return b;
}
const enc = (w: number, h: number, c: 1 | 3, seed: number, fmt: 'png' | 'jpeg' | 'webp' | 'gif') =>
  sharp(pixels(w, h, c, seed), { raw: { width: w, height: h, channels: c } })
    .toFormat(fmt, fmt === 'webp' ? { lossless: true } : {})
    .toBuffer();

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
/** a PNG whose header declares w x h pixels but whose data is tiny (a decompression/pixel bomb) */
function pngBomb(w: number, h: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(w + 1))), chunk('IEND', Buffer.alloc(0))]);
}

describe('image-folder importer', () => {
  const t = tempDir();
  let png: Buffer, jpg: Buffer, webp: Buffer, gif: Buffer, png3: Buffer, big: Buffer;
  beforeAll(async () => {
    png = await enc(8, 6, 1, 1, 'png');
    png3 = await enc(8, 6, 3, 2, 'png');
    jpg = await enc(8, 6, 3, 3, 'jpeg');
    webp = await enc(8, 6, 3, 4, 'webp');
    gif = await enc(8, 6, 3, 5, 'gif');
    big = await enc(20, 20, 3, 6, 'png');
  });
  afterAll(() => t.cleanup());

  it('imports PNG, JPEG and WebP class folders; PNG pixels round-trip exactly; IDs are relative paths', async () => {
    const dir = join(t.dir, 'valid');
    for (const c of ['cat', 'dog']) mkdirSync(join(dir, c), { recursive: true });
    writeFileSync(join(dir, 'cat', 'a.png'), png3);
    writeFileSync(join(dir, 'cat', 'b.jpg'), jpg);
    writeFileSync(join(dir, 'dog', 'c.webp'), webp);
    writeFileSync(join(dir, 'dog', 'd.png'), png3);
    const w = await tempWorkspace();
    try {
      const rec = await importDataset(w.ws, { format: 'folder', source: dir, name: 'pets', testFraction: 0.5, splitSeed: 3 });
      expect(rec.data.classNames).toEqual(['cat', 'dog']);
      expect(rec.data.sampleShape).toEqual([6, 8, 3]);
      expect(rec.data.count).toBe(4);
      const r = await DatasetReader.open(w.ws, rec);
      expect(r.ids).toEqual(['cat/a.png', 'cat/b.jpg', 'dog/c.webp', 'dog/d.png']);
      expect(Buffer.from(await r.readRowBytes([0])).equals(pixels(8, 6, 3, 2))).toBe(true);
      expect(Buffer.from(await r.readRowBytes([2])).equals(pixels(8, 6, 3, 4))).toBe(true); // lossless WebP
      expect(r.metadata.map((m) => m.name)).toEqual(['source_width', 'source_height', 'mean_intensity']);
      await r.close();
    } finally {
      await w.cleanup();
    }
  });

  it('resizes, converts to grayscale, takes the split from train/ and test/ folders', async () => {
    const dir = join(t.dir, 'split');
    for (const s of ['train', 'test']) for (const c of ['a', 'b']) mkdirSync(join(dir, s, c), { recursive: true });
    writeFileSync(join(dir, 'train', 'a', '1.png'), png);
    writeFileSync(join(dir, 'train', 'b', '2.png'), big);
    writeFileSync(join(dir, 'test', 'a', '3.jpg'), jpg);
    const res = await runStrict('folder', dir, { resize: '4x4', channels: 'grayscale' });
    expect(res.ok).toBe(true);
    if (res.ok) {
      expect(res.sink.spec.sampleShape).toEqual([4, 4, 1]);
      expect(res.sink.classCounts.train).toEqual([1, 1]);
      expect(res.sink.classCounts.test).toEqual([1, 0]);
      expect(res.sink.samples.map((s) => s.id).sort()).toEqual(['test/a/3.jpg', 'train/a/1.png', 'train/b/2.png']);
    }
  });

  it("skips broken files with onError 'skip' and reports each one", async () => {
    const dir = join(t.dir, 'skip');
    mkdirSync(join(dir, 'x'), { recursive: true });
    writeFileSync(join(dir, 'x', 'good.png'), png3);
    writeFileSync(join(dir, 'x', 'trunc.png'), png3.subarray(0, 40));
    writeFileSync(join(dir, 'x', 'notes.txt'), 'hello');
    writeFileSync(join(dir, 'x', 'jpeg.png'), jpg);
    const res = await runStrict('folder', dir, { onError: 'skip' });
    expect(res.ok).toBe(true);
    if (res.ok) {
      expect(res.sink.count).toBe(1);
      expect(res.sink.warnings).toHaveLength(3);
      expect(res.sink.warnings.join('\n')).toMatch(/wrong extension: the file is a JPEG image named \.png/);
      expect(res.sink.warnings.join('\n')).toMatch(/notes\.txt: unsupported file type/);
    }
  });

  it('rejects at least 50 broken or hostile image folders with a typed error, pixel cap before decoding (D3)', async () => {
    const cases: { name: string; files: Record<string, Buffer | string>; opts?: Record<string, unknown>; code: string }[] = [];
    const one = (name: string, file: string, bytes: Buffer | string, code: string, opts?: Record<string, unknown>) =>
      cases.push({ name, files: { 'c/good.png': png3, [`c/${file}`]: bytes }, code, opts });
    one('jpeg named .png', 'x.png', jpg, 'bad_image');
    one('png named .jpg', 'x.jpg', png3, 'bad_image');
    one('webp named .png', 'x.png', webp, 'bad_image');
    one('png named .webp', 'x.webp', png3, 'bad_image');
    one('gif named .png', 'x.png', gif, 'bad_image');
    one('jpeg named .webp', 'x.webp', jpg, 'bad_image');
    for (const ext of ['.gif', '.bmp', '.txt', '', '.tiff', '.svg']) one(`extension '${ext}'`, `x${ext}`, ext === '.gif' ? gif : 'data', 'bad_image');
    for (let k = 0; k < 10; k++) one(`truncated PNG at ${20 + k * 9}`, 'x.png', png3.subarray(0, 20 + k * 9), 'bad_image');
    for (let k = 0; k < 6; k++) one(`truncated JPEG at ${30 + k * 40}`, 'x.jpg', jpg.subarray(0, 30 + k * 40), 'bad_image');
    for (let k = 0; k < 5; k++) one(`random bytes ${k}`, 'x.png', Buffer.from(Array.from({ length: 100 + k }, (_, i) => (i * 7 + k) % 256)), 'bad_image');
    one('empty file', 'x.png', Buffer.alloc(0), 'bad_image');
    one('PNG bomb 17000x17000', 'x.png', pngBomb(17000, 17000), 'too_large');
    one('PNG bomb 100000x100000', 'x.png', pngBomb(100000, 100000), 'too_large');
    for (const cap of [10, 47, 100, 399]) one(`20x20 image over a ${cap}-pixel cap`, 'x.png', big, 'too_large', { maxPixels: cap, resize: '8x6' });
    one('file over the byte cap', 'x.png', big, 'too_large', { maxFileBytes: 50 });
    for (let k = 0; k < 3; k++) one(`different size without resize ${k}`, 'x.png', big, 'bad_image');
    const corrupt = Buffer.from(png3);
    corrupt[corrupt.length - 20] ^= 0xff;
    one('PNG with a corrupt IDAT', 'x.png', corrupt, 'bad_image');
    cases.push({ name: 'no class folders', files: { 'loose.png': png3 }, code: 'empty' });
    cases.push({ name: 'empty class folder', files: { 'c/.hidden': 'x' }, code: 'empty' });
    cases.push({ name: 'bad resize option', files: { 'c/a.png': png3 }, opts: { resize: 'big' }, code: 'bad_option' });
    cases.push({ name: 'zero resize', files: { 'c/a.png': png3 }, opts: { resize: '0x5' }, code: 'bad_option' });
    cases.push({ name: 'bad channels option', files: { 'c/a.png': png3 }, opts: { channels: 'cmyk' }, code: 'bad_option' });
    cases.push({ name: 'bad onError option', files: { 'c/a.png': png3 }, opts: { onError: 'ignore' }, code: 'bad_option' });
    cases.push({ name: 'every file broken, skip mode', files: { 'c/a.png': 'no', 'c/b.jpg': 'no' }, opts: { onError: 'skip' }, code: 'empty' });
    expect(cases.length).toBeGreaterThanOrEqual(50);
    const rssBefore = process.memoryUsage().rss;
    for (const [i, cs] of cases.entries()) {
      const dir = join(t.dir, `bad-${i}`);
      for (const [rel, bytes] of Object.entries(cs.files)) {
        mkdirSync(join(dir, rel, '..'), { recursive: true });
        writeFileSync(join(dir, rel), bytes);
      }
      mkdirSync(dir, { recursive: true });
      const res = await runStrict('folder', dir, cs.opts ?? {});
      expect(res.ok, cs.name).toBe(false);
      if (!res.ok) {
        expect(KNOWN_CODES.has(res.error.code)).toBe(true);
        expect(res.error.code, `${cs.name}: ${res.error.message}`).toBe(cs.code);
        expect(res.error.message.length).toBeGreaterThan(10);
      }
    }
    // the 17000^2 and 100000^2 bombs were refused from their headers: nothing close to 289 MB was decoded
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(250 * 1024 * 1024);
  });
});

describe('image-folder importer: resize fit and bounded reads', () => {
  const t = tempDir('lethe-fit-');
  afterAll(() => t.cleanup());

  it("resize fit 'fill' (default), 'cover' and 'contain' give sharp's pixels; bad fit values are refused", async () => {
    // 20 x 10 with a bright left half: fill squashes, cover crops the centre, contain pads top and bottom
    const w = 20;
    const h = 10;
    const raw = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.fill(x < w / 2 ? 200 : 40 + y * 5, (y * w + x) * 3, (y * w + x) * 3 + 3);
    const file = await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
    const dir = join(t.dir, 'fit');
    mkdirSync(join(dir, 'c'), { recursive: true });
    writeFileSync(join(dir, 'c', 'wide.png'), file);
    const got: Record<string, Buffer> = {};
    for (const fit of [undefined, 'fill', 'cover', 'contain'] as const) {
      const res = await runStrict('folder', dir, { resize: '8x8', channels: 'rgb', ...(fit ? { fit } : {}) });
      expect(res.ok, String(fit)).toBe(true);
      if (!res.ok) continue;
      const px = Buffer.from(res.sink.samples[0].x as Uint8Array);
      const want = await sharp(file)
        .resize(8, 8, { fit: fit ?? 'fill', background: { r: 0, g: 0, b: 0, alpha: 1 } })
        .removeAlpha()
        .toColourspace('srgb')
        .raw()
        .toBuffer();
      expect(px.equals(want), String(fit)).toBe(true);
      got[fit ?? 'default'] = px;
    }
    expect(got.default.equals(got.fill)).toBe(true);
    expect(got.cover.equals(got.fill)).toBe(false);
    // contain: 20x10 -> 8x4 centred, so rows 0-1 and 6-7 are black padding and the middle is not
    expect(got.contain.subarray(0, 2 * 8 * 3).every((v) => v === 0)).toBe(true);
    expect(got.contain.subarray(6 * 8 * 3).every((v) => v === 0)).toBe(true);
    expect(got.contain.subarray(3 * 8 * 3, 4 * 8 * 3).some((v) => v > 0)).toBe(true);
    // cover keeps the aspect ratio: the centre crop has both halves side by side, not squashed
    expect(got.cover[0]).toBe(200);
    for (const [opts, msg] of [
      [{ resize: '8x8', fit: 'inside' }, /fit must be one of 'fill', 'cover', 'contain'/],
      [{ resize: '8x8', fit: 3 }, /fit must be one of/],
      [{ fit: 'cover' }, /fit only applies together with resize/],
    ] as const) {
      const res = await runStrict('folder', dir, opts);
      expect(res.ok).toBe(false);
      if (!res.ok) {
        expect(res.error.code).toBe('bad_option');
        expect(res.error.message).toMatch(msg);
      }
    }
  });

  it('the API argument schema refuses an unknown fit before any importer runs', () => {
    const schema = datasetArgSchemas['datasets.previewImport'];
    expect(schema.safeParse({ format: 'folder', source: '/x', options: { resize: '8x8', fit: 'contain' } }).success).toBe(true);
    const bad = schema.safeParse({ format: 'folder', source: '/x', options: { resize: '8x8', fit: 'stretch' } });
    expect(bad.success).toBe(false);
    if (!bad.success) expect(bad.error.issues[0].message).toBe("fit must be 'fill', 'cover' or 'contain'");
    expect(datasetArgSchemas['datasets.import'].safeParse({ format: 'folder', source: '/x', name: 'n', options: { fit: 1 } }).success).toBe(false);
  });

  it('the byte budget grants in order, never exceeds its cap, and lets an oversize request run alone', async () => {
    const b = new ByteBudget(100);
    const order: string[] = [];
    const r1 = await b.acquire(60);
    const p2 = b.acquire(60).then((rel) => (order.push('60'), rel));
    const p3 = b.acquire(10).then((rel) => (order.push('10'), rel)); // fits, but must wait its turn
    const p4 = b.acquire(500).then((rel) => (order.push('500'), rel));
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]);
    r1();
    r1(); // a second release is ignored
    const [r2, r3] = await Promise.all([p2, p3]);
    expect(order).toEqual(['60', '10']);
    r2();
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['60', '10']); // 500 (capped at 100) waits for everything to be released
    r3();
    (await p4)();
    expect(order).toEqual(['60', '10', '500']);
    expect(b.peak).toBe(100);
  });

  it('a folder of a few large files imports under a small in-flight byte cap (no deadlock, right pixels)', async () => {
    const dir = join(t.dir, 'large');
    mkdirSync(join(dir, 'big'), { recursive: true });
    mkdirSync(join(dir, 'small'), { recursive: true });
    const side = 1600;
    const sizes: number[] = [];
    const wants: Buffer[] = [];
    for (let k = 0; k < 3; k++) {
      const raw = Buffer.alloc(side * side * 3);
      let s = k + 1;
      for (let i = 0; i < raw.length; i++) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        raw[i] = s >>> 24;
      }
      const png = await sharp(raw, { raw: { width: side, height: side, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
      sizes.push(png.length);
      writeFileSync(join(dir, 'big', `${k}.png`), png);
      wants.push(await sharp(png).resize(16, 16, { fit: 'fill' }).removeAlpha().toColourspace('srgb').raw().toBuffer());
    }
    writeFileSync(join(dir, 'small', 'a.png'), await sharp(pixels(20, 20, 3, 9), { raw: { width: 20, height: 20, channels: 3 } }).png().toBuffer());
    expect(Math.min(...sizes)).toBeGreaterThan(7 << 20); // about 7.7 MB each
    const res = await runStrict('folder', dir, { resize: '16x16', maxInFlightBytes: 8 << 20 });
    expect(res.ok).toBe(true);
    if (res.ok) {
      expect(res.sink.count).toBe(4);
      expect(res.sink.classCounts.unsplit).toEqual([3, 1]);
      for (let k = 0; k < 3; k++) expect(Buffer.from(res.sink.samples[k].x as Uint8Array).equals(wants[k])).toBe(true);
    }
    const bad = await runStrict('folder', dir, { maxInFlightBytes: 0 });
    expect(bad.ok).toBe(false);
  }, 30_000);
});
