// Forget sets for a new user (issue 9, point 10), on the Fashion-MNIST sample (stored class by class):
// a 1% stratified set's details show its rule in words and a sample across all ten classes; the
// worst-case wizard warns about an untrained model; manual selection offers training images only.
import { apiCall, assert, assertEqual, jobEnded, navigate, waitFor } from './helpers.mjs';

const DATASET = 'Fashion-MNIST';
const SET = 'e2e-one-percent';

async function fixtures(ctx) {
  let ds = (await apiCall(ctx, 'datasets.list', {})).find((d) => d.name === DATASET);
  if (!ds) {
    const job = await apiCall(ctx, 'datasets.import', { format: 'builtin', source: 'fashion-mnist-sample', name: DATASET });
    assertEqual((await jobEnded(ctx, job.id, 240_000)).state, 'succeeded', 'Fashion-MNIST import');
    ds = (await apiCall(ctx, 'datasets.list', {})).find((d) => d.name === DATASET);
  }
  if (!(await apiCall(ctx, 'forgetSets.list', {})).some((f) => f.name === SET))
    await apiCall(ctx, 'forgetSets.create', { datasetId: ds.id, name: SET, rule: { kind: 'random', fraction: 0.01, stratify: true }, seed: 0 });
  if (!(await apiCall(ctx, 'models.list', {})).some((m) => m.id === 'e2e-untrained-mlp'))
    await apiCall(ctx, 'models.create', { arch: 'mlp', name: 'e2e-untrained-mlp', classes: 10, inputShape: [1, 28, 28] });
  return ds;
}

export const tests = [
  {
    name: 'Forget sets: details in words with a sample across classes; worst-case warns on an untrained model; manual shows train images only',
    async run(ctx) {
      const ds = await fixtures(ctx);
      const { page } = await ctx.open();
      await navigate(page, 'forget-sets', 'Forget sets');
      await page.click(`[data-forget-set-id] .name:text-is("${SET}")`);
      const details = await page.waitForSelector('[data-testid="forget-set-details"]');
      const rule = (await details.$eval('[data-field="rule"] .rule-line', (el) => el.textContent)).trim();
      assertEqual(rule, 'A random 1% of the training examples, stratified by class (each class in its proportion).', 'the rule in words');
      const heading = (await details.$eval('[data-testid="fs-detail-sample"] h3', (el) => el.textContent)).replace(/\s+/g, ' ').trim();
      assertEqual(heading, 'Sample of the forget set (64 of 600, across 10 classes)', 'sample heading');
      // the first cells of the gallery already show every class (IDs are c<class>-<n>)
      const ids = await waitFor(
        async () => {
          const t = await details.$$eval('[data-testid="fs-detail-sample"] [data-testid="gallery"] [title]', (els) => els.map((e) => e.getAttribute('title')));
          return t.length >= 10 ? t : null;
        },
        { message: 'the sample gallery shows no cells' },
      );
      const classes = new Set(ids.slice(0, 10).map((id) => /^c(\d+)-/.exec(id)?.[1]));
      assertEqual(classes.size, 10, `classes among the first 10 sample cells (${ids.slice(0, 10).join(', ')})`);
      await details.evaluate((el) => el.scrollIntoView());
      await ctx.screenshot(page, 'forget-set-details-sample');

      // worst-case: the only model is untrained; it is offered with a warning
      await page.click('[data-testid="open-forget-wizard"]');
      await page.waitForSelector('[data-testid="forget-set-wizard"]');
      await page.selectOption('[data-testid="fs-dataset"]', ds.id);
      await page.click('[data-kind="worst-case"]');
      await page.click('[data-testid="fs-next"]');
      await page.waitForSelector('[data-testid="fs-model"] option:text-matches("untrained")', { state: 'attached' });
      const models = await page.$$eval('[data-testid="fs-model"] option', (os) => os.map((o) => ({ value: o.value, text: o.textContent.trim() })));
      const chosen = await page.$eval('[data-testid="fs-model"]', (s) => s.value);
      const trained = models.filter((m) => / trained\)$/.test(m.text));
      if (trained.length) assert(trained.some((m) => m.value === chosen), `a trained model exists but ${chosen} is preselected`);
      else {
        assertEqual(chosen, 'e2e-untrained-mlp', 'the only model');
        await page.waitForSelector('[data-testid="fs-model-untrained"]');
      }
      await page.selectOption('[data-testid="fs-model"]', 'e2e-untrained-mlp');
      const warning = await page.textContent('[data-testid="fs-model-untrained"]');
      assert(/has never been trained/.test(warning), `warning: ${warning}`);
      await ctx.screenshot(page, 'forget-set-wizard-untrained-warning');

      // manual: the gallery offers training images only, and no split filter
      await page.click('[data-testid="fs-back"]');
      await page.click('[data-kind="manual"]');
      await page.click('[data-testid="fs-next"]');
      await page.waitForSelector('[data-testid="forget-set-wizard"] [data-testid="gallery"]');
      assertEqual(await page.$('[data-testid="forget-set-wizard"] [data-testid="filter-split"]'), null, 'split filter in manual selection');
      const splits = await waitFor(
        async () => {
          const t = await page.$$eval('[data-testid="forget-set-wizard"] [data-testid="gallery"] [title*=" · "]', (els) => els.map((e) => e.getAttribute('title').split(' · ').pop()));
          return t.length >= 20 ? t : null;
        },
        { message: 'the manual gallery shows no examples' },
      );
      assertEqual([...new Set(splits)].join(','), 'train', 'splits shown in manual selection');
      const total = await page.textContent('[data-testid="forget-set-wizard"] [data-testid="gallery"]');
      assert(/60,000 examples/.test(total), `the manual gallery does not count the 60,000 training images: ${total.slice(0, 200)}`);
      await ctx.screenshot(page, 'forget-set-wizard-manual');
    },
  },
];
