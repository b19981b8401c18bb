// Issue 9, point 14: package.json's engines.node states the Node.js that every installed dependency
// accepts (so `npm ci` warns EBADENGINE on none of the versions it allows), and `lethe doctor` says
// which Node.js Lethe needs and whether the running one satisfies it.

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NODE_REQUIREMENT, nodeCheck, nodeSatisfies } from '../../../main/backend/services/node-requirement';
import { propertyParams } from '../../property';

// The `semver` package npm itself uses (installed as a dependency of sharp; it ships no types).
interface SemverVersion { major: number; minor: number; patch: number }
const semver = createRequire(import.meta.url)('semver') as {
  subset(sub: string, dom: string): boolean;
  satisfies(version: string, range: string): boolean;
  minVersion(range: string): SemverVersion | null;
  Range: new (range: string) => { set: { value: string }[][] };
};

const ROOT = path.resolve(__dirname, '../../..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean }>;
};

/** engines.node of every package npm installs here (platform-optional packages that are absent are skipped). */
function dependencyRanges(): { name: string; range: string }[] {
  const out: { name: string; range: string }[] = [];
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (key === '' || Array.isArray(entry.engines) || !entry.engines?.node) continue;
    if (entry.optional && !existsSync(path.join(ROOT, key))) continue;
    out.push({ name: key.replace(/^.*node_modules\//, ''), range: entry.engines.node });
  }
  return out;
}

describe('the Node.js requirement (package.json engines.node)', () => {
  it('is the one the lockfile root declares and the one the code reads', () => {
    expect(NODE_REQUIREMENT).toBe(pkg.engines.node);
    expect((lock.packages[''].engines as { node: string }).node).toBe(pkg.engines.node);
  });

  it('allows only Node.js versions that every installed dependency accepts (no EBADENGINE)', () => {
    const refusing = dependencyRanges().filter((d) => !semver.subset(pkg.engines.node, d.range));
    expect(refusing.map((d) => `${d.name} needs ${d.range}`)).toEqual([]);
  });

  it('is not stricter than the dependencies: just below each lower bound some dependency refuses', () => {
    const ranges = dependencyRanges();
    for (const set of new semver.Range(pkg.engines.node).set) {
      const min = semver.minVersion(set.map((c) => c.value).join(' '))!;
      const below = min.patch > 0 ? `${min.major}.${min.minor}.${min.patch - 1}` : min.minor > 0 ? `${min.major}.${min.minor - 1}.99` : `${min.major - 1}.99.99`;
      expect(ranges.some((d) => !semver.satisfies(below, d.range)), `${below} is refused by a dependency`).toBe(true);
    }
  });

  it('nodeSatisfies agrees with the semver package on every range in the lockfile', () => {
    const ranges = [...new Set([pkg.engines.node, ...dependencyRanges().map((d) => d.range)])];
    const version = fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 30 })).map((v) => v.join('.'));
    fc.assert(
      fc.property(version, fc.constantFrom(...ranges), (v, r) => nodeSatisfies(v, r) === semver.satisfies(v, r)),
      propertyParams('nodeSatisfies vs semver', 5000),
    );
  });

  it('nodeCheck reports the running Node.js against the requirement', () => {
    expect(nodeCheck('20.20.2')).toEqual({ running: '20.20.2', needs: pkg.engines.node, satisfied: semver.satisfies('20.20.2', pkg.engines.node) });
    expect(nodeCheck().satisfied).toBe(semver.satisfies(process.versions.node, pkg.engines.node));
    expect(nodeCheck('99.0.0').satisfied).toBe(true);
    expect(nodeCheck('18.0.0').satisfied).toBe(false);
  });
});
