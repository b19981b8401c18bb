// RFC 4180 CSV parser over bytes, incremental (push chunks, get rows), with hard limits so hostile
// input cannot exhaust memory: a field may not exceed maxFieldBytes, a row may not exceed maxColumns
// fields. Handles a UTF-8 BOM, CRLF / LF / CR line ends, quoted fields with doubled quotes and
// embedded newlines. Rejects NUL bytes, invalid UTF-8, a quote inside an unquoted field, text after a
// closing quote, and an unclosed quote at the end. Errors are DatasetImportError with row and column.

import { DatasetImportError } from './errors';

export interface CsvLimits {
  maxFieldBytes: number;
  maxColumns: number;
}

export const DEFAULT_CSV_LIMITS: CsvLimits = { maxFieldBytes: 1 << 20, maxColumns: 10_000 };

const decoder = new TextDecoder('utf-8', { fatal: true });

export class CsvParser {
  private field: Uint8Array;
  private fieldLen = 0;
  private row: string[] = [];
  private state: 0 | 1 | 2 | 3 = 0; // 0 field start, 1 unquoted, 2 quoted, 3 quote in quoted (closing or doubled)
  private sawCR = false;
  private first = true;
  private bomCheck: number[] = [];
  /** 1-based line of the current record start */
  row1 = 1;
  private line = 1;
  private rowHasContent = false;

  constructor(
    private limits: CsvLimits = DEFAULT_CSV_LIMITS,
    private file = 'CSV',
    private delimiter = 0x2c,
  ) {
    this.field = new Uint8Array(256);
  }

  private err(code: 'bad_csv' | 'bad_encoding' | 'too_large', msg: string): never {
    throw new DatasetImportError(code, `${this.file}, line ${this.line}: ${msg}`, this.file);
  }

  private pushByte(b: number) {
    if (this.fieldLen === this.field.length) {
      if (this.fieldLen >= this.limits.maxFieldBytes)
        this.err('too_large', `a field is longer than ${this.limits.maxFieldBytes} bytes (column ${this.row.length + 1}).`);
      const n = new Uint8Array(Math.min(this.field.length * 2, this.limits.maxFieldBytes));
      n.set(this.field);
      this.field = n;
    }
    this.field[this.fieldLen++] = b;
  }

  private endField() {
    if (this.row.length >= this.limits.maxColumns) this.err('too_large', `a row has more than ${this.limits.maxColumns} columns.`);
    let s: string;
    try {
      s = decoder.decode(this.field.subarray(0, this.fieldLen));
    } catch {
      this.err('bad_encoding', `column ${this.row.length + 1} is not valid UTF-8 text.`);
    }
    this.row.push(s);
    this.fieldLen = 0;
    if (this.field.length > 65536) this.field = new Uint8Array(256);
  }

  private endRow(out: string[][]) {
    this.endField();
    // a completely empty line is skipped (not a record of one empty field)
    if (!(this.row.length === 1 && this.row[0] === '' && !this.rowHasContent)) out.push(this.row);
    this.row = [];
    this.rowHasContent = false;
    this.row1 = this.line;
  }

  /** feed a chunk; returns the complete rows it closed */
  push(chunk: Uint8Array): string[][] {
    const out: string[][] = [];
    let i = 0;
    if (this.first) {
      // strip a UTF-8 BOM (possibly split across chunks)
      while (i < chunk.length && this.bomCheck.length < 3) this.bomCheck.push(chunk[i++]);
      if (this.bomCheck.length < 3) return out;
      this.first = false;
      const isBom = this.bomCheck[0] === 0xef && this.bomCheck[1] === 0xbb && this.bomCheck[2] === 0xbf;
      if (!isBom) this.feed(Uint8Array.from(this.bomCheck), 0, out);
    }
    this.feed(chunk, i, out);
    return out;
  }

  private feed(chunk: Uint8Array, start: number, out: string[][]) {
    const d = this.delimiter;
    for (let i = start; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === 0) this.err('bad_encoding', `NUL byte in column ${this.row.length + 1}; the file is binary or UTF-16, not UTF-8 CSV.`);
      if (this.sawCR) {
        this.sawCR = false;
        if (b === 0x0a) continue; // CRLF
      }
      switch (this.state) {
        case 0:
        case 1:
          if (b === d) {
            this.endField();
            this.rowHasContent = true;
            this.state = 0;
          } else if (b === 0x0a || b === 0x0d) {
            this.line++;
            if (b === 0x0d) this.sawCR = true;
            this.endRow(out);
            this.state = 0;
          } else if (b === 0x22) {
            if (this.state === 1) this.err('bad_csv', `a quote inside an unquoted field (column ${this.row.length + 1}); quote the whole field and double inner quotes.`);
            this.state = 2;
            this.rowHasContent = true;
          } else {
            this.pushByte(b);
            this.rowHasContent = true;
            this.state = 1;
          }
          break;
        case 2:
          if (b === 0x22) this.state = 3;
          else {
            if (b === 0x0a) this.line++;
            else if (b === 0x0d && chunk[i + 1] !== 0x0a) this.line++;
            this.pushByte(b);
          }
          break;
        case 3:
          if (b === 0x22) {
            this.pushByte(0x22);
            this.state = 2;
          } else if (b === d) {
            this.endField();
            this.state = 0;
          } else if (b === 0x0a || b === 0x0d) {
            this.line++;
            if (b === 0x0d) this.sawCR = true;
            this.endRow(out);
            this.state = 0;
          } else this.err('bad_csv', `text after a closing quote in column ${this.row.length + 1}.`);
          break;
      }
    }
  }

  /** end of input: returns the last row if the file does not end with a newline */
  end(): string[][] {
    const out: string[][] = [];
    if (this.first && this.bomCheck.length > 0) {
      this.first = false;
      this.feed(Uint8Array.from(this.bomCheck), 0, out);
    }
    if (this.state === 2) this.err('bad_csv', 'a quoted field is never closed (unclosed quote).');
    if (this.state !== 0 || this.fieldLen > 0 || this.row.length > 0) this.endRow(out);
    return out;
  }
}

/** parse a whole CSV string (e.g. a deletion-request list) */
export function parseCsvText(text: string, limits?: CsvLimits, file = 'CSV'): string[][] {
  const p = new CsvParser(limits, file);
  const rows = p.push(new TextEncoder().encode(text));
  rows.push(...p.end());
  return rows;
}
