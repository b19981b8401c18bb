// Live curves in the Jobs panel: an unlearn.run job (FT on a tiny CSV dataset and an MLP, made through
// the API; seconds of work) streams its loss and held-out retain accuracy, and its row shows them as an
// ECharts line chart (SVG, under the strict CSP) with a title, named axes and a text alternative.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { apiCall as call, assert, assertEqual, jobEnded as finished } from './helpers.mjs';

const PREFIX = 'e2e-curves';

/** A 400-row, 4-feature, 3-class CSV dataset, a random forget set of it and an MLP. */
async function fixtures(ctx) {
  if (!(await call(ctx, 'datasets.list', {})).some((d) => d.name === `${PREFIX}-csv`)) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lethe-e2e-curves-'));
    const file = path.join(dir, 'tiny.csv');
    const rows = Array.from({ length: 400 }, (_, i) => `${(i % 7) / 7},${(i % 5) / 5},${(i % 3) / 3},${(i % 11) / 11},c${i % 3}`);
    await fs.writeFile(file, ['f1,f2,f3,f4,label', ...rows].join('\n') + '\n');
    const job = await call(ctx, 'datasets.import', { format: 'csv', source: file, name: `${PREFIX}-csv` });
    assertEqual((await finished(ctx, job.id, 60_000)).state, 'succeeded', 'CSV import');
    await fs.rm(dir, { recursive: true, force: true });
  }
  const ds = (await call(ctx, 'datasets.list', {})).find((d) => d.name === `${PREFIX}-csv`);
  let fs_ = (await call(ctx, 'forgetSets.list', {})).find((f) => f.name === `${PREFIX}-fs`);
  if (!fs_) fs_ = await call(ctx, 'forgetSets.create', { datasetId: ds.id, name: `${PREFIX}-fs`, rule: { kind: 'random', count: 20 }, seed: 0 });
  if (!(await call(ctx, 'models.list', {})).some((m) => m.id === `${PREFIX}-mlp`)) {
    await call(ctx, 'models.create', { arch: 'mlp', name: `${PREFIX}-mlp`, classes: 3, inputShape: [4] });
  }
  return { forgetSet: fs_.id, model: `${PREFIX}-mlp` };
}

export const tests = [
  {
    name: 'Jobs panel: a running unlearning job shows live loss and held-out retain accuracy curves',
    async run(ctx) {
      const fx = await fixtures(ctx);
      const { page } = await ctx.open();
      await page.waitForSelector('.page-header h1');
      await page.click('[data-testid="jobs-toggle"]');
      // submitted after the page listens: the curves come from live progress events
      const job = await call(ctx, 'jobs.submit', {
        kind: 'unlearn.run',
        title: 'Unlearn: FT (e2e curves)',
        params: { model: fx.model, forgetSet: fx.forgetSet, method: 'ft', params: { epochs: 60, batchSize: 16, lr: 0.05 }, seed: 1, guardrail: { action: 'flag', maxDropPoints: 100, sliceSize: 60 } },
      });
      const fig = await page.waitForSelector(`[data-job-id="${job.id}"] [data-testid="job-curves"]`, { timeout: 120_000 });
      const done = await finished(ctx, job.id, 300_000);
      assertEqual(done.state, 'succeeded', `unlearn.run (${done.reason})`);
      // the chart: an SVG (the SVG renderer) with its title and axis names, and a loss line
      await page.waitForSelector(`[data-job-id="${job.id}"] [data-testid="job-curves"] svg path`, { state: 'attached' });
      const svgText = await fig.evaluate((el) => el.querySelector('svg').textContent);
      for (const t of ['Loss and accuracy during the job', 'Progress of the job (%)', 'Loss (nats)']) assert(svgText.includes(t), `chart lacks '${t}': ${svgText.slice(0, 300)}`);
      const label = await fig.evaluate((el) => el.querySelector('[role="img"]').getAttribute('aria-label'));
      assert(/loss from [\d.]+ to [\d.]+ over \d+ points/.test(label), `text alternative: ${label}`);
      const lossPoints = Number(/loss from [\d.]+ to [\d.]+ over (\d+) points/.exec(label)[1]);
      assert(lossPoints >= 5, `only ${lossPoints} loss points reached the chart`);
      const hasAcc = /held-out retain accuracy/.test(label);
      ctx.log(`${label}`);
      if (hasAcc) assert(svgText.includes('Accuracy (%)'), 'accuracy axis missing');
      await page.click(`[data-job-id="${job.id}"] [data-testid="job-curves"] summary`);
      // the table renders when the details open (next frame): wait for it rather than race it
      await page.waitForSelector(`[data-job-id="${job.id}"] [data-testid="job-curves"] tbody tr`, { timeout: 10_000 }).catch(() => {});
      const rows = await page.$$eval(`[data-job-id="${job.id}"] [data-testid="job-curves"] tbody tr`, (r) => r.length);
      assert(rows >= 2, `data table rows: ${rows}`);
      await page.click(`[data-job-id="${job.id}"] [data-testid="job-curves"] summary`);
      await fig.scrollIntoViewIfNeeded();
      await ctx.screenshot(page, 'job-curves-light');
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.evaluate(() => (document.documentElement.dataset.theme = 'dark'));
      await page.waitForTimeout(200);
      await ctx.screenshot(page, 'job-curves-dark');
    },
  },
];
