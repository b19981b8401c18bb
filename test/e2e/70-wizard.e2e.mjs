// The unlearning wizard end to end against the real backend: a tiny CSV dataset, an MLP trained on it
// and a class forget set are made through the API (seconds of work); the wizard is walked from the Runs
// page with two methods (FT and GA, one epoch each), the Methods step by keyboard alone; the review shows
// the plan with its time estimated from this machine's measurements; after launch the progress step
// shows every job live (state, progress, curves) until the comparison is ready; then a report is made
// from the UI and its PDF saved (a real download), and the Reports page lists and verifies it. The same
// plan again is reused run by run; with FT at 1,000 epochs it is estimated from the measured run, and
// the FT job is cancelled from the wizard while it runs.
// On every step, Tab (inside the dialog's focus trap) reaches every visible control. Screenshots of the
// methods, settings, review, progress and Reports page, light and dark.
import { apiCall, assert, assertEqual, jobEnded, navigate, tinyCsvDataset, waitFor } from './helpers.mjs';

const PREFIX = 'e2e-wiz';

async function fixtures(ctx) {
  const ds = await tinyCsvDataset(ctx, `${PREFIX}-csv`, { rows: 300, classes: 3 });
  const models = await apiCall(ctx, 'models.list', {});
  if (!models.some((m) => m.id === `${PREFIX}-mlp-trained`)) {
    if (!models.some((m) => m.id === `${PREFIX}-mlp`)) await apiCall(ctx, 'models.create', { arch: 'mlp', name: `${PREFIX}-mlp`, classes: 3, inputShape: [4] });
    const job = await apiCall(ctx, 'models.train', { modelId: `${PREFIX}-mlp`, datasetId: ds.id, epochs: 2, batchSize: 32, lr: 0.05, optimizer: 'sgd', momentum: 0.9, weightDecay: 0, schedule: 'constant', seed: 0, saveAs: `${PREFIX}-mlp-trained` });
    const done = await jobEnded(ctx, job.id, 120_000);
    assertEqual(done.state, 'succeeded', `training the MLP (${done.reason})`);
  }
  let fs = (await apiCall(ctx, 'forgetSets.list', {})).find((f) => f.name === `${PREFIX}-c0`);
  if (!fs) fs = await apiCall(ctx, 'forgetSets.create', { datasetId: ds.id, name: `${PREFIX}-c0`, rule: { kind: 'class', classes: [0] }, seed: 0 });
  return { model: `${PREFIX}-mlp-trained`, forgetSet: fs.id };
}

/** Presses Tab until the focused element matches `selector` (at most `max` presses); fails otherwise. */
async function tabTo(page, selector, max = 60) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

/**
 * Tabs through the wizard (the focus trap keeps Tab inside it) and checks that every visible, enabled
 * control of the dialog took the focus at least once; returns how many there are.
 */
async function tabReachesEveryControl(page, what) {
  const total = await page.evaluate(() => {
    const dialog = document.querySelector('[data-testid="unlearning-wizard"]');
    const controls = [...dialog.querySelectorAll('input, select, textarea, button, a[href], summary')].filter((el) => !el.disabled && el.checkVisibility({ checkVisibilityCSS: true }));
    controls.forEach((el, i) => el.setAttribute('data-kb', String(i)));
    window.__kbSeen = new Set();
    window.__kbListener = (e) => e.target?.getAttribute?.('data-kb') !== null && window.__kbSeen.add(e.target.getAttribute('data-kb'));
    document.addEventListener('focusin', window.__kbListener);
    return controls.length;
  });
  for (let i = 0; i < total * 2 + 4; i++) await page.keyboard.press('Tab');
  const missed = await page.evaluate(() => {
    document.removeEventListener('focusin', window.__kbListener);
    const all = [...document.querySelectorAll('[data-testid="unlearning-wizard"] [data-kb]')];
    const out = all.filter((el) => !window.__kbSeen.has(el.getAttribute('data-kb'))).map((el) => el.outerHTML.slice(0, 120));
    all.forEach((el) => el.removeAttribute('data-kb'));
    return out;
  });
  assert(missed.length === 0, `${what}: Tab never reached ${missed.join(' | ')}`);
  ctx_log?.(`${what}: Tab reaches all ${total} controls`);
  return total;
}
let ctx_log = null;

async function dark(page, on) {
  await page.emulateMedia({ colorScheme: on ? 'dark' : 'light' });
  await page.evaluate((d) => (document.documentElement.dataset.theme = d ? 'dark' : 'light'), on);
}

export const tests = [
  {
    name: 'Unlearning wizard: two methods (one step by keyboard), estimate, live progress, report export',
    async run(ctx) {
      const fx = await fixtures(ctx);
      ctx_log = ctx.log;
      const { page } = await ctx.open();
      await navigate(page, 'runs', 'Runs');
      await page.click('[data-action="open-wizard"]');
      await page.waitForSelector('[data-testid="unlearning-wizard"]');
      const stepIs = (name) => page.waitForSelector(`[data-testid="unlearning-wizard"] section[data-step="${name}"]`);

      // 1 model
      await stepIs('model');
      await page.selectOption('[data-field="model"]', fx.model);
      await tabReachesEveryControl(page, 'model step');
      await page.click('[data-action="next"]');
      // 2 forget set (only sets of the model's dataset are offered)
      await stepIs('forget-set');
      await page.selectOption('[data-field="forget-set"]', fx.forgetSet);
      await tabReachesEveryControl(page, 'forget-set step');
      await page.click('[data-action="next"]');

      // 3 methods, by keyboard alone: Space ticks FT and GA, their forms appear with the literature
      // defaults, one epoch is typed into each, Enter on Next goes on
      await stepIs('methods');
      await page.waitForSelector('[data-method="ft"]');
      await tabTo(page, '[data-method="ft"]');
      await page.keyboard.press('Space');
      await page.waitForSelector('[data-testid="params-ft"]');
      await tabTo(page, '[data-method="ga"]');
      await page.keyboard.press('Space');
      await page.waitForSelector('[data-testid="params-ga"]');
      const defaults = await page.$eval('#param-ft-epochs', (i) => i.value);
      ctx.log(`FT epochs default: ${defaults}`);
      assert(Number(defaults) >= 1, `FT epochs default ${defaults}`);
      const help = await page.$eval('[data-testid="params-ft"] [data-param="lr"] .field-help', (e) => e.textContent);
      assert(/default/.test(help), `FT lr help: ${help}`);
      for (const id of ['ft', 'ga']) {
        await tabTo(page, `#param-${id}-epochs`);
        await page.keyboard.press('Control+A');
        await page.keyboard.type('1');
      }
      assertEqual(await page.$eval('#param-ga-epochs', (i) => i.value), '1', 'GA epochs typed');
      await ctx.screenshot(page, 'wizard-methods-light');
      await tabReachesEveryControl(page, 'methods step');
      await tabTo(page, '[data-action="next"]');
      await page.keyboard.press('Enter');

      // 4 settings: the retrain reference's status, a threshold fixed before launch
      await stepIs('settings');
      const retrain = await page.waitForSelector('[data-testid="retrain-status"]:text-matches("Not stored yet|Reused")', { timeout: 20_000 });
      ctx.log(`retrain reference: ${(await retrain.textContent()).trim()}`);
      await page.click('[data-action="add-threshold"]');
      await page.fill('[data-threshold="0"] [data-field="threshold-value"]', '50');
      await ctx.screenshot(page, 'wizard-settings-light');
      await tabReachesEveryControl(page, 'settings step');
      await dark(page, true);
      await ctx.screenshot(page, 'wizard-settings-dark');
      await dark(page, false);
      await page.click('[data-action="next"]');

      // 5 review with the estimate and what it rests on
      await stepIs('review');
      const table = await page.waitForSelector('[data-testid="plan-table"]', { timeout: 20_000 });
      const rows = await table.$$eval('tbody tr', (trs) => trs.map((tr) => ({ run: tr.getAttribute('data-run'), basis: tr.getAttribute('data-basis'), text: tr.textContent })));
      ctx.log(`plan: ${rows.map((r) => `${r.run} [${r.basis}]`).join(', ')}`);
      assertEqual(rows.map((r) => r.run).join(','), 'retrain-0,ft-0,ga-0', 'the runs of the plan');
      assert(rows.every((r) => r.basis !== 'none'), `every run has a measured basis here (the model's training was measured): ${JSON.stringify(rows)}`);
      const total = await page.textContent('[data-testid="plan-total"]');
      assert(/Estimated total: /.test(total) && /Based on what this machine measured/.test(total), `total: ${total}`);
      await ctx.screenshot(page, 'wizard-review-light');
      await tabReachesEveryControl(page, 'review step');
      await dark(page, true);
      await ctx.screenshot(page, 'wizard-review-dark');
      await dark(page, false);

      // launch; 6 progress: every job live until the comparison is ready
      await page.click('[data-action="launch"]');
      await stepIs('progress');
      const jobRows = await page.$$eval('[data-testid="plan-jobs"] [data-job-id]', (els) => els.length);
      assertEqual(jobRows, 4, 'jobs of the plan (retrain, FT, GA, compare)');
      // live: a job seen running in the wizard, then its curves drawn from the progress events
      await page.waitForSelector('[data-testid="plan-jobs"] [data-job-id][data-state="running"]', { timeout: 60_000 });
      await page.waitForSelector('[data-testid="plan-jobs"] [data-testid="job-curves"]', { timeout: 60_000 });
      await ctx.screenshot(page, 'wizard-progress-light');
      await page.waitForSelector('[data-action="open-comparison"]', { timeout: 180_000 });
      await tabReachesEveryControl(page, 'progress step');
      const summary = await page.textContent('[data-testid="progress-summary"]');
      assert(/4 of 4 jobs done/.test(summary), `progress: ${summary}`);
      await dark(page, true);
      await ctx.screenshot(page, 'wizard-progress-dark');
      await dark(page, false);

      // report export from the UI: made in the workspace, its PDF saved as a real download
      await page.click('[data-testid="unlearning-wizard"] [data-action="create-report"]');
      await page.waitForSelector('[data-testid="unlearning-wizard"] [data-action="save-report"]', { timeout: 60_000 });
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="unlearning-wizard"] [data-action="save-report"]')]);
      assertEqual(download.suggestedFilename(), 'report.pdf', 'downloaded file name');
      const file = await download.path();
      const { readFile } = await import('node:fs/promises');
      const bytes = await readFile(file);
      assertEqual(bytes.subarray(0, 5).toString('latin1'), '%PDF-', 'the download is a PDF');
      const reports = await apiCall(ctx, 'reports.list', {});
      const { createHash } = await import('node:crypto');
      assertEqual(createHash('sha256').update(bytes).digest('hex'), reports[0].pdfSha256, 'the saved PDF is the one the report lists');

      await page.click('[data-testid="unlearning-wizard"] [data-action="close"]');
      await waitFor(async () => !(await page.$('[data-testid="unlearning-wizard"]')), { message: 'the wizard did not close' });

      // the same plan again: every run is stored, so the retrain reference and both methods are reused
      // at no cost, and the comparison's time is now measured by the one that just finished
      await page.click('[data-action="open-wizard"]');
      await stepIs('model');
      await page.selectOption('[data-field="model"]', fx.model);
      await page.click('[data-action="next"]');
      await stepIs('forget-set');
      await page.selectOption('[data-field="forget-set"]', fx.forgetSet);
      await page.click('[data-action="next"]');
      await stepIs('methods');
      for (const id of ['ft', 'ga']) {
        await page.check(`[data-method="${id}"]`);
        await page.fill(`#param-${id}-epochs`, '1');
      }
      await page.click('[data-action="next"]');
      await stepIs('settings');
      const reused = await page.waitForSelector('[data-testid="retrain-status"]:text-matches("^Reused")', { timeout: 20_000 });
      ctx.log(`second plan, retrain reference: ${(await reused.textContent()).trim()}`);
      await page.click('[data-action="next"]');
      await stepIs('review');
      await page.waitForSelector('[data-testid="plan-table"]', { timeout: 20_000 });
      const again = await page.$$eval('[data-testid="plan-table"] tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-basis')));
      assertEqual(again.join(','), 'reused,reused,reused', 'the same plan again is reused');
      const total2 = await page.textContent('[data-testid="plan-total"]');
      ctx.log(`second plan: ${total2.replace(/\s+/g, ' ').trim()}`);
      assert(/Comparison: measured: a comparison of 4 models × 1 seed took/.test(total2), `the comparison is measured now: ${total2}`);

      // back to the methods: FT for 1,000 epochs is a new run, estimated from the measured one-epoch run;
      // launched, it is cancelled from the wizard while it runs, and the comparison waiting for it fails
      await page.click('[data-action="back"]');
      await page.click('[data-action="back"]');
      await stepIs('methods');
      await page.fill('#param-ft-epochs', '1000');
      await page.click('[data-action="next"]');
      await stepIs('settings');
      await page.click('[data-action="next"]');
      await stepIs('review');
      const ft = await page.waitForSelector('[data-testid="plan-table"] tr[data-run="ft-0"][data-basis="run"]', { timeout: 20_000 });
      const ftText = await ft.textContent();
      ctx.log(`FT × 1000 epochs: ${ftText.replace(/\s+/g, ' ').trim()}`);
      assert(/scaled for 1 → 1000 epochs/.test(ftText), `FT estimate: ${ftText}`);
      await page.click('[data-action="launch"]');
      await stepIs('progress');
      const ftJob = await page.waitForSelector('[data-testid="plan-jobs"] [data-job-id][data-state="running"]:has-text("FT (fine-tune)")', { timeout: 60_000 });
      const ftId = await ftJob.getAttribute('data-job-id');
      await ftJob.$eval('[data-action="cancel"]', (b) => b.click());
      await page.waitForSelector(`[data-testid="plan-jobs"] [data-job-id="${ftId}"][data-state="cancelled"]`, { timeout: 30_000 });
      await page.waitForSelector('[data-testid="plan-jobs"] [data-job-id][data-state="failed"]:has-text("Compare")', { timeout: 30_000 });
      // GA (reused) still runs after it; then nothing is left to cancel
      await page.waitForSelector('[data-action="cancel-all"]', { state: 'detached', timeout: 60_000 });
      await ctx.screenshot(page, 'wizard-cancelled-light');
      await page.keyboard.press('Escape');
      await waitFor(async () => !(await page.$('[data-testid="unlearning-wizard"]')), { message: 'Escape did not close the wizard' });

      // the Reports page lists it with its verdict and hashes, and verifies it
      await navigate(page, 'reports', 'Reports');
      const row = await page.waitForSelector(`[data-report-id="${reports[0].id}"]`);
      const verdict = (await row.$eval('[data-testid="report-verdict"]', (e) => e.textContent)).trim();
      ctx.log(`report ${reports[0].id}: verdict ${verdict}`);
      assert(['Pass', 'Fail', 'Incomplete'].includes(verdict), `verdict: ${verdict}`);
      await row.$eval('[data-action="verify"]', (b) => b.click());
      await page.waitForSelector(`[data-verify-for="${reports[0].id}"] [data-testid="verify-ok"]`, { timeout: 30_000 });
      await ctx.screenshot(page, 'reports-light');
      await dark(page, true);
      await ctx.screenshot(page, 'reports-dark');
      await dark(page, false);
    },
  },
];
