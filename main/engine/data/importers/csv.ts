// CSV tabular importer (RFC 4180; see ../csv-parse.ts for the parser and its limits).
//
// The first row is the header (non-empty, unique names). Options:
//   labelColumn   the class label column (default 'label'); its distinct values become the classes:
//                 integers 0..K-1 keep their order, other values are sorted by code point
//   featureColumns  float32 feature columns (default: every column other than label/id/split whose
//                 every value is a finite number)
//   idColumn      stable example IDs (default: `row-<n>`, n = 1-based data row number)
//   splitColumn   'train' / 'test' per row (default: none, a seeded stratified split is drawn)
// Every other column is kept as metadata: numeric when all its non-empty values are numbers, else
// categorical. Two streaming passes (types, then values), so memory stays bounded by the row limits.
// Preview mode: both passes run (same checks, counts and histogram), but features and metadata are
// converted only for the first maxSamples rows.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { CsvParser, type CsvLimits, DEFAULT_CSV_LIMITS } from '../csv-parse';
import { DatasetImportError, asImportError, throwIfAborted } from '../errors';
import { sha256File } from '../hash';
import { clip, listText } from '../../util/list-text';
import type { SplitName } from '../store';
import { type ImportContext, type ImportOutcome, type Importer, labelsOnly, sampleRoom } from './types';

export interface CsvOptions {
  labelColumn: string;
  featureColumns?: string[];
  idColumn?: string;
  splitColumn?: string;
  delimiter: string;
  limits: CsvLimits;
}

const optStr = (v: unknown, what: string) => {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw new DatasetImportError('bad_option', `${what} must be a column name.`);
  return v;
};

export function parseCsvOptions(raw: Record<string, unknown>): CsvOptions {
  let featureColumns: string[] | undefined;
  if (raw.featureColumns !== undefined) {
    if (!Array.isArray(raw.featureColumns) || raw.featureColumns.length === 0 || raw.featureColumns.some((c) => typeof c !== 'string' || !c))
      throw new DatasetImportError('bad_option', 'featureColumns must be a non-empty list of column names.');
    featureColumns = raw.featureColumns as string[];
  }
  const delimiter = raw.delimiter === undefined ? ',' : raw.delimiter;
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r')
    throw new DatasetImportError('bad_option', 'delimiter must be one character other than a quote or a line break.');
  const limits = { ...DEFAULT_CSV_LIMITS };
  if (raw.maxFieldBytes !== undefined) limits.maxFieldBytes = Number(raw.maxFieldBytes);
  if (raw.maxColumns !== undefined) limits.maxColumns = Number(raw.maxColumns);
  return {
    labelColumn: optStr(raw.labelColumn, 'labelColumn') ?? 'label',
    featureColumns,
    idColumn: optStr(raw.idColumn, 'idColumn'),
    splitColumn: optStr(raw.splitColumn, 'splitColumn'),
    delimiter,
    limits,
  };
}

async function* rows(path: string, opts: CsvOptions, file: string, signal?: AbortSignal): AsyncGenerator<{ row: string[]; line: number }> {
  const parser = new CsvParser(opts.limits, file, opts.delimiter.charCodeAt(0));
  const stream = createReadStream(path, { highWaterMark: 1 << 18 });
  try {
    for await (const chunk of stream) {
      throwIfAborted(signal);
      const line = parser.row1;
      for (const row of parser.push(chunk as Buffer)) yield { row, line };
    }
    for (const row of parser.end()) yield { row, line: parser.row1 };
  } catch (e) {
    throw asImportError(e, file);
  } finally {
    stream.destroy();
  }
}

const isNum = (s: string) => s.trim() !== '' && Number.isFinite(Number(s));

export const csvImporter: Importer<CsvOptions> = {
  format: 'csv',
  parseOptions: parseCsvOptions,
  async run(source: string, opts: CsvOptions, ctx: ImportContext): Promise<ImportOutcome> {
    const file = basename(source);
    try {
      const st = await stat(source);
      if (!st.isFile()) throw new DatasetImportError('bad_option', `${file} is not a file.`, file);
    } catch (e) {
      throw asImportError(e, file);
    }
    // ---- pass 1: header, column types, label values ----
    let header: string[] | null = null;
    let allNumeric: boolean[] = [];
    let numericOrEmpty: boolean[] = [];
    /** per column, the first value that is not a number and its 1-based data row (why the column is not a feature) */
    let firstNonNumber: ({ value: string; row: number } | null)[] = [];
    const labelValues = new Set<string>();
    let n = 0;
    let labelIdx = -1;
    for await (const { row, line } of rows(source, opts, file, ctx.signal)) {
      if (!header) {
        header = row.map((h) => h.trim());
        const seen = new Set<string>();
        header.forEach((h, i) => {
          if (!h) throw new DatasetImportError('bad_csv', `${file}: header column ${i + 1} has no name.`, file);
          if (seen.has(h)) throw new DatasetImportError('bad_csv', `${file}: the header names column '${h}' twice.`, file);
          seen.add(h);
        });
        for (const [what, col] of [
          ['label', opts.labelColumn],
          ['id', opts.idColumn],
          ['split', opts.splitColumn],
          ...(opts.featureColumns ?? []).map((c) => ['feature', c]),
        ] as [string, string | undefined][]) {
          if (col !== undefined && !seen.has(col))
            throw new DatasetImportError('bad_option', `${file} has no ${what} column '${col}'; its columns are ${listText(header.map((c) => clip(c, 40)), 20)}.`, file);
        }
        labelIdx = header.indexOf(opts.labelColumn);
        allNumeric = header.map(() => true);
        numericOrEmpty = header.map(() => true);
        firstNonNumber = header.map(() => null);
        continue;
      }
      if (row.length !== header.length)
        throw new DatasetImportError('bad_csv', `${file}, line ${line}: the row has ${row.length} fields but the header has ${header.length} (ragged row).`, file);
      n++;
      if (n > ctx.limits.maxExamples) throw new DatasetImportError('too_large', `${file} has more than ${ctx.limits.maxExamples} rows, the import limit.`, file);
      for (let c = 0; c < row.length; c++) {
        if (allNumeric[c] && !isNum(row[c])) {
          allNumeric[c] = false;
          firstNonNumber[c] = { value: row[c], row: n };
          if (row[c].trim() !== '') numericOrEmpty[c] = false;
        } else if (numericOrEmpty[c] && row[c].trim() !== '' && !isNum(row[c])) numericOrEmpty[c] = false;
      }
      const lv = row[labelIdx].trim();
      if (lv === '') throw new DatasetImportError('bad_value', `${file}, line ${line}: the label is empty.`, file);
      labelValues.add(lv);
      if (labelValues.size > 10_000) throw new DatasetImportError('too_large', `${file}: the label column has more than 10000 distinct values; is '${opts.labelColumn}' really the label?`, file);
    }
    if (!header) throw new DatasetImportError('empty', `${file} is empty.`, file);
    if (n === 0) throw new DatasetImportError('empty', `${file} has a header but no data rows.`, file);
    const h = header;
    const special = new Set([opts.labelColumn, opts.idColumn, opts.splitColumn].filter((x): x is string => !!x));
    const featureNames = opts.featureColumns ?? h.filter((name, i) => !special.has(name) && allNumeric[i]);
    if (featureNames.length === 0) throw new DatasetImportError('bad_csv', `${file} has no numeric feature columns.`, file);
    for (const f of featureNames) {
      const i = h.indexOf(f);
      if (!allNumeric[i]) throw new DatasetImportError('bad_value', `${file}: feature column '${f}' has values that are not numbers.`, file);
    }
    const featIdx = featureNames.map((f) => h.indexOf(f));
    const featSet = new Set(featureNames);
    const metaCols = h.map((name, i) => ({ name, i })).filter(({ name }) => !featSet.has(name) && !special.has(name));
    // Chosen automatically, a column with any value that is not a number becomes metadata, not a
    // feature: say which and why, so a typo in one cell does not silently drop a feature.
    const demoted = opts.featureColumns
      ? []
      : metaCols.map(({ name, i }) => ({ name, why: firstNonNumber[i] })).filter((c): c is { name: string; why: { value: string; row: number } } => c.why !== null);
    // classes
    const lvs = [...labelValues];
    const intLabels = lvs.every((v) => /^\d+$/.test(v)) && lvs.map(Number).every((x) => x < lvs.length) && new Set(lvs.map(Number)).size === lvs.length;
    const classNames = intLabels ? lvs.map(Number).sort((a, b) => a - b).map(String) : lvs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const classIndex = new Map(classNames.map((c, k) => [c, k]));
    const sink = ctx.open({
      kind: 'tabular',
      sampleShape: [featureNames.length],
      xDtype: 'float32',
      classNames,
      featureNames,
      metadataColumns: metaCols.map(({ name, i }) => ({ name, type: numericOrEmpty[i] ? 'number' : 'category' })),
      idScheme: opts.idColumn ? `the CSV column '${opts.idColumn}'` : 'row-<1-based data row number>',
      expectedCount: n,
    });
    if (demoted.length) {
      const what = demoted.map((c) => `'${clip(c.name, 40)}' (${c.why.value.trim() === '' ? 'empty' : JSON.stringify(clip(c.why.value, 30))} in data row ${c.why.row})`);
      sink.warnings.push(
        `${demoted.length === 1 ? '1 column is' : `${demoted.length.toLocaleString('en-US')} columns are`} not all numbers, so ${demoted.length === 1 ? 'it is' : 'they are'} kept as metadata, not used as features: ${listText(what, 8)}. Name the feature columns (--feature-columns) to have non-numbers refused instead.`,
      );
    }
    // ---- pass 2: values ----
    const idIdx = opts.idColumn ? h.indexOf(opts.idColumn) : -1;
    const splitIdx = opts.splitColumn ? h.indexOf(opts.splitColumn) : -1;
    let r = 0;
    let first = true;
    // preview: rows past the shown ones are still checked (split, ID) and counted, not converted
    const preview = ctx.preview ? labelsOnly(sink) : null;
    for await (const { row, line } of rows(source, opts, file, ctx.signal)) {
      if (first) {
        first = false;
        continue;
      }
      r++;
      let split: SplitName | null = null;
      if (splitIdx >= 0) {
        const s = row[splitIdx].trim().toLowerCase();
        if (s !== 'train' && s !== 'test') throw new DatasetImportError('bad_value', `${file}, line ${line}: split value '${row[splitIdx].slice(0, 40)}' is not 'train' or 'test'.`, file);
        split = s;
      }
      const id = idIdx >= 0 ? row[idIdx].trim() : `row-${r}`;
      if (!id) throw new DatasetImportError('bad_value', `${file}, line ${line}: the ID is empty.`, file);
      const label = classIndex.get(row[labelIdx].trim())!;
      if (preview && sampleRoom(ctx, sink) === 0) {
        await preview({ labels: [label], split, id: () => id });
        continue;
      }
      const x = new Float32Array(featIdx.length);
      for (let k = 0; k < featIdx.length; k++) x[k] = Number(row[featIdx[k]]);
      await sink.add({
        x,
        label,
        split,
        id,
        meta: metaCols.map(({ i }) => (numericOrEmpty[i] ? (row[i].trim() === '' ? null : Number(row[i])) : row[i])),
      });
      if (r % 10000 === 0) ctx.progress?.({ done: r, total: n });
    }
    if (r !== n) throw new DatasetImportError('io', `${file} changed while being imported.`, file);
    const hsh = await sha256File(source);
    return {
      sink,
      files: [{ path: file, size: hsh.size, sha256: hsh.sha256 }],
      sourceSplitDescription: opts.splitColumn ? `the CSV column '${opts.splitColumn}'` : undefined,
      resolvedOptions: { labelColumn: opts.labelColumn, featureColumns: featureNames, idColumn: opts.idColumn, splitColumn: opts.splitColumn, delimiter: opts.delimiter },
    };
  },
};
