import type { CliCommand } from '../types';
import { CliFailure } from '../types';
import { openForCli, withWorkspace } from '../workspace';
import { workspaceInfo } from '../../backend/services/app';
import { GC_GRACE_MS, collectGarbage } from '../../backend/workspace/gc';
import { formatBytes } from '../../engine/util/disk';

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
        `Blobs        ${info.storage.blobs.count} (${formatBytes(info.storage.blobs.bytes)})`,
        `Unreferenced ${info.storage.unreferenced.count} blobs (${formatBytes(info.storage.unreferenced.bytes)})${info.storage.staleCache.count ? `, ${info.storage.staleCache.count} stale cache files (${formatBytes(info.storage.staleCache.bytes)})` : ''}${info.storage.unreferenced.count + info.storage.staleCache.count ? ": 'lethe workspace gc' frees them" : ''}`,
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
        ...result.mismatches.slice(0, 50).map((m) => `  ${m.item}: ${m.problem}`),
        ...(result.mismatches.length > 50 ? [`  and ${result.mismatches.length - 50} more (--json lists them all)`] : []),
        result.unreferenced
          ? `Unreferenced: ${result.unreferenced.count} blobs (${formatBytes(result.unreferenced.bytes)}) no record uses${result.unreferenced.count ? "; 'lethe workspace gc' frees them" : ''}.`
          : 'Unreferenced: unknown (a record could not be read).',
      ].join('\n');
      ctx.print(result, human);
      if (!result.ok) throw new CliFailure(`workspace verify found ${result.mismatches.length} problem(s)`);
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};

export const workspaceGcCommand: CliCommand = {
  name: 'workspace gc',
  summary: 'Free the space of data nothing uses: blobs no record refers to, caches of deleted datasets',
  options: {},
  examples: ['lethe workspace gc', 'lethe workspace gc --json'],
  async run(ctx) {
    // deletes run it too; this frees what older versions, interrupted imports or the grace period left
    const r = await withWorkspace(ctx, (ws) => collectGarbage(ws));
    const human = [
      `Removed ${r.removed.blobs} unreferenced blobs and ${r.removed.cacheFiles} stale cache files: ${formatBytes(r.removed.bytes)} freed.`,
      ...(r.keptYoung.count ? [`Kept ${r.keptYoung.count} written in the last ${GC_GRACE_MS / 1000} s (${formatBytes(r.keptYoung.bytes)}): they may belong to a write in progress; run it again later.`] : []),
    ].join('\n');
    ctx.print(r, human);
  },
};
