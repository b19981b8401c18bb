// Image-folder importer: one sub-folder per class (root/<class>/<image>), or split folders
// root/train/<class>/... and root/test/<class>/... (then the split comes from the source).
//
// Formats: PNG, JPEG and WebP, decoded by sharp (libvips). Safety: each file's size is capped before
// it is read; its format is identified from its magic bytes and must match its extension; its pixel
// count (from the header) is checked against maxPixels BEFORE decoding, and sharp's
// limitInputPixels enforces the same cap inside the decoder. Multi-frame images use their first frame.
// Memory: files are read 16 at a time, but never more than maxInFlightBytes (default 128 MiB) of file
// bytes are held at once (a file larger than that is read alone).
// Options:
//   resize    [w, h] or 'WxH': every image is resized to this size; without it every image must
//             have the size of the first one
//   fit       how resize maps the image to w x h (sharp's fit; only with resize):
//             'fill' (default) stretches to exactly w x h, ignoring the aspect ratio;
//             'cover' keeps the aspect ratio and crops the centre to fill w x h;
//             'contain' keeps the aspect ratio and pads the borders with black
//   channels  'grayscale' | 'rgb' (default: grayscale if the first image is grayscale, else rgb)
//   onError   'fail' (default): the first bad file stops the import with its reason;
//             'skip': bad files are skipped and reported one by one in the manifest's warnings
//   maxPixels default 50,000,000 (about 7000 x 7000); maxFileBytes default 64 MiB;
//   maxInFlightBytes default 128 MiB
// Preview mode: the folders are listed in full (counts and histogram come from the listing, and every
// file's extension is checked as the import would), but only the first maxSamples images are opened,
// checked and decoded; a warning says how many files were counted without being opened.
// Metadata columns: source_width, source_height (before resizing). IDs: the path relative to the root
// with '/' separators, e.g. cat/img001.png or train/cat/img001.png.

import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { DatasetImportError, asImportError, throwIfAborted } from '../errors';
import { sha256Hex } from '../hash';
import type { SourceFileInfo, SplitName } from '../store';
import { type ImportContext, type ImportOutcome, type Importer, labelsOnly, sampleRoom } from './types';

export type FolderFit = 'fill' | 'cover' | 'contain';
const FITS: readonly FolderFit[] = ['fill', 'cover', 'contain'];

export interface FolderOptions {
  resize?: [number, number];
  fit: FolderFit;
  channels?: 'grayscale' | 'rgb';
  onError: 'fail' | 'skip';
  maxPixels: number;
  maxFileBytes: number;
  maxInFlightBytes: number;
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
  const fit = raw.fit ?? 'fill';
  if (!FITS.includes(fit as FolderFit)) throw new DatasetImportError('bad_option', `fit must be one of ${FITS.map((f) => `'${f}'`).join(', ')}.`);
  if (raw.fit !== undefined && !resize) throw new DatasetImportError('bad_option', 'fit only applies together with resize.');
  const maxInFlightBytes = raw.maxInFlightBytes === undefined ? 128 << 20 : Number(raw.maxInFlightBytes);
  if (!Number.isInteger(maxInFlightBytes) || maxInFlightBytes < 1) throw new DatasetImportError('bad_option', 'maxInFlightBytes must be a positive integer.');
  return { resize, fit: fit as FolderFit, channels: channels as FolderOptions['channels'], onError, maxPixels, maxFileBytes, maxInFlightBytes };
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

/**
 * A first-come first-served budget of bytes held in memory at once. A request larger than the whole
 * budget is granted when nothing else is held, so one big file never waits forever.
 */
export class ByteBudget {
  private used = 0;
  /** the most bytes ever held at once (for tests and diagnostics) */
  peak = 0;
  private queue: { n: number; grant: (release: () => void) => void }[] = [];
  constructor(readonly cap: number) {}
  acquire(bytes: number): Promise<() => void> {
    const n = Math.min(Math.max(0, bytes), this.cap);
    return new Promise((grant) => {
      this.queue.push({ n, grant });
      this.pump();
    });
  }
  private pump() {
    while (this.queue.length > 0 && this.used + this.queue[0].n <= this.cap) {
      const { n, grant } = this.queue.shift()!;
      this.used += n;
      this.peak = Math.max(this.peak, this.used);
      let released = false;
      grant(() => {
        if (released) return;
        released = true;
        this.used -= n;
        this.pump();
      });
    }
  }
}

/** the extension check, done without opening the file (null when the extension is supported) */
function extensionProblem(rel: string): { ext: string; expected: 'png' | 'jpeg' | 'webp' | null; problem: string | null } {
  const ext = (/\.[^./]+$/.exec(rel)?.[0] ?? '').toLowerCase();
  const expected = EXT_FORMAT[ext] ?? null;
  return { ext, expected, problem: expected ? null : `unsupported file type '${ext || '(no extension)'}'; use .png, .jpg, .jpeg or .webp` };
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

    const budget = new ByteBudget(opts.maxInFlightBytes);
    /**
     * `turn` resolves when the previous file of the batch has its bytes granted (or failed), so bytes
     * are granted in file order; the loop below consumes files in that order too, so a file never
     * waits for bytes that only a later file could give back.
     */
    const load = async (e: Entry, turn: Promise<void>, myTurnDone: () => void) => {
      let release: () => void;
      let ext: string, expected: 'png' | 'jpeg' | 'webp';
      try {
        const x = extensionProblem(e.rel);
        if (x.problem || !x.expected) throw new FileProblem('bad_image', x.problem!);
        [ext, expected] = [x.ext, x.expected];
        const st = await stat(e.abs);
        if (st.size > opts.maxFileBytes) throw new FileProblem('too_large', `the file is ${st.size} bytes, above the ${opts.maxFileBytes}-byte limit`);
        if (st.size === 0) throw new FileProblem('bad_image', 'the file is empty');
        await turn;
        // held until the image has been decoded (or refused), see the loop below
        release = await budget.acquire(st.size);
      } finally {
        myTurnDone();
      }
      try {
        return { ...(await loadBytes(e, ext, expected)), release };
      } catch (err) {
        release();
        throw err;
      }
    };
    const loadBytes = async (e: Entry, ext: string, expected: 'png' | 'jpeg' | 'webp') => {
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

    const decode = async (l: Awaited<ReturnType<typeof loadBytes>>) => {
      const [tw, th] = size!;
      if (!opts.resize && (l.w !== tw || l.h !== th)) throw new FileProblem('bad_image', `the image is ${l.w}x${l.h} but the others are ${tw}x${th}; pass a resize option`);
      let img = sharp(l.buf, { limitInputPixels: opts.maxPixels, failOn: 'error' });
      if (opts.resize) img = img.resize(tw, th, { fit: opts.fit, background: { r: 0, g: 0, b: 0, alpha: 1 } });
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
    let s = 0;
    while (s < entries.length) {
      throwIfAborted(ctx.signal);
      // preview: open only as many files as there are samples to show (at least one, for the shape)
      if (ctx.preview && sink && sampleRoom(ctx, sink) === 0) break;
      const take = ctx.preview ? Math.max(1, Math.min(BATCH, sampleRoom(ctx, sink))) : BATCH;
      const batch = entries.slice(s, s + take);
      // started together, consumed in order; the byte budget is first-come first-served and each
      // file's bytes are released once it is decoded, so reads never wait on a later file
      let turn = Promise.resolve();
      const loading = batch.map((e) => {
        const prev = turn;
        let done!: () => void;
        turn = new Promise<void>((r) => (done = r));
        return load(e, prev, done).then((v) => ({ ok: true as const, v }), (err) => ({ ok: false as const, err }));
      });
      for (const [k, e] of batch.entries()) {
        const r = await loading[k];
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
        } finally {
          if (r.ok) r.v.release();
        }
      }
      s += batch.length;
      done += batch.length;
      ctx.progress?.({ done, total: entries.length, message: 'decoding images' });
    }
    let unopened = 0;
    if (s < entries.length && sink) {
      // preview: the rest is counted from the listing; extensions are checked as the import would
      const count = labelsOnly(sink);
      let run: Entry[] = [];
      const flush = async () => {
        if (run.length === 0) return;
        const r = run;
        run = [];
        await count({ labels: r.map((e) => e.label), split: r[0].split, id: (i) => r[i].rel });
      };
      for (const e of entries.slice(s)) {
        const { problem } = extensionProblem(e.rel);
        if (problem) {
          if (opts.onError === 'fail') throw new DatasetImportError('bad_image', `${e.rel}: ${problem}.`, e.rel);
          skipped++;
          warnings.push(`skipped ${e.rel}: ${problem}`);
          continue;
        }
        if (run.length > 0 && (run[0].split !== e.split || run.length >= 4096)) await flush();
        run.push(e);
        unopened++;
      }
      await flush();
      warnings.push(
        `preview: ${unopened} of ${entries.length} files were counted from the folder listing without being opened; the import reads, checks and decodes every file.`,
      );
    }
    if (!sink) throw new DatasetImportError('empty', `No readable image in the folder (${skipped} file(s) skipped; first: ${warnings[0] ?? 'none'}).`);
    const sk = sink as ReturnType<ImportContext['open']>;
    sk.warnings.push(...warnings);
    return {
      sink: sk,
      files,
      sourceSplitDescription: splitLayout ? 'train/ and test/ sub-folders' : undefined,
      resolvedOptions: { resize: opts.resize ?? size, ...(opts.resize ? { fit: opts.fit } : {}), channels, onError: opts.onError, maxPixels: opts.maxPixels, skipped },
    };
  },
};
