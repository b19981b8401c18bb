// Where a report is, given what `lethe report verify` was handed: a report folder (manifest.json, or
// one <stem>.manifest.json), a report PDF with its companions beside it, or the report.pdf of a folder.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { locateReport, REPORT_FILES, reportFilesBeside } from '../../../main/engine/reports/manifest';

const tmp = mkdtempSync(join(tmpdir(), 'lethe-locate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const dir = (name: string, files: string[]) => {
  const d = join(tmp, name);
  mkdirSync(d);
  for (const f of files) writeFileSync(join(d, f), 'x');
  return d;
};

describe('locateReport', () => {
  it('names the companions of a PDF after its stem', () => {
    expect(reportFilesBeside('audit.pdf')).toEqual({ pdf: 'audit.pdf', manifest: 'audit.manifest.json', signature: 'audit.manifest.sig', publicKey: 'audit.public-key.pem', readme: 'audit.README.txt' });
    expect(reportFilesBeside('Q3 audit.PDF').manifest).toBe('Q3 audit.manifest.json');
  });

  it('a folder: the folder layout, or the one report written as a file into it', async () => {
    const legacy = dir('legacy', Object.values(REPORT_FILES));
    expect(await locateReport(legacy)).toEqual({ folder: legacy, files: REPORT_FILES });
    expect(await locateReport(join(legacy, 'report.pdf'))).toEqual({ folder: legacy, files: REPORT_FILES });
    const single = dir('single', Object.values(reportFilesBeside('audit.pdf')));
    expect(await locateReport(single)).toEqual({ folder: single, files: reportFilesBeside('audit.pdf') });
    expect(await locateReport(join(single, 'audit.pdf'))).toEqual({ folder: single, files: reportFilesBeside('audit.pdf') });
    // two reports in one folder: which one is meant is not guessed
    const two = dir('two', [...Object.values(reportFilesBeside('a.pdf')), ...Object.values(reportFilesBeside('b.pdf'))]);
    expect(await locateReport(two)).toBeNull();
    expect((await locateReport(join(two, 'b.pdf')))?.files.manifest).toBe('b.manifest.json');
    // an empty folder is a report folder with everything missing (verify then names each missing file)
    const empty = dir('empty', []);
    expect(await locateReport(empty)).toEqual({ folder: empty, files: REPORT_FILES });
  });

  it('neither: a PDF without a manifest beside it, any other file, nothing there', async () => {
    const lone = dir('lone', ['notes.pdf', 'data.csv']);
    expect(await locateReport(join(lone, 'notes.pdf'))).toBeNull();
    expect(await locateReport(join(lone, 'data.csv'))).toBeNull();
    expect(await locateReport(join(tmp, 'missing.pdf'))).toBeNull();
  });
});
