// Which Node.js Lethe needs, and whether the running one satisfies it. The one definition is
// package.json's `engines.node`; test/backend/services/node-requirement.test.ts keeps it equal to
// what every installed dependency declares (so `npm ci` warns EBADENGINE on no supported Node).
// The checker handles the range forms npm uses in engines fields (`||` of space-separated
// comparators `^x.y.z`, `~x.y.z`, `>=`, `>`, `<=`, `<`, `=` or a bare version, partial versions
// such as `22` or `20.19`); the test compares it with the `semver` package on many versions.

import pkg from '../../../package.json';

/** package.json's engines.node: the Node.js versions Lethe needs. */
export const NODE_REQUIREMENT: string = (pkg as { engines?: { node?: string } }).engines?.node ?? '*';

type Version = [number, number, number];

function parse(v: string): { v: Version; parts: number } | null {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(v.trim());
  if (!m) return null;
  const parts = m[3] !== undefined ? 3 : m[2] !== undefined ? 2 : 1;
  return { v: [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)], parts };
}

function cmp(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** The exclusive upper bound of a partial version (`22` -> 23.0.0, `20.19` -> 20.20.0). */
function bumpPartial(v: Version, parts: number): Version {
  if (parts === 1) return [v[0] + 1, 0, 0];
  if (parts === 2) return [v[0], v[1] + 1, 0];
  return v;
}

function comparator(c: string, x: Version): boolean {
  const m = /^(\^|~|>=|<=|>|<|=)?\s*(.+)$/.exec(c);
  if (!m) throw new Error(`unsupported Node.js range comparator '${c}'`);
  if (m[2] === '*' || m[2] === 'x') return true;
  const p = parse(m[2]);
  if (!p) throw new Error(`unsupported Node.js range comparator '${c}'`);
  const v = p.v;
  switch (m[1]) {
    case '>=': return cmp(x, v) >= 0;
    case '>': return p.parts === 3 ? cmp(x, v) > 0 : cmp(x, bumpPartial(v, p.parts)) >= 0;
    case '<': return cmp(x, v) < 0;
    case '<=': return p.parts === 3 ? cmp(x, v) <= 0 : cmp(x, bumpPartial(v, p.parts)) < 0;
    case '^': {
      const upper: Version = v[0] > 0 ? [v[0] + 1, 0, 0] : v[1] > 0 || p.parts < 3 ? [0, v[1] + 1, 0] : [0, 0, v[2] + 1];
      return cmp(x, v) >= 0 && cmp(x, p.parts === 1 ? [v[0] + 1, 0, 0] : upper) < 0;
    }
    case '~': return cmp(x, v) >= 0 && cmp(x, p.parts === 1 ? [v[0] + 1, 0, 0] : [v[0], v[1] + 1, 0]) < 0;
    default: return cmp(x, v) >= 0 && cmp(x, bumpPartial(v, p.parts)) < 0 && (p.parts < 3 || cmp(x, v) === 0);
  }
}

/** Whether Node.js `version` (e.g. process.versions.node) satisfies `range` (an engines.node value). */
export function nodeSatisfies(version: string, range: string = NODE_REQUIREMENT): boolean {
  const p = parse(version);
  if (!p) return false;
  return range.split('||').some((set) => {
    const comps = set.trim().replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1').split(/\s+/).filter(Boolean);
    return comps.length === 0 || comps.every((c) => comparator(c, p.v));
  });
}

export interface NodeCheck {
  /** the running Node.js */
  running: string;
  /** the range Lethe needs (package.json engines.node) */
  needs: string;
  satisfied: boolean;
}

export function nodeCheck(running: string = process.versions.node): NodeCheck {
  return { running, needs: NODE_REQUIREMENT, satisfied: nodeSatisfies(running) };
}
