// CIFAR-10 / CIFAR-100 binary-version importer.
//
// CIFAR-10 records are 3073 bytes: <1 byte label 0..9><3072 bytes pixels, CHW: 1024 R, 1024 G, 1024 B>.
// CIFAR-100 records are 3074 bytes: <1 byte coarse label 0..19><1 byte fine label 0..99><3072 pixels>.
// The fine label is the class; the coarse label is kept as the metadata column 'coarse_label' (useful
// for sub-class forget sets). Pixels are converted to HWC.
//
// Source: a single .bin file, or a folder with data_batch_1..5.bin + test_batch.bin (CIFAR-10) or
// train.bin + test.bin (CIFAR-100). The split comes from the file names when both train and test
// files are present; otherwise a seeded stratified split is drawn. Class names come from
// batches.meta.txt (CIFAR-10) or fine_label_names.txt / coarse_label_names.txt (CIFAR-100) when present.
// Checks: file size is a positive multiple of the record size; every label in range.
// IDs: `<file stem>-<record index in that file>`, e.g. data_batch_3-17, test_batch-9999, train-0.
// Preview mode: the same size checks and every label (read in 3 MiB blocks), pixels converted only for
// the first maxSamples records.

import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DatasetImportError, asImportError, throwIfAborted } from '../errors';
import { sha256File } from '../hash';
import type { SourceFileInfo, SplitName } from '../store';
import { type ImportContext, type ImportOutcome, type Importer, addBlockPreviewAware, sampleRoom } from './types';

export interface CifarOptions {
  variant: 'cifar10' | 'cifar100' | 'auto';
}

const CIFAR10_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const PIX = 3072;
const BATCH = 1024;

function variantFromFiles(names: string[]): 'cifar10' | 'cifar100' | null {
  if (names.some((n) => /^(data_batch_\d+|test_batch)\.bin$/.test(n))) return 'cifar10';
  if (names.some((n) => /^(train|test)\.bin$/.test(n))) return 'cifar100';
  return null;
}

async function readNames(dir: string, file: string, expected: number): Promise<string[] | null> {
  let text: string;
  try {
    const buf = await readFile(join(dir, file));
    if (buf.length > 1 << 20) throw new DatasetImportError('too_large', `${file} is larger than 1 MiB; it should hold one class name per line.`, file);
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if (e instanceof DatasetImportError) throw e;
    throw new DatasetImportError('bad_encoding', `${file} is not UTF-8 text.`, file);
  }
  const names = text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length !== expected) throw new DatasetImportError('bad_header', `${file} lists ${names.length} class names, expected ${expected}.`, file);
  return names;
}

export const cifarImporter: Importer<CifarOptions> = {
  format: 'cifar',
  parseOptions(raw) {
    const v = raw.variant ?? 'auto';
    if (v !== 'cifar10' && v !== 'cifar100' && v !== 'auto') throw new DatasetImportError('bad_option', "variant must be 'cifar10', 'cifar100' or 'auto'.");
    return { variant: v };
  },
  async run(source: string, opts: CifarOptions, ctx: ImportContext): Promise<ImportOutcome> {
    let st;
    try {
      st = await stat(source);
    } catch (e) {
      throw asImportError(e, source);
    }
    let dir: string;
    let files: string[];
    if (st.isDirectory()) {
      dir = source;
      files = (await readdir(source)).filter((n) => /\.bin$/.test(n)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
      if (files.length === 0) throw new DatasetImportError('not_found', 'No CIFAR .bin files in the folder (expected data_batch_1.bin ... test_batch.bin, or train.bin and test.bin).');
    } else {
      dir = join(source, '..');
      files = [basename(source)];
    }
    const detected = variantFromFiles(files);
    const variant = opts.variant === 'auto' ? (detected ?? 'cifar10') : opts.variant;
    if (st.isDirectory()) {
      // keep only the known batch files of the variant when the folder follows the standard layout
      const std = files.filter((n) => (variant === 'cifar10' ? /^(data_batch_\d+|test_batch)\.bin$/ : /^(train|test)\.bin$/).test(n));
      if (std.length > 0) files = std;
    }
    const rec = variant === 'cifar10' ? 3073 : 3074;
    const splitOf = (f: string): SplitName => (/^test(_batch)?\.bin$/.test(f) ? 'test' : 'train');
    const hasBoth = files.some((f) => splitOf(f) === 'test') && files.some((f) => splitOf(f) === 'train');

    let classNames = variant === 'cifar10' ? CIFAR10_NAMES : Array.from({ length: 100 }, (_, i) => String(i));
    let coarseNames = Array.from({ length: 20 }, (_, i) => String(i));
    if (variant === 'cifar10') classNames = (await readNames(dir, 'batches.meta.txt', 10)) ?? classNames;
    else {
      classNames = (await readNames(dir, 'fine_label_names.txt', 100)) ?? classNames;
      coarseNames = (await readNames(dir, 'coarse_label_names.txt', 20)) ?? coarseNames;
    }
    // validate every file's size before reading any record
    const sizes: number[] = [];
    for (const f of files) {
      const s = await stat(join(dir, f)).catch((e) => {
        throw asImportError(e, f);
      });
      if (s.size === 0) throw new DatasetImportError('empty', `${f} is empty.`, f);
      if (s.size % rec !== 0)
        throw new DatasetImportError(
          'size_mismatch',
          `${f} has ${s.size} bytes, not a multiple of the ${rec}-byte ${variant === 'cifar10' ? 'CIFAR-10' : 'CIFAR-100'} record (${Math.floor(s.size / rec)} records and ${s.size % rec} extra bytes).`,
          f,
        );
      sizes.push(s.size);
    }
    const total = sizes.reduce((a, b) => a + b, 0) / rec;
    if (total > ctx.limits.maxExamples) throw new DatasetImportError('too_large', `The files hold ${total} records, above the limit of ${ctx.limits.maxExamples}.`);
    const sink = ctx.open({
      kind: 'image',
      sampleShape: [32, 32, 3],
      xDtype: 'uint8',
      classNames,
      metadataColumns: variant === 'cifar100' ? [{ name: 'coarse_label', type: 'category' }] : [],
      idScheme: '<file stem>-<record index in that file>, e.g. data_batch_3-17, test_batch-9999',
      expectedCount: total,
    });
    const infos: SourceFileInfo[] = [];
    let done = 0;
    const buf = Buffer.allocUnsafe(rec * BATCH);
    for (const [k, f] of files.entries()) {
      const stem = f.replace(/\.bin$/, '');
      const split = hasBoth ? splitOf(f) : null;
      const fh = await open(join(dir, f), 'r');
      try {
        const n = sizes[k] / rec;
        for (let start = 0; start < n; start += BATCH) {
          throwIfAborted(ctx.signal);
          const m = Math.min(BATCH, n - start);
          let got = 0;
          while (got < m * rec) {
            const { bytesRead } = await fh.read(buf, got, m * rec - got, start * rec + got);
            if (bytesRead === 0) throw new DatasetImportError('size_mismatch', `${f} shrank while being read.`, f);
            got += bytesRead;
          }
          // preview: every label is checked, only the shown records' pixels are converted
          const withPixels = Math.min(m, sampleRoom(ctx, sink));
          const x = new Uint8Array(withPixels * PIX);
          const labels = new Int32Array(m);
          const coarse: string[] = [];
          for (let r = 0; r < m; r++) {
            const o = r * rec;
            let label: number;
            if (variant === 'cifar10') {
              label = buf[o];
              if (label > 9) throw new DatasetImportError('label_range', `${f}: record ${start + r} has label ${label}; CIFAR-10 labels are 0..9.`, f);
            } else {
              const c = buf[o];
              label = buf[o + 1];
              if (c > 19) throw new DatasetImportError('label_range', `${f}: record ${start + r} has coarse label ${c}; CIFAR-100 coarse labels are 0..19.`, f);
              if (label > 99) throw new DatasetImportError('label_range', `${f}: record ${start + r} has fine label ${label}; CIFAR-100 fine labels are 0..99.`, f);
              coarse.push(coarseNames[c]);
            }
            labels[r] = label;
            if (r >= withPixels) continue;
            const p = o + rec - PIX;
            const xo = r * PIX;
            for (let i = 0; i < 1024; i++) {
              x[xo + i * 3] = buf[p + i];
              x[xo + i * 3 + 1] = buf[p + 1024 + i];
              x[xo + i * 3 + 2] = buf[p + 2048 + i];
            }
          }
          await addBlockPreviewAware(ctx, sink, PIX, {
            x,
            labels,
            split,
            id: (i) => `${stem}-${start + i}`,
            meta: variant === 'cifar100' ? (i) => [coarse[i]] : undefined,
          });
          done += m;
          ctx.progress?.({ done, total, message: `reading ${f}` });
        }
      } finally {
        await fh.close();
      }
      const h = await sha256File(join(dir, f));
      infos.push({ path: f, size: h.size, sha256: h.sha256 });
    }
    return {
      sink,
      files: infos,
      sourceSplitDescription: hasBoth ? (variant === 'cifar10' ? 'data_batch_* = train, test_batch = test' : 'train.bin = train, test.bin = test') : undefined,
      resolvedOptions: { variant },
    };
  },
};
