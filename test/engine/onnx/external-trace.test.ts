// RELIABILITY.md M2: external-data attacks are refused by Lethe's pre-check before any file outside the
// model folder is opened, and onnxruntime never opens an external-data file itself. Checked by tracing
// every open() of the whole process tree with strace (skipped where strace is missing).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const hasStrace = (() => {
  try {
    execFileSync('strace', ['-o', '/dev/null', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasStrace || process.platform !== 'linux')('external data under file-access tracing', () => {
  let root = '';
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'lethe-trace-'));
    mkdirSync(join(root, 'model', 'sub'), { recursive: true });
    writeFileSync(join(root, 'secret.bin'), new Uint8Array(24).fill(9));
    writeFileSync(join(root, 'model', 'weights.bin'), new Uint8Array(24));
    writeFileSync(join(root, 'model', 'sub', 'ok.bin'), new Uint8Array(24));
    symlinkSync(join(root, 'secret.bin'), join(root, 'model', 'link.bin'));
    symlinkSync(root, join(root, 'model', 'up'));
    linkSync(join(root, 'secret.bin'), join(root, 'model', 'hard.bin'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('attack targets are never opened; valid external files are opened once, by Lethe only', () => {
    const attacks = ['../secret.bin', join(root, 'secret.bin'), 'link.bin', 'up/secret.bin', 'hard.bin', 'sub/../../secret.bin', '..\\secret.bin', '/etc/passwd'];
    const valid = ['weights.bin', 'sub/ok.bin'];
    const log = join(root, 'strace.log');
    const child = fileURLToPath(new URL('./fixtures/external-trace-child.ts', import.meta.url));
    const r = spawnSync(
      'strace',
      ['-f', '-qq', '-e', 'trace=open,openat,openat2,creat', '-o', log, process.execPath, '--import', 'tsx', child, join(root, 'model'), ...attacks, ...valid],
      { encoding: 'utf8', timeout: 90_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const outcomes = JSON.parse(r.stdout.trim().split('\n').pop()!);
    for (const a of attacks) expect(outcomes[a], a).toBe('external_data');
    for (const v of valid) expect(outcomes[v], v).toBe('loaded');
    const opens = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => /open(at2?)?\(|creat\(/.test(l) && !/ENOENT/.test(l));
    const opened = (needle: string) => opens.filter((l) => l.includes(needle));
    expect(opened('secret.bin')).toEqual([]);
    expect(opened('link.bin')).toEqual([]);
    expect(opened('hard.bin')).toEqual([]);
    expect(opened('/etc/passwd')).toEqual([]);
    // one open each, by our reader (O_NOFOLLOW); onnxruntime received inlined bytes and opened nothing
    expect(opened('weights.bin')).toHaveLength(1);
    expect(opened('ok.bin')).toHaveLength(1);
    expect(opened('weights.bin')[0]).toMatch(/O_NOFOLLOW/);
  });
});
