#!/usr/bin/env node
// End-to-end tests of the browser build in Debian Chromium, driven by playwright-core (no
// @playwright/test runner: it would try to download its own browsers).
//
//   1. builds the web renderer (vite.web.config.ts) into a private temporary folder, so a concurrent
//      `npm start` or build cannot swap files under the test; --no-build serves out/renderer instead
//   2. starts main/server/serve.ts on a fresh temporary workspace and reads the URL it prints
//   3. runs every test in test/e2e/*.e2e.mjs, each in a fresh browser context, failing a test on
//      any console error, uncaught page error or CSP violation
//   4. writes test-results/e2e/results.json ({ passed, failed, tests: [...] }) and screenshots in
//      test-results/e2e/*.png; exits non-zero if a test failed
//
// A test module's test may set `ownWorkspace: true` to run against its own server on a fresh, empty
// workspace (the first-run journey); the others share one workspace in file order.
//
// Flags: --no-build, --filter <substring>, --keep (keep the temporary workspace).

import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT_DIR = path.join(ROOT, 'test-results', 'e2e');
const CHROMIUM = process.env.LETHE_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** The XSS canary: the temporary workspace folder is named after it, so Settings shows it. */
export const XSS_PAYLOAD = '<img src=x onerror=window.__pwned=1>';

const { values: flags } = parseArgs({
  options: {
    'no-build': { type: 'boolean', default: false },
    filter: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
});

function log(line) {
  process.stdout.write(`[e2e] ${line}\n`);
}

function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}\n${output}`))));
  });
}

async function buildRenderer(outDir) {
  const started = Date.now();
  await run(process.execPath, [
    path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'),
    'build',
    '-c',
    'vite.web.config.ts',
    '--outDir',
    outDir,
    '--emptyOutDir',
    '--logLevel',
    'warn',
  ]);
  log(`renderer built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Starts serve.ts and resolves with { url, child, output() } once it prints its URL. */
function startServer(workspace, staticDir) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'main', 'server', 'serve.ts'), '--workspace', workspace], {
      cwd: ROOT,
      env: { ...process.env, LETHE_WORKSPACE: workspace, LETHE_STATIC_DIR: staticDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => fail(new Error(`the server printed no URL within 60 s:\n${output}`)), 60_000);
    function fail(err) {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    }
    const onData = (d) => {
      output += d;
      const m = /Lethe is running at (http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], child, output: () => output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', fail);
    child.on('exit', (code) => fail(new Error(`the server exited with ${code} before printing its URL:\n${output}`)));
  });
}

async function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timeout = new Promise((r) => setTimeout(() => r('timeout'), 5000));
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    log('server did not stop within 5 s of SIGTERM; killing it');
    child.kill('SIGKILL');
    await exited;
  }
}

/** A fresh context and page that has opened the app URL, with error collection wired in. */
async function openApp(browser, url, { colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.url().replace(/token=[^&]*/, 'token=…')}`);
  });
  // CSP violations are reported through this DOM event (and as console errors); both are collected.
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
    });
  });
  const response = await page.goto(url, { waitUntil: 'load' });
  return { context, page, problems, response };
}

async function collectProblems(page, problems) {
  const csp = await page.evaluate(() => window.__cspViolations ?? []).catch(() => []);
  return [...problems, ...csp.map((v) => `CSP violation: ${v}`)];
}

async function loadTests() {
  const dir = path.join(ROOT, 'test', 'e2e');
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.e2e.mjs')).sort();
  const tests = [];
  for (const file of files) {
    const mod = await import(pathToFileURL(path.join(dir, file)).href);
    for (const t of mod.tests ?? []) tests.push({ ...t, file });
  }
  return flags.filter ? tests.filter((t) => t.name.includes(flags.filter)) : tests;
}

async function main() {
  const started = Date.now();
  await fs.mkdir(OUT_DIR, { recursive: true });
  for (const f of await fs.readdir(OUT_DIR)) if (f.endsWith('.png') || f === 'results.json') await fs.rm(path.join(OUT_DIR, f));
  const results = [];
  const write = () =>
    fs.writeFile(
      path.join(OUT_DIR, 'results.json'),
      JSON.stringify(
        {
          passed: results.filter((r) => r.status === 'passed').length,
          failed: results.filter((r) => r.status === 'failed').length,
          durationMs: Date.now() - started,
          tests: results,
        },
        null,
        2,
      ) + '\n',
    );

  let server = null;
  let browser = null;
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lethe-e2e-'));
  const workspace = path.join(tmp, XSS_PAYLOAD);
  try {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set LETHE_CHROMIUM)`);
    let staticDir = path.join(ROOT, 'out', 'renderer');
    if (!flags['no-build']) await buildRenderer((staticDir = path.join(tmp, 'renderer')));
    const tests = await loadTests();
    if (tests.length === 0) throw new Error('no e2e tests matched');
    server = await startServer(workspace, staticDir);
    log(`server at ${server.url.replace(/token=.*/, 'token=…')}, workspace ${workspace}`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });

    for (const test of tests) {
      const t0 = Date.now();
      let opened = null;
      // a test that needs an empty workspace of its own (e.g. the whole first-run journey) gets its own
      // server on a fresh folder; the others share one workspace, in file order
      const own = test.ownWorkspace ? await startServer(path.join(tmp, `own-${results.length}`), staticDir) : null;
      const srv = own ?? server;
      /** problems a test provokes on purpose (e.g. a refused request it asserts on), matched exactly */
      const expected = [];
      const ctx = {
        url: srv.url,
        /** the server's origin and the access token the printed URL carries after `#token=` */
        origin: new URL(srv.url).origin,
        token: new URL(srv.url).hash.slice('#token='.length),
        /**
         * Opens the printed address again in `page` (a fresh document, like a reload; the token lives in
         * the page's memory only, so a plain reload forgets it), at the hash route `route`.
         */
        reopen: async (page, route = '/') => {
          await page.goto('about:blank');
          await page.goto(srv.url.replace('#token=', `#${route}?token=`), { waitUntil: 'load' });
        },
        workspace: own ? path.join(tmp, `own-${results.length}`) : workspace,
        payload: XSS_PAYLOAD,
        screenshot: async (page, name) => page.screenshot({ path: path.join(OUT_DIR, `${name}.png`) }),
        open: async (options) => (opened = await openApp(browser, srv.url, options)),
        log: (line) => log(`  ${line}`),
        expectProblem: (re) => expected.push(re),
      };
      try {
        await test.run(ctx);
        if (opened && !test.allowConsoleErrors) {
          const problems = (await collectProblems(opened.page, opened.problems)).filter((p) => !expected.some((re) => re.test(p)));
          if (problems.length) throw new Error(`the page reported problems:\n  ${problems.join('\n  ')}`);
        }
        results.push({ name: test.name, file: test.file, status: 'passed', durationMs: Date.now() - t0 });
        log(`PASS ${test.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      } catch (err) {
        if (opened) await ctx.screenshot(opened.page, `FAILED-${test.name.replace(/[^a-z0-9]+/gi, '-')}`).catch(() => {});
        results.push({ name: test.name, file: test.file, status: 'failed', durationMs: Date.now() - t0, error: String(err?.stack ?? err) });
        log(`FAIL ${test.name}\n${String(err?.stack ?? err).replace(/^/gm, '       ')}`);
      } finally {
        await opened?.context.close().catch(() => {});
        if (own) await stopServer(own.child);
      }
    }
  } catch (err) {
    results.push({ name: 'e2e setup', file: 'scripts/e2e.mjs', status: 'failed', durationMs: Date.now() - started, error: String(err?.stack ?? err) });
    log(`FAIL e2e setup\n${String(err?.stack ?? err)}`);
    if (server) log(`server output:\n${server.output()}`);
  } finally {
    await browser?.close().catch(() => {});
    if (server) await stopServer(server.child);
    if (!flags.keep) await fs.rm(tmp, { recursive: true, force: true });
    await write();
  }
  const passed = results.filter((r) => r.status === 'passed').length;
  const failed = results.length - passed;
  log(`${passed} passed, ${failed} failed in ${((Date.now() - started) / 1000).toFixed(1)} s (results: test-results/e2e/results.json)`);
  process.exitCode = failed ? 1 : 0;
}

await main();
