// Models and datasets pages for a new user (issue 9, point 11): a model being trained shows live loss
// and test-accuracy curves in its details and the job logs each epoch's accuracy; the trained model's
// row says trained, on which dataset, with what test accuracy, and its details draw per-epoch curves;
// parameter shapes are never cut off; a dataset row opens its details. Own small CSV dataset.
import { apiCall, assert, assertEqual, jobEnded, navigate, tinyCsvDataset, waitFor } from './helpers.mjs';

const DATASET = 'e2e-details-csv';
const MLP = 'e2e-details-mlp';
const CNN = 'e2e-details-cnn';

async function fixtures(ctx) {
  const ds = await tinyCsvDataset(ctx, DATASET, { rows: 3000 });
  const ids = new Set((await apiCall(ctx, 'models.list', {})).map((m) => m.id));
  if (!ids.has(MLP)) await apiCall(ctx, 'models.create', { arch: 'mlp', name: MLP, classes: 3, inputShape: [4] });
  if (!ids.has(CNN)) await apiCall(ctx, 'models.create', { arch: 'cnn', name: CNN, classes: 10, inputShape: [1, 28, 28] });
  return ds;
}

export const tests = [
  {
    name: 'Models: live training curves with test accuracy, per-epoch log, trained state/dataset/accuracy columns, per-epoch curves, whole parameter shapes',
    async run(ctx) {
      const ds = await fixtures(ctx);
      const { page } = await ctx.open();
      await navigate(page, 'models', 'Models');
      await page.click(`[data-model-id="${MLP}"]`);
      await page.waitForSelector(`[data-testid="model-details"][data-model-id="${MLP}"]`);
      assertEqual((await page.textContent(`[data-model-id="${MLP}"] [data-field="state"]`)).trim(), 'untrained', 'state of a new MLP');

      // submitted after the page listens: the live curves come from progress events
      const job = await apiCall(ctx, 'models.train', { modelId: MLP, datasetId: ds.id, epochs: 12, batchSize: 8, lr: 0.05, optimizer: 'sgd', momentum: 0.9, seed: 0, saveAs: `${MLP}-trained` });
      const live = await page.waitForSelector('[data-testid="model-live-training"] [data-testid="job-curves"]', { timeout: 60_000 });
      const label = await waitFor(
        async () => {
          const l = await live.evaluate((el) => el.querySelector('[role="img"]')?.getAttribute('aria-label') ?? '').catch(() => '');
          return /test accuracy/.test(l) && /loss from/.test(l) ? l : null;
        },
        { timeout: 120_000, message: 'the live curves never showed loss and test accuracy' },
      );
      ctx.log(label);
      await ctx.screenshot(page, 'model-live-training');
      const done = await jobEnded(ctx, job.id, 300_000);
      assertEqual(done.state, 'succeeded', `model.train (${done.reason})`);

      // the job's log: one line per epoch with its test accuracy
      const logs = await apiCall(ctx, 'jobs.logs', { id: job.id });
      const epochLines = logs.lines.map((l) => l.message).filter((m) => /^Epoch \d+:/.test(m));
      assertEqual(epochLines.length, 12, 'epoch lines in the log');
      assert(epochLines.every((m) => /test accuracy \d+\.\d\d%/.test(m)), `epoch lines without accuracy: ${epochLines[0]}`);

      // the table: state, dataset and test accuracy of the trained model
      const row = await page.waitForSelector(`[data-model-id="${MLP}-trained"]`, { timeout: 15_000 });
      await page.click('[data-action="close-details"]'); // the full table
      await page.waitForSelector('[data-testid="model-details"]', { state: 'detached' });
      const cells = await row.evaluate((tr) => Object.fromEntries([...tr.querySelectorAll('[data-field]')].map((td) => [td.getAttribute('data-field'), td.textContent.trim()])));
      assertEqual(cells.state, 'trained', 'state');
      assertEqual(cells.dataset, DATASET, 'dataset');
      assert(/^\d+\.\d%$/.test(cells.accuracy), `test accuracy cell: ${cells.accuracy}`);
      await ctx.screenshot(page, 'model-table-columns');

      // its details: the dataset and its hash apart, per-epoch accuracy, an epoch chart with both series
      await row.click();
      const training = await page.waitForSelector(`[data-testid="model-details"][data-model-id="${MLP}-trained"] [data-testid="model-training"]`);
      const text = (await training.textContent()).replace(/\s+/g, ' ');
      assert(new RegExp(`of ${DATASET}, manifest SHA-256 [0-9a-f]{12}`).test(text), `training data line: ${text.slice(0, 200)}`);
      assertEqual((await training.$eval('[data-field="epoch-accuracy"]', (el) => el.textContent)).split('→').length, 12, 'per-epoch accuracies');
      await training.waitForSelector('[data-testid="job-curves"] svg path', { state: 'attached' });
      const svgText = await training.$eval('[data-testid="job-curves"] svg', (el) => el.textContent);
      for (const t of ['Training loss and test accuracy per epoch', 'Epoch', 'Loss (nats)', 'Accuracy (%)', 'Test accuracy (%)']) assert(svgText.includes(t), `epoch chart lacks '${t}'`);
      await training.evaluate((el) => el.scrollIntoView());
      await ctx.screenshot(page, 'model-epoch-curves');

      // parameter shapes are whole (the CNN's 4-D kernels)
      await page.click(`[data-model-id="${CNN}"]`);
      await page.waitForSelector(`[data-testid="model-details"][data-model-id="${CNN}"] [data-field="dims"]`);
      const cut = await page.$$eval('[data-testid="model-details"] [data-field="dims"]', (tds) => tds.filter((td) => td.scrollWidth > td.clientWidth + 1).map((td) => td.textContent));
      assertEqual(cut.join(', '), '', 'parameter shapes cut off');
      const shapes = await page.$$eval('[data-testid="model-details"] [data-field="dims"]', (tds) => tds.map((td) => td.textContent));
      assert(shapes.some((s) => s.split('×').length === 4), `no 4-D kernel shape shown: ${shapes.join('; ')}`);
      await ctx.screenshot(page, 'model-parameter-shapes');
    },
  },
  {
    name: 'Datasets: a clicked dataset row shows per-class counts, split, hashes and source',
    async run(ctx) {
      const ds = await tinyCsvDataset(ctx, DATASET, { rows: 3000 });
      const { page } = await ctx.open();
      await navigate(page, 'datasets', 'Datasets');
      await page.click(`[data-dataset-id="${ds.id}"]`);
      const details = await page.waitForSelector('[data-testid="dataset-details"]');
      const rows = await details.$$eval('[data-testid="dataset-class-counts"] tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())));
      assertEqual(rows.map((r) => r[1]).join(','), 'c0,c1,c2', 'class names');
      const sum = rows.reduce((a, r) => a + Number(r[4].replace(/,/g, '')), 0);
      assertEqual(sum, 3000, 'examples over the classes');
      const text = (await details.innerText()).replace(/\s+/g, ' ');
      for (const re of [/Manifest SHA-256 [0-9a-f]{64}/, /Source csv \//, /Split (stratified|from the source): /, /tiny\.csv \([\d.]+ kB\), SHA-256 [0-9a-f]{64}/]) assert(re.test(text), `details lack ${re}: ${text.slice(0, 400)}`);
      await ctx.screenshot(page, 'dataset-details');
      // keyboard: Enter on the focused row closes and reopens
      await page.focus(`[data-dataset-id="${ds.id}"]`);
      await page.keyboard.press('Enter');
      await page.waitForSelector('[data-testid="dataset-details"]', { state: 'detached' });
      await page.keyboard.press('Enter');
      await page.waitForSelector('[data-testid="dataset-details"]');
    },
  },
];
