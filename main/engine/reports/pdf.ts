// The audit PDF of a comparison (pdfkit; charts as vectors through ECharts SSR SVG and svg-to-pdfkit).
// Deterministic: the same inputs give the same bytes (the creation date is the comparison's, never now).

import PDFDocument from 'pdfkit';
import SVGtoPDF from 'svg-to-pdfkit';
import type { ComparisonEntry, ComparisonManifest, RunManifest } from '../runs/contract-types';
import { attackRocChart, ckaChart, confusionChart, epsilonChart, gapsChart, perClassChart, perClassOf, relearnChart, renderChartSvg, runTimesChart, tradeoffChart, unlearningCurvesChart, type ChartSpec } from './charts';
import type { AttackData } from './contract-types';
import { findReportFonts, spellOut, type ReportFonts } from './fonts';

export interface ReportModel {
  role: 'original' | 'reference' | 'unlearned';
  label: string;
  /** workspace model id (name) */
  id: string;
  seed: number | null;
  /** SHA-256 of the model bytes stored in the workspace */
  sha256: string;
  /** SHA-256 of the file `lethe model export` writes (equal to sha256 unless converted to inference form) */
  exportSha256: string;
}

export interface ReportForgetSet {
  id: string;
  name: string;
  kind: string;
  params: Record<string, unknown>;
  seed: number | null;
  count: number;
  idsSha256: string;
  canonicalForm: string;
  forgetCounts: number[];
  datasetName: string;
  datasetManifestSha256: string;
}

export interface ReportInput {
  comparison: { id: string; manifestSha256: string; data: ComparisonManifest };
  /** run id -> run manifest, for every run of the comparison */
  runs: Record<string, RunManifest>;
  forgetSet: ReportForgetSet;
  models: ReportModel[];
  publicKey: { pem: string; fingerprint: string };
  appVersion: string;
  operator?: string;
  /** the threshold attack on confidence of every model (engine/eval/attack.ts), drawn as ROC curves */
  attack?: AttackData;
}

export const ATTACK_METRICS = ['mia-efficacy', 'mia-efficacy-entropy', 'mia-efficacy-m-entropy', 'loss-mia', 'logit-confidence', 'forgetting-quality', 'klom'];

const fmt = (v: number | null | undefined, d = 3): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : Number(v.toFixed(d)).toString());

/** Verdict of one unlearned entry: pass, fail (naming the failed thresholds) or none. */
export function entryVerdict(e: ComparisonEntry): { status: 'pass' | 'fail' | 'incomplete' | 'none'; failed: string[]; missing: string[] } {
  if (!e.verdicts?.length) return { status: 'none', failed: [], missing: [] };
  const desc = (v: NonNullable<ComparisonEntry['verdicts']>[number]) => `${v.threshold.metric} ${v.threshold.op} ${v.threshold.value} (observed ${fmt(v.observed)})`;
  const failed = e.verdicts.filter((v) => v.pass === false).map(desc);
  const missing = e.verdicts.filter((v) => v.pass === null).map(desc);
  return { status: failed.length ? 'fail' : missing.length ? 'incomplete' : 'pass', failed, missing };
}

export async function buildReportPdf(input: ReportInput, opts: { fonts?: ReportFonts } = {}): Promise<Uint8Array> {
  const cmp = input.comparison.data;
  const fonts = opts.fonts ?? findReportFonts();
  const hasTtf = !!fonts.regular;
  const T = (s: string) => (hasTtf ? s : spellOut(s));
  const created = new Date(cmp.createdAt);
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: 50, bottom: 55, left: 50, right: 50 },
    bufferPages: true,
    compress: true,
    info: { Title: `Lethe unlearning audit report: ${T(cmp.name)}`, Author: input.operator ?? 'Lethe', Subject: `comparison ${input.comparison.id}`, Creator: `Lethe ${input.appVersion}`, Producer: 'Lethe (pdfkit)', CreationDate: created, Keywords: `lethe-report-key-sha256:${input.publicKey.fingerprint}` },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((res, rej) => {
    doc.on('end', () => res());
    doc.on('error', rej);
  });
  const F = { body: 'Helvetica', bold: 'Helvetica-Bold', mono: 'Courier' };
  if (fonts.regular) {
    doc.registerFont('Body', fonts.regular);
    F.body = 'Body';
    if (fonts.bold) doc.registerFont('Bold', fonts.bold);
    F.bold = fonts.bold ? 'Bold' : 'Body';
    if (fonts.mono) doc.registerFont('Mono', fonts.mono);
    F.mono = fonts.mono ? 'Mono' : 'Body';
  }
  const W = doc.page.width - 100;
  const bottom = () => doc.page.height - doc.page.margins.bottom;
  const ensure = (h: number) => {
    if (doc.y + h > bottom()) doc.addPage();
  };
  const h1 = (s: string) => {
    ensure(60);
    doc.moveDown(0.6).font(F.bold).fontSize(15).fillColor('#1a237e').text(T(s), 50, doc.y, { width: W }).fillColor('black').moveDown(0.3);
  };
  const h2 = (s: string) => {
    ensure(40);
    doc.moveDown(0.4).font(F.bold).fontSize(11).text(T(s), 50, doc.y, { width: W }).moveDown(0.15);
  };
  const p = (s: string, size = 9) => {
    doc.font(F.body).fontSize(size).text(T(s), 50, doc.y, { width: W });
  };
  const kv = (k: string, v: string, mono = false) => {
    ensure(14);
    const y = doc.y;
    doc.font(F.bold).fontSize(8.5).text(T(k), 50, y, { width: 140 });
    const y1 = doc.y;
    doc.font(mono ? F.mono : F.body).fontSize(mono ? 7.6 : 8.5).text(T(v), 195, y, { width: W - 145 });
    doc.y = Math.max(y1, doc.y) + 1;
  };
  const table = (columns: string[], rows: (string | number | null)[][], widths?: number[], size = 7.5) => {
    const wsum = widths ?? columns.map(() => W / columns.length);
    const cell = (v: string | number | null) => T(v === null ? '–' : typeof v === 'number' ? fmt(v, 4) : v);
    const rowH = (vals: string[], font: string) => {
      doc.font(font).fontSize(size);
      return Math.max(...vals.map((v, i) => doc.heightOfString(v, { width: wsum[i] - 4 }))) + 4;
    };
    const drawRow = (vals: string[], font: string, shade: boolean) => {
      const h = rowH(vals, font);
      if (doc.y + h > bottom()) {
        doc.addPage();
        if (font !== F.bold) drawRow(columns.map(T), F.bold, true);
      }
      const y = doc.y;
      if (shade) doc.save().rect(50, y, W, h).fill('#e8eaf6').restore();
      let x = 50;
      doc.font(font).fontSize(size).fillColor('black');
      vals.forEach((v, i) => {
        doc.text(v, x + 2, y + 2, { width: wsum[i] - 4 });
        x += wsum[i];
      });
      doc.moveTo(50, y + h).lineTo(50 + W, y + h).lineWidth(0.3).strokeColor('#9fa8da').stroke();
      doc.y = y + h;
    };
    ensure(30);
    drawRow(columns.map(T), F.bold, true);
    for (const r of rows) drawRow(r.map(cell), F.body, false);
    doc.x = 50;
    doc.moveDown(0.4);
  };
  const chart = (c: ChartSpec, height = 270) => {
    if (c.empty) return; // nothing recorded to draw (the builder says why; the dashboard shows it)
    ensure(height + 10);
    const svg = renderChartSvg(c.option, 760, Math.round((760 * height) / W));
    SVGtoPDF(doc, svg, 50, doc.y, { width: W, height, preserveAspectRatio: 'xMinYMin meet', fontCallback: (_f, bold) => (bold ? F.bold : F.body) });
    doc.y += height + 6;
    doc.x = 50;
  };

  const unlearned = cmp.entries.filter((e) => e.role === 'unlearned');
  const reference = cmp.entries.find((e) => e.role === 'reference');
  const attacksRun = ATTACK_METRICS.filter((id) => cmp.entries.some((e) => e.metrics[id]?.mean !== null && e.metrics[id]?.mean !== undefined)).map((id) => cmp.metrics.find((m) => m.id === id)?.name ?? id);
  const allExact = unlearned.length > 0 && unlearned.every((e) => e.method?.exact);

  // ---- cover
  doc.font(F.bold).fontSize(20).fillColor('#1a237e').text(T('Machine unlearning audit report'), { width: W }).fillColor('black');
  doc.moveDown(0.3).font(F.body).fontSize(11).text(T(cmp.name), { width: W });
  doc.moveDown(0.8);
  kv('Comparison', `${input.comparison.id} (record SHA-256 ${input.comparison.manifestSha256})`, true);
  kv('Created', `${cmp.createdAt} (the comparison's time; the report is reproducible from it)`);
  kv('Forget set', `${input.forgetSet.name}: ${input.forgetSet.count} examples of dataset '${input.forgetSet.datasetName}'`);
  kv('Operator', input.operator ?? 'not stated');
  kv('Generated by', `Lethe ${input.appVersion}`);
  doc.moveDown(0.6);
  h1('Verdict');
  if (!cmp.thresholds) p('No pass/fail thresholds were fixed before the runs, so this report gives no pass/fail verdict; read the metrics and their gaps to the retrain reference.');
  else {
    p(`Thresholds fixed at ${cmp.thresholds.fixedAt}, before the runs were planned: ${cmp.thresholds.items.map((t) => `${t.metric} ${t.op} ${t.value}`).join('; ')}.`);
    if (cmp.thresholds.runsStartedBefore.length) p(`Note: ${cmp.thresholds.runsStartedBefore.length} run(s) started before the thresholds were fixed (reused from earlier work: ${cmp.thresholds.runsStartedBefore.join(', ')}); for those runs the thresholds are not pre-registered.`, 8.5);
    doc.moveDown(0.3);
  }
  for (const e of unlearned) {
    const v = entryVerdict(e);
    const text = v.status === 'pass' ? 'PASS: all thresholds met' : v.status === 'fail' ? `FAIL: ${v.failed.join('; ')}` : v.status === 'incomplete' ? `INCOMPLETE: no value for ${v.missing.join('; ')}` : 'no thresholds judged';
    ensure(30);
    const colour = v.status === 'pass' ? '#1b5e20' : v.status === 'fail' ? '#b71c1c' : '#555555';
    doc.font(F.bold).fontSize(11).fillColor(colour).text(T(`${e.label}: ${text}`), 50, doc.y, { width: W }).fillColor('black');
    p(`${e.method?.exact ? 'Exact unlearning (the model is retrained without the forget set)' : 'Approximate unlearning'}; ${e.runs.length} seed(s).`, 8.5);
  }
  doc.moveDown(0.4);
  p(
    allExact
      ? 'All unlearned models were produced by exact retraining without the forget set.'
      : `Approximate unlearning: the evidence is indistinguishability from the retrain reference under ${attacksRun.length ? attacksRun.join(', ') : 'no attack (none could be computed)'}; it is not a proof that the forget set's influence is gone.`,
    9,
  );
  doc.moveDown(0.4);
  kv('Signing key (Ed25519)', `SHA-256 fingerprint ${input.publicKey.fingerprint}`, true);

  // ---- request
  doc.addPage();
  h1('1. What was requested');
  const fsx = input.forgetSet;
  kv('Forget set', `${fsx.name} (id ${fsx.id})`);
  kv('Rule', `${fsx.kind}${Object.keys(fsx.params).length ? ': ' + Object.entries(fsx.params).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ') : ''}${fsx.seed !== null ? `; seed ${fsx.seed}` : ''}`);
  kv('Examples to forget', `${fsx.count}; per class: ${cmp.classNames.map((c, k) => `${c} ${fsx.forgetCounts[k] ?? 0}`).join(', ')}`);
  kv('ID-list SHA-256', fsx.idsSha256, true);
  kv('ID-list canonical form', fsx.canonicalForm);
  kv('Dataset', `${fsx.datasetName} (id ${cmp.refs.dataset.id})`);
  kv('Dataset manifest SHA-256', fsx.datasetManifestSha256, true);
  const c = cmp.counts;
  kv('Counts', `trained on ${c.train}; forget ${c.forget}; retain ${c.retain} (held-out slice ${c.heldOut}); test ${c.test}; forget-set examples never trained on ${c.notTrained}`);

  h1('2. The models');
  p('SHA-256 of the model bytes in the workspace; "export" is the hash of the file `lethe model export <id>` writes (the same unless the model is converted to inference form).', 8);
  doc.moveDown(0.3);
  for (const m of input.models) {
    ensure(40);
    doc.font(F.bold).fontSize(9).text(T(`${m.label} (${m.role}${m.seed !== null ? `, seed ${m.seed}` : ''}): ${m.id}`), 50, doc.y, { width: W });
    doc.font(F.mono).fontSize(7.6).text(`sha256 ${m.sha256}`, 60, doc.y, { width: W - 10 });
    if (m.exportSha256 !== m.sha256) doc.text(`export ${m.exportSha256}`, 60, doc.y, { width: W - 10 });
    doc.moveDown(0.25);
  }

  h1('3. Methods and hyperparameters');
  for (const e of cmp.entries.filter((x) => x.method)) {
    h2(`${e.label} (${e.method!.id}${e.method!.exact ? ', exact' : ', approximate'})`);
    const params = Object.entries(e.method!.params);
    kv('Hyperparameters', params.length ? params.map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(', ') : 'none (the recipe defaults)');
    for (const r of e.runs) {
      const run = input.runs[r.run.id];
      const g = run?.guardrail;
      kv(`Seed ${r.seed}`, `run ${r.run.id}; ${run ? `${run.startedAt} to ${run.endedAt}; ` : ''}method time ${fmt(r.seconds)} s${run?.steps !== null && run?.steps !== undefined ? `; ${run.steps} steps` : ''}${g ? `; guardrail ${g.settings.action} (max drop ${g.settings.maxDropPoints} points): ${g.tripped ? `tripped at step ${g.trippedAtStep}${g.stopped ? ', stopped' : ''}` : 'not tripped'}` : ''}${r.notes.length ? `; notes: ${r.notes.join(' ')}` : ''}`);
    }
  }

  h1('4. Environment');
  const envs = new Map<string, string[]>();
  for (const [id, r] of Object.entries(input.runs)) {
    const e = r.environment;
    const k = `app ${e.app}; ONNX Runtime ${e.onnxruntime}; Node ${e.node}; OS ${e.os}; CPU ${e.cpu}; provider ${e.provider}; ${e.threads} thread(s)`;
    envs.set(k, [...(envs.get(k) ?? []), `${id} (seed ${r.seed})`]);
  }
  for (const [k, ids] of envs) kv(`Runs ${ids.join(', ')}`, k);
  kv('Seeds per model', String(cmp.seeds));

  // ---- metrics
  doc.addPage();
  h1('5. Metrics');
  p('Mean over seeds, 95% confidence interval (Student t over seeds; equals the mean with one seed), and the absolute gap to the retrain reference. Each definition names its formula and source.', 8.5);
  for (const m of cmp.metrics) {
    if (m.id === 'confusion') continue;
    h2(`${m.name} [${m.id}]${m.unit ? ` (${m.unit})` : ''}, better: ${m.better}`);
    p(`Definition: ${m.formula}`, 7.5);
    p(`Source: ${m.source}`, 7.5);
    doc.moveDown(0.15);
    table(
      ['model', 'mean', '95% CI', 'n', 'gap to retrain', 'note'],
      cmp.entries.map((e) => {
        const s = e.metrics[m.id];
        return [e.label, s?.mean ?? null, s && s.lo !== null ? `[${fmt(s.lo)}, ${fmt(s.hi)}]` : '–', s?.n ?? 0, e.role === 'reference' ? 'reference' : (s?.gapToRetrain ?? null), s?.missing ?? ''];
      }),
      [110, 55, 85, 25, 60, W - 335],
    );
  }

  h1('6. Pass/fail against the pre-registered thresholds');
  if (!cmp.thresholds) p('None were fixed before the runs.');
  else {
    p(`Fixed at ${cmp.thresholds.fixedAt}. ${cmp.thresholds.runsStartedBefore.length ? `Runs that started before that time (not pre-registered for them): ${cmp.thresholds.runsStartedBefore.join(', ')}.` : 'Every run started after that time.'}`, 8.5);
    doc.moveDown(0.2);
    table(
      ['model', 'threshold', 'observed', 'result'],
      unlearned.flatMap((e) => (e.verdicts ?? []).map((v) => [e.label, `${v.threshold.metric} ${v.threshold.op} ${v.threshold.value}`, v.observed, v.pass === null ? 'no value' : v.pass ? 'pass' : 'FAIL'])),
      [150, 160, 80, W - 390],
    );
  }

  // ---- charts
  doc.addPage();
  h1('7. Charts');
  const runList = input.runs;
  chart(tradeoffChart(cmp));
  chart(gapsChart(cmp));
  if (cmp.entries.some((e) => e.extras['relearn-forget-accuracy'])) chart(relearnChart(cmp));
  chart(runTimesChart(cmp, runList));
  if (reference) for (const e of unlearned) chart(perClassChart(cmp, e.key, reference.key, 'test'));
  for (const e of [reference, ...unlearned].filter((x): x is ComparisonEntry => !!x)) if (e.extras['confusion']) chart(confusionChart(cmp, e.key, 'forget'), 250);
  // the dashboards' charts, by the same builders: attacks and their per-example worst cases, representations, unlearning curves
  if (input.attack) chart(attackRocChart(input.attack, 'forget-vs-test'));
  for (const c of [epsilonChart(cmp), ...unlearned.map((e) => ckaChart(cmp, e.key)), unlearningCurvesChart(cmp, runList)]) chart(c);

  h1('8. Per-class accuracy');
  for (const split of ['forget', 'retain', 'test'] as const) {
    const cols = cmp.entries.filter((e) => perClassOf(cmp, e.key, split));
    if (!cols.length) continue;
    h2(`${split} split (%, seed 0)`);
    const rowsOf = perClassOf(cmp, cols[0].key, split)!.rows;
    const cw = (W - 140) / cols.length;
    table(['class', 'rows', ...cols.map((e) => e.label)], cmp.classNames.map((cn, k) => [cn, rowsOf[k], ...cols.map((e) => perClassOf(cmp, e.key, split)!.accuracy[k])]), [100, 40, ...cols.map(() => cw)]);
  }

  // ---- limits
  h1('9. Limits of this evidence');
  const limits = [
    allExact
      ? 'Exact unlearning: every unlearned model was retrained from scratch without the forget set, so by construction it never saw those examples (assuming the training code and data pipeline are as recorded).'
      : 'Approximate unlearning: the unlearned models were derived from the original, which did see the forget set. The metrics show how close their behaviour is to a model retrained without it; closeness is evidence, not a proof of removal.',
    `Attacks run: ${attacksRun.length ? attacksRun.join(', ') : 'none'}. Population-level membership-inference attacks (a classifier over one feature per example) overestimate privacy: a stronger adversary (per-example attacks over many shadow models, white-box access, or a different feature) may still distinguish the forget set.`,
    cmp.seeds >= 2 ? `Ensemble metrics (forgetting quality F, KLoM) use ${cmp.seeds} unlearned and ${cmp.seeds} retrained models; their per-example ε worst cases bound only the thresholds tried.` : 'With one seed per model, the ensemble metrics (forgetting quality F and KLoM, the per-example ε worst cases) could not be computed, and confidence intervals collapse to the mean: seed-to-seed variation is unknown.',
    'The retrain reference was trained with the recorded recipe and seed(s); another recipe or seed would give a different reference, so small gaps are within the natural variation between retrained models.',
    'The report is about the recorded models and data (hashes above). It says nothing about copies of the original model or data held elsewhere, nor about logs, caches or backups.',
  ];
  for (const l of limits) {
    ensure(30);
    p(`• ${l}`, 8.5);
    doc.moveDown(0.2);
  }

  h1('10. How to verify this report');
  p('The folder holding this PDF has manifest.json (every artifact with its SHA-256, including this PDF), manifest.sig (an Ed25519 signature over the bytes of manifest.json) and README.txt. Run `lethe report verify <folder> [--artifacts DIR]`, or follow README.txt with openssl and sha256sum. The public key that signed it:', 8.5);
  doc.moveDown(0.2);
  doc.font(F.mono).fontSize(8).text(input.publicKey.pem.trim(), 60, doc.y, { width: W - 10 });
  doc.moveDown(0.2);
  kv('Key fingerprint', `SHA-256 of the DER public key: ${input.publicKey.fingerprint}`, true);

  // ---- footers
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const mb = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc.font(F.body).fontSize(7).fillColor('#666666').text(T(`Lethe unlearning audit report · ${input.comparison.id} · page ${i + 1} of ${range.count}`), 50, doc.page.height - 35, { width: W, align: 'center', lineBreak: false });
    doc.fillColor('black');
    doc.page.margins.bottom = mb;
  }
  doc.end();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}
