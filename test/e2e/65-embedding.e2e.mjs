// The embedding view and the instance drill-down on a real comparison, made here through the API in
// about a minute: a 12×12-pixel, 3-class IDX image dataset of 2,400 + 600 images (written to a temporary folder), an MLP
// trained 2 epochs, a whole-class forget set, and a plan of the retrain reference + GA (1 epoch) whose
// compare job writes the comparison. On the Compare page the embedding panel first says a
// comparison.embedding job is computing the projections, then draws two models' PCA scatter plots
// (SVG, under the strict CSP: any violation fails the test). Hovering a point in model A's chart rings
// the same example in model B's chart and names it; clicking it opens it in the instance drill-down
// (image, label, probabilities chart, per-model table). Screenshots light and dark.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { apiCall, assert, assertEqual, jobEnded, navigate, waitFor } from './helpers.mjs';

const PREFIX = 'e2e-emb';
const SIDE = 12;
// enough examples for the full 2,000-example sample (500 of the 800 forget, 1,000 retain, 500 test)
const TRAIN = 2400;
const TEST = 600;

function idxFile(dims, data) {
  const h = Buffer.alloc(4 + 4 * dims.length);
  h[2] = 8;
  h[3] = dims.length;
  dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
  return gzipSync(Buffer.concat([h, Buffer.from(data)]));
}

/** n images: class 0 a bright horizontal bar, class 1 a vertical bar, class 2 a diagonal; seeded noise */
function images(n, seed) {
  const img = new Uint8Array(n * SIDE * SIDE);
  const lab = new Uint8Array(n);
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 16) % 70;
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    lab[i] = c;
    const off = (i * 7) % 4;
    for (let y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++) {
        const on = c === 0 ? Math.abs(y - 4 - off) <= 1 : c === 1 ? Math.abs(x - 4 - off) <= 1 : Math.abs(x - y) <= 1;
        img[i * SIDE * SIDE + y * SIDE + x] = rnd() + (on ? 180 : 0);
      }
    }
  }
  return { img, lab };
}

/** The comparison, made once per workspace (the plan's runs are cached by the backend anyway). */
async function ensureComparison(ctx) {
  const existing = (await apiCall(ctx, 'comparisons.list', {})).find((c) => c.name === `${PREFIX}-comparison`);
  if (existing) return existing.id;
  if (!(await apiCall(ctx, 'datasets.list', {})).some((d) => d.name === `${PREFIX}-images`)) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lethe-e2e-emb-'));
    const tr = images(TRAIN, 1);
    const te = images(TEST, 2);
    await fs.writeFile(path.join(dir, 'train-images-idx3-ubyte.gz'), idxFile([TRAIN, SIDE, SIDE], tr.img));
    await fs.writeFile(path.join(dir, 'train-labels-idx1-ubyte.gz'), idxFile([TRAIN], tr.lab));
    await fs.writeFile(path.join(dir, 't10k-images-idx3-ubyte.gz'), idxFile([TEST, SIDE, SIDE], te.img));
    await fs.writeFile(path.join(dir, 't10k-labels-idx1-ubyte.gz'), idxFile([TEST], te.lab));
    const job = await apiCall(ctx, 'datasets.import', { format: 'idx', source: dir, name: `${PREFIX}-images`, options: { numClasses: 3, classNames: ['bar', 'pillar', 'slash'] } });
    const done = await jobEnded(ctx, job.id, 60_000);
    assertEqual(done.state, 'succeeded', `IDX import (${done.reason})`);
    await fs.rm(dir, { recursive: true, force: true });
  }
  const ds = (await apiCall(ctx, 'datasets.list', {})).find((d) => d.name === `${PREFIX}-images`);
  if (!(await apiCall(ctx, 'forgetSets.list', {})).some((f) => f.name === `${PREFIX}-slash`)) {
    await apiCall(ctx, 'forgetSets.create', { datasetId: ds.id, name: `${PREFIX}-slash`, rule: { kind: 'class', classes: ['slash'] } });
  }
  if (!(await apiCall(ctx, 'models.list', {})).some((m) => m.id === `${PREFIX}-mlp-trained`)) {
    if (!(await apiCall(ctx, 'models.list', {})).some((m) => m.id === `${PREFIX}-mlp`)) {
      await apiCall(ctx, 'models.create', { arch: 'mlp', name: `${PREFIX}-mlp`, classes: 3, inputShape: [1, SIDE, SIDE] });
    }
    const train = await apiCall(ctx, 'models.train', { modelId: `${PREFIX}-mlp`, datasetId: ds.id, epochs: 2, batchSize: 32, lr: 0.05, saveAs: `${PREFIX}-mlp-trained` });
    const done = await jobEnded(ctx, train.id, 120_000);
    assertEqual(done.state, 'succeeded', `training (${done.reason})`);
  }
  const plan = await apiCall(ctx, 'unlearning.plan', {
    model: `${PREFIX}-mlp-trained`,
    forgetSet: `${PREFIX}-slash`,
    methods: [{ id: 'ga', params: { epochs: 1 } }],
    name: `${PREFIX}-comparison`,
  });
  const done = await jobEnded(ctx, plan.compareJobId, 240_000);
  assertEqual(done.state, 'succeeded', `compare job (${done.reason})`);
  return done.result.comparisonId;
}

export const tests = [
  {
    name: 'Compare, embedding view: two models side by side, the hover link across them, and the instance drill-down of a clicked example',
    async run(ctx) {
      const t0 = Date.now();
      const cmpId = await ensureComparison(ctx);
      ctx.log(`comparison ${cmpId} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      const { page } = await ctx.open();
      await navigate(page, 'compare', 'Compare');
      await page.click(`[data-comparison-id="${cmpId}"]`);
      const panel = await page.waitForSelector('[data-testid="embedding-panel"]', { timeout: 15_000 });
      await panel.scrollIntoViewIfNeeded();

      // first visit: the projections are computed by a job, then both charts are drawn
      const status = await page.$('[data-testid="embedding-status"]');
      if (status) ctx.log(`status: ${(await status.textContent()).trim()}`);
      const jobs = await waitFor(
        async () => {
          // this comparison's jobs only (an earlier test's dashboard may have asked for its own comparison's)
          const js = (await apiCall(ctx, 'jobs.list', {})).filter((j) => j.kind === 'comparison.embedding' && j.params?.comparisonId === cmpId);
          return js.length ? js : null;
        },
        { timeout: 15_000, interval: 100, message: 'the panel submitted no comparison.embedding job' },
      );
      assertEqual(jobs.length, 1, 'comparison.embedding jobs submitted for this comparison');
      await page.waitForSelector('[data-testid="embedding-panel"] [data-side="a"] .drawing svg', { timeout: 90_000 });
      await page.waitForSelector('[data-testid="embedding-panel"] [data-side="b"] .drawing svg', { timeout: 10_000 });
      assert(!(await page.$('[data-testid="embedding-status"]')), 'the computing note is still shown after the charts were drawn');
      const charts = await page.$$eval('[data-testid="embedding-panel"] .drawing', (els) => els.map((e) => e.getAttribute('data-chart')));
      ctx.log(`charts: ${charts.join(', ')}`);
      assertEqual(charts.length, 2, 'embedding charts');
      const label = await page.$eval('[data-testid="embedding-panel"] [data-side="a"] .drawing', (e) => e.getAttribute('aria-label'));
      assert(label.startsWith('Penultimate features (PCA): Retrain (reference)'), `chart A's text alternative: ${label}`);
      const svgText = await page.$eval('[data-testid="embedding-panel"] [data-side="b"] .drawing svg', (s) => s.textContent);
      assert(/PC 1 \(feature units; [\d.]+% of variance\)/.test(svgText) && svgText.includes('PC 2'), `axis names: ${svgText.slice(0, 300)}`);

      // hover one point of chart A (a class-colour symbol; legend icons sit in the bottom 40 px)
      const point = await page.evaluateHandle(() => {
        const svg = document.querySelector('[data-testid="embedding-panel"] [data-side="a"] .drawing svg');
        const box = svg.getBoundingClientRect();
        const paths = [...svg.querySelectorAll('path')].filter((p) => {
          const r = p.getBoundingClientRect();
          return (p.getAttribute('fill') || '').toLowerCase() === '#f28e2b' && r.width > 2 && r.width < 14 && r.bottom < box.bottom - 45;
        });
        return paths[Math.floor(paths.length / 2)] ?? null;
      });
      assert(await point.evaluate((p) => p !== null), 'no point of class 1 found in chart A');
      const tHover = Date.now();
      await point.hover({ force: true });
      const link = await waitFor(
        async () => {
          const idx = await page.$eval('[data-testid="embedding-link"]', (e) => e.getAttribute('data-index'));
          return idx ? page.$eval('[data-testid="embedding-link"]', (e) => e.textContent.trim()) : null;
        },
        { timeout: 5000, message: 'hovering a point did not link an example' },
      );
      ctx.log(`link: ${link} (${Date.now() - tHover} ms after the pointer moved, polling every 50 ms)`);
      const n = await page.$eval('[data-testid="embedding-panel"] [data-side="a"] details summary', (e) => e.textContent);
      assert(n.includes('2,000 examples'), `sample size: ${n}`);
      const m = /^Linked example (\S+) \((forget|retain|test), (\w+)\): \(([-\d.]+), ([-\d.]+)\) under Retrain \(reference\); \(([-\d.]+), ([-\d.]+)\) under GA \(gradient ascent\)$/.exec(link);
      assert(m, `link text: ${link}`);
      assert(['bar', 'pillar', 'slash'].includes(m[3]), `class of the hovered example: ${m[3]}`);
      // the same example is highlighted in chart B (ECharts' highlight action: enlarged, outlined in the text colour)
      const idx = await page.$eval('[data-testid="embedding-link"]', (e) => e.getAttribute('data-index'));
      assertEqual(await page.$eval('[data-testid="embedding-panel"] [data-side="b"] .drawing', (e) => e.getAttribute('data-highlighted')), idx, 'example highlighted in chart B');
      const outlined = await waitFor(
        () =>
          page.$$eval('[data-testid="embedding-panel"] [data-side="b"] .drawing svg path', (ps) => {
            const text = getComputedStyle(document.documentElement).getPropertyValue('--text').trim().toLowerCase();
            return ps.filter((p) => (p.getAttribute('stroke') || '').toLowerCase() === text && /^matrix\((\d+(\.\d+)?)/.test(p.getAttribute('transform') || '')).map((p) => p.outerHTML.slice(0, 200));
          }).then((found) => (found.length ? found : null)),
        { timeout: 3000, message: 'no highlighted point drawn in chart B' },
      );
      ctx.log(`highlighted in chart B: ${outlined.join(' ')}`);
      // latency of the link with 2,000 points per chart: pointer onto another point -> caption changed
      const other = await page.evaluateHandle(() => {
        const svg = document.querySelector('[data-testid="embedding-panel"] [data-side="a"] .drawing svg');
        const box = svg.getBoundingClientRect();
        const paths = [...svg.querySelectorAll('path')].filter((p) => {
          const r = p.getBoundingClientRect();
          return (p.getAttribute('fill') || '').toLowerCase() === '#4e79a7' && r.width > 2 && r.width < 14 && r.bottom < box.bottom - 45;
        });
        return paths[Math.floor(paths.length / 3)] ?? null;
      });
      const ob = await other.boundingBox();
      // timed in the page: from the pointer event reaching the document to the caption's change
      await page.evaluate(() => {
        window.__linkLatency = new Promise((resolve) => {
          let t0 = null;
          const onMove = () => (t0 ??= performance.now());
          document.addEventListener('pointermove', onMove, true);
          const mo = new MutationObserver(() => {
            if (t0 === null) return;
            mo.disconnect();
            document.removeEventListener('pointermove', onMove, true);
            resolve(performance.now() - t0);
          });
          mo.observe(document.querySelector('[data-testid="embedding-link"]'), { subtree: true, childList: true, characterData: true, attributes: true });
          setTimeout(() => resolve(-1), 5000);
        });
      });
      await page.mouse.move(ob.x + ob.width / 2, ob.y + ob.height / 2);
      const ms = await page.evaluate(() => window.__linkLatency);
      assert(ms >= 0, 'moving the pointer onto another point did not change the link within 5 s');
      ctx.log(`link latency (2,000 points per chart): ${ms.toFixed(0)} ms from pointer move to caption`);
      assert(ms < 1000, `the link took ${ms.toFixed(0)} ms`);
      await point.hover({ force: true });
      await ctx.screenshot(page, 'embedding-hover-light');

      // click it: the instance drill-down opens that example
      await point.click({ force: true });
      const detail = await page.waitForSelector(`[data-testid="instance-detail"][data-example-id="${m[1]}"]`, { timeout: 10_000 });
      assertEqual((await detail.$eval('[data-field="label"]', (e) => e.textContent.trim())).split(' ')[0], m[3], 'label in the drill-down');
      assertEqual(await detail.$eval('[data-field="split"]', (e) => e.textContent.trim()), m[2], 'split in the drill-down');
      await page.waitForSelector('[data-testid="instance-image"][src^="data:image/png;base64,"]', { timeout: 10_000 });
      const rows = await detail.$$eval('[data-testid="instance-table"] tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-entry')));
      assertEqual(rows.length, 3, `models in the drill-down table (${rows.join(', ')})`);
      await detail.waitForSelector('[data-testid="chart-frame"] [role="img"] svg', { timeout: 10_000 });
      const title = await detail.$eval('[data-testid="chart-frame"] [role="img"]', (e) => e.getAttribute('aria-label'));
      assert(title.startsWith(`Predicted probabilities of ${m[1]}`), `drill-down chart: ${title}`);
      // the most-changed list is a call of its own (comparisons.changedExamples), apart from the example's: wait for it
      const countChanged = () => page.$$eval('[data-testid="changed-examples"] button', (bs) => bs.length);
      await waitFor(async () => (await countChanged()) > 0, { timeout: 15_000 }).catch(() => {});
      const changed = await countChanged();
      assert(changed > 0, 'no most-changed forget examples listed');
      await detail.scrollIntoViewIfNeeded();
      await ctx.screenshot(page, 'instance-light');

      // dark theme
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.evaluate(() => (document.documentElement.dataset.theme = 'dark'));
      await detail.scrollIntoViewIfNeeded();
      await ctx.screenshot(page, 'instance-dark');
      await panel.scrollIntoViewIfNeeded();
      await point.hover({ force: true });
      await ctx.screenshot(page, 'embedding-hover-dark');
      await page.emulateMedia({ colorScheme: 'light' });
      await page.evaluate(() => (document.documentElement.dataset.theme = 'light'));
    },
  },
];
