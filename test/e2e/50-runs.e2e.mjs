// The Runs page's unlearning wizard against the real backend: the method list comes from the engine's
// registry, choosing SalUn draws its parameters from its schema with the literature defaults, an
// out-of-range parameter holds Next back with the form's sentence, and a plan the backend refuses (a
// guardrail out of range) shows the backend's sentence on the review step with Launch disabled (and no
// job submitted). It needs a trained model and a forget set to choose: a tiny CSV dataset, a forget set
// of it and an MLP trained on it (a second) are made through the API here (no unlearning is run: the
// full journey is 70-wizard).
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { apiCall as call, assert, assertEqual, navigate, waitFor } from './helpers.mjs';

const PREFIX = 'e2e-runs';

/** A 60-row, 4-feature, 3-class CSV dataset, a random forget set of it and an MLP that fits it. */
async function ensureFixtures(ctx) {
  const datasets = await call(ctx, 'datasets.list', {});
  if (!datasets.some((d) => d.name === `${PREFIX}-csv`)) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lethe-e2e-runs-'));
    const file = path.join(dir, 'tiny.csv');
    const rows = Array.from({ length: 60 }, (_, i) => `${(i % 7) / 7},${(i % 5) / 5},${(i % 3) / 3},${i / 60},c${i % 3}`);
    await fs.writeFile(file, ['f1,f2,f3,f4,label', ...rows].join('\n') + '\n');
    const job = await call(ctx, 'datasets.import', { format: 'csv', source: file, name: `${PREFIX}-csv` });
    const done = await waitFor(
      async () => {
        const j = await call(ctx, 'jobs.get', { id: job.id });
        return ['succeeded', 'failed', 'cancelled'].includes(j.state) ? j : null;
      },
      { timeout: 60_000, interval: 200, message: 'the CSV import job did not finish' },
    );
    assertEqual(done.state, 'succeeded', `CSV import (${done.reason})`);
    await fs.rm(dir, { recursive: true, force: true });
  }
  const ds = (await call(ctx, 'datasets.list', {})).find((d) => d.name === `${PREFIX}-csv`);
  if (!(await call(ctx, 'forgetSets.list', {})).some((f) => f.name === `${PREFIX}-fs`)) {
    await call(ctx, 'forgetSets.create', { datasetId: ds.id, name: `${PREFIX}-fs`, rule: { kind: 'random', count: 5 }, seed: 0 });
  }
  if (!(await call(ctx, 'models.list', {})).some((m) => m.id === `${PREFIX}-mlp`)) {
    await call(ctx, 'models.create', { arch: 'mlp', name: `${PREFIX}-mlp-init`, classes: 3, inputShape: [4] });
    const job = await call(ctx, 'models.train', { modelId: `${PREFIX}-mlp-init`, datasetId: ds.id, epochs: 1, batchSize: 16, lr: 0.05, optimizer: 'sgd', momentum: 0.9, weightDecay: 0, schedule: 'constant', seed: 0, saveAs: `${PREFIX}-mlp` });
    const done = await waitFor(
      async () => {
        const j = await call(ctx, 'jobs.get', { id: job.id });
        return ['succeeded', 'failed', 'cancelled'].includes(j.state) ? j : null;
      },
      { timeout: 60_000, interval: 200, message: 'the training job did not finish' },
    );
    assertEqual(done.state, 'succeeded', `training (${done.reason})`);
  }
}

export const tests = [
  {
    name: 'Runs: the method list, SalUn parameters from its schema with defaults, an invalid plan refused by the backend',
    async run(ctx) {
      await ensureFixtures(ctx);
      const { page } = await ctx.open();
      await navigate(page, 'runs', 'Runs');
      await page.click('[data-action="open-wizard"]');
      await page.waitForSelector('[data-testid="unlearning-wizard"] section[data-step="model"]');
      // choose the fixtures (other e2e files may have made more models and forget sets)
      await page.selectOption('[data-field="model"]', `${PREFIX}-mlp`);
      await page.click('[data-action="next"]');
      const form = await page.waitForSelector('[data-testid="unlearning-wizard"] section[data-step="forget-set"]');
      await page.selectOption('[data-field="forget-set"]', { label: await form.$eval('[data-field="forget-set"]', (s, n) => [...s.options].find((o) => o.text.startsWith(`${n} (`)).text, `${PREFIX}-fs`) });
      await page.click('[data-action="next"]');

      await page.waitForSelector('[data-testid="method-list"] [data-method="salun"]');
      const methods = await page.$$eval('[data-testid="method-list"] [data-method]', (els) => els.map((e) => e.getAttribute('data-method')));
      ctx.log(`methods: ${methods.join(', ')}`);
      for (const id of ['ft', 'ga', 'rl', 'salun']) assert(methods.includes(id), `method ${id} is missing from ${methods.join(', ')}`);
      assert(!methods.includes('retrain'), 'the retrain reference is a setting of the plan, not a method to tick');

      assert(!(await page.$('[data-testid="params-salun"]')), 'SalUn parameters shown before SalUn was chosen');
      // keyboard: focus the SalUn checkbox and tick it with the space bar
      await page.focus('[data-method="salun"]');
      await page.keyboard.press('Space');
      const params = await page.waitForSelector('[data-testid="params-salun"]');
      const value = (name) => params.$eval(`#param-salun-${name}`, (i) => i.value);
      assertEqual(await value('maskFraction'), '0.5', 'SalUn maskFraction default');
      assertEqual(await value('epochs'), '10', 'SalUn epochs default');
      assertEqual(await value('lr'), '0.013', 'SalUn lr default');
      assertEqual(await params.$eval('#param-salun-maskFraction', (i) => i.max), '1', 'maskFraction max from the schema');
      const help = await params.$eval('[data-param="maskFraction"] .field-help', (e) => e.textContent);
      assert(help.includes('above 0, at most 1'), `maskFraction help: ${help}`);
      await ctx.screenshot(page, 'runs-form');

      await page.fill('#param-salun-maskFraction', '1.5');
      assertEqual((await params.$eval('[data-param="maskFraction"] [data-testid="param-problem"]', (e) => e.textContent)).trim(), 'maskFraction must be at most 1.', 'the form marks the value');
      assertEqual((await page.textContent('[data-testid="wizard-blocker"]')).trim(), 'SalUn: maskFraction must be at most 1.', 'Next is held back with the reason');
      assert(await page.isDisabled('[data-action="next"]'), 'Next is disabled');
      await page.fill('#param-salun-maskFraction', '0.5');
      await page.click('[data-action="next"]');

      // a guardrail the backend refuses: its sentence on the review step, Launch disabled, nothing submitted
      const before = (await call(ctx, 'jobs.list', {})).length;
      await page.fill('[data-field="guardrail-drop"]', '500');
      const refused = page.waitForResponse((r) => r.url().endsWith('/api/call/unlearning.estimate') && r.status() === 400);
      await page.click('[data-action="next"]');
      assertEqual((await refused).status(), 400, 'HTTP status of the refused plan');
      ctx.expectProblem(/HTTP 400 for .*\/api\/call\/unlearning\.estimate/);
      ctx.expectProblem(/Failed to load resource: the server responded with a status of 400/);
      const error = await page.waitForSelector('[data-testid="estimate-error"]');
      const text = (await error.textContent()).trim();
      ctx.log(`refusal shown: ${text}`);
      assert(/maxDropPoints/.test(text) && /100/.test(text), `plan error: ${text}`);
      assertEqual(await error.getAttribute('role'), 'alert', 'the refusal is announced');
      assert(await page.isDisabled('[data-action="launch"]'), 'Launch is disabled');
      assertEqual((await call(ctx, 'jobs.list', {})).length, before, 'jobs after the refused plan');
      await ctx.screenshot(page, 'runs-form-refused');
    },
  },
];
