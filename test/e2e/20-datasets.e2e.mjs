// Datasets page against the real backend: the empty state's "Import Fashion-MNIST sample" runs a
// dataset.import job that ends with the 70,000-example dataset listed. Runs after 10-shell, whose
// empty-state checks need an empty workspace.
import { assert, assertEqual, navigate, waitFor } from './helpers.mjs';

export const tests = [
  {
    name: 'Datasets: importing the Fashion-MNIST sample from the empty state lists 70,000 examples',
    async run(ctx) {
      const { page } = await ctx.open();
      await navigate(page, 'datasets', 'Datasets');
      await page.click('[data-testid="import-sample"]');
      const row = await page.waitForSelector('#jobs-list [data-job-id] >> text=dataset.import', { timeout: 10_000 });
      assert(row, 'no dataset.import job in the jobs panel');
      const t0 = Date.now();
      // ~10 s on an idle 2-core machine; generous for a CI machine busy with other work
      const table = await page.waitForSelector('[data-testid="dataset-table"]', { timeout: 240_000 });
      ctx.log(`imported and listed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      const cells = await table.$$eval('tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent.trim())));
      assertEqual(cells.length, 1, 'datasets listed');
      assertEqual(cells[0][0], 'Fashion-MNIST', 'dataset name');
      assertEqual(cells[0][2].replace(/\D/g, ''), '70000', 'examples');
      assertEqual(cells[0][3].replace(/\D/g, ''), '60000', 'train examples');
      assertEqual(cells[0][5], '10', 'classes');
      await page.waitForSelector('#jobs-list [data-state="succeeded"]');
      // the sidebar's counts are refreshed by their own call when the job ends, apart from the table's: wait for it
      const count = () => page.textContent('nav [data-nav="datasets"] .count').then((t) => t.trim());
      await waitFor(async () => (await count()) === '1', { timeout: 10_000 }).catch(() => {});
      assertEqual(await count(), '1', 'sidebar dataset count');
      await ctx.screenshot(page, 'datasets-imported-light');
    },
  },
];
