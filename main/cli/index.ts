// The `lethe` command line. One CliCommand module per command, registered in commands/index.ts.
// Global flags: --json, --workspace <dir>, --help/-h, --version. Exit codes: 0 success; 2 bad
// usage or bad input (unknown command or flag, missing option, invalid argument); 1 any other
// failure. Every failure is one line `lethe: <reason>` on stderr.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { isCodedError } from '../backend/errors';
import { APP_VERSION } from '../backend/services/app';
import { defaultWorkspaceRoot } from '../backend/workspace/paths';
import { COMMANDS } from './commands/index';
import { CliFailure, CliUsageError } from './types';
import type { CliCommand, CliContext, CliOption } from './types';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

const defaultIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
};

const GLOBAL_OPTIONS: Record<string, CliOption> = {
  json: { type: 'boolean', description: 'print machine-readable JSON on stdout' },
  workspace: { type: 'string', description: 'workspace folder (default: $LETHE_WORKSPACE, else the OS app-data folder)' },
  help: { type: 'boolean', short: 'h', description: 'show help' },
  version: { type: 'boolean', description: 'print the version' },
};

/** Global flags may appear anywhere; pull them out of argv. */
function takeGlobals(argv: string[]) {
  const rest: string[] = [];
  const g = { json: false, help: false, version: false, workspace: undefined as string | undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === '--json') g.json = true;
    else if (a === '--help' || a === '-h') g.help = true;
    else if (a === '--version') g.version = true;
    else if (a === '--workspace') {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('-')) throw new CliUsageError('--workspace needs a folder');
      g.workspace = v;
      i++;
    } else if (a.startsWith('--workspace=')) {
      g.workspace = a.slice('--workspace='.length);
      if (!g.workspace) throw new CliUsageError('--workspace needs a folder');
    } else rest.push(a);
  }
  return { globals: g, rest };
}

/** The longest registered command name that the leading words of argv spell. */
function findCommand(commands: readonly CliCommand[], words: string[]): { command: CliCommand | null; used: number } {
  let best: CliCommand | null = null;
  let used = 0;
  for (const c of commands) {
    const parts = c.name.split(' ');
    if (parts.length > words.length || parts.length <= used) continue;
    if (parts.every((p, i) => words[i] === p)) {
      best = c;
      used = parts.length;
    }
  }
  return { command: best, used };
}

function leadingWords(args: string[]): string[] {
  const words: string[] = [];
  for (const a of args) {
    if (a.startsWith('-')) break;
    words.push(a);
  }
  return words;
}

function optionFlag(name: string, o: CliOption): string {
  const long = `--${name}${o.type === 'string' ? (name === 'workspace' ? ' <dir>' : ' <value>') : ''}`;
  return o.short ? `-${o.short}, ${long}` : `    ${long}`;
}

function table(rows: [string, string][], indent = '  '): string {
  const width = Math.min(34, Math.max(0, ...rows.map(([a]) => a.length)));
  return rows.map(([a, b]) => `${indent}${a.padEnd(width)}  ${b}`).join('\n');
}

export function globalHelp(commands: readonly CliCommand[] = COMMANDS, group?: string): string {
  const shown = [...commands]
    .filter((c) => !group || c.name.startsWith(group + ' '))
    .sort((a, b) => a.name.localeCompare(b.name));
  const lines = [
    `Lethe ${APP_VERSION}: a workbench for machine unlearning (command line)`,
    '',
    `Usage: lethe [--json] [--workspace <dir>] ${group ?? '<command>'}${group ? ' <subcommand>' : ''} [options]`,
    '',
    group ? `Commands of '${group}':` : 'Commands:',
    table(shown.map((c) => [c.name, c.summary])),
    '',
    'Global options:',
    table(Object.entries(GLOBAL_OPTIONS).map(([n, o]) => [optionFlag(n, o).trim(), o.description])),
    '',
    "Run 'lethe <command> --help' for a command's options and examples.",
    'Exit codes: 0 success, 1 failure, 2 bad usage or invalid input.',
  ];
  return lines.join('\n') + '\n';
}

export function commandHelp(c: CliCommand): string {
  const lines = [`Usage: lethe ${c.name}${c.usage ? ' ' + c.usage : ''}`, '', c.summary];
  if (c.positionals?.length) {
    lines.push('', 'Arguments:', table(c.positionals.map((p) => [`<${p.name}>`, p.description + (p.required ? ' (required)' : '')])));
  }
  const opts = Object.entries(c.options);
  if (opts.length) {
    lines.push(
      '',
      'Options:',
      table(
        opts.map(([n, o]) => [
          optionFlag(n, o).trim(),
          o.description + (o.required ? ' (required)' : '') + (o.default !== undefined ? ` (default: ${String(o.default)})` : '') + (o.multiple ? ' (repeatable)' : ''),
        ]),
      ),
    );
  }
  lines.push('', 'Global options:', table(Object.entries(GLOBAL_OPTIONS).map(([n, o]) => [optionFlag(n, o).trim(), o.description])));
  if (c.examples?.length) lines.push('', 'Examples:', ...c.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}

function parseErrorMessage(e: unknown, c: CliCommand): string {
  const err = e as { code?: string; message?: string };
  const msg = String(err.message ?? e);
  const m = /Unknown option '([^']+)'/.exec(msg);
  if (m) return `unknown option '${m[1]}' for 'lethe ${c.name}'; run 'lethe ${c.name} --help'`;
  const a = /Option '([^']+)' argument missing/.exec(msg);
  if (a) return `option '${a[1].replace(/^-\w, /, '').replace(/ <value>$/, '')}' needs a value`;
  const p = /Unexpected argument '([^']+)'/.exec(msg);
  if (p) return `unexpected argument '${p[1]}' for 'lethe ${c.name}'; run 'lethe ${c.name} --help'`;
  const s = /Option '([^']+)' does not take an argument/.exec(msg);
  if (s) return `option '${s[1].replace(/^-\w, /, '')}' does not take a value`;
  return msg.split('\n')[0];
}

/** Run the CLI; resolves with the exit code. */
export async function runCli(argv: string[], io: CliIo = defaultIo, commands: readonly CliCommand[] = COMMANDS): Promise<number> {
  const fail = (code: number, message: string) => {
    // one line: the first line of the message (never a stack)
    io.stderr(`lethe: ${message.trim().split('\n')[0].trim()}\n`);
    return code;
  };
  let current: CliCommand | null = null;
  try {
    const { globals, rest } = takeGlobals(argv);
    if (globals.version && rest.length === 0) {
      io.stdout(globals.json ? JSON.stringify({ version: APP_VERSION }) + '\n' : `${APP_VERSION}\n`);
      return 0;
    }
    const words = leadingWords(rest);
    if (words.length === 0) {
      if (rest.length > 0) return fail(2, `unknown option '${rest[0]}'; run 'lethe --help'`);
      io.stdout(globalHelp(commands));
      return 0;
    }
    const { command, used } = findCommand(commands, words);
    if (!command) {
      const group = words[0];
      const isGroup = commands.some((c) => c.name.startsWith(group + ' '));
      if (isGroup && words.length === 1 && (globals.help || rest.length === 1)) {
        io.stdout(globalHelp(commands, group));
        return globals.help ? 0 : 2;
      }
      if (isGroup) {
        const sub = words[1] ?? rest[1] ?? '';
        return fail(2, `unknown command 'lethe ${group} ${sub}'; run 'lethe ${group} --help' for its commands`);
      }
      return fail(2, `unknown command '${group}'; run 'lethe --help' for the list of commands`);
    }
    current = command;
    if (globals.help) {
      io.stdout(commandHelp(command));
      return 0;
    }
    const config: ParseArgsConfig = {
      args: rest.slice(used),
      options: Object.fromEntries(
        Object.entries(command.options).map(([n, o]) => [
          n,
          { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}), ...(o.default !== undefined ? { default: o.default } : {}) },
        ]),
      ) as ParseArgsConfig['options'],
      allowPositionals: true,
      strict: true,
    };
    let parsed: { values: Record<string, unknown>; positionals: string[] };
    try {
      parsed = parseArgs(config) as typeof parsed;
    } catch (e) {
      return fail(2, parseErrorMessage(e, command));
    }
    for (const [n, o] of Object.entries(command.options)) {
      const v = parsed.values[n];
      if (o.required && (v === undefined || (Array.isArray(v) && v.length === 0))) {
        return fail(2, `missing required option --${n} for 'lethe ${command.name}'; run 'lethe ${command.name} --help'`);
      }
      if (o.type === 'string' && typeof v === 'string' && v.length === 0) return fail(2, `option --${n} must not be empty`);
    }
    const declared = command.positionals ?? [];
    const missing = declared.slice(parsed.positionals.length).find((p) => p.required);
    if (missing) return fail(2, `missing argument <${missing.name}> for 'lethe ${command.name}'; run 'lethe ${command.name} --help'`);
    if (parsed.positionals.length > declared.length) {
      return fail(2, `unexpected argument '${parsed.positionals[declared.length]}' for 'lethe ${command.name}'; run 'lethe ${command.name} --help'`);
    }
    const workspaceRoot = path.resolve(globals.workspace ?? defaultWorkspaceRoot(io.env));
    const ctx: CliContext = {
      values: parsed.values as CliContext['values'],
      positionals: parsed.positionals,
      json: globals.json,
      workspaceRoot,
      print(result, human) {
        if (globals.json) io.stdout(JSON.stringify(result, null, 2) + '\n');
        else io.stdout((human ?? (typeof result === 'string' ? result : JSON.stringify(result, null, 2))).replace(/\n?$/, '\n'));
      },
      progress(message) {
        io.stderr(`${message}\n`);
      },
    };
    await command.run(ctx);
    return 0;
  } catch (e) {
    if (e instanceof CliUsageError) return fail(2, e.message);
    if (e instanceof CliFailure) return fail(1, e.message);
    if (isCodedError(e)) return fail(e.code === 'invalid_argument' ? 2 : 1, e.message);
    const err = e as NodeJS.ErrnoException;
    if (err && typeof err === 'object' && typeof err.code === 'string' && err.message) {
      // fs errors: keep the message (it names the path), drop the stack.
      return fail(1, err.message);
    }
    if (io.env.LETHE_DEBUG) io.stderr(`${(e as Error)?.stack ?? String(e)}\n`);
    return fail(1, `${current ? `'${current.name}' failed: ` : ''}${e instanceof Error ? e.message : String(e)}`);
  }
}

const isEntry = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isEntry) {
  // Long-running commands (serve) never resolve; the others exit here even if a library left a
  // handle open. stdout/stderr writes to pipes and files are synchronous on POSIX.
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`lethe: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
