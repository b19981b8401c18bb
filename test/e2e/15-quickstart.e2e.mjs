// The quick start on an empty workspace (the home screen, Datasets): the card explains the built-in
// demo and its time, one click submits an unlearn.demo job that shows up live in the card and in the
// Jobs panel, and Cancel ends it cancelled (the demo itself takes ~10 minutes: it is not run to the end
// here; the job kind's contract test and `lethe demo` cover it). Runs before 20-datasets, which needs
// the workspace still empty: the job is cancelled before its first stage (the dataset import) ends,
// and the test checks that no dataset was added.
import { apiCall as call, assert, assertEqual, waitFor } from './helpers.mjs';

export const tests = [
  {
    name: 'Quick start: an empty workspace offers the built-in demo; it starts as a job, shows live progress and cancels',
    async run(ctx) {
      assertEqual((await call(ctx, 'datasets.list', {})).length, 0, 'datasets before the test (the workspace must be empty)');
      const { page } = await ctx.open();
      await page.waitForSelector('.page-header h1:text-is("Datasets")');
      const card = await page.waitForSelector('[data-testid="quick-start"]', { timeout: 5000 });
      const text = await card.textContent();
      assert(text.includes('Quick start: the built-in demo'), `card title: ${text}`);
      assert(text.includes('About 10 minutes on a laptop CPU'), `card time note: ${text}`);
      assert(text.includes('lethe demo'), `card does not name the CLI pipeline: ${text}`);
      const run = await page.waitForSelector('[data-testid="quick-start-run"]:not([disabled])');
      assertEqual((await run.textContent()).trim(), 'Run the built-in demo', 'button label');
      await ctx.screenshot(page, 'quickstart-light');

      // dark theme (the app follows prefers-color-scheme while the theme setting is 'system')
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.evaluate(() => (document.documentElement.dataset.theme = 'dark'));
      await ctx.screenshot(page, 'quickstart-dark');
      await page.emulateMedia({ colorScheme: 'light' });
      await page.evaluate(() => (document.documentElement.dataset.theme = 'light'));

      // one click: an unlearn.demo job, shown in the card and in the Jobs panel (opened for it)
      await run.click();
      const row = await page.waitForSelector('#jobs-list [data-job-id]:has-text("unlearn.demo")', { timeout: 10_000 });
      const id = await row.getAttribute('data-job-id');
      await page.waitForSelector('[data-testid="quick-start-progress"]', { timeout: 5000 });
      const jobs = await call(ctx, 'jobs.list', {});
      const job = jobs.find((j) => j.id === id);
      assert(job && job.kind === 'unlearn.demo', `the submitted job is not an unlearn.demo job: ${JSON.stringify(job)}`);
      await ctx.screenshot(page, 'quickstart-running');

      await page.click('[data-testid="quick-start-cancel"]');
      await page.waitForSelector(`#jobs-list [data-job-id="${id}"][data-state="cancelled"]`, { timeout: 30_000 });
      const ended = await page.waitForSelector('[data-testid="quick-start-ended"]');
      assert((await ended.textContent()).includes('was cancelled'), 'the card does not say the demo was cancelled');
      assert(await page.isVisible('[data-testid="quick-start-run"]'), 'no button to run the demo again');
      assertEqual((await call(ctx, 'jobs.get', { id })).state, 'cancelled', 'job state from the API');
      await ctx.screenshot(page, 'quickstart-cancelled');
      // the job was cancelled before its dataset import finished: the workspace is still empty
      await waitFor(async () => (await call(ctx, 'datasets.list', {})).length === 0, { timeout: 2000, message: 'the cancelled demo left a dataset' });
    },
  },
];
