// CSV writing for exports that people open in spreadsheets (RFC 4180 quoting, CRLF rows). A cell that
// begins with = + - @ is a formula to Excel, LibreOffice and Google Sheets ("CSV injection"), and so
// can one that begins with a tab or carriage return (OWASP); every such text cell is prefixed with an
// apostrophe so it shows as text.
// The exact values always travel in a separate plain file (ids.txt), never only in the CSV.

const FORMULA_START = /^[=+\-@\t\r]/;

/** One cell: neutralised if it could start a formula, quoted if it holds a comma, quote or line break. */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let s = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value;
  // numbers are written by us and never need neutralising (a negative number stays a number)
  if (typeof value === 'string' && FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A CSV document: header and rows, CRLF line ends (RFC 4180), UTF-8 with no BOM. */
export function csvDocument(header: readonly string[], rows: Iterable<readonly (string | number | null | undefined)[]>): string {
  const out: string[] = [header.map(csvCell).join(',')];
  for (const r of rows) out.push(r.map(csvCell).join(','));
  return out.join('\r\n') + '\r\n';
}
