import { runCli } from '../../main/cli/index';

/** Run the CLI in-process; returns exit code, stdout and stderr. */
export async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { stdout: (t) => void (out += t), stderr: (t) => void (err += t), env: { ...process.env } });
  return { code, out, err };
}
