// npm run docs: regenerate the README's method and metric tables from the descriptors.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withTables } from '../main/engine/docs/reference-tables';

const file = join(import.meta.dirname, '..', 'README.md');
const before = readFileSync(file, 'utf8');
const after = withTables(before);
if (after !== before) writeFileSync(file, after);
console.log(after === before ? 'README.md tables are up to date' : 'README.md tables updated');
