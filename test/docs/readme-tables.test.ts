import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withTables } from '../../main/engine/docs/reference-tables';
import { METHODS } from '../../main/engine/unlearn/registry';
import { METRICS } from '../../main/engine/eval';

describe('README reference tables', () => {
  it('document every method and metric exactly as their descriptors define them (npm run docs regenerates)', () => {
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
    expect(withTables(readme)).toBe(readme);
    for (const m of METHODS) expect(readme).toContain(`| \`${m.id}\` |`);
    for (const m of METRICS) expect(readme).toContain(`| \`${m.id}\` |`);
  });
});
