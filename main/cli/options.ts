// Typed option readers shared by CLI commands: one plain sentence (exit 2) for a bad value.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliContext } from './types';
import { CliUsageError } from './types';
import type { ProviderName } from '../engine/train/session';
import { settingsSchema } from '../backend/validation';
import { SETTINGS_FILE } from '../backend/services/app';

export const PROVIDERS = ['cpu', 'cuda', 'webgpu', 'dml', 'coreml'];

export function str(ctx: CliContext, k: string): string | undefined {
  const v = ctx.values[k];
  return typeof v === 'string' ? v : undefined;
}

export function num(ctx: CliContext, k: string, o: { int?: boolean; min?: number; max?: number } = {}): number | undefined {
  const s = str(ctx, k);
  if (s === undefined) return undefined;
  const v = Number(s);
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s.trim()) || !Number.isFinite(v)) throw new CliUsageError(`--${k} must be a number, got '${s}'`);
  if (o.int && !Number.isInteger(v)) throw new CliUsageError(`--${k} must be an integer, got '${s}'`);
  if (o.min !== undefined && v < o.min) throw new CliUsageError(`--${k} must be >= ${o.min}, got ${s}`);
  if (o.max !== undefined && v > o.max) throw new CliUsageError(`--${k} must be <= ${o.max}, got ${s}`);
  return v;
}

export function list(ctx: CliContext, k: string): string[] | undefined {
  const v = ctx.values[k];
  const items = (Array.isArray(v) ? v : typeof v === 'string' ? [v] : []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  return items.length ? items : undefined;
}

/** every value of a repeatable option, without splitting on commas */
export function all(ctx: CliContext, k: string): string[] {
  const v = ctx.values[k];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

export function provider(ctx: CliContext): ProviderName | undefined {
  const p = str(ctx, 'provider');
  if (p !== undefined && !PROVIDERS.includes(p)) throw new CliUsageError(`--provider must be one of ${PROVIDERS.join(', ')}, got '${p}'`);
  return p as ProviderName | undefined;
}

export interface ComputeChoice {
  provider: ProviderName | undefined;
  threads: number;
  providerFrom: 'flag' | 'settings' | 'default';
  threadsFrom: 'flag' | 'settings' | 'default';
}

/** --provider/--threads, else the workspace's saved settings, else cpu with 1 thread (bit-reproducible). */
export async function computeChoice(ctx: CliContext): Promise<ComputeChoice> {
  const flagProvider = provider(ctx);
  const flagThreads = num(ctx, 'threads', { int: true, min: 0, max: 1024 });
  let saved: Record<string, unknown> = {};
  if (flagProvider === undefined || flagThreads === undefined) {
    try {
      const raw = JSON.parse(await readFile(join(ctx.workspaceRoot, SETTINGS_FILE), 'utf8')) as unknown;
      if (raw && typeof raw === 'object') saved = raw as Record<string, unknown>;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') ctx.progress(`note: ignoring the workspace settings (${SETTINGS_FILE} is unreadable: ${(e as Error).message.split('\n')[0]})`);
    }
  }
  const sp = settingsSchema.shape.executionProvider.safeParse(saved.executionProvider);
  const st = settingsSchema.shape.intraOpThreads.safeParse(saved.intraOpThreads);
  return {
    provider: flagProvider ?? (sp.success ? sp.data : undefined),
    threads: flagThreads ?? (st.success ? st.data : 1),
    providerFrom: flagProvider !== undefined ? 'flag' : sp.success ? 'settings' : 'default',
    threadsFrom: flagThreads !== undefined ? 'flag' : st.success ? 'settings' : 'default',
  };
}
