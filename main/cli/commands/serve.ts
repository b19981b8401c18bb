import type { CliCommand } from '../types';
import { CliUsageError } from '../types';

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'Serve the Lethe UI on 127.0.0.1 for a browser (prints the URL to open)',
  usage: '[--port <n>] [--static <dir>]',
  options: {
    port: { type: 'string', description: 'port to listen on; 0 picks a free one', default: '0' },
    static: { type: 'string', description: 'folder of the built renderer (default: out/renderer of this install)' },
  },
  examples: ['lethe serve', 'lethe serve --workspace ~/lethe-ws --port 8765'],
  async run(ctx) {
    const port = Number(ctx.values.port ?? '0');
    if (!/^\d+$/.test(String(ctx.values.port ?? '0')) || port > 65535) throw new CliUsageError(`--port must be an integer from 0 to 65535, got '${ctx.values.port}'`);
    const { serve } = await import('../../server/serve');
    const { server } = await serve({
      workspaceRoot: ctx.workspaceRoot,
      staticDir: ctx.values.static as string | undefined,
      port,
      // --json prints one JSON line instead of the human sentence
      print: ctx.json ? () => {} : (line) => ctx.print(line),
    });
    if (ctx.json) ctx.print({ url: server.url, origin: server.origin, port: server.port });
    // Run until SIGINT/SIGTERM (serve() installs the handlers that close and exit).
    await new Promise<never>(() => {});
  },
};
