// `npm start`: with an Electron binary (node_modules/electron/path.txt names an existing file in
// node_modules/electron/dist), build the app with electron-vite and open the desktop window.
// Without one (CI machines, offline installs that denied electron's download), build the renderer
// for the browser and serve it on 127.0.0.1: main/server/serve.ts prints the URL to open.
// Extra arguments go to the app, e.g. `npm start -- --workspace ./my-ws`.
// Environment: LETHE_NO_ELECTRON=1 forces the browser path; LETHE_STATIC_DIR builds and serves the
// browser UI from another folder than out/renderer.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const node = process.execPath;

function electronBinary() {
  if (process.env.LETHE_NO_ELECTRON === '1') return null;
  const dir = path.join(root, 'node_modules', 'electron');
  const pathFile = path.join(dir, 'path.txt');
  if (!existsSync(path.join(dir, 'dist')) || !existsSync(pathFile)) return null;
  const exe = path.join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(exe) ? exe : null;
}

function run(label, cmd, cmdArgs) {
  process.stderr.write(`lethe: ${label}...\n`);
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env: process.env });
  if (r.status !== 0) {
    process.stderr.write(`lethe: ${label} failed (${r.error ? r.error.message : `exit code ${r.status}`})\n`);
    process.exit(r.status || 1);
  }
}

/** Run a long-lived child, passing signals on and exiting with its code. */
function launch(cmd, cmdArgs, env = process.env) {
  const child = spawn(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
  child.on('error', (e) => {
    process.stderr.write(`lethe: could not start ${cmd}: ${e.message}\n`);
    process.exit(1);
  });
}

const electron = electronBinary();
if (electron) {
  run('building the desktop app (electron-vite build)', node, [path.join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build']);
  launch(electron, [root, ...args]);
} else {
  process.stderr.write('lethe: no Electron binary here; serving the same UI in your browser instead.\n');
  const outDir = path.resolve(process.env.LETHE_STATIC_DIR || path.join(root, 'out', 'renderer'));
  run('building the UI (vite build -c vite.web.config.ts)', node, [
    path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'),
    'build',
    '-c',
    'vite.web.config.ts',
    '--outDir',
    outDir,
    '--emptyOutDir',
    '--logLevel',
    'warn',
  ]);
  launch(node, ['--import', 'tsx', path.join(root, 'main', 'server', 'serve.ts'), '--static', outDir, ...args]);
}
