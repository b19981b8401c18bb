// Property tests are repeatable (issue 9, point 7): one helper gives every fast-check run a fixed,
// printed seed that LETHE_PROPERTY_SEED overrides, and every fc.assert in the suite uses it.

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_PROPERTY_SEED, propertyParams, propertySeed } from './property';

const ROOT = join(import.meta.dirname, '..');

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : testFiles(p);
    return /\.(ts|mjs)$/.test(e.name) ? [p] : [];
  });
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('propertySeed', () => {
  it('is fixed without the environment, and printed', () => {
    vi.stubEnv('LETHE_PROPERTY_SEED', '');
    vi.stubEnv('LETHE_FC_SEED', '');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    expect(propertySeed('a')).toBe(DEFAULT_PROPERTY_SEED);
    expect(propertySeed('b')).toBe(DEFAULT_PROPERTY_SEED);
    expect(log.mock.calls.map((c) => String(c[0]))).toEqual([
      `[a] fast-check seed ${DEFAULT_PROPERTY_SEED} (fixed); replay or vary with LETHE_PROPERTY_SEED=<n>`,
      `[b] fast-check seed ${DEFAULT_PROPERTY_SEED} (fixed); replay or vary with LETHE_PROPERTY_SEED=<n>`,
    ]);
  });

  it('takes LETHE_PROPERTY_SEED (and the older LETHE_FC_SEED), and refuses a non-integer', () => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.stubEnv('LETHE_PROPERTY_SEED', '2026892465');
    expect(propertySeed('x')).toBe(2026892465 | 0);
    vi.stubEnv('LETHE_PROPERTY_SEED', '');
    vi.stubEnv('LETHE_FC_SEED', '-5');
    expect(propertySeed('x')).toBe(-5);
    vi.stubEnv('LETHE_PROPERTY_SEED', 'soon');
    expect(() => propertySeed('x')).toThrow("LETHE_PROPERTY_SEED must be a 32-bit integer, got 'soon'.");
  });

  it('propertyParams scales the runs with LETHE_PROPERTY_RUNS', () => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.stubEnv('LETHE_PROPERTY_SEED', '7');
    vi.stubEnv('LETHE_PROPERTY_RUNS', '');
    expect(propertyParams('p', 600)).toEqual({ seed: 7, numRuns: 600 });
    vi.stubEnv('LETHE_PROPERTY_RUNS', '20');
    expect(propertyParams('p', 600)).toEqual({ seed: 7, numRuns: 20 });
  });
});

it('every fast-check property in the tests takes its seed from test/property.ts', () => {
  const users = testFiles(join(ROOT, 'test')).filter((f) => /^import [^;]* from 'fast-check';/m.test(readFileSync(f, 'utf8')));
  expect(users.length).toBeGreaterThan(0);
  for (const f of users) {
    const text = readFileSync(f, 'utf8');
    const asserts = text.split(/fc\.assert\(/).length - 1;
    const params = text.split(/propertyParams\(/).length - 1;
    expect(asserts, `${relative(ROOT, f)} runs no property`).toBeGreaterThan(0);
    expect(params, `${relative(ROOT, f)}: every fc.assert needs propertyParams(...) (a fixed, printed seed)`).toBeGreaterThanOrEqual(asserts);
    expect(text, relative(ROOT, f)).not.toMatch(/seed:\s*\d|Math\.random|Date\.now\(\)\s*\^/);
  }
});
