// Image-folder importer: one sub-folder per class (root/<class>/<image>), or split folders
// root/train/<class>/... and root/test/<class>/... (then the split comes from the source).
//
// Formats: PNG, JPEG and WebP, decoded by sharp (libvips). Safety: each file's size is capped before
// it is read; its format is identified from its magic bytes and must match its extension; its pixel
// count (from the header) is checked against maxPixels BEFORE decoding, and sharp's
// limitInputPixels enforces the same cap inside the decoder. Multi-frame images use their first frame.
// Options:
//   resize    [w, h] or 'WxH': every image is resized (fill) to this size; without it every image must
//             have the size of the first one
//   channels  'grayscale' | 'rgb' (default: grayscale if the first image is grayscale, else rgb)
//   onError   'fail' (default): the first bad file stops the import with its reason;
//             'skip': bad files are skipped and reported one by one in the manifest's warnings
//   maxPixels default 50,000,000 (about 7000 x 7000); maxFileBytes default 64 MiB
// Metadata columns: source_width, source_height (before resizing). IDs: the path relative to the root
// with '/' separators, e.g. cat/img001.png or train/cat/img001.png.

import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { DatasetImportError, asImportError, throwIfAborted } from '../errors';
import { sha256Hex } from '../hash';
import type { SourceFileInfo, SplitName } from '../store';
import type { ImportContext, ImportOutcome, Importer } from './types';

export interface FolderOptions {
  resize?: [number, number];
  channels?: 'grayscale' | 'rgb';
  onError: 'fail' | 'skip';
  maxPixels: number;
  maxFileBytes: number;
}

const EXT_FORMAT: Record<string, 'png' | 'jpeg' | 'webp'> = { '.png': 'png', '.jpg': 'jpeg', '.jpeg': 'jpeg', '.webp': 'webp' };

export function sniffFormat(b: Uint8Array): 'png' | 'jpeg' | 'webp' | 'gif' | null {
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return 'webp';
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return 'gif';
  return null;
}

export function parseFolderOptions(raw: Record<string, unknown>): FolderOptions {
  let resize: [number, number] | undefined;
  if (raw.resize !== undefined) {
    let w: number, h: number;
    if (typeof raw.resize === 'string') {
      const m = /^(\d+)x(\d+)$/i.exec(raw.resize.trim());
      if (!m) throw new DatasetImportError('bad_option', `resize must look like 32x32, got '${raw.resize}'.`);
      [w, h] = [Number(m[1]), Number(m[2])];
    } else if (Array.isArray(raw.resize) && raw.resize.length === 2) [w, h] = raw.resize.map(Number);
    else throw new DatasetImportError('bad_option', 'resize must be [width, height] or "WxH".');
    if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1 || w > 4096 || h > 4096)
      throw new DatasetImportError('bad_option', 'resize width and height must be integers from 1 to 4096.');
    resize = [w, h];
  }
  const channels = raw.channels;
  if (channels !== undefined && channels !== 'grayscale' && channels !== 'rgb') throw new DatasetImportError('bad_option', "channels must be 'grayscale' or 'rgb'.");
  const onError = raw.onError ?? 'fail';
  if (onError !== 'fail' && onError !== 'skip') throw new DatasetImportError('bad_option', "onError must be 'fail' or 'skip'.");
  const maxPixels = raw.maxPixels === undefined ? 50_000_000 : Number(raw.maxPixels);
  if (!Number.isInteger(maxPixels) || maxPixels < 1) throw new DatasetImportError('bad_option', 'maxPixels must be a positive integer.');
  const maxFileBytes = raw.maxFileBytes === undefined ? 64 << 20 : Number(raw.maxFileBytes);
  if (!Number.isInteger(maxFileBytes) || maxFileBytes < 1) throw new DatasetImportError('bad_option', 'maxFileBytes must be a positive integer.');
  return { resize, channels: channels as FolderOptions['channels'], onError, maxPixels, maxFileBytes };
}

interface Entry {
  rel: string;
  abs: string;
  label: number;
  split: SplitName | null;
}

async function subdirs(dir: string): Promise<string[]> {
  const ents = await readdir(dir, { withFileTypes: true });
  return ents
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

async function filesOf(dir: string): Promise<string[]> {
  const ents = await readdir(dir, { withFileTypes: true });
  return ents
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

class FileProblem extends Error {
  constructor(
    readonly code: 'bad_image' | 'too_large',
    message: string,
  ) {
    super(message);
  }
}

export const folderImporter: Importer<FolderOptions> = {
  format: 'folder',
  parseOptions: parseFolderOptions,
  async run(source: string, opts: FolderOptions, ctx: ImportContext): Promise<ImportOutcome> {
    let top: string[];
    try {
      const st = await stat(source);
      if (!st.isDirectory()) throw new DatasetImportError('bad_option', 'The image-folder source must be a folder with one sub-folder per class.');
      top = await subdirs(source);
    } catch (e) {
      throw asImportError(e, source);
    }
    const lower = top.map((t) => t.toLowerCase());
    const splitLayout = lower.includes('train') && lower.includes('test') && lower.every((t) => t === 'train' || t === 'test');
    const groups: { prefix: string; dir: string; split: SplitName | null }[] = splitLayout
      ? top.map((t) => ({ prefix: t + '/', dir: join(source, t), split: t.toLowerCase() as SplitName }))
      : [{ prefix: '', dir: source, split: null }];
    const classSet = new Set<string>();
    for (const g of groups) for (const c of await subdirs(g.dir)) classSet.add(c);
    const classNames = [...classSet].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (classNames.length === 0) throw new DatasetImportError('empty', 'The folder has no class sub-folders (expected <root>/<class>/<image files>).');
    const entries: Entry[] = [];
    for (const g of groups)
      for (const [label, c] of classNames.entries()) {
        const dir = join(g.dir, c);
        const has = await stat(dir).then((s) => s.isDirectory(), () => false);
        if (!has) continue;
        for (const f of await filesOf(dir)) entries.push({ rel: `${g.prefix}${c}/${f}`, abs: join(dir, f), label, split: g.split });
      }
    if (entries.length === 0) throw new DatasetImportError('empty', 'The class folders hold no files.');
    if (entries.length > ctx.limits.maxExamples) throw new DatasetImportError('too_large', `The folder holds more than ${ctx.limits.maxExamples} files.`);

    let size: [number, number] | null = opts.resize ?? null;
    let channels = opts.channels ?? null;
    let sink: ReturnType<ImportContext['open']> | null = null;
    const files: SourceFileInfo[] = [];
    const warnings: string[] = [];
    let skipped = 0;

    const load = async (e: Entry) => {
      const ext = (/\.[^./]+$/.exec(e.rel)?.[0] ?? '').toLowerCase();
      const expected = EXT_FORMAT[ext];
      if (!expected) throw new FileProblem('bad_image', `unsupported file type '${ext || '(no extension)'}'; use .png, .jpg, .jpeg or .webp`);
      const st = await stat(e.abs);
      if (st.size > opts.maxFileBytes) throw new FileProblem('too_large', `the file is ${st.size} bytes, above the ${opts.maxFileBytes}-byte limit`);
      if (st.size === 0) throw new FileProblem('bad_image', 'the file is empty');
      const buf = await readFile(e.abs);
      const actual = sniffFormat(buf);
      if (actual === null) throw new FileProblem('bad_image', `not a PNG, JPEG or WebP image`);
      if (actual !== expected) throw new FileProblem('bad_image', `wrong extension: the file is a ${actual.toUpperCase()} image named ${ext}`);
      let meta: Metadata;
      try {
        meta = await sharp(buf, { limitInputPixels: opts.maxPixels, failOn: 'error' }).metadata();
      } catch (err) {
        const msg = (err as Error).message;
        if (/pixel limit/i.test(msg)) throw new FileProblem('too_large', `the image header declares more than ${opts.maxPixels} pixels (refused before decoding)`);
        throw new FileProblem('bad_image', `cannot read the image header (${msg})`);
      }
      const w = meta.width ?? 0;
      const h = meta.height ?? 0;
      if (w < 1 || h < 1) throw new FileProblem('bad_image', 'the image has no size');
      if (w * h > opts.maxPixels) throw new FileProblem('too_large', `the image is ${w}x${h} = ${w * h} pixels, above the ${opts.maxPixels}-pixel limit`);
      return { buf, w, h, gray: meta.channels === 1 || meta.channels === 2 || meta.space === 'b-w', sha: sha256Hex(buf), bytes: buf.length };
    };

    const decode = async (l: Awaited<ReturnType<typeof load>>) => {
      const [tw, th] = size!;
      if (!opts.resize && (l.w !== tw || l.h !== th)) throw new FileProblem('bad_image', `the image is ${l.w}x${l.h} but the others are ${tw}x${th}; pass a resize option`);
      let img = sharp(l.buf, { limitInputPixels: opts.maxPixels, failOn: 'error' });
      if (opts.resize) img = img.resize(tw, th, { fit: 'fill' });
      img = img.removeAlpha();
      img = channels === 'grayscale' ? img.toColourspace('b-w') : img.toColourspace('srgb');
      let out: { data: Buffer; info: OutputInfo };
      try {
        out = await img.raw().toBuffer({ resolveWithObject: true });
      } catch (err) {
        throw new FileProblem('bad_image', `cannot decode the image (${(err as Error).message})`);
      }
      const want = channels === 'grayscale' ? 1 : 3;
      let data = out.data;
      if (out.info.channels !== want) {
        // libvips may keep a channel layout; reduce or expand explicitly
        const c = out.info.channels;
        const n = tw * th;
        const conv = Buffer.alloc(n * want);
        for (let p = 0; p < n; p++) for (let k = 0; k < want; k++) conv[p * want + k] = data[p * c + Math.min(k, c - 1)];
        data = conv;
      }
      if (data.length !== tw * th * want) throw new FileProblem('bad_image', 'the decoder returned an unexpected number of pixels');
      return data;
    };

    const BATCH = 16;
    let done = 0;
    for (let s = 0; s < entries.length; s += BATCH) {
      throwIfAborted(ctx.signal);
      const batch = entries.slice(s, s + BATCH);
      const loaded = await Promise.all(batch.map((e) => load(e).then((v) => ({ ok: true as const, v }), (err) => ({ ok: false as const, err }))));
      for (const [k, e] of batch.entries()) {
        const r = loaded[k];
        try {
          if (!r.ok) throw r.err;
          if (!size) size = [r.v.w, r.v.h];
          if (!channels) channels = r.v.gray ? 'grayscale' : 'rgb';
          if (!sink)
            sink = ctx.open({
              kind: 'image',
              sampleShape: [size[1], size[0], channels === 'grayscale' ? 1 : 3],
              xDtype: 'uint8',
              classNames,
              metadataColumns: [
                { name: 'source_width', type: 'number' },
                { name: 'source_height', type: 'number' },
              ],
              idScheme: "the file's path relative to the source folder, with '/' separators, e.g. cat/img001.png",
            });
          const px = await decode(r.v);
          await sink.add({ x: new Uint8Array(px.buffer, px.byteOffset, px.length), label: e.label, split: e.split, id: e.rel, meta: [r.v.w, r.v.h] });
          files.push({ path: e.rel, size: r.v.bytes, sha256: r.v.sha });
        } catch (err) {
          if (err instanceof DatasetImportError) throw err;
          const fp = err instanceof FileProblem ? err : null;
          const msg = fp ? fp.message : asImportError(err, e.rel).message;
          if (opts.onError === 'fail') throw new DatasetImportError(fp?.code ?? 'bad_image', `${e.rel}: ${msg}.`, e.rel);
          skipped++;
          warnings.push(`skipped ${e.rel}: ${msg}`);
        }
      }
      done += batch.length;
      ctx.progress?.({ done, total: entries.length, message: 'decoding images' });
    }
    if (!sink) throw new DatasetImportError('empty', `No readable image in the folder (${skipped} file(s) skipped; first: ${warnings[0] ?? 'none'}).`);
    const sk = sink as ReturnType<ImportContext['open']>;
    sk.warnings.push(...warnings);
    return {
      sink: sk,
      files,
      sourceSplitDescription: splitLayout ? 'train/ and test/ sub-folders' : undefined,
      resolvedOptions: { resize: opts.resize ?? size, channels, onError: opts.onError, maxPixels: opts.maxPixels, skipped },
    };
  },
};
