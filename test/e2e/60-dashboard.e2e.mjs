// The evaluation dashboard against the real backend: a small comparison is made through the API (a
// 400-row CSV dataset of overlapping classes, an MLP trained for a few epochs, a random forget set of 40 rows, the retrain
// reference, FT and GA at 3 seeds each: seconds of work per run), then the Compare page shows it:
// the metric table sorts, the attack-threshold slider is dragged with the mouse and moved with the
// keyboard and TPR/FPR follow, charts are SVG under the strict CSP (the runner fails the test on any
// violation or console error) with titles and axis names, a chart saves as PNG, SVG and CSV, and
// screenshots are taken in the light and the dark theme.
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { apiCall, assert, assertEqual, jobEnded, navigate, waitFor } from './helpers.mjs';

const PREFIX = 'e2e-dash';
const NAME = 'e2e dashboard comparison';

/**
 * 400 rows of 4 features in 3 overlapping classes (class centre + seeded noise), so the models are
 * neither perfect nor random and the charts have something to show.
 */
async function noisyDataset(ctx, name) {
  const found = (await apiCall(ctx, 'datasets.list', {})).find((d) => d.name === name);
  if (found) return found;
  let x = 12345;
  const rand = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  const gauss = () => (rand() + rand() + rand() + rand() - 2) * 1.7;
  const centres = [[0, 0, 1, 0], [1, 0, 0, 1], [0, 1, 0, 0.5]];
  const lines = Array.from({ length: 400 }, (_, i) => {
    const k = i % 3;
    return [...centres[k].map((c) => (c + 0.55 * gauss()).toFixed(4)), `c${k}`].join(',');
  });
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'lethe-e2e-dash-'));
  const file = path.join(dir, 'noisy.csv');
  await fsp.writeFile(file, ['f1,f2,f3,f4,label', ...lines].join('\n') + '\n');
  const job = await apiCall(ctx, 'datasets.import', { format: 'csv', source: file, name });
  const done = await jobEnded(ctx, job.id, 60_000);
  await fsp.rm(dir, { recursive: true, force: true });
  assertEqual(done.state, 'succeeded', `CSV import (${done.reason})`);
  return (await apiCall(ctx, 'datasets.list', {})).find((d) => d.name === name);
}

async function ensureComparison(ctx) {
  const existing = (await apiCall(ctx, 'comparisons.list', {})).find((c) => c.name === NAME);
  if (existing) return existing.id;
  const ds = await noisyDataset(ctx, `${PREFIX}-csv`);
  let fs = (await apiCall(ctx, 'forgetSets.list', {})).find((f) => f.name === `${PREFIX}-fs`);
  if (!fs) fs = await apiCall(ctx, 'forgetSets.create', { datasetId: ds.id, name: `${PREFIX}-fs`, rule: { kind: 'random', count: 40 }, seed: 0 });
  const models = await apiCall(ctx, 'models.list', {});
  if (!models.some((m) => m.id === `${PREFIX}-mlp`)) await apiCall(ctx, 'models.create', { arch: 'mlp', name: `${PREFIX}-mlp`, classes: 3, inputShape: [4] });
  if (!models.some((m) => m.id === `${PREFIX}-trained`)) {
    const train = await apiCall(ctx, 'models.train', { modelId: `${PREFIX}-mlp`, datasetId: ds.id, epochs: 8, batchSize: 32, lr: 0.1, optimizer: 'sgd', seed: 0, saveAs: `${PREFIX}-trained` });
    const t = await jobEnded(ctx, train.id, 120_000);
    assertEqual(t.state, 'succeeded', `training (${t.reason})`);
  }
  const plan = await apiCall(ctx, 'unlearning.plan', {
    model: `${PREFIX}-trained`,
    forgetSet: fs.id,
    methods: [
      { id: 'ft', params: { epochs: 1 } },
      { id: 'ga', params: { epochs: 1 } },
    ],
    seeds: 3,
    name: NAME,
    guardrail: { action: 'flag', maxDropPoints: 100, sliceSize: 30 },
  });
  const done = await jobEnded(ctx, plan.compareJobId, 400_000);
  assertEqual(done.state, 'succeeded', `compare job (${done.reason})`);
  const c = (await apiCall(ctx, 'comparisons.list', {})).find((x) => x.name === NAME);
  assert(c, 'the comparison was not written');
  return c.id;
}

const svgText = (page, testid) => page.$eval(`[data-testid="${testid}"] svg`, (s) => s.textContent ?? '');
const rates = (page) => page.$eval('[data-testid="attack-rates"]', (o) => [...o.querySelectorAll('span')].map((s) => s.textContent.trim()).join(' | '));

async function darkTheme(page) {
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.evaluate(() => (document.documentElement.dataset.theme = 'dark'));
  await page.waitForTimeout(300);
}

export const tests = [
  {
    name: 'Dashboard: comparison table sorts, attack threshold slider moves TPR/FPR, charts under the CSP save as PNG/SVG/CSV, light and dark',
    async run(ctx) {
      const t0 = Date.now();
      const id = await ensureComparison(ctx);
      ctx.log(`comparison ${id} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      const { page } = await ctx.open();
      await navigate(page, 'compare', 'Compare');
      await page.click(`[data-comparison-id="${id}"]`);
      const table = await page.waitForSelector('[data-testid="comparison-table"]');
      const entries = await table.$$eval('tbody tr', (r) => r.map((x) => x.getAttribute('data-entry')));
      assertEqual(entries.length, 4, `models in the table (${entries.join(', ')})`);
      const headers = await table.$$eval('thead th[data-metric]', (h) => h.map((x) => x.getAttribute('data-metric')));
      for (const m of ['forget-accuracy', 'retain-accuracy', 'mia-efficacy', 'avg-gap', 'tow', 'run-time', 'forgetting-quality']) assert(headers.includes(m), `metric column ${m} missing: ${headers.join(', ')}`);
      const title = await table.$eval('th[data-metric="mia-efficacy"]', (h) => h.getAttribute('title'));
      assert(/SVC\(C=3/.test(title) && /Source: /.test(title), `MIA-Efficacy definition tooltip: ${title}`);
      const ci = await table.$eval('tbody tr[data-entry]:not([data-entry="original"]) td[data-metric="retain-accuracy"] .value', (v) => v.textContent);
      assert(/±/.test(ci), `mean ± CI with 3 seeds: ${ci}`);

      // sorting: by forget accuracy, then reversed
      const column = () => table.$$eval('tbody tr td[data-metric="forget-accuracy"] .value', (c) => c.map((x) => parseFloat(x.textContent)));
      await page.click('[data-sort="forget-accuracy"]');
      const asc = await column();
      assert(asc.every((v, i) => i === 0 || v >= asc[i - 1]), `ascending forget accuracy: ${asc}`);
      await page.click('[data-sort="forget-accuracy"]');
      const desc = await column();
      assert(desc.every((v, i) => i === 0 || v <= desc[i - 1]), `descending forget accuracy: ${desc}`);
      assertEqual(await table.$eval('th[data-metric="forget-accuracy"]', (h) => h.getAttribute('aria-sort')), 'descending', 'aria-sort');
      await ctx.screenshot(page, 'dashboard-table-light');

      // charts: SVG with title and axis names
      await page.waitForSelector('[data-testid="chart-tradeoff"] svg path', { state: 'attached', timeout: 20_000 });
      const trade = await svgText(page, 'chart-tradeoff');
      for (const t of ['Forget vs retain trade-off', 'Forget accuracy (%)', 'Retain accuracy (%)']) assert(trade.includes(t), `trade-off chart lacks '${t}'`);
      await (await page.$('[data-testid="chart-tradeoff"]')).scrollIntoViewIfNeeded();
      await ctx.screenshot(page, 'dashboard-charts-light');

      // attack: drag the threshold with the mouse, then move it with the keyboard
      const slider = await page.waitForSelector('[data-testid="attack-threshold"]', { timeout: 30_000 });
      await page.waitForSelector('[data-testid="attack-histogram"] svg path', { state: 'attached', timeout: 20_000 });
      const hist = await svgText(page, 'attack-histogram');
      for (const t of ['Attack scores: Confidence p_y', 'Share of the split’s examples (%)', 'threshold']) assert(hist.includes(t), `histogram lacks '${t}'`);
      await slider.scrollIntoViewIfNeeded();
      const before = await rates(page);
      const box = await slider.boundingBox();
      await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 5 });
      await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2, { steps: 5 });
      await page.mouse.up();
      const dragged = await rates(page);
      ctx.log(`rates: ${before} -> ${dragged}`);
      assert(dragged !== before, `TPR/FPR did not change when the threshold was dragged (${before})`);
      const tpr = (s) => parseFloat(/TPR ([\d.]+)%/.exec(s)[1]);
      const fpr = (s) => parseFloat(/FPR ([\d.]+)%/.exec(s)[1]);
      assert(tpr(dragged) <= tpr(before) && fpr(dragged) <= fpr(before), `a higher confidence threshold calls fewer rows members: ${before} -> ${dragged}`);
      const value = await slider.evaluate((s) => Number(s.value));
      await slider.focus();
      for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowLeft');
      assertEqual(await slider.evaluate((s) => Number(s.value)), value - 10, 'slider value after 10 × ArrowLeft');
      const keyed = await rates(page);
      assert(keyed !== dragged, `TPR/FPR did not follow the keyboard (${keyed})`);
      const valueText = await slider.getAttribute('aria-valuetext');
      assert(/^threshold [\d.]+: TPR [\d.]+%, FPR [\d.]+%/.test(valueText), `aria-valuetext: ${valueText}`);
      // on release the histogram is the engine's chart at that threshold (its subtitle carries the rates)
      await waitFor(async () => (await svgText(page, 'attack-histogram')).includes(`TPR ${tpr(keyed).toFixed(1)}%`), { timeout: 10_000, message: 'the histogram subtitle did not follow the threshold' });
      await page.waitForSelector('[data-testid="attack-roc"] svg path', { state: 'attached', timeout: 20_000 });
      assert((await svgText(page, 'attack-roc')).includes('False-positive rate (%, log scale)'), 'ROC x axis');
      // the ε chart is asked of the backend apart from the ROC: wait for its drawing (or its 'nothing to draw'), do not sample once
      await page
        .waitForSelector('[data-testid="attack-epsilon"] svg path, [data-testid="attack-epsilon"] [data-testid="chart-empty"]', { state: 'attached', timeout: 20_000 })
        .catch(() => {});
      const eps = await page.$eval('[data-testid="attack-epsilon"]', (e) => e.textContent ?? '');
      assert(eps.includes('Per-example ε'), `ε chart: ${eps.slice(0, 200)}`);
      await (await page.$('[data-testid="attack-panel"]')).scrollIntoViewIfNeeded();
      await ctx.screenshot(page, 'dashboard-attack-light');

      // save the ROC as PNG, SVG and CSV
      const roc = await page.$('[data-testid="attack-roc"]');
      for (const [action, ext] of [['save-png', 'png'], ['save-svg', 'svg'], ['save-csv', 'csv']]) {
        const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 10_000 }), roc.$eval(`[data-action="${action}"]`, (b) => b.click())]);
        assert(dl.suggestedFilename().endsWith(`.${ext}`), `download name ${dl.suggestedFilename()}`);
        const file = await dl.path();
        const { readFile } = await import('node:fs/promises');
        const bytes = await readFile(file);
        if (ext === 'png') assertEqual(bytes.subarray(1, 4).toString('latin1'), 'PNG', 'PNG signature');
        if (ext === 'svg') assert(bytes.toString('utf8').startsWith('<svg') && bytes.toString('utf8').includes('log scale'), 'SVG file');
        if (ext === 'csv') assert(bytes.toString('utf8').startsWith('model,role,AUC'), `CSV head: ${bytes.toString('utf8').slice(0, 40)}`);
      }

      // the rest of the dashboard draws too
      for (const t of ['chart-gaps', 'chart-per-class', 'chart-confusion', 'chart-cka', 'chart-training', 'chart-unlearning', 'chart-run-times']) {
        await page.waitForSelector(`[data-testid="${t}"] svg path, [data-testid="${t}"] [data-testid="chart-empty"]`, { state: 'attached', timeout: 20_000 });
      }
      await (await page.$('[data-testid="chart-cka"]')).scrollIntoViewIfNeeded();
      await ctx.screenshot(page, 'dashboard-cka-light');
      await page.$eval('[data-testid="chart-confusion"]', (e) => e.scrollIntoView({ block: 'end' }));
      await ctx.screenshot(page, 'dashboard-classes-light');
      await page.$eval('[data-testid="chart-unlearning"]', (e) => e.scrollIntoView({ block: 'end' }));
      await ctx.screenshot(page, 'dashboard-curves-light');

      await darkTheme(page);
      await page.evaluate(() => window.scrollTo(0, 0));
      await (await page.$('[data-testid="comparison-table"]')).scrollIntoViewIfNeeded();
      await ctx.screenshot(page, 'dashboard-table-dark');
      await (await page.$('[data-testid="chart-tradeoff"]')).scrollIntoViewIfNeeded();
      await ctx.screenshot(page, 'dashboard-charts-dark');
      await (await page.$('[data-testid="attack-panel"]')).scrollIntoViewIfNeeded();
      await ctx.screenshot(page, 'dashboard-attack-dark');
      await page.$eval('[data-testid="chart-confusion"]', (e) => e.scrollIntoView({ block: 'end' }));
      await ctx.screenshot(page, 'dashboard-classes-dark');
    },
  },
];
