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
// Preview mode: the arrays are still read whole (main/engine/io reads .npy/.npz in one piece) and every
// check runs, but only the first maxSamples rows are converted and kept.

import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { type NdArray, NpyError, readNpyFile } from '../../io/npy';
import { readNpzFile } from '../../io/npz';
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
    let arrays: Record<string, NdArray>;
    const files: SourceFileInfo[] = [];
    if (st.isDirectory()) {
      arrays = {};
      for (const k of [opts.xKey, opts.yKey, opts.splitKey ?? 'split']) {
        const p = join(source, `${k}.npy`);
        const exists = await stat(p).then(() => true, () => false);
        if (!exists) {
          if (k === opts.xKey || k === opts.yKey || opts.splitKey) throw new DatasetImportError('not_found', `The folder has no ${k}.npy.`, `${k}.npy`);
          continue;
        }
        try {
          arrays[k] = await readNpyFile(p, { maxBytes });
        } catch (e) {
          throw npyError(e, `${k}.npy`);
        }
        const h = await sha256File(p);
        files.push({ path: `${k}.npy`, size: h.size, sha256: h.sha256 });
      }
    } else {
      try {
        arrays = await readNpzFile(source, { maxBytes });
      } catch (e) {
        throw npyError(e, name);
      }
      const h = await sha256File(source);
      files.push({ path: name, size: h.size, sha256: h.sha256 });
    }
    const x = arrays[opts.xKey];
    const yArr = arrays[opts.yKey];
    if (!x) throw new DatasetImportError('not_found', `${name} has no array '${opts.xKey}' (arrays: ${Object.keys(arrays).join(', ') || 'none'}).`, name);
    if (!yArr) throw new DatasetImportError('not_found', `${name} has no array '${opts.yKey}' (arrays: ${Object.keys(arrays).join(', ')}).`, name);
    const splitKey = opts.splitKey ?? (arrays.split ? 'split' : undefined);
    if (opts.splitKey && !arrays[opts.splitKey]) throw new DatasetImportError('not_found', `${name} has no array '${opts.splitKey}'.`, name);
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
    if (splitKey) {
      split = intValues(arrays[splitKey], splitKey, name);
      if (split.length !== n) throw new DatasetImportError('count_mismatch', `${name}: ${splitKey} has ${split.length} entries but there are ${n} examples.`, name);
      for (let i = 0; i < n; i++) if (split[i] > 1) throw new DatasetImportError('bad_value', `${name}: ${splitKey}[${i}] = ${split[i]}; use 0 for train and 1 for test.`, name);
    }
    // samples
    let kind: 'image' | 'tabular';
    let sampleShape: number[];
    let data: Uint8Array | Float32Array;
    const warnings: string[] = [];
    const s = x.shape;
    // preview: only the shown rows are converted (CHW -> HWC); every check still covers every row
    const keepRows = Math.min(n, sampleRoom(ctx, null));
    if (x.dtype === 'uint8' && (s.length === 3 || s.length === 4)) {
      kind = 'image';
      if (s.length === 3 || [1, 3, 4].includes(s[3])) {
        sampleShape = s.length === 3 ? [s[1], s[2], 1] : [s[1], s[2], s[3]];
        data = x.data as Uint8Array;
      } else if ([1, 3].includes(s[1])) {
        const [, C, H, W] = s;
        sampleShape = [H, W, C];
        const src = x.data as Uint8Array;
        const hw = H * W;
        const out = new Uint8Array(keepRows * hw * C);
        for (let i = 0; i < keepRows; i++) for (let c = 0; c < C; c++) for (let p = 0; p < hw; p++) out[i * hw * C + p * C + c] = src[i * hw * C + c * hw + p];
        data = out;
      } else throw new DatasetImportError('unsupported', `${name}: image array shape [${s.join(', ')}] has no channel axis of size 1, 3 or 4.`, name);
    } else if ((x.dtype === 'float32' || x.dtype === 'float64') && s.length === 2) {
      kind = 'tabular';
      sampleShape = [s[1]];
      data = x.dtype === 'float32' ? (x.data as Float32Array) : Float32Array.from(x.data as Float64Array);
      for (let i = 0; i < data.length; i++)
        if (!Number.isFinite(data[i])) throw new DatasetImportError('bad_value', `${name}: ${opts.xKey} holds a non-finite value at row ${Math.floor(i / s[1])}.`, name);
    } else if ((x.dtype === 'float32' || x.dtype === 'float64') && (s.length === 3 || (s.length === 4 && [1, 3, 4].includes(s[3])))) {
      kind = 'image';
      sampleShape = s.length === 3 ? [s[1], s[2], 1] : [s[1], s[2], s[3]];
      const src = x.data as Float32Array | Float64Array;
      const out = new Uint8Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = src[i];
        if (!(v >= 0 && v <= 1)) throw new DatasetImportError('bad_value', `${name}: float images must hold values in [0, 1]; found ${v}. Save uint8 pixels instead.`, name);
        out[i] = Math.round(v * 255);
      }
      data = out;
      warnings.push(`${opts.xKey}: float pixels in [0, 1] were converted to uint8 (round(v * 255)).`);
    } else throw new DatasetImportError('unsupported', `${name}: ${opts.xKey} has dtype ${x.dtype} and shape [${s.join(', ')}]; expected uint8 images [N, H, W(, C)] or float features [N, F].`, name);

    const sink = ctx.open({ kind, sampleShape, xDtype: kind === 'image' ? 'uint8' : 'float32', classNames, idScheme: `${opts.xKey}-<row index in the array>` });
    sink.warnings.push(...warnings);
    const row = sampleShape.reduce((a, b) => a * b, 1);
    // one block per split value keeps addBlock's single-split contract; rows keep their source order
    const CH = 8192;
    for (let start = 0; start < n; start += CH) {
      const end = Math.min(n, start + CH);
      let i = start;
      while (i < end) {
        const sv: SplitName | null = split ? (split[i] === 0 ? 'train' : 'test') : null;
        let j = i + 1;
        while (j < end && (split ? split[j] === split[i] : true)) j++;
        await addBlockPreviewAware(ctx, sink, row, { x: data.subarray(i * row, j * row), labels: y.subarray(i, j), split: sv, id: (k) => `${opts.xKey}-${i + k}` });
        i = j;
      }
      ctx.progress?.({ done: end, total: n });
    }
    return {
      sink,
      files,
      sourceSplitDescription: splitKey ? `the array '${splitKey}' (0 = train, 1 = test)` : undefined,
      resolvedOptions: { xKey: opts.xKey, yKey: opts.yKey, splitKey, classNames },
    };
  },
};
