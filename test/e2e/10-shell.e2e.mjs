// The renderer shell against the real web server and backend: navigation, empty states, a real job
// (Settings -> Test this machine) whose progress bar moves and which is cancelled, both themes, and
// an XSS canary. Screenshots go to test-results/e2e/.
import { assert, assertEqual, navigate, waitFor } from './helpers.mjs';

const PAGES = [
  ['datasets', 'Datasets'],
  ['models', 'Models'],
  ['forget-sets', 'Forget sets'],
  ['runs', 'Runs'],
  ['compare', 'Compare'],
  ['reports', 'Reports'],
  ['settings', 'Settings'],
];

/** The progress value (aria-valuenow, 0-100) and bar width (% of the track) of the job row `id`. */
async function progressOf(page, id) {
  return page.evaluate((jobId) => {
    const bar = document.querySelector(`[data-job-id="${jobId}"] [role="progressbar"]`);
    if (!bar) return null;
    const fill = bar.querySelector('.fill');
    const now = bar.getAttribute('aria-valuenow');
    // the width the bar is set to (its CSS transition makes the painted width lag behind)
    return { now: now === null ? null : Number(now), width: fill ? parseFloat(fill.style.width) || 0 : 0 };
  }, id);
}

export const tests = [
  {
    name: 'serves the app with the strict CSP and shows every page with an empty state',
    async run(ctx) {
      const { page, response } = await ctx.open();
      assertEqual(response.status(), 200, 'status of the printed URL');
      const csp = response.headers()['content-security-policy'] ?? '';
      assert(/script-src 'self'/.test(csp) && !/unsafe-inline|unsafe-eval/.test(csp), `weak or missing CSP header: ${csp}`);
      await page.waitForSelector('.page-header h1:text-is("Datasets")');
      const empty = await page.textContent('[data-testid="empty-state"]');
      assert(empty.includes('Start with the Fashion-MNIST sample'), `Datasets empty state: ${empty}`);
      await page.waitForSelector('[data-testid="import-sample"]:not([disabled])', { timeout: 5000 });
      await ctx.screenshot(page, 'datasets-light');
      for (const [name, heading] of PAGES) {
        await navigate(page, name, heading);
        assert((await page.getAttribute(`nav [data-nav="${name}"]`, 'class')).includes('active'), `${heading} is not highlighted in the sidebar`);
        // each page lists its items first ("Loading …"), then shows its empty state: wait for it, do not sample once
        if (name !== 'settings') {
          const shown = await page
            .waitForSelector('[data-testid="empty-state"]', { state: 'visible', timeout: 10_000 })
            .then(() => true, () => false);
          assert(shown, `${heading} has no empty state`);
        }
      }
      assertEqual(await page.title(), 'Settings · Lethe', 'document title');
      // a route in the printed address is kept (hash history) once the token is taken out of it
      await ctx.reopen(page, '/settings');
      await page.waitForSelector('.page-header h1:text-is("Settings")');
      assertEqual(new URL(page.url()).hash, '#/settings', 'address after reopening at a route');
    },
  },
  {
    name: 'Test this machine: the job progress bar moves, Cancel ends it cancelled',
    async run(ctx) {
      const { page } = await ctx.open();
      await navigate(page, 'settings', 'Settings');
      // 400 multiplications of 256x256 matrices: 0.25% of progress per matmul, and minutes of work on
      // a busy 2-core machine, so the job is still running when Cancel is clicked
      await page.selectOption('.machine-test select >> nth=0', '256');
      await page.selectOption('.machine-test select >> nth=1', '400');
      await page.click('[data-testid="test-machine"]');
      const row = await page.waitForSelector('#jobs-list [data-job-id]', { timeout: 10_000 });
      const id = await row.getAttribute('data-job-id');
      assert(await page.isVisible('#jobs-list'), 'the jobs panel opens when a job starts');
      const first = await waitFor(
        async () => {
          const p = await progressOf(page, id);
          return p && p.now !== null && p.now > 0 ? p : null;
        },
        { timeout: 30_000, message: 'the progress bar never left 0' },
      );
      ctx.log(`progress ${first.now}% (bar width ${first.width}%)`);
      const later = await waitFor(
        async () => {
          const p = await progressOf(page, id);
          return p && p.now >= first.now + 1 ? p : null;
        },
        { timeout: 30_000, message: `the progress bar did not move a visible step past ${first.now}%` },
      );
      ctx.log(`progress ${later.now}% (bar width ${later.width}%)`);
      assert(later.width > first.width, `the bar width did not grow (${first.width}% -> ${later.width}%)`);
      // and what is painted follows once the CSS transition has run
      const painted = () =>
        page.evaluate((jobId) => {
          const el = document.querySelector(`[data-job-id="${jobId}"] [role="progressbar"]`);
          return el.querySelector('.fill').getBoundingClientRect().width / el.getBoundingClientRect().width;
        }, id);
      await waitFor(async () => (await painted()) * 100 >= later.width - 0.5, { timeout: 3000, message: 'the painted bar lags behind its value' });
      assertEqual(await page.getAttribute(`[data-job-id="${id}"]`, 'data-state'), 'running', 'job state while it runs');
      await page.waitForSelector(`[data-job-id="${id}"] [data-metric="step"]`);
      await ctx.screenshot(page, 'job-running-light');

      const cancelledAt = Date.now();
      await page.click(`[data-job-id="${id}"] [data-action="cancel"]`);
      await page.waitForSelector(`[data-job-id="${id}"][data-state="cancelled"]`, { timeout: 8000 });
      const took = Date.now() - cancelledAt;
      ctx.log(`cancelled after ${took} ms`);
      assert(took < 6000, `cancel took ${took} ms (must end the job within 5 s)`);
      assertEqual((await page.textContent(`[data-job-id="${id}"] .badge`)).trim(), 'Cancelled', 'badge text');
      assert(!(await page.isVisible(`[data-job-id="${id}"] [data-action="cancel"]`)), 'Cancel stays visible after the job ended');
      const stopped = await progressOf(page, id);
      await new Promise((r) => setTimeout(r, 700));
      assertEqual((await progressOf(page, id)).now, stopped.now, 'progress after cancel');
      await ctx.screenshot(page, 'job-cancelled-light');
    },
  },
  {
    name: 'dark theme: Settings switches it, the backend keeps it across reloads',
    async run(ctx) {
      const { page } = await ctx.open();
      await navigate(page, 'settings', 'Settings');
      const lightBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      const saved = page.waitForResponse((r) => r.url().endsWith('/api/call/settings.update') && r.ok());
      await page.click('[data-theme-option="dark"]');
      await waitFor(() => page.evaluate(() => document.documentElement.dataset.theme === 'dark'), { message: 'html[data-theme] did not become dark' });
      await saved; // the backend has stored it before the reload
      const darkBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert(darkBg !== lightBg, `background did not change (${lightBg} -> ${darkBg})`);
      await ctx.reopen(page, '/settings');
      await page.waitForSelector('.page-header h1:text-is("Settings")');
      await waitFor(() => page.evaluate(() => document.documentElement.dataset.theme === 'dark'), { message: 'dark theme lost on reload' });
      assertEqual(await page.getAttribute('[data-theme-option="dark"]', 'aria-checked'), 'true', 'Dark is checked after reload');
      await page.click('[data-testid="jobs-toggle"]');
      await page.waitForSelector('#jobs-list', { state: 'visible' });
      await ctx.screenshot(page, 'settings-dark');
      await navigate(page, 'datasets', 'Datasets');
      await ctx.screenshot(page, 'datasets-dark');
      // 'system' follows the browser's colour scheme (this context prefers light)
      await navigate(page, 'settings', 'Settings');
      await page.click('[data-theme-option="system"]');
      await waitFor(() => page.evaluate(() => document.documentElement.dataset.theme === 'light'), { message: "'system' did not follow prefers-color-scheme: light" });
      await page.emulateMedia({ colorScheme: 'dark' });
      await waitFor(() => page.evaluate(() => document.documentElement.dataset.theme === 'dark'), { message: "'system' did not follow prefers-color-scheme: dark" });
      const restored = page.waitForResponse((r) => r.url().endsWith('/api/call/settings.update') && r.ok());
      await page.click('[data-theme-option="light"]');
      await waitFor(() => page.evaluate(() => document.documentElement.dataset.theme === 'light'), { message: 'light theme did not come back' });
      await restored;
    },
  },
  {
    name: 'XSS canary: a hostile job title and workspace path render as text',
    async run(ctx) {
      const { page } = await ctx.open();
      await navigate(page, 'settings', 'Settings');
      // the temporary workspace folder is named after the payload
      // the folder comes from workspace.info, which may still be on its way ('…'): wait for it, do not sample once
      const readRoot = () => page.textContent('[data-testid="workspace-root"]');
      await waitFor(async () => (await readRoot()).endsWith(ctx.payload), { timeout: 10_000 }).catch(() => {});
      const root = await readRoot();
      assert(root.endsWith(ctx.payload), `workspace path shown as ${JSON.stringify(root)}`);
      // a job whose title is the payload, submitted straight to the API like any client could
      const reply = await page.evaluate(
        async ({ title, token }) => {
          const res = await fetch('/api/call/jobs.submit', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', 'X-Lethe-Client': '1', 'X-Lethe-Token': token },
            body: JSON.stringify({ kind: 'diagnostics.stress', title, params: { iterations: 1, size: 16 } }),
          });
          return res.json();
        },
        { title: ctx.payload, token: ctx.token },
      );
      assert(reply.ok, `jobs.submit failed: ${JSON.stringify(reply)}`);
      await page.click('[data-testid="jobs-toggle"]');
      const title = await page.waitForSelector(`[data-job-id="${reply.result.id}"] .title`);
      assertEqual(await title.textContent(), ctx.payload, 'job title text');
      await page.waitForTimeout(500); // give an injected onerror handler time to fire, if there were one
      const state = await page.evaluate(() => ({ pwned: window.__pwned ?? null, imgs: document.querySelectorAll('img').length }));
      assertEqual(state.pwned, null, 'window.__pwned');
      assertEqual(state.imgs, 0, 'number of <img> elements');
      await ctx.screenshot(page, 'xss-canary');
    },
  },
];
