import type { CliCommand } from '../types';
import { openWorkspace } from '../../backend/workspace';
import { workspaceInfo } from '../../backend/services/app';

export const workspaceInfoCommand: CliCommand = {
  name: 'workspace info',
  summary: 'Show the workspace folder, its record counts and any quarantined records',
  options: {},
  examples: ['lethe workspace info', 'lethe workspace info --workspace ./my-ws --json'],
  async run(ctx) {
    const ws = await openWorkspace(ctx.workspaceRoot);
    try {
      const info = await workspaceInfo(ws);
      const c = info.counts;
      const human = [
        `Workspace  ${info.root}`,
        `Datasets   ${c.datasets}`,
        `Models     ${c.models}`,
        `Forget sets ${c.forgetSets}`,
        `Runs       ${c.runs}`,
        `Reports    ${c.reports}`,
        info.quarantined.length
          ? `Quarantined (${info.quarantined.length}):\n${info.quarantined.map((q) => `  ${q.kind}/${q.id}: ${q.reason}`).join('\n')}`
          : 'Quarantined: none',
      ].join('\n');
      ctx.print(info, human);
    } finally {
      await ws.close();
    }
  },
};
