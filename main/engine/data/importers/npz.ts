// NPY / NPZ importer (arrays read by main/engine/io/npy.ts and npz.ts).
//
// Source: an .npz archive with keys x (samples) and y (labels) and optionally split (0 = train,
// 1 = test, or an array of 'train'/'test' codes as uint8), or a folder holding x.npy, y.npy and
// optionally split.npy. Key names are options (xKey, yKey, splitKey).
//   x uint8 [N, H, W]         grayscale images
//   x uint8 [N, H, W, C]      images, C in 1, 3, 4 (HWC)
//   x uint8 [N, C, H, W]      images, C in 1, 3 (converted to HWC)
//   x float32/float64 [N, F]  tabular features (float64 converted to float32)
//   x float32 [N, H, W(, C)]  images with every value in [0, 1] are converted to uint8 (round(v*255))
//   y any integer dtype [N], values 0..K-1 (K = 1 + max label, or the length of classNames)
// IDs: `<split or 'x'>-<row index>`, i.e. row-<i> of the array: `x-17`.
// Reading: y and split are read whole; x is streamed from disk in runs of 8192 rows (an .npz entry,
// stored or deflated, or x.npy), so memory is bounded by one run, not by the array (or the 2 GiB
// fs.readFile limit). Every check (values, truncation, the entry's CRC-32) covers every row.
// Preview mode: all of x is still streamed and checked, but only the first maxSamples rows are
// converted and kept, so a preview reports the same counts and errors as the import.

import { clip, listText } from '../../util/list-text';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { type NdArray, type NpyFile, type NpyHeader, type NpyRowChunk, NpyError, openNpyFile } from '../../io/npy';
import { type NpzFile, openNpzFile } from '../../io/npz';
import { DatasetImportError, asImportError } from '../errors';
import { sha256File } from '../hash';
import type { SourceFileInfo, SplitName } from '../store';
import { type ImportContext, type ImportOutcome, type Importer, addBlockPreviewAware, sampleRoom } from './types';

export interface NpzOptions {
  xKey: string;
  yKey: string;
  splitKey?: string;
  classNames?: string[];
}

function npyError(e: unknown, file: string): DatasetImportError {
  if (e instanceof NpyError) {
    const code = e.code === 'too_large' ? 'too_large' : e.code === 'truncated' || e.code === 'trailing_data' ? 'size_mismatch' : e.code === 'bad_magic' ? 'bad_magic' : e.code === 'unsupported_dtype' || e.code === 'big_endian' || e.code === 'fortran_order' ? 'unsupported' : 'bad_header';
    return new DatasetImportError(code, e.message.replace(/^[^:]*\//, ''), file);
  }
  return asImportError(e, file);
}

const INT_DTYPES = new Set(['int64', 'int32', 'int8', 'uint8']);

function intValues(a: NdArray, what: string, file: string): Int32Array {
  if (!INT_DTYPES.has(a.dtype)) throw new DatasetImportError('unsupported', `${file}: ${what} has dtype ${a.dtype}; it must be an integer array.`, file);
  if (a.shape.length !== 1) throw new DatasetImportError('bad_header', `${file}: ${what} must be one-dimensional [N], got [${a.shape.join(', ')}].`, file);
  const out = new Int32Array(a.shape[0]);
  const d = a.data;
  for (let i = 0; i < out.length; i++) {
    const v = Number(d[i]);
    if (v < 0 || v > 2 ** 31 - 1) throw new DatasetImportError('label_range', `${file}: ${what}[${i}] = ${v} is negative or too large.`, file);
    out[i] = v;
  }
  return out;
}

export const npzImporter: Importer<NpzOptions> = {
  format: 'npz',
  parseOptions(raw) {
    const key = (v: unknown, dflt: string | undefined, what: string) => {
      if (v === undefined) return dflt;
      if (typeof v !== 'string' || !v) throw new DatasetImportError('bad_option', `${what} must be an array name.`);
      return v;
    };
    let classNames: string[] | undefined;
    if (raw.classNames !== undefined) {
      if (!Array.isArray(raw.classNames) || raw.classNames.some((c) => typeof c !== 'string' || !c)) throw new DatasetImportError('bad_option', 'classNames must be a list of names.');
      classNames = raw.classNames as string[];
    }
    return { xKey: key(raw.xKey, 'x', 'xKey')!, yKey: key(raw.yKey, 'y', 'yKey')!, splitKey: key(raw.splitKey, undefined, 'splitKey'), classNames };
  },
  async run(source: string, opts: NpzOptions, ctx: ImportContext): Promise<ImportOutcome> {
    const name = basename(source);
    let st;
    try {
      st = await stat(source);
    } catch (e) {
      throw asImportError(e, name);
    }
    const maxBytes = ctx.limits.maxSampleBytes;
    const files: SourceFileInfo[] = [];
    // x is streamed; y and split are read whole
    let xHeader: NpyHeader;
    let xRows: (rowsPerChunk: number) => AsyncIterable<NpyRowChunk>;
    let xFile: string;
    let yArr: NdArray;
    let splitArr: NdArray | undefined;
    let splitKey: string | undefined;
    const open: (NpyFile | NpzFile)[] = [];
    try {
      if (st.isDirectory()) {
        const found: Record<string, NpyFile | NdArray> = {};
        for (const k of [opts.xKey, opts.yKey, opts.splitKey ?? 'split']) {
          const p = join(source, `${k}.npy`);
          const exists = await stat(p).then(() => true, () => false);
          if (!exists) {
            if (k === opts.xKey || k === opts.yKey || opts.splitKey) throw new DatasetImportError('not_found', `The folder has no ${k}.npy.`, `${k}.npy`);
            continue;
          }
          try {
            const f = await openNpyFile(p, { maxBytes });
            open.push(f);
            found[k] = k === opts.xKey ? f : await f.read();
          } catch (e) {
            throw npyError(e, `${k}.npy`);
          }
          const h = await sha256File(p);
          files.push({ path: `${k}.npy`, size: h.size, sha256: h.sha256 });
        }
        const xf = found[opts.xKey] as NpyFile;
        xHeader = xf.header;
        xRows = (r) => xf.rows(r);
        xFile = `${opts.xKey}.npy`;
        yArr = found[opts.yKey] as NdArray;
        splitKey = opts.splitKey ?? (found.split ? 'split' : undefined);
        splitArr = splitKey ? (found[splitKey] as NdArray) : undefined;
      } else {
        let f: NpzFile;
        try {
          f = await openNpzFile(source, { maxBytes });
        } catch (e) {
          throw npyError(e, name);
        }
        open.push(f);
        const h = await sha256File(source);
        files.push({ path: name, size: h.size, sha256: h.sha256 });
        // an archive may hold 100,000 entries: name the first few and how many more
        const arrays = () => listText(f.keys.map((k) => `'${clip(k, 40)}'`), 10);
        if (!f.has(opts.xKey)) throw new DatasetImportError('not_found', `${name} has no array '${opts.xKey}' (${f.keys.length.toLocaleString('en-US')} arrays: ${arrays()}).`, name);
        if (!f.has(opts.yKey)) throw new DatasetImportError('not_found', `${name} has no array '${opts.yKey}' (${f.keys.length.toLocaleString('en-US')} arrays: ${arrays()}).`, name);
        if (opts.splitKey && !f.has(opts.splitKey)) throw new DatasetImportError('not_found', `${name} has no array '${opts.splitKey}'.`, name);
        splitKey = opts.splitKey ?? (f.has('split') ? 'split' : undefined);
        try {
          xHeader = await f.header(opts.xKey);
          yArr = await f.readArray(opts.yKey);
          if (splitKey) splitArr = await f.readArray(splitKey);
        } catch (e) {
          throw npyError(e, name);
        }
        xRows = (r) => f.rows(opts.xKey, r);
        xFile = name;
      }
      return await importArrays(name, opts, ctx, { xHeader, xRows, xFile, yArr, splitArr, splitKey }, files);
    } finally {
      for (const f of open) await f.close();
    }
  },
};

async function importArrays(
  name: string,
  opts: NpzOptions,
  ctx: ImportContext,
  src: { xHeader: NpyHeader; xRows: (rowsPerChunk: number) => AsyncIterable<NpyRowChunk>; xFile: string; yArr: NdArray; splitArr?: NdArray; splitKey?: string },
  files: SourceFileInfo[],
): Promise<ImportOutcome> {
  const { xHeader: x, yArr, splitKey } = src;
  const y = intValues(yArr, opts.yKey, name);
  const n = x.shape[0];
  if (x.shape.length < 2) throw new DatasetImportError('bad_header', `${name}: ${opts.xKey} must have shape [N, ...], got [${x.shape.join(', ')}].`, name);
  if (y.length !== n) throw new DatasetImportError('count_mismatch', `${name}: ${opts.xKey} has ${n} rows but ${opts.yKey} has ${y.length} labels.`, name);
  if (n === 0) throw new DatasetImportError('empty', `${name}: the arrays hold no examples.`, name);
  let maxLabel = 0;
  for (const v of y) maxLabel = Math.max(maxLabel, v);
  const numClasses = opts.classNames?.length ?? maxLabel + 1;
  if (maxLabel >= numClasses) throw new DatasetImportError('label_range', `${name}: label ${maxLabel} is outside 0..${numClasses - 1} (classNames has ${numClasses} names).`, name);
  if (numClasses > 100_000) throw new DatasetImportError('label_range', `${name}: labels go up to ${maxLabel}; that is not a class index.`, name);
  const classNames = opts.classNames ?? Array.from({ length: numClasses }, (_, i) => String(i));
  let split: Int32Array | null = null;
  if (splitKey && src.splitArr) {
    split = intValues(src.splitArr, splitKey, name);
    if (split.length !== n) throw new DatasetImportError('count_mismatch', `${name}: ${splitKey} has ${split.length} entries but there are ${n} examples.`, name);
    for (let i = 0; i < n; i++) if (split[i] > 1) throw new DatasetImportError('bad_value', `${name}: ${splitKey}[${i}] = ${split[i]}; use 0 for train and 1 for test.`, name);
  }
  // samples: how each run of rows is converted
  let kind: 'image' | 'tabular';
  let sampleShape: number[];
  let mode: 'hwc' | 'chw' | 'features' | 'float-image';
  const warnings: string[] = [];
  const s = x.shape;
  if (x.dtype === 'uint8' && (s.length === 3 || s.length === 4)) {
    kind = 'image';
    if (s.length === 3 || [1, 3, 4].includes(s[3])) {
      sampleShape = s.length === 3 ? [s[1], s[2], 1] : [s[1], s[2], s[3]];
      mode = 'hwc';
    } else if ([1, 3].includes(s[1])) {
      sampleShape = [s[2], s[3], s[1]];
      mode = 'chw';
    } else throw new DatasetImportError('unsupported', `${name}: image array shape [${s.join(', ')}] has no channel axis of size 1, 3 or 4.`, name);
  } else if ((x.dtype === 'float32' || x.dtype === 'float64') && s.length === 2) {
    kind = 'tabular';
    sampleShape = [s[1]];
    mode = 'features';
  } else if ((x.dtype === 'float32' || x.dtype === 'float64') && (s.length === 3 || (s.length === 4 && [1, 3, 4].includes(s[3])))) {
    kind = 'image';
    sampleShape = s.length === 3 ? [s[1], s[2], 1] : [s[1], s[2], s[3]];
    mode = 'float-image';
    warnings.push(`${opts.xKey}: float pixels in [0, 1] were converted to uint8 (round(v * 255)).`);
  } else throw new DatasetImportError('unsupported', `${name}: ${opts.xKey} has dtype ${x.dtype} and shape [${s.join(', ')}]; expected uint8 images [N, H, W(, C)] or float features [N, F].`, name);

  const sink = ctx.open({ kind, sampleShape, xDtype: kind === 'image' ? 'uint8' : 'float32', classNames, idScheme: `${opts.xKey}-<row index in the array>`, expectedCount: n });
  sink.warnings.push(...warnings);
  const row = sampleShape.reduce((a, b) => a * b, 1);
  // preview: only the shown rows are converted (CHW -> HWC); every check still covers every row
  const keepRows = Math.min(n, sampleRoom(ctx, null));
  const CH = 8192;
  try {
    for await (const chunk of src.xRows(CH)) {
      const { start, count } = chunk;
      let data: Uint8Array | Float32Array;
      if (mode === 'hwc') data = chunk.data as Uint8Array;
      else if (mode === 'chw') {
        const [, C, H, W] = s;
        const hw = H * W;
        const keep = Math.max(0, Math.min(count, keepRows - start));
        const srcPx = chunk.data as Uint8Array;
        const out = new Uint8Array(keep * hw * C);
        for (let i = 0; i < keep; i++) for (let c = 0; c < C; c++) for (let p = 0; p < hw; p++) out[i * hw * C + p * C + c] = srcPx[i * hw * C + c * hw + p];
        data = out;
      } else if (mode === 'features') {
        data = x.dtype === 'float32' ? (chunk.data as Float32Array) : Float32Array.from(chunk.data as Float64Array);
        for (let i = 0; i < data.length; i++)
          if (!Number.isFinite(data[i])) throw new DatasetImportError('bad_value', `${name}: ${opts.xKey} holds a non-finite value at row ${start + Math.floor(i / s[1])}.`, name);
      } else {
        const v = chunk.data as Float32Array | Float64Array;
        const out = new Uint8Array(v.length);
        for (let i = 0; i < v.length; i++) {
          const e = v[i];
          if (!(e >= 0 && e <= 1)) throw new DatasetImportError('bad_value', `${name}: float images must hold values in [0, 1]; found ${e}. Save uint8 pixels instead.`, name);
          out[i] = Math.round(e * 255);
        }
        data = out;
      }
      // one block per split value keeps addBlock's single-split contract; rows keep their source order
      const end = start + count;
      let i = start;
      while (i < end) {
        const sv: SplitName | null = split ? (split[i] === 0 ? 'train' : 'test') : null;
        let j = i + 1;
        while (j < end && (split ? split[j] === split[i] : true)) j++;
        const first = i;
        await addBlockPreviewAware(ctx, sink, row, { x: data.subarray((i - start) * row, (j - start) * row), labels: y.subarray(i, j), split: sv, id: (k) => `${opts.xKey}-${first + k}` });
        i = j;
      }
      ctx.progress?.({ done: end, total: n });
    }
  } catch (e) {
    throw e instanceof NpyError ? npyError(e, src.xFile) : e;
  }
  return {
    sink,
    files,
    sourceSplitDescription: splitKey ? `the array '${splitKey}' (0 = train, 1 = test)` : undefined,
    resolvedOptions: { xKey: opts.xKey, yKey: opts.yKey, splitKey, classNames },
  };
}
