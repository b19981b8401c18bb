// One CLI command = one module exporting a CliCommand; registered in main/cli/commands/index.ts.
// Commands call the same service layer as the API handlers (main/backend/services/*), never the UI.

export interface CliOption {
  type: 'string' | 'boolean';
  description: string;
  short?: string;
  required?: boolean;
  multiple?: boolean;
  default?: string | boolean;
}

export interface CliContext {
  /** parsed option values (after --json and --workspace are taken out) */
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  json: boolean;
  /** resolved workspace root (--workspace flag, LETHE_WORKSPACE, or the OS app-data default) */
  workspaceRoot: string;
  /** print a result: JSON when --json, else the human text */
  print(result: unknown, human?: string): void;
  /** progress lines go to stderr (never to stdout, which --json keeps machine-readable) */
  progress(message: string): void;
}

export interface CliCommand {
  /** space-separated path, e.g. 'dataset import' */
  name: string;
  summary: string;
  /** usage line after the command name, e.g. '--format idx --source <dir> --name <name>' */
  usage?: string;
  options: Record<string, CliOption>;
  positionals?: { name: string; description: string; required?: boolean }[];
  examples?: string[];
  run(ctx: CliContext): Promise<void>;
}

/** Thrown for bad input: the CLI prints `lethe: <message>` on stderr and exits with code 2. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

/** Thrown when a command ran but its outcome is a failure (e.g. verification found problems): exit code 1, message printed as is. */
export class CliFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliFailure';
  }
}
