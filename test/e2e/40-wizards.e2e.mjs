// The dataset import wizard, the virtualised gallery and the forget-set wizard against the real
// backend. Imports Debian's Fashion-MNIST IDX files (/usr/share/datasets/fashion-mnist, IDs train-N /
// test-N) under its own name, so it does not depend on what 20-datasets imported. The forget set
// built from a pasted ID list must have the same hash as the CLI computes for the same list.
import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assert, assertEqual, navigate } from './helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const IDX_DIR = '/usr/share/datasets/fashion-mnist';
const NAME = 'Fashion-MNIST IDX';
const IDS = 'train-1\ntrain-5\ntrain-9\nnope';

function cli(args) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', path.join(ROOT, 'main', 'cli', 'index.ts'), ...args], { cwd: ROOT, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`lethe ${args.join(' ')} failed: ${stderr || err.message}`)) : resolve(stdout),
    );
  });
}

/** Open the forget-set wizard on the IDX dataset with a worst-case rule on the CNN that 30-models trained. */
async function openWorstCaseWizard(page, amount) {
  await page.click('[data-testid="open-forget-wizard"]');
  await page.waitForSelector('[data-testid="forget-set-wizard"]');
  await page.selectOption('[data-testid="fs-dataset"]', { label: await page.$eval('[data-testid="fs-dataset"]', (s, n) => [...s.options].find((o) => o.text.startsWith(n + ' (')).text, NAME) });
  await page.click('[data-kind="worst-case"]');
  await page.click('[data-testid="fs-next"]');
  const option = await page.waitForSelector('[data-testid="fs-model"] option:text-matches("^fashion-cnn-trained ")', { state: 'attached', timeout: 15_000 });
  await page.selectOption('[data-testid="fs-model"]', await option.getAttribute('value'));
  await page.fill('[data-testid="fs-amount"]', amount);
}

export const tests = [
  {
    name: 'Import wizard: IDX Fashion-MNIST with preview and progress, then the gallery scrolls to the last of 70,000 images',
    async run(ctx) {
      assert(existsSync(path.join(IDX_DIR, 'train-images-idx3-ubyte.gz')), `Debian's Fashion-MNIST is missing: apt-get install dataset-fashion-mnist`);
      const { page } = await ctx.open();
      await navigate(page, 'datasets', 'Datasets');
      await page.click('[data-testid="open-import-wizard"]');
      await page.waitForSelector('[data-testid="import-wizard"]');
      await page.click('[data-format="idx"]');
      await ctx.screenshot(page, 'import-wizard-format');
      await page.click('[data-testid="wizard-next"]');
      await page.fill('[data-testid="import-source"]', IDX_DIR);
      await page.click('[data-testid="fashion-names"]');
      await ctx.screenshot(page, 'import-wizard-source');
      await page.click('[data-testid="wizard-next"]');
      const summary = await page.waitForSelector('[data-testid="preview-summary"]', { timeout: 30_000 });
      const text = (await summary.textContent()).replace(/\s+/g, ' ');
      assert(/70,000 images · 10 classes · shape 28 × 28 × 1/.test(text), `preview summary: ${text}`);
      const imgs = await page.$$eval('[data-testid="import-preview"] .sample img', (els) => els.filter((e) => e.complete && e.naturalWidth >= 28).length);
      assert(imgs >= 16, `preview shows ${imgs} decoded sample images`);
      const trainTotals = await page.$$eval('[data-testid="import-histogram"] [data-series="train"]', (els) => els.map((e) => e.textContent.trim()));
      assertEqual(trainTotals.join(','), Array(10).fill('6,000').join(','), 'train examples per class in the preview histogram');
      await page.fill('[data-testid="import-name"]', NAME);
      await ctx.screenshot(page, 'import-wizard');

      // record every value the progress bar takes (a MutationObserver sees changes a poll would miss)
      await page.evaluate(() => {
        window.__importProgress = [];
        const seen = window.__importProgress;
        new MutationObserver(() => {
          const bar = document.querySelector('[data-testid="import-progress"] [role="progressbar"]');
          const v = bar?.getAttribute('aria-valuenow');
          if (v != null && seen[seen.length - 1] !== Number(v)) seen.push(Number(v));
        }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] });
      });
      await page.click('[data-testid="import-start"]');
      await page.waitForSelector('[data-testid="import-progress"]');
      const t0 = Date.now();
      await page.waitForSelector('[data-testid="import-done"]', { timeout: 240_000 });
      const seen = await page.evaluate(() => window.__importProgress);
      ctx.log(`imported in ${((Date.now() - t0) / 1000).toFixed(1)} s; progress values shown: ${seen.join(', ')}`);
      assert(seen.some((v) => v > 0 && v < 100), `the progress bar never showed an intermediate value (${seen.join(', ')})`);
      assertEqual(seen[seen.length - 1], 100, 'final progress');
      await page.click('[data-testid="wizard-close"]');

      // a bad source: plain words
      await page.click('[data-testid="open-import-wizard"]');
      await page.click('[data-format="csv"]');
      await page.click('[data-testid="wizard-next"]');
      await page.fill('[data-testid="import-source"]', '/nonexistent/table.csv');
      await page.click('[data-testid="wizard-next"]');
      const err = await page.waitForSelector('[data-testid="import-preview"] [role="alert"]', { timeout: 15_000 });
      const errText = (await err.textContent()).trim();
      assert(/not found/i.test(errText) && /table\.csv/.test(errText) && !/at \w+ \(|ENOENT/.test(errText), `plain-words error: ${errText}`);
      await page.click('[data-testid="import-wizard"] .close');

      // the gallery: 70,000 images, virtualised, scrolled to the very end
      await page.waitForSelector(`[data-testid="dataset-table"] td.name:text-is("${NAME}")`);
      await page.selectOption('[data-testid="browse-dataset"]', { label: NAME });
      await page.click('[data-testid="browse-open"]');
      await page.waitForSelector('[data-testid="gallery-count"]:text-is("70,000 examples")', { timeout: 15_000 });
      await page.waitForSelector('[data-testid="gallery-scroller"] .cell.loaded[data-index="0"]', { timeout: 15_000 });
      const scroller = '[data-testid="gallery-scroller"]';
      // scroll through in large steps like a user dragging the scrollbar, then to the end
      const steps = [];
      for (let k = 1; k <= 8; k++) {
        const t = Date.now();
        await page.$eval(scroller, (el, f) => (el.scrollTop = (el.scrollHeight - el.clientHeight) * f), k / 8);
        await page.waitForFunction(
          (sel) => {
            const el = document.querySelector(sel);
            const cells = [...el.querySelectorAll('.cell')];
            const box = el.getBoundingClientRect();
            const inView = cells.filter((c) => {
              const r = c.getBoundingClientRect();
              return r.bottom > box.top && r.top < box.bottom;
            });
            return inView.length > 0 && inView.every((c) => c.classList.contains('loaded'));
          },
          scroller,
          { timeout: 15_000 },
        );
        steps.push(Date.now() - t);
      }
      ctx.log(`gallery: images in view loaded after each jump in ${steps.join(', ')} ms`);
      const last = await page.waitForSelector(`${scroller} .cell.loaded[data-index="69999"]`, { timeout: 15_000 });
      const cells = await page.$$eval(`${scroller} .cell`, (els) => els.length);
      assert(cells < 1000, `the gallery keeps ${cells} cells in the DOM; it should render only the visible rows`);
      const lastId = await last.getAttribute('data-id');
      assert(/^(train|test)-\d+$/.test(lastId), `last example id ${lastId}`);

      // filters: one class, test split -> 1,000
      await page.selectOption('[data-testid="filter-split"]', 'test');
      await page.click('[data-testid="gallery"] .chip[data-class-index="7"]');
      await page.waitForSelector('[data-testid="gallery-count"]:text-is("1,000 examples")', { timeout: 15_000 });
      await page.click(`${scroller} .cell.loaded[data-index="0"]`);
      const detail = await page.waitForSelector('[data-testid="example-detail"] img', { timeout: 10_000 });
      assert(detail, 'no larger image in the example details');
      assertEqual((await page.textContent('[data-testid="example-detail"] [data-field="split"]')).trim(), 'test', 'detail split');
      assert((await page.textContent('[data-testid="example-detail"] [data-field="class"]')).includes('Sneaker'), 'detail class is Sneaker');
      await ctx.screenshot(page, 'dataset-gallery');
    },
  },
  {
    name: 'Forget-set wizard: a pasted ID list reports the missing ID, saves, and hashes like the CLI',
    async run(ctx) {
      const { page } = await ctx.open();
      await navigate(page, 'forget-sets', 'Forget sets');
      await page.click('[data-testid="open-forget-wizard"]');
      await page.waitForSelector('[data-testid="forget-set-wizard"]');
      await page.selectOption('[data-testid="fs-dataset"]', { label: await page.$eval('[data-testid="fs-dataset"]', (s, n) => [...s.options].find((o) => o.text.startsWith(n + ' (')).text, NAME) });
      await page.click('[data-kind="ids"]');
      await page.click('[data-testid="fs-next"]');
      await page.fill('[data-testid="fs-ids"]', IDS);
      await ctx.screenshot(page, 'forget-set-wizard-ids');
      await page.click('[data-testid="fs-preview-button"]');
      const missing = await page.waitForSelector('[data-testid="fs-missing"]', { timeout: 30_000 });
      const missingText = (await missing.textContent()).replace(/\s+/g, ' ').trim();
      assert(/^1 ID does not exist in the dataset: nope$/.test(missingText), `missing report: ${missingText}`);
      assertEqual((await page.textContent('[data-testid="fs-count"]')).trim(), '3', 'forget count');
      await page.waitForSelector('[data-testid="fs-preview"] .cell.loaded[data-index="2"]', { timeout: 15_000 });
      await page.fill('[data-testid="fs-name"]', 'ui-ids');
      await ctx.screenshot(page, 'forget-set-wizard');
      await page.click('[data-testid="fs-save"]');
      const row = await page.waitForSelector('[data-testid="forget-set-table"] tr:has(td.name:text-is("ui-ids"))', { timeout: 15_000 });
      const uiHash = await row.$eval('[data-field="hash"]', (e) => e.getAttribute('data-full'));
      assert(/^[0-9a-f]{64}$/.test(uiHash), `UI hash ${uiHash}`);
      await row.click();
      await page.waitForSelector('[data-testid="forget-set-details"] [data-testid="gallery"] .cell.loaded[data-index="2"]', { timeout: 15_000 });
      assertEqual(await page.textContent('[data-testid="fs-detail-hash"]'), uiHash, 'hash in the details panel');
      await ctx.screenshot(page, 'forget-sets-list');

      // Export for audit from the details panel; the folder verifies with sha256sum, and ids.txt hashes
      // to the UI hash. A second export into the same (now non-empty) folder is refused in plain words.
      const exportRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'lethe-fs-export-'));
      try {
        const dir = path.join(exportRoot, 'ui-ids-audit');
        await page.fill('#fs-export-path', dir);
        await page.click('[data-testid="fs-export"] [data-action="export"]');
        await page.waitForSelector('[data-testid="fs-exported"] >> text=SHA256SUMS', { timeout: 15_000 });
        await ctx.screenshot(page, 'forget-set-exported');
        const check = await new Promise((resolve) => execFile('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir }, (err, stdout) => resolve({ err, stdout })));
        assert(!check.err, `sha256sum -c SHA256SUMS failed in the exported folder: ${check.stdout}`);
        const ids = await fs.readFile(path.join(dir, 'ids.txt'));
        const { createHash } = await import('node:crypto');
        assertEqual(createHash('sha256').update(ids).digest('hex'), uiHash, 'SHA-256 of the exported ids.txt');
        // the refusal is an HTTP 409 the page logs; expected here, an error anywhere else
        ctx.expectProblem(/^HTTP 409 for http:\/\/127\.0\.0\.1:\d+\/api\/call\/forgetSets\.export$/);
        ctx.expectProblem(/^console error: Failed to load resource: the server responded with a status of 409 \(Conflict\)$/);
        await page.click('[data-testid="fs-export"] [data-action="export"]');
        const err = await page.waitForSelector('[data-testid="fs-export-error"]', { timeout: 15_000 });
        assert(/is not empty/.test(await err.textContent()), 'a second export into the same folder is refused');
      } finally {
        await fs.rm(exportRoot, { recursive: true, force: true });
      }

      // The server holds the workspace lock, so the CLI runs on a byte-for-byte copy of the same
      // workspace (same dataset record and blobs), with the lock file left out.
      const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lethe-ids-'));
      try {
        const copy = path.join(tmp, 'workspace');
        await fs.cp(ctx.workspace, copy, { recursive: true, filter: (src) => path.basename(src) !== 'lock' });
        const file = path.join(tmp, 'requests.txt');
        await fs.writeFile(file, IDS + '\n');
        const out = await cli(['forget-set', 'create', '--workspace', copy, '--dataset', NAME, '--kind', 'ids', '--ids-file', file, '--on-missing', 'skip', '--name', 'cli-copy', '--json']);
        const cliSet = JSON.parse(out);
        ctx.log(`UI hash ${uiHash}, CLI hash ${cliSet.idsSha256}`);
        assertEqual(cliSet.idsSha256, uiHash, 'CLI forget-set hash for the same list');
        assertEqual(cliSet.count, 3, 'CLI forget-set count');
        assertEqual(cliSet.manifest.report.missingCount, 1, 'CLI missing count');
      } finally {
        await fs.rm(tmp, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'Forget-set wizard, worst case: the trained CNN scores 60,000 examples in a background job, then the preview shows the hardest',
    async run(ctx) {
      const { page } = await ctx.open();
      await navigate(page, 'forget-sets', 'Forget sets');
      await openWorstCaseWizard(page, '50');
      const t0 = Date.now();
      await page.click('[data-testid="fs-preview-button"]');
      await page.waitForSelector('[data-testid="fs-scoring"]', { timeout: 15_000 });
      await ctx.screenshot(page, 'forget-set-wizard-scoring');
      const scores = await page.waitForSelector('[data-testid="fs-scores"]', { timeout: 120_000 });
      ctx.log(`scored and previewed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      const text = (await scores.textContent()).replace(/\s+/g, ' ');
      assert(/Scored 60,000/.test(text), `scores summary: ${text.slice(0, 200)}`);
      assertEqual((await page.textContent('[data-testid="fs-count"]')).trim(), '50', 'forget count');
      const rows = await page.$$eval('[data-testid="fs-scores"] .score-table tbody tr', (trs) => trs.map((tr) => Number(tr.querySelector('.num').textContent)));
      assert(rows.length === 20 && rows.every((v, i) => i === 0 || v <= rows[i - 1]), `chosen losses, worst first: ${rows.join(', ')}`);
      await page.fill('[data-testid="fs-name"]', 'ui-worst-case');
      await ctx.screenshot(page, 'forget-set-wizard-worst-case');
      await page.click('[data-testid="fs-save"]');
      await page.waitForSelector('[data-testid="forget-set-table"] tr:has(td.name:text-is("ui-worst-case"))', { timeout: 15_000 });
      // a second preview with the same model and metric reads the cached scores: no second job
      const scoreJobs = () =>
        page.evaluate(async (token) => {
          const res = await fetch('/api/call/jobs.list', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', 'X-Lethe-Client': '1', 'X-Lethe-Token': token },
            body: JSON.stringify({}),
          });
          const env = await res.json();
          if (!env.ok) throw new Error(JSON.stringify(env));
          return env.result.filter((j) => j.kind === 'forgetSet.score').map((j) => j.state);
        }, ctx.token);
      assertEqual(JSON.stringify(await scoreJobs()), '["succeeded"]', 'forgetSet.score jobs after the first preview');
      await openWorstCaseWizard(page, '10');
      const t1 = Date.now();
      await page.click('[data-testid="fs-preview-button"]');
      await page.waitForSelector('[data-testid="fs-scores"]', { timeout: 30_000 });
      ctx.log(`second preview (cached scores) in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
      assertEqual((await page.textContent('[data-testid="fs-count"]')).trim(), '10', 'forget count of the second preview');
      assertEqual(JSON.stringify(await scoreJobs()), '["succeeded"]', 'forgetSet.score jobs after the second preview');
    },
  },
];
