// Models page against the real backend: the empty state's "Create a small CNN for the Fashion-MNIST
// sample", its details (trainable initializers with reasons, provenance), the Train dialog on the
// Fashion-MNIST dataset (imported by 20-datasets; imported here when this file runs alone), the
// model.train job's progress with loss in the jobs panel, and the trained model's metrics.
import { assert, assertEqual, navigate, waitFor } from './helpers.mjs';

export const tests = [
  {
    name: 'Models: create a CNN from the empty state, train it on Fashion-MNIST as a job, see its metrics',
    async run(ctx) {
      const { page } = await ctx.open();
      await navigate(page, 'datasets', 'Datasets');
      await page.waitForSelector('[data-testid="dataset-table"], [data-testid="import-sample"]');
      if (await page.$('[data-testid="import-sample"]')) {
        ctx.log('no dataset yet: importing the Fashion-MNIST sample first');
        await page.click('[data-testid="import-sample"]');
        await page.waitForSelector('[data-testid="dataset-table"]', { timeout: 240_000 });
      }

      await navigate(page, 'models', 'Models');
      await page.click('[data-testid="create-sample-cnn"]');
      const details = await page.waitForSelector('[data-testid="model-details"][data-model-id="fashion-cnn"]');
      const trainable = await details.$$eval('[data-testid="model-trainable"] tr', (rows) => rows.map((r) => r.textContent));
      assertEqual(trainable.length, 8, 'trainable initializers of the small CNN');
      assert(trainable[0].includes('conv1.weight'), `first trainable row: ${trainable[0]}`);
      assertEqual((await page.textContent('[data-model-id="fashion-cnn"] [data-field="params"]')).trim(), '421.6k', 'parameters in the table');
      assert((await page.textContent('[data-testid="model-provenance"]')).includes('Created from the built-in Small CNN'), 'provenance');
      // the sidebar's counts are refreshed by their own call after the model is added, apart from its details: wait for it
      const count = () => page.textContent('nav [data-nav="models"] .count').then((t) => t.trim());
      await waitFor(async () => (await count()) === '1', { timeout: 10_000 }).catch(() => {});
      assertEqual(await count(), '1', 'sidebar model count');

      await page.click('[data-action="train"]');
      const dlg = await page.waitForSelector('[data-testid="model-train-dialog"]');
      await waitFor(() => dlg.$eval('[data-field="dataset"]', (s) => s.value !== ''), { message: 'no dataset chosen in the train dialog' });
      await page.fill('[data-field="max-train"]', '2000');
      await page.fill('[data-field="epochs"]', '2');
      await page.fill('[data-field="batch-size"]', '64');
      await page.click('[data-action="start-training"]');
      const row = await page.waitForSelector('#jobs-list [data-job-id] >> text=model.train', { timeout: 15_000 });
      assert(row, 'no model.train job in the jobs panel');
      const job = page.locator('#jobs-list [data-job-id]', { hasText: 'model.train' });
      const t0 = Date.now();
      await job.locator('[data-metric="loss"]').waitFor({ timeout: 60_000 });
      const first = await job.locator('[role="progressbar"]').getAttribute('aria-valuenow');
      ctx.log(`training shows loss after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${(await job.locator('.metrics').textContent()).trim()}`);
      await page.waitForSelector('#jobs-list [data-job-id][data-state="running"] [data-metric="eta"], #jobs-list [data-job-id][data-state="succeeded"]', { timeout: 60_000 });
      await page.waitForSelector('#jobs-list [data-job-id][data-state="succeeded"] >> text=model.train', { timeout: 120_000 });
      ctx.log(`trained in ${((Date.now() - t0) / 1000).toFixed(1)} s (progress first seen at ${first}%)`);

      await page.click('[data-model-id="fashion-cnn-trained"]', { timeout: 10_000 });
      const acc = await page.waitForSelector('[data-model-id="fashion-cnn-trained"] [data-testid="model-training"] [data-field="test-accuracy"], [data-testid="model-details"][data-model-id="fashion-cnn-trained"] [data-field="test-accuracy"]');
      const accText = (await acc.textContent()).trim();
      ctx.log(`test accuracy of the trained CNN: ${accText}`);
      const pct = Number(accText.replace('%', ''));
      assert(pct > 60 && pct <= 100, `test accuracy after 2 epochs on 2,000 examples should exceed 60%, got ${accText}`);
      assert((await page.textContent('[data-testid="model-provenance"]')).includes('Trained from fashion-cnn'), 'trained provenance');
      const trainedOn = await page.textContent('[data-field="train-dataset"]');
      assertEqual(trainedOn, 'Fashion-MNIST', 'dataset named in the training provenance');
      await page.locator('[data-testid="model-training"]').scrollIntoViewIfNeeded();
      await ctx.screenshot(page, 'models');
    },
  },
];
