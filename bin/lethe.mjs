#!/usr/bin/env node
// `lethe` launcher. Runs the built CLI (out/main/cli.js, made by `npm run build`) when it exists and
// is not older than the sources; otherwise runs main/cli/index.ts from source through tsx (a
// checkout). LETHE_CLI_SOURCE=1 forces the source.

import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const built = path.join(root, 'out', 'main', 'cli.js');
const source = path.join(root, 'main', 'cli', 'index.ts');

/** newest modification time of the .ts sources the CLI is built from */
function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    let names;
    try {
      names = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of names) {
      const p = path.join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else if (d.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(path.join(root, 'main'));
  walk(path.join(root, 'preload'));
  return newest;
}

function useBuilt() {
  if (process.env.LETHE_CLI_SOURCE === '1' || !existsSync(built)) return false;
  if (!existsSync(source)) return true; // installed without sources
  return statSync(built).mtimeMs >= newestSource();
}

let cli;
if (useBuilt()) {
  cli = await import(pathToFileURL(built).href);
} else {
  try {
    const { register } = await import('tsx/esm/api');
    register();
  } catch {
    process.stderr.write('lethe: the CLI is not built and tsx is missing; run `npm install` (and `npm run build`).\n');
    process.exit(1);
  }
  cli = await import(pathToFileURL(source).href);
}
const code = await cli.runCli(process.argv.slice(2));
process.exit(code);
