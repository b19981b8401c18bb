import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CsvParser, parseCsvText } from '../../../main/engine/data/csv-parse';
import { DatasetImportError } from '../../../main/engine/data/errors';
import { importDataset, previewImport } from '../../../main/engine/data/import';
import { DatasetReader } from '../../../main/engine/data/store';
import { KNOWN_CODES, runStrict, tempDir, tempWorkspace } from './helpers';
import { propertyParams } from '../../property';

describe('CSV parser (RFC 4180)', () => {
  it('handles quotes, doubled quotes, embedded newlines, CRLF, BOM and a missing final newline', () => {
    const text = '\ufeffa,b,c\r\n1,"x, y","he said ""hi"""\r\n2,"multi\nline",\n3,,"last"';
    expect(parseCsvText(text)).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x, y', 'he said "hi"'],
      ['2', 'multi\nline', ''],
      ['3', '', 'last'],
    ]);
  });

  it('gives the same rows whatever the chunking', () => {
    const text = '\ufeffid,v\r\n"a""b",1\r\n"c\r\nd",2\n';
    const bytes = new TextEncoder().encode(text);
    const whole = parseCsvText(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const p = new CsvParser();
      const rows = [...p.push(bytes.subarray(0, cut)), ...p.push(bytes.subarray(cut)), ...p.end()];
      expect(rows).toEqual(whole);
    }
  });

  it('property: 5,000 generated inputs parse or fail with a typed error, never anything else (D4)', () => {
    const alphabet = fc.constantFrom(...'ab1,"\r\n \t\u0000\u00e9'.split(''), '\ufeff', '""', ',,', '\r\n');
    fc.assert(
      fc.property(fc.oneof(fc.array(alphabet, { maxLength: 60 }).map((a) => new TextEncoder().encode(a.join(''))), fc.uint8Array({ maxLength: 80 })), (bytes) => {
        const p = new CsvParser({ maxFieldBytes: 16, maxColumns: 8 });
        try {
          const rows = [...p.push(bytes), ...p.end()];
          for (const r of rows) {
            expect(r.length).toBeLessThanOrEqual(8);
            for (const f of r) expect(Buffer.byteLength(f)).toBeLessThanOrEqual(16);
          }
        } catch (e) {
          if (!(e instanceof DatasetImportError)) throw e;
          expect(['bad_csv', 'bad_encoding', 'too_large']).toContain(e.code);
        }
      }),
      propertyParams('csv-parser', 5000),
    );
  });
});

describe('CSV importer', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  it('round-trips features, labels, IDs, split and metadata columns', async () => {
    const file = join(t.dir, 'adult.csv');
    writeFileSync(
      file,
      '\ufeffid,age,hours,city,score,label,split\r\n' +
        'p1,39,40,"Paris, FR",0.5,no,train\r\n' +
        'p2,50,13,Berlin,,yes,train\r\n' +
        'p3,38,40,"Paris, FR",1.5,no,test\r\n' +
        'p4,53,40,"Rome ""IT""",2,yes,train\r\n',
    );
    const w = await tempWorkspace();
    try {
      const rec = await importDataset(w.ws, { format: 'csv', source: file, name: 'adult', options: { idColumn: 'id', splitColumn: 'split', featureColumns: ['age', 'hours'] } });
      const m = rec.data;
      expect(m.kind).toBe('tabular');
      expect(m.featureNames).toEqual(['age', 'hours']);
      expect(m.classNames).toEqual(['no', 'yes']);
      expect(m.counts.totals).toEqual({ train: 3, test: 1, all: 4 });
      expect(m.metadata.map((c) => [c.name, c.type])).toEqual([
        ['city', 'category'],
        ['score', 'number'],
      ]);
      const r = await DatasetReader.open(w.ws, rec);
      expect(r.ids).toEqual(['p1', 'p2', 'p3', 'p4']);
      expect([...(await r.readRows([1, 3]))]).toEqual([50, 13, 53, 40]);
      const city = r.metadata[0];
      expect(r.metaValue(city, 3)).toBe('Rome "IT"');
      expect(r.metaValue(r.metadata[1], 1)).toBeNull();
      await r.close();
    } finally {
      await w.cleanup();
    }
  });

  it('auto-detects numeric feature columns and draws a seeded stratified split', async () => {
    const file = join(t.dir, 'auto.csv');
    const lines = ['x1,x2,tag,label'];
    for (let i = 0; i < 100; i++) lines.push(`${i},${i * 2},t${i % 3},${i % 2}`);
    writeFileSync(file, lines.join('\n'));
    const a = await runStrict('csv', file);
    expect(a.ok).toBe(true);
    if (a.ok) {
      expect(a.sink.spec.featureNames).toEqual(['x1', 'x2']);
      expect(a.sink.spec.classNames).toEqual(['0', '1']);
      expect(a.sink.classCounts.unsplit).toEqual([50, 50]);
    }
  });

  it('rejects at least 50 malformed CSV files with a clear typed error, with bounded memory', async () => {
    const ok = 'a,b,label\n1,2,x\n3,4,y\n';
    const cases: { name: string; bytes: Uint8Array | string; opts?: Record<string, unknown>; code: string }[] = [];
    const enc = (s: string) => new TextEncoder().encode(s);
    cases.push({ name: 'empty', bytes: '', code: 'empty' });
    cases.push({ name: 'header only', bytes: 'a,b,label\n', code: 'empty' });
    for (let k = 0; k < 10; k++) cases.push({ name: `ragged row ${k}`, bytes: ok + '5,6,x' + ',7'.repeat(k + 1) + '\n', code: 'bad_csv' });
    for (let k = 0; k < 5; k++) cases.push({ name: `short row ${k}`, bytes: ok + '5'.repeat(k + 1) + '\n', code: 'bad_csv' });
    for (let k = 0; k < 8; k++) {
      const b = enc(ok);
      b[3 + k] = 0;
      cases.push({ name: `NUL byte at ${3 + k}`, bytes: b, code: 'bad_encoding' });
    }
    for (const bad of [[0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf8, 0x88, 0x80, 0x80, 0x80]])
      cases.push({ name: `invalid UTF-8 ${bad.join(' ')}`, bytes: Buffer.concat([Buffer.from('a,b,label\n1,2,'), Buffer.from(bad), Buffer.from('\n')]), code: 'bad_encoding' });
    cases.push({ name: 'UTF-16 file', bytes: Buffer.from('\ufeffa,b,label\n1,2,x\n', 'utf16le'), code: 'bad_encoding' });
    for (let k = 0; k < 5; k++) cases.push({ name: `unclosed quote ${k}`, bytes: ok + '5,6,"x' + 'y'.repeat(k) + '\n7,8,z\n', code: 'bad_csv' });
    for (let k = 0; k < 4; k++) cases.push({ name: `stray quote ${k}`, bytes: ok + `5,6${'a'.repeat(k)}"b,x\n`, code: 'bad_csv' });
    cases.push({ name: 'text after closing quote', bytes: ok + '5,"6"7,x\n', code: 'bad_csv' });
    cases.push({ name: '10 MB field', bytes: 'a,b,label\n1,2,' + 'x'.repeat(10 * 1024 * 1024) + '\n', code: 'too_large' });
    cases.push({ name: '1e6 columns', bytes: Array.from({ length: 1_000_000 }, (_, i) => `c${i}`).join(',') + '\n', code: 'too_large' });
    cases.push({ name: 'duplicate header', bytes: 'a,a,label\n1,2,x\n', code: 'bad_csv' });
    cases.push({ name: 'empty header name', bytes: 'a,,label\n1,2,x\n', code: 'bad_csv' });
    cases.push({ name: 'no label column', bytes: 'a,b,c\n1,2,3\n', code: 'bad_option' });
    cases.push({ name: 'unknown id column', bytes: ok, opts: { idColumn: 'nope' }, code: 'bad_option' });
    cases.push({ name: 'unknown feature column', bytes: ok, opts: { featureColumns: ['a', 'zz'] }, code: 'bad_option' });
    cases.push({ name: 'non-numeric chosen feature', bytes: 'a,b,label\n1,q,x\n', opts: { featureColumns: ['a', 'b'] }, code: 'bad_value' });
    cases.push({ name: 'no numeric features', bytes: 'a,b,label\nq,r,x\n', code: 'bad_csv' });
    cases.push({ name: 'empty label', bytes: 'a,b,label\n1,2,\n', code: 'bad_value' });
    cases.push({ name: 'bad split value', bytes: 'a,split,label\n1,val,x\n', opts: { splitColumn: 'split' }, code: 'bad_value' });
    cases.push({ name: 'duplicate ids', bytes: 'id,a,label\nq,1,x\nq,2,y\n', opts: { idColumn: 'id' }, code: 'bad_value' });
    cases.push({ name: 'empty id', bytes: 'id,a,label\n,1,x\n', opts: { idColumn: 'id' }, code: 'bad_value' });
    cases.push({ name: 'bad delimiter option', bytes: ok, opts: { delimiter: '""' }, code: 'bad_option' });
    cases.push({ name: 'NaN feature', bytes: 'a,b,label\nNaN,2,x\n', opts: { featureColumns: ['a', 'b'] }, code: 'bad_value' });
    cases.push({ name: 'binary garbage', bytes: Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) % 256), code: '*' });
    expect(cases.length).toBeGreaterThanOrEqual(50);
    const before = process.memoryUsage().rss;
    for (const [i, cs] of cases.entries()) {
      const file = join(t.dir, `bad-${i}.csv`);
      writeFileSync(file, cs.bytes);
      const res = await runStrict('csv', file, cs.opts ?? {});
      expect(res.ok, cs.name).toBe(false);
      if (!res.ok) {
        if (cs.code === '*') expect(KNOWN_CODES.has(res.error.code)).toBe(true);
        else expect(res.error.code, `${cs.name}: ${res.error.message}`).toBe(cs.code);
        expect(res.error.message.length).toBeGreaterThan(10);
      }
    }
    // the 10 MB field and the 1e6 columns are refused at their limits, not buffered whole
    expect(process.memoryUsage().rss - before).toBeLessThan(400 * 1024 * 1024);
  });
});

// Issue 9, point 13: a column that is not all numbers becoming metadata, and a split that leaves the
// test set empty, are said in the preview (and recorded as warnings of the import), never silent.
describe('CSV import preview says what it will do', () => {
  it('names the columns kept as metadata because a value is not a number', async () => {
    const t = tempDir();
    try {
      const file = join(t.dir, 'people.csv');
      writeFileSync(file, 'age,hours,colour,size,label\n30,40,red,1,a\n50,13,blue,,b\n41,2,,3,a\n22,x7,green,4,b\n35,9,red,5,a\n');
      const p = await previewImport({ format: 'csv', source: file });
      expect(p.ok).toBe(true);
      expect(p.spec?.featureNames).toEqual(['age']);
      expect(p.spec?.metadataColumns).toEqual([
        { name: 'hours', type: 'category' },
        { name: 'colour', type: 'category' },
        { name: 'size', type: 'number' },
      ]);
      const w = p.warnings.find((x) => x.includes('kept as metadata'));
      expect(w).toBe(
        `3 columns are not all numbers, so they are kept as metadata, not used as features: 'hours' ("x7" in data row 4), 'colour' ("red" in data row 1), 'size' (empty in data row 2). Name the feature columns (--feature-columns) to have non-numbers refused instead.`,
      );
      // named feature columns: the user chose, nothing to warn about
      const named = await previewImport({ format: 'csv', source: file, options: { featureColumns: ['age'] } });
      expect(named.warnings.some((x) => x.includes('kept as metadata'))).toBe(false);
    } finally {
      t.cleanup();
    }
  });

  it('lists a thousand demoted columns as the first few and how many more', async () => {
    const t = tempDir();
    try {
      const file = join(t.dir, 'wide.csv');
      const names = Array.from({ length: 1000 }, (_, i) => `c${i}`);
      writeFileSync(file, `x,${names.join(',')},label\n1,${names.map(() => 'q').join(',')},a\n2,${names.map(() => 'q').join(',')},b\n`);
      const p = await previewImport({ format: 'csv', source: file });
      const w = p.warnings.find((x) => x.includes('kept as metadata'))!;
      expect(w).toMatch(/^1,000 columns are not all numbers, .* and 992 more\. /);
      expect(w.length).toBeLessThan(400);
    } finally {
      t.cleanup();
    }
  });

  it('says when the seeded split leaves the test split empty (preview and import)', async () => {
    const t = tempDir();
    const w = await tempWorkspace();
    try {
      const file = join(t.dir, 'tiny.csv');
      // two examples per class: round(2 × 0.2) = 0 test examples in every class
      writeFileSync(file, 'f,label\n1,a\n2,a\n3,b\n4,b\n');
      const p = await previewImport({ format: 'csv', source: file });
      expect(p.ok).toBe(true);
      expect(p.splitTotals).toEqual({ train: 4, test: 0 });
      const empty = 'The test split will be empty (test fraction 0.2: round(examples of a class × 0.2) is 0 for every class); test accuracy cannot be measured. Add examples, raise the test fraction or give a split column.';
      expect(p.warnings).toContain(empty);
      const rec = await importDataset(w.ws, { format: 'csv', source: file, name: 'tiny' });
      expect(rec.data.counts.totals).toEqual({ train: 4, test: 0, all: 4 });
      expect(rec.data.warnings).toContain(empty);
      // a larger test fraction gives a test split, and no warning
      const ok = await previewImport({ format: 'csv', source: file, testFraction: 0.5 });
      expect(ok.splitTotals).toEqual({ train: 2, test: 2 });
      expect(ok.warnings.some((x) => x.includes('split will be empty'))).toBe(false);
      // a split column with only 'train'
      writeFileSync(file, 'f,label,split\n1,a,train\n2,b,train\n');
      const src = await previewImport({ format: 'csv', source: file, options: { splitColumn: 'split' } });
      expect(src.splitTotals).toEqual({ train: 2, test: 0 });
      expect(src.warnings.some((x) => x.startsWith('The test split will be empty (the source assigns no example to it)'))).toBe(true);
    } finally {
      t.cleanup();
      await w.cleanup();
    }
  });
});
