import type { CliCommand } from '../types';
import { CliFailure } from '../types';
import { openForCli } from '../workspace';
import { workspaceInfo } from '../../backend/services/app';

export const workspaceInfoCommand: CliCommand = {
  name: 'workspace info',
  summary: 'Show the workspace folder, its record counts and any quarantined records',
  options: {},
  examples: ['lethe workspace info', 'lethe workspace info --workspace ./my-ws --json'],
  async run(ctx) {
    const ws = await openForCli(ctx, 'read');
    try {
      const info = await workspaceInfo(ws);
      const c = info.counts;
      const human = [
        `Workspace    ${info.root}`,
        `Datasets     ${c.datasets}`,
        `Models       ${c.models}`,
        `Forget sets  ${c.forgetSets}`,
        `Runs         ${c.runs}`,
        `Reports      ${c.reports}`,
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

export const workspaceVerifyCommand: CliCommand = {
  name: 'workspace verify',
  summary: 'Re-hash every blob and check every record manifest; exit 1 if anything is wrong',
  options: {},
  examples: ['lethe workspace verify', 'lethe workspace verify --json > verify.json'],
  async run(ctx) {
    // The same handler the job runner runs in a worker, run here in-process. It opens the
    // workspace in worker mode (no lock), so it also works while the app is open.
    const { workspaceVerify } = await import('../../backend/jobs/kinds/workspace-verify');
    const { defaultSettings } = await import('../../backend/services/app');
    const params = workspaceVerify.validate({});
    const abort = new AbortController();
    const onSigint = () => abort.abort(new Error('Interrupted by the user.'));
    process.once('SIGINT', onSigint);
    let lastProgress = 0;
    const s = defaultSettings();
    try {
      const result = await workspaceVerify.run(params, {
        jobId: 'cli-workspace-verify',
        dependencies: [],
        workspaceRoot: ctx.workspaceRoot,
        signal: abort.signal,
        progress(p) {
          const now = Date.now();
          if (now - lastProgress < 500 && p.step !== p.total) return;
          lastProgress = now;
          ctx.progress(`verify: ${p.step}${p.total ? `/${p.total}` : ''} items checked`);
        },
        log(level, message) {
          if (level !== 'info') ctx.progress(`${level}: ${message}`);
        },
        checkpoint: null,
        async saveCheckpoint() {
          /* a CLI run starts over if interrupted */
        },
        settings: { executionProvider: s.executionProvider, intraOpThreads: s.intraOpThreads },
      });
      const human = [
        `Workspace ${ctx.workspaceRoot}`,
        `Checked ${result.records} records and ${result.blobs} blobs (${result.bytes} bytes).`,
        result.ok ? 'Everything verifies.' : `${result.mismatches.length} problem(s):`,
        ...result.mismatches.map((m) => `  ${m.item}: ${m.problem}`),
      ].join('\n');
      ctx.print(result, human);
      if (!result.ok) throw new CliFailure(`workspace verify found ${result.mismatches.length} problem(s)`);
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
