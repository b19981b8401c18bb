// Stale-lock takeover race (issue 9, point 2): several processes that start at the same moment and
// all find the same stale workspace lock (a dead pid, or an old unreadable file) must let exactly one
// of them in; the others get the normal "in use by another Lethe process" refusal. Long-lived racer
// processes (test/backend/fixtures/lock-racer.ts) are loaded once and told when to race, so a trial
// costs milliseconds, not a process start.
// LETHE_LOCK_MODULE=<path> races another implementation of the lock (to show the test catches a bad one).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';

const TRIALS = 100;
const RACERS = 3;
const RACER = join(import.meta.dirname, '../fixtures/lock-racer.ts');
/** above Linux's largest pid_max (2^22): never a live process */
const DEAD_PID = 2_000_000_000;
const root = mkdtempSync(join(tmpdir(), 'lethe-lock-race-'));

interface Racer {
  child: ChildProcess;
  next(): Promise<string>;
  stderr: string;
}

function startRacer(): Promise<Racer> {
  const args = ['--import', 'tsx', RACER, ...(process.env.LETHE_LOCK_MODULE ? [process.env.LETHE_LOCK_MODULE] : [])];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiting: ((l: string) => void)[] = [];
  const r: Racer = {
    child,
    stderr: '',
    next: () => new Promise((resolve) => (lines.length ? resolve(lines.shift()!) : waiting.push(resolve))),
  };
  let buf = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiting.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  child.stderr!.on('data', (d) => (r.stderr += d));
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w(`EXIT ${code} ${r.stderr}`);
  });
  return r.next().then((l) => {
    if (l !== 'LOADED') throw new Error(`racer did not load: ${l}`);
    return r;
  });
}

let racers: Racer[] = [];
beforeAll(async () => {
  racers = await Promise.all(Array.from({ length: RACERS }, startRacer));
}, 60_000);
afterAll(() => {
  for (const r of racers) r.child.stdin!.end();
  rmSync(root, { recursive: true, force: true });
});

test(`${TRIALS} trials of ${RACERS} processes taking over the same stale lock at once: exactly one wins each`, async () => {
  const started = Date.now();
  const outcomes: string[] = [];
  for (let trial = 0; trial < TRIALS; trial++) {
    const dir = join(root, String(trial));
    mkdirSync(dir);
    const lock = join(dir, 'lock');
    if (trial % 4 === 3) {
      // a lock file cut short by a crash mid-write, long ago
      writeFileSync(lock, '{"pid":12');
      const old = new Date(Date.now() - 3_600_000);
      utimesSync(lock, old, old);
    } else {
      writeFileSync(lock, JSON.stringify({ pid: DEAD_PID, host: hostname(), startedAt: '2020-01-01T00:00:00.000Z' }));
    }
    const at = Date.now() + 40;
    for (const r of racers) r.child.stdin!.write(`GO ${lock} ${at}\n`);
    const results = await Promise.all(racers.map((r) => r.next()));
    const winners = racers.filter((_, i) => results[i] === 'WIN');
    const losers = results.filter((l) => l !== 'WIN');
    outcomes.push(`${trial}: ${results.map((l) => l.split(' ')[0]).join(' ')}`);
    expect(winners.length, `trial ${trial}: ${results.join(' | ')}`).toBe(1);
    for (const l of losers) expect(l).toMatch(/^LOSE The workspace at .* is in use by another Lethe process \(pid \d+\)/);
    // the lock names the winner, and no moved-aside or half-made lock file is left behind
    expect(readdirSync(dir)).toEqual(['lock']);
    winners[0]!.child.stdin!.write('RELEASE\n');
    expect(await winners[0]!.next()).toBe('RELEASED');
    expect(readdirSync(dir)).toEqual([]);
  }
  console.log(`lock race: ${TRIALS} trials in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}, 120_000);

test('files left beside the lock by a process that died mid-acquire are removed by the next owner', async () => {
  const { WorkspaceLock } = await import('../../../main/backend/workspace/lock');
  const dir = join(root, 'leftovers');
  mkdirSync(dir);
  const lock = join(dir, 'lock');
  writeFileSync(join(dir, `lock.new-${DEAD_PID}-0123456789ab`), '{"pid":');
  writeFileSync(join(dir, `lock.stale-${DEAD_PID}-0123456789ab`), '{}');
  writeFileSync(join(dir, `lock.stale-${process.ppid}-0123456789ab`), '{}'); // a live process's: kept
  writeFileSync(join(dir, 'lock.notes'), 'not ours');
  const held = await WorkspaceLock.acquire(lock);
  expect(readdirSync(dir).sort()).toEqual(['lock', 'lock.notes', `lock.stale-${process.ppid}-0123456789ab`]);
  await held.release();
});
