// workspace.verify: re-hashes every blob and re-checks every record's manifest hash and blob
// references, reporting each mismatch by name. Resumable: the checkpoint holds the last item checked
// (items are visited in a fixed order: records by kind and id, then blobs by hash).

import { ApiError } from '../../../../preload/api/common';
import type { VerifyMismatch, VerifyResult } from '../../../../preload/api/jobs';
import { openWorkspace } from '../../workspace';
import { RECORD_KINDS, type RecordKind } from '../../workspace/types';
import { storageUsage } from '../../workspace/gc';
import type { JobContext, JobHandler } from '../types';

// the contract (preload/api/jobs.ts) defines this kind's result type
export type { VerifyMismatch, VerifyResult };

interface VerifyCheckpoint {
  lastKey: string;
  records: number;
  blobs: number;
  bytes: number;
  mismatches: VerifyMismatch[];
}

type Item = { key: string; record?: { kind: RecordKind; id: string }; blob?: { sha256: string; size: number } };

export const workspaceVerify: JobHandler<Record<string, never>, VerifyResult> = {
  kind: 'workspace.verify',
  description: 'Verify the workspace: re-hash every blob and check every record manifest',
  resumable: true,
  validate(params: unknown) {
    if (params === undefined || params === null) return {};
    if (typeof params !== 'object' || Array.isArray(params) || Object.keys(params).length > 0) {
      throw new ApiError('invalid_argument', 'workspace.verify takes no parameters; pass {}.');
    }
    return {};
  },
  async run(_params, ctx: JobContext): Promise<VerifyResult> {
    const ws = await openWorkspace(ctx.workspaceRoot, { mode: 'worker' });
    try {
      const items: Item[] = [];
      for (const kind of RECORD_KINDS) {
        for (const id of await ws.listRecordIds(kind)) items.push({ key: `0:${kind}/${id}`, record: { kind, id } });
      }
      for (const b of await ws.listBlobs()) items.push({ key: `1:${b.sha256}`, blob: b });
      const ck = ctx.checkpoint as VerifyCheckpoint | null;
      const st: VerifyCheckpoint = ck ? { ...ck, mismatches: [...ck.mismatches] } : { lastKey: '', records: 0, blobs: 0, bytes: 0, mismatches: [] };
      const todo = items.filter((it) => it.key > st.lastKey);
      const total = items.length;
      let done = total - todo.length;
      if (ck) ctx.log('info', `Resuming after ${done} of ${total} items.`);
      let lastCheckpoint = performance.now();
      const fail = (item: string, problem: string) => {
        st.mismatches.push({ item, problem });
        ctx.log('error', `${item}: ${problem}`);
      };
      for (const it of todo) {
        if (ctx.signal.aborted) throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new DOMException('Cancelled', 'AbortError');
        if (it.record) {
          const name = `record ${it.record.kind}/${it.record.id}`;
          st.records++;
          try {
            const env = await ws.getRecord(it.record.kind, it.record.id);
            if (env) {
              for (const [bn, ref] of Object.entries(env.blobs)) {
                if (!(await ws.hasBlob(ref.sha256))) fail(name, `its blob "${bn}" (${ref.sha256}) is missing`);
              }
            }
          } catch (err) {
            fail(name, err instanceof Error ? err.message : String(err));
          }
        } else if (it.blob) {
          st.blobs++;
          st.bytes += it.blob.size;
          if (!(await ws.verifyBlob(it.blob.sha256))) fail(`blob ${it.blob.sha256}`, 'its bytes do not match its SHA-256 name (corrupt or missing)');
        }
        done++;
        st.lastKey = it.key;
        ctx.progress({ step: done, total, message: `checked ${done} of ${total} items, ${st.mismatches.length} problem(s)` });
        if (performance.now() - lastCheckpoint > 1000 && done < total) {
          await ctx.saveCheckpoint(st);
          lastCheckpoint = performance.now();
        }
      }
      if (total === 0) ctx.progress({ step: 0, total: 0, fraction: 1, message: 'the workspace is empty' });
      // space nothing uses (not a problem; lethe workspace gc frees it). Unknown if a record cannot be read.
      const unreferenced = await storageUsage(ws).then(
        (u) => u.unreferenced,
        () => null,
      );
      if (unreferenced?.count) ctx.log('warn', `${unreferenced.count} blob(s) of ${unreferenced.bytes} bytes are not used by any record; lethe workspace gc frees them.`);
      return { ok: st.mismatches.length === 0, records: st.records, blobs: st.blobs, bytes: st.bytes, mismatches: st.mismatches, unreferenced };
    } finally {
      await ws.close();
    }
  },
};
