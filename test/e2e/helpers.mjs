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
