// `npm run serve` / `lethe serve`: open the workspace, start the backend and the web server on
// 127.0.0.1, print the URL to open, and shut down cleanly on SIGINT/SIGTERM.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createBackend } from '../backend/service';
import { defaultWorkspaceRoot } from '../backend/workspace';
import { startServer } from './server';
import type { RunningServer } from './server';

export interface ServeOptions {
  workspaceRoot: string;
  staticDir?: string;
  port?: number;
  /** where the URL line goes (default: stdout) */
  print?: (line: string) => void;
  /** install SIGINT/SIGTERM handlers that close everything and exit (default true) */
  handleSignals?: boolean;
}

/** out/renderer of this checkout: main/server/serve.ts and out/main/serve.js both sit two levels below the root. */
export function defaultStaticDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return process.env.LETHE_STATIC_DIR || path.resolve(here, '../../out/renderer');
}

export async function serve(opts: ServeOptions): Promise<{ server: RunningServer; close(): Promise<void> }> {
  const print = opts.print ?? ((line: string) => process.stdout.write(line + '\n'));
  const staticDir = path.resolve(opts.staticDir ?? defaultStaticDir());
  const backend = await createBackend({ workspaceRoot: path.resolve(opts.workspaceRoot), shell: 'web' });
  let server: RunningServer;
  try {
    server = await startServer({ backend, staticDir, port: opts.port ?? 0 });
  } catch (e) {
    await backend.close();
    throw e;
  }
  if (!existsSync(path.join(staticDir, 'index.html'))) {
    process.stderr.write(`lethe: warning: ${staticDir} has no index.html; build the renderer with \`npm run build:web\`.\n`);
  }
  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      await server.close();
      await backend.close();
    })());
  if (opts.handleSignals !== false) {
    const onSignal = (signal: NodeJS.Signals) => {
      process.stderr.write(`lethe: ${signal} received, shutting down\n`);
      close().then(
        () => process.exit(0),
        (e) => {
          process.stderr.write(`lethe: shutdown failed: ${(e as Error).message}\n`);
          process.exit(1);
        },
      );
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  print(`Lethe is running at ${server.url}`);
  return { server, close };
}

async function main() {
  const { values } = parseArgs({
    options: {
      workspace: { type: 'string' },
      static: { type: 'string' },
      port: { type: 'string' },
    },
    strict: true,
  });
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be an integer from 0 to 65535, got ${values.port}`);
  await serve({
    workspaceRoot: values.workspace ?? defaultWorkspaceRoot(),
    staticDir: values.static,
    port,
  });
}

const isEntry = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isEntry) {
  main().catch((e: unknown) => {
    process.stderr.write(`lethe: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
