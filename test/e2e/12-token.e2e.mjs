// The access token stays with Lethe (issue 9, point 1). Browsers do not scope cookies by port, so a
// token cookie would reach every other program listening on 127.0.0.1 that the browser visits, and a
// page on another local port could plant a `lethe_token` cookie that locks the UI out. Here a SECOND
// local HTTP listener, visited in the same browser context after the app loaded, must receive the
// token in no cookie, header, URL or body; after a page on that port sets a `lethe_token` cookie for
// 127.0.0.1, the app keeps working (and a fresh load of the printed address too).
import http from 'node:http';
import { assert, assertEqual, navigate, waitFor } from './helpers.mjs';

/** A plain local listener that records every request it gets; `/plant` sets a lethe_token cookie. */
async function startOtherListener() {
  const seen = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.rawHeaders, body: Buffer.concat(chunks).toString('utf8') });
      const headers = { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' };
      if (req.url.startsWith('/plant')) headers['Set-Cookie'] = 'lethe_token=planted-by-another-port; Path=/';
      res.writeHead(200, headers);
      // the page also sends a request of its own, with whatever cookies the browser attaches
      res.end(`<!doctype html><title>other</title><p>another local program</p><img src="/pixel.gif" alt="">`);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: server.address().port, seen, close: () => new Promise((r) => server.close(r)) };
}

/** The app has loaded and its API works: Settings shows the workspace folder the backend reports. */
async function appWorks(page, ctx) {
  await navigate(page, 'settings', 'Settings');
  const root = await waitFor(async () => (await page.textContent('[data-testid="workspace-root"]'))?.trim(), { message: 'Settings shows no workspace folder' });
  assert(root.endsWith(ctx.payload), `workspace folder shown as ${JSON.stringify(root)}`);
}

export const tests = [
  {
    name: 'token: no other local listener receives it, the address drops it, a planted lethe_token cookie changes nothing',
    async run(ctx) {
      const other = await startOtherListener();
      try {
        const { page, context } = await ctx.open();
        const apiRequests = [];
        page.on('request', (r) => {
          if (new URL(r.url()).pathname.startsWith('/api/')) apiRequests.push(r);
        });
        await page.waitForSelector('.page-header h1:text-is("Datasets")');
        await appWorks(page, ctx);

        // the address (and so history, bookmarks and the Referer of any link) no longer holds the token
        const url = page.url();
        assert(!url.includes(ctx.token) && !/token/i.test(url), `the address still holds the token: ${url.replace(ctx.token, '<token>')}`);
        assertEqual(new URL(url).hash, '#/settings', 'hash route after load');
        const cookies = await context.cookies();
        assertEqual(cookies.length, 0, `cookies in the context after load (${cookies.map((c) => c.name).join(', ')})`);
        const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
        assert(!stored.includes(ctx.token), 'the token was written to web storage');

        // another local program, visited in the same browser context after the app loaded
        const visitor = await context.newPage();
        await visitor.goto(`http://127.0.0.1:${other.port}/hello?from=test`, { waitUntil: 'load' });
        await visitor.goto(`http://127.0.0.1:${other.port}/plant`, { waitUntil: 'load' });
        await visitor.goto(`http://127.0.0.1:${other.port}/after-plant`, { waitUntil: 'load' });
        await waitFor(() => other.seen.some((r) => r.url === '/after-plant'), { message: 'the other listener saw no request' });
        ctx.log(`the other listener saw ${other.seen.length} requests`);
        for (const r of other.seen) {
          const text = JSON.stringify(r);
          assert(!text.includes(ctx.token), `the other listener received the token in ${r.method} ${r.url}: ${text.replace(ctx.token, '<token>')}`);
        }
        const cookieHeaders = (r) => r.headers.filter((_, i) => i % 2 === 1 && r.headers[i - 1].toLowerCase() === 'cookie');
        const firstCookies = other.seen.filter((r) => r.url === '/hello?from=test').flatMap(cookieHeaders);
        assertEqual(firstCookies.length, 0, 'cookie headers sent to the other listener before any was planted');
        const planted = (await context.cookies()).filter((c) => c.name === 'lethe_token');
        assertEqual(planted.length, 1, 'lethe_token cookies planted for 127.0.0.1');
        await visitor.close();

        // the app keeps working: its API requests carry the header and no cookie
        apiRequests.length = 0;
        await navigate(page, 'models', 'Models');
        await appWorks(page, ctx);
        const themeSaved = page.waitForResponse((r) => r.url().endsWith('/api/call/settings.update') && r.ok());
        await page.click('[data-theme-option="dark"]');
        await themeSaved;
        const restored = page.waitForResponse((r) => r.url().endsWith('/api/call/settings.update') && r.ok());
        await page.click('[data-theme-option="light"]');
        await restored;
        assert(apiRequests.length > 0, 'no API request after the cookie was planted');
        for (const r of apiRequests) {
          const headers = await r.allHeaders();
          assert(!('cookie' in headers), `an API request carried a cookie: ${r.url()}`);
          assertEqual(headers['x-lethe-token'], ctx.token, `X-Lethe-Token of ${r.url()}`);
        }

        // a fresh load of the printed address works with the planted cookie present
        await ctx.reopen(page, '/datasets');
        await page.waitForSelector('[data-testid="import-sample"]:not([disabled])', { timeout: 10_000 });
        await appWorks(page, ctx);
        assert(!page.url().includes(ctx.token), 'the address holds the token after reopening');

        // the token lived in the page's memory only: a reload forgets it, and the page says what to do
        ctx.expectProblem(/^HTTP 403 for .*\/api\//);
        ctx.expectProblem(/^console error: Failed to load resource: .*403/);
        await page.reload();
        const banner = await page.waitForSelector('.banner[role="alert"]', { timeout: 10_000 });
        const text = await banner.textContent();
        assert(/open the address that `npm start` or `lethe serve` printed/.test(text), `banner after a reload: ${text}`);
      } finally {
        await other.close();
      }
    },
  },
];
