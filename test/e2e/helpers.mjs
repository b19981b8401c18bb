// Small assertion helpers for the e2e tests (run by scripts/e2e.mjs, in Node, against Chromium).

export function assert(condition, message) {
  if (!condition) throw new Error(message);
}

export function assertEqual(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/** Polls `fn` until it returns a truthy value; throws `message` (plus the last value) on timeout. */
export async function waitFor(fn, { timeout = 10_000, interval = 50, message = 'condition not met' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`${message} (after ${timeout} ms; last value ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** Clicks a sidebar item and waits for its page heading. */
export async function navigate(page, name, heading) {
  await page.click(`nav [data-nav="${name}"]`);
  await page.waitForSelector(`.page-header h1:text-is("${heading}")`, { timeout: 5000 });
}

/** Calls the API as the page does (POST /api/call/<method> with the launch token); returns the result or throws its message. */
export async function apiCall(ctx, method, args) {
  const res = await fetch(`${ctx.origin}/api/call/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-lethe-client': '1', 'x-lethe-token': ctx.token },
    body: JSON.stringify(args),
  });
  const body = await res.json();
  if (!body.ok) throw new Error(`${method} failed: ${body.error.message}`);
  return body.result;
}

/** Waits until job `id` reaches an end state; returns it. */
export async function jobEnded(ctx, id, timeout = 120_000) {
  return waitFor(
    async () => {
      const j = await apiCall(ctx, 'jobs.get', { id });
      return ['succeeded', 'failed', 'cancelled', 'interrupted'].includes(j.state) ? j : null;
    },
    { timeout, interval: 200, message: `job ${id} did not finish` },
  );
}

/**
 * A small CSV dataset in the workspace (4 features, `classes` classes named c0…, `rows` rows), imported
 * through the API once per name; returns its summary.
 */
export async function tinyCsvDataset(ctx, name, { rows = 400, classes = 3 } = {}) {
  const found = (await apiCall(ctx, 'datasets.list', {})).find((d) => d.name === name);
  if (found) return found;
  const { promises: fs } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lethe-e2e-csv-'));
  const file = path.join(dir, 'tiny.csv');
  const lines = Array.from({ length: rows }, (_, i) => `${(i % 7) / 7},${(i % 5) / 5},${(i % classes) / classes},${(i % 11) / 11},c${i % classes}`);
  await fs.writeFile(file, ['f1,f2,f3,f4,label', ...lines].join('\n') + '\n');
  const job = await apiCall(ctx, 'datasets.import', { format: 'csv', source: file, name });
  const done = await jobEnded(ctx, job.id, 60_000);
  await fs.rm(dir, { recursive: true, force: true });
  if (done.state !== 'succeeded') throw new Error(`CSV import ${name}: ${done.state} (${done.reason})`);
  return (await apiCall(ctx, 'datasets.list', {})).find((d) => d.name === name);
}
