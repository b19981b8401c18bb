// Registry of CLI commands. Adding a command: write main/cli/commands/<name>.ts exporting a
// CliCommand, import it here and append it to COMMANDS (help lists them sorted by name).

import type { CliCommand } from '../types';
import { doctorCommand } from './doctor';
import { DATASET_COMMANDS } from './dataset';
import { FORGET_SET_COMMANDS } from './forget-set';
import { jobsListCommand } from './jobs';
import { MODEL_COMMANDS } from './model';
import { serveCommand } from './serve';
import { workspaceGcCommand, workspaceInfoCommand, workspaceVerifyCommand } from './workspace';
import { UNLEARN_COMMANDS } from './unlearn';
import { demoCommand } from './demo';
import { sweepCommand } from './sweep';
import { REPORT_COMMANDS } from './report';

export const COMMANDS: CliCommand[] = [
  workspaceInfoCommand,
  workspaceVerifyCommand,
  workspaceGcCommand,
  jobsListCommand,
  serveCommand,
  doctorCommand,
  ...DATASET_COMMANDS,
  ...FORGET_SET_COMMANDS,
  ...MODEL_COMMANDS,
  ...UNLEARN_COMMANDS,
  demoCommand,
  sweepCommand,
  ...REPORT_COMMANDS,
];
