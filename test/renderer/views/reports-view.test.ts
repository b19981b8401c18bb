// The Reports page against a scripted API: the list with verdict, date and hashes; Verify shows what was
// checked or names what changed; PDF hands the file's bytes to a download; Create report makes one of the
// chosen comparison and lists it.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import type { ReportSummary } from '../../../preload/api';
import { createFakeApi, flush, makeJob, type FakeApi } from '../fake-api';

let api: FakeApi;
vi.mock('../../../renderer/src/api/client', () => ({ getApi: () => api, transportName: () => 'web', onConnectionChange: () => () => {} }));
const { default: ReportsView } = await import('../../../renderer/src/views/ReportsView.vue');
const { useJobsStore } = await import('../../../renderer/src/stores/jobs');

function report(over: Partial<ReportSummary> = {}): ReportSummary {
  return {
    id: 'rep-1',
    comparison: { id: 'cmp-1', name: 'bags <i>x</i>' },
    createdAt: '2026-12-03T09:00:00.000Z',
    pdfPath: '/w/report-files/rep-1/report.pdf',
    inWorkspace: true,
    pdfSha256: 'a'.repeat(64),
    manifestSha256: 'b'.repeat(64),
    publicKeySha256: 'c'.repeat(64),
    verdict: 'fail',
    verdicts: [
      { label: 'SalUn', status: 'pass', failed: [] },
      { label: 'GA', status: 'fail', failed: ['forget-accuracy gap<= 5 (observed 40)'] },
    ],
    ...over,
  };
}

const COMPARISONS = [{ id: 'cmp-1', name: 'bags', model: 'm', forgetSet: 'fs', forgetSetName: 'Bag', datasetName: 'F', seeds: 1, entries: ['Original', 'Retrain', 'SalUn'], createdAt: '2026-12-03T08:00:00.000Z' }];

beforeEach(() => {
  document.body.innerHTML = '';
  api = createFakeApi({
    'reports.list': () => [report(), report({ id: 'rep-2', inWorkspace: false, pdfPath: '/home/a/audit.pdf', verdict: null, verdicts: [] })],
    'comparisons.list': () => COMPARISONS,
    'jobs.list': () => [],
    'workspace.info': () => ({ root: '/w', counts: { datasets: 0, models: 0, forgetSets: 0, runs: 0, reports: 2 }, quarantined: [] }),
  });
});
afterEach(() => vi.restoreAllMocks());

async function mountView() {
  setActivePinia(createPinia());
  await useJobsStore().connect();
  const w = mount(ReportsView, { global: { stubs: { RouterLink: true } }, attachTo: document.body });
  await flush();
  return w;
}

describe('Reports page', () => {
  it('lists every report with its verdict, date, hashes and where it is', async () => {
    const w = await mountView();
    const rows = w.findAll('[data-testid="report-table"] tbody tr[data-report-id]');
    expect(rows.map((r) => r.attributes('data-report-id'))).toEqual(['rep-1', 'rep-2']);
    const cells = rows[0].findAll('td').map((c) => c.text());
    expect(cells[0]).toBe('bags <i>x</i>rep-1');
    expect(document.querySelector('td i')).toBeNull();
    expect(cells[1]).toBe('Fail');
    expect(rows[0].get('[data-testid="report-verdict"]').attributes('title')).toBe('SalUn: pass\nGA: fail (failed forget-accuracy gap<= 5 (observed 40))');
    expect(rows[0].findAll('[data-testid="report-hashes"] > span').map((h) => [h.text(), h.attributes('title')])).toEqual([
      [`PDF ${'a'.repeat(12)}…`, 'a'.repeat(64)],
      [`manifest ${'b'.repeat(12)}…`, 'b'.repeat(64)],
      [`key ${'c'.repeat(12)}…`, 'c'.repeat(64)],
    ]);
    expect(cells[4]).toBe('workspace');
    expect(rows[1].findAll('td').map((c) => c.text())[1]).toBe('Unknown');
    expect(rows[1].findAll('td')[4].text()).toBe('/home/a/audit.pdf');
  });

  it('Verify shows what was checked, or names every changed item', async () => {
    api.handlers['reports.verify'] = (a) =>
      (a as { id: string }).id === 'rep-1'
        ? { ok: true, problems: [], checked: ['manifest.json: Ed25519 signature valid (key c)', 'report.pdf: SHA-256 a'] }
        : { ok: false, problems: [{ item: 'audit.pdf', message: 'audit.pdf has SHA-256 d, but the manifest lists a: the PDF was changed' }], checked: [] };
    const w = await mountView();
    await w.get('[data-report-id="rep-1"] [data-action="verify"]').trigger('click');
    await flush();
    expect(w.get('[data-verify-for="rep-1"]').text()).toBe('Intact: manifest.json: Ed25519 signature valid (key c); report.pdf: SHA-256 a');
    await w.get('[data-report-id="rep-2"] [data-action="verify"]').trigger('click');
    await flush();
    expect(w.find('[data-verify-for="rep-2"] [data-testid="verify-failed"]').exists()).toBe(true);
    expect(w.get('[data-verify-for="rep-2"] li').text()).toBe('audit.pdf: audit.pdf has SHA-256 d, but the manifest lists a: the PDF was changed');
  });

  it('PDF hands the bytes the backend sent to a download named like the file', async () => {
    api.handlers['reports.file'] = () => ({ name: 'report.pdf', mime: 'application/pdf', sha256: 'a', size: 5, base64: btoa('%PDF-') });
    const blobs: Blob[] = [];
    URL.createObjectURL = vi.fn((b: Blob) => (blobs.push(b), 'blob:x'));
    URL.revokeObjectURL = vi.fn();
    const clicks: HTMLAnchorElement[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicks.push(this);
    });
    const w = await mountView();
    await w.get('[data-report-id="rep-1"] [data-action="save-pdf"]').trigger('click');
    await flush();
    expect(api.call).toHaveBeenCalledWith('reports.file', { id: 'rep-1', file: 'pdf' });
    expect(clicks).toHaveLength(1);
    expect(clicks[0].download).toBe('report.pdf');
    expect(clicks[0].href).toBe('blob:x');
    expect(blobs[0].type).toBe('application/pdf');
    expect([...new Uint8Array(await blobs[0].arrayBuffer())]).toEqual([...new TextEncoder().encode('%PDF-')]);
  });

  it('Create report submits a report.create job, then lists the report it made first; a failed job and a refusal are shown', async () => {
    api.handlers['reports.create'] = () => makeJob({ id: 'rj', kind: 'report.create', title: 'Report', state: 'queued' });
    const w = await mountView();
    expect((w.get('[data-field="report-comparison"]').element as HTMLSelectElement).value).toBe('cmp-1');
    await w.get('[data-action="create-report"]').trigger('click');
    await flush();
    expect(api.call).toHaveBeenCalledWith('reports.create', { comparison: 'cmp-1' });
    expect(w.get('[data-action="create-report"]').text()).toBe('Making the report…');
    api.handlers['reports.list'] = () => [report({ id: 'rep-new', verdict: 'pass', verdicts: [] }), report()];
    api.emit('jobs.event', { type: 'state', job: makeJob({ id: 'rj', kind: 'report.create', state: 'succeeded', result: { reportId: 'rep-new', comparisonId: 'cmp-1', pdfSha256: 'a', manifestSha256: 'b' } }) });
    await flush();
    expect(w.findAll('[data-report-id]')[0].attributes('data-report-id')).toBe('rep-new');
    expect(w.find('[data-action="save-report"]').exists()).toBe(true);
    // the job fails: its reason is shown
    api.handlers['reports.create'] = () => makeJob({ id: 'rj2', kind: 'report.create', state: 'queued' });
    await w.get('[data-action="create-report"]').trigger('click');
    await flush();
    api.emit('jobs.event', { type: 'state', job: makeJob({ id: 'rj2', kind: 'report.create', state: 'failed', reason: "model 'x' has SHA-256 y now: it changed since" }) });
    await flush();
    expect(w.get('[data-testid="report-error"]').text()).toBe("The report was not made (failed: model 'x' has SHA-256 y now: it changed since).");
    // refused at once (an unknown comparison)
    api.handlers['reports.create'] = () => {
      throw new Error("There is no comparison 'cmp-1'.");
    };
    await w.get('[data-action="create-report"]').trigger('click');
    await flush();
    expect(w.get('[data-testid="report-error"]').text()).toBe("There is no comparison 'cmp-1'.");
  });
});
