// Issue 9, point 6: the Electron fuses (RELIABILITY.md S4). main/electron/fuses.ts declares them;
// scripts/fuses.ts flips them with @electron/fuses at packaging time and reads them back. The real
// Electron binary cannot be downloaded here, so the packaging step runs on a file laid out like one
// (bytes, the fuse sentinel, the V1 wire of Electron 45: 9 fuses) and is read back by @electron/fuses.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FuseState, FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import { afterAll, describe, expect, it } from 'vitest';
import { LETHE_FUSES, fuseConfig } from '../../main/electron/fuses';
import { applyLetheFuses, readLetheFuses } from '../../scripts/fuses';

const ROOT = path.resolve(__dirname, '../..');
const dir = mkdtempSync(path.join(tmpdir(), 'lethe-fuses-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
const WIRE_LENGTH = Object.keys(FuseV1Options).filter((k) => Number.isNaN(Number(k))).length;

/** A file shaped like an Electron binary: padding, the sentinel, version 1, the wire length, every fuse as shipped (on). */
function fakeElectron(name: string, wire: number[] = Array(WIRE_LENGTH).fill(FuseState.ENABLE)): string {
  const p = path.join(dir, name);
  writeFileSync(p, Buffer.concat([Buffer.alloc(4096, 0x7f), Buffer.from(SENTINEL), Buffer.from([1, wire.length, ...wire]), Buffer.alloc(4096, 0x20)]));
  return p;
}

describe('Electron fuses of the packaged app', () => {
  it.each([
    ['RunAsNode', false],
    ['EnableNodeOptionsEnvironmentVariable', false],
    ['EnableNodeCliInspectArguments', false],
    ['EnableCookieEncryption', true],
    ['EnableEmbeddedAsarIntegrityValidation', true],
    ['OnlyLoadAppFromAsar', true],
    ['GrantFileProtocolExtraPrivileges', false],
  ] as const)('declares %s = %s', (name, value) => {
    expect(LETHE_FUSES[name]).toBe(value);
  });

  it('decides every fuse @electron/fuses knows (none inherits a default) and strictly requires all', () => {
    const known = Object.keys(FuseV1Options).filter((k) => Number.isNaN(Number(k)));
    expect(Object.keys(LETHE_FUSES).sort()).toEqual(known.sort());
    const cfg = fuseConfig(FuseV1Options as unknown as Record<string, number>, '1');
    expect(cfg.strictlyRequireAllFuses).toBe(true);
    for (const name of known) expect(cfg[FuseV1Options[name as keyof typeof FuseV1Options]]).toBe(LETHE_FUSES[name as keyof typeof LETHE_FUSES]);
  });

  it('the packaging step flips a binary to the declared values and reads each one back', async () => {
    const bin = fakeElectron('electron');
    const before = readFileSync(bin);
    expect(await readLetheFuses(bin)).toEqual(Object.fromEntries(Object.keys(LETHE_FUSES).map((k) => [k, true])));
    expect(await applyLetheFuses(bin)).toEqual(LETHE_FUSES);
    // read independently with @electron/fuses itself
    const wire = (await getCurrentFuseWire(bin)) as unknown as Record<number, number>;
    for (const [name, on] of Object.entries(LETHE_FUSES)) expect(wire[FuseV1Options[name as keyof typeof FuseV1Options]], name).toBe(on ? FuseState.ENABLE : FuseState.DISABLE);
    // only the wire changed
    const after = readFileSync(bin);
    const at = before.indexOf(SENTINEL) + SENTINEL.length + 2;
    expect(after.subarray(0, at)).toEqual(before.subarray(0, at));
    expect(after.subarray(at + WIRE_LENGTH)).toEqual(before.subarray(at + WIRE_LENGTH));
  });

  it('refuses a binary whose wire has a fuse it does not know (a newer Electron must be decided first)', async () => {
    const bin = fakeElectron('newer', Array(WIRE_LENGTH + 1).fill(FuseState.ENABLE));
    await expect(applyLetheFuses(bin)).rejects.toThrow(/strictlyRequireAllFuses|not long enough|provided a config for/);
  });

  it('is a packaging step: npm run fuses runs scripts/fuses.ts, and @electron/fuses is a declared dev dependency', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.fuses).toBe('tsx scripts/fuses.ts');
    expect(pkg.devDependencies['@electron/fuses']).toMatch(/^\^2\./);
  });
});
