// lethe unlearn / evaluate / compare / methods: unlearning from the command line, on the same
// services as the app's jobs (main/backend/services/unlearning.ts, comparisons.ts). Runs in this
// process with progress on stderr; Ctrl-C cancels (nothing half-written is kept).

import { resolve } from 'node:path';
import { writeFile } from 'node:fs/promises';
import type { CliCommand, CliContext } from '../types';
import { CliUsageError } from '../types';
import { withWorkspace } from '../workspace';
import { all, computeChoice, list, num, str, PROVIDERS } from '../options';
import { METHODS, getMethod, listMethods } from '../../engine/unlearn/registry';
import { describeParams, formatParamHelp, parseParamAssignments } from '../../engine/unlearn/params';
import { computeMetrics, loadSvm, METRICS } from '../../engine/eval';
import { comparisonTable } from '../../engine/runs/table';
import { parseThreshold } from '../../engine/runs/thresholds';
import { encodeOutputs, outputsCsv } from '../../engine/runs/outputs';
import { checkOutputFile } from '../../backend/services/output-target';
import type { Workspace } from '../../backend/workspace/types';
import type { ModelManifest } from '../../backend/services/models';
import type { ComparisonManifest } from '../../engine/runs/contract-types';

/** Ctrl-C aborts the signal (a second Ctrl-C exits at once). */
export function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const onInt = () => {
    if (ac.signal.aborted) process.exit(130);
    process.stderr.write('\ncancelling (Ctrl-C again to quit at once)...\n');
    ac.abort();
  };
  process.on('SIGINT', onInt);
  return { signal: ac.signal, dispose: () => process.off('SIGINT', onInt) };
}

export function progressPrinter(ctx: CliContext, label: string) {
  let last = 0;
  let lastMsg = '';
  return (fraction: number, message: string, extra?: { loss?: number }) => {
    const now = Date.now();
    if (now - last < 1500 && fraction < 1 && message === lastMsg) return;
    last = now;
    lastMsg = message;
    ctx.progress(`${label} ${(fraction * 100).toFixed(0).padStart(3)}%  ${message}${extra?.loss !== undefined ? `  loss ${extra.loss.toFixed(4)}` : ''}`);
  };
}

const methodHelp = (): string =>
  METHODS.map((m) => `  ${m.id.padEnd(14)} ${m.name}${m.exact ? ' (exact)' : ''}${m.scope === 'class' ? ' (class forgetting only)' : ''}\n${formatParamHelp(describeParams(m.params)).map((l) => `      ${l}`).join('\n')}`).join('\n');

function guardrailOf(ctx: CliContext) {
  const action = str(ctx, 'guardrail');
  if (action !== undefined && !['stop', 'flag', 'off'].includes(action)) throw new CliUsageError(`--guardrail must be stop, flag or off, got '${action}'`);
  const drop = num(ctx, 'guardrail-drop', { min: 0, max: 100 });
  return { ...(action ? { action: action as 'stop' | 'flag' | 'off' } : {}), ...(drop !== undefined ? { maxDropPoints: drop } : {}) };
}

export const unlearnCommand: CliCommand = {
  name: 'unlearn',
  summary: 'Run an unlearning method (or the retrain reference) on a model and a forget set; the unlearned model is saved and evaluated',
  usage: '--model <name> --forget-set <name|id> --method <id> [--param k=v ...] [--seeds N] [--save-as NAME]',
  options: {
    model: { type: 'string', required: true, description: 'the trained model to unlearn from (registered name)' },
    'forget-set': { type: 'string', required: true, description: 'forget set (name or id) of the dataset the model was trained on' },
    method: { type: 'string', required: true, description: `method id: ${METHODS.map((m) => m.id).join(', ')}` },
    param: { type: 'string', multiple: true, description: "a method parameter as key=value (repeatable); see 'lethe methods'" },
    seeds: { type: 'string', description: 'run seeds 0..N-1 (default 1)' },
    seed: { type: 'string', description: 'run this one seed (instead of --seeds)' },
    'save-as': { type: 'string', description: 'name of the unlearned model (one seed only; default <model>-<method>-s<seed>)' },
    guardrail: { type: 'string', description: 'what the guardrail does when held-out retain accuracy falls too far: stop (default), flag or off' },
    'guardrail-drop': { type: 'string', description: 'allowed drop in percentage points below the original (default 5)' },
    threads: { type: 'string', description: 'intra-op threads (default: the workspace setting, else 1)' },
    provider: { type: 'string', description: `execution provider: ${PROVIDERS.join(', ')}` },
  },
  examples: ['lethe unlearn --model fmnist-cnn --forget-set bags --method salun', 'lethe unlearn --model fmnist-cnn --forget-set random-1pct --method ga --param lr=5e-4 --param epochs=3 --seeds 3'],
  async run(ctx) {
    const method = getMethod(str(ctx, 'method')!);
    const params = parseParamAssignments(method.id, describeParams(method.params), all(ctx, 'param'));
    const seeds = num(ctx, 'seeds', { int: true, min: 1, max: 1000 });
    const one = num(ctx, 'seed', { int: true, min: 0 });
    if (seeds !== undefined && one !== undefined) throw new CliUsageError('give --seeds N or --seed S, not both');
    const seedList = one !== undefined ? [one] : Array.from({ length: seeds ?? 1 }, (_, i) => i);
    const saveAs = str(ctx, 'save-as');
    if (saveAs && seedList.length > 1) throw new CliUsageError('--save-as names one model; with several seeds the names are chosen for you');
    const compute = await computeChoice(ctx);
    const { runUnlearning, validateUnlearnParams } = await import('../../backend/services/unlearning');
    const base = { model: str(ctx, 'model')!, forgetSet: str(ctx, 'forget-set')!, method: method.id, params, guardrail: guardrailOf(ctx), provider: compute.provider, threads: compute.threads };
    validateUnlearnParams(base);
    const stop = interruptSignal();
    try {
      const results = await withWorkspace(ctx, async (ws) => {
        const out = [];
        for (const seed of seedList) {
          const r = await runUnlearning(ws, { ...base, seed, ...(saveAs ? { saveAs } : {}) }, { signal: stop.signal, progress: progressPrinter(ctx, `${method.id} s${seed}`), log: (l, m) => ctx.progress(`${l === 'warn' ? 'warning' : 'note'}: ${m}`) });
          out.push({ run: r.run.id, model: r.modelId, cached: r.cached, seed, seconds: r.run.data.seconds, summary: r.run.data.summary, guardrail: r.run.data.guardrail, notes: r.run.data.notes });
        }
        return out;
      });
      ctx.print(
        results,
        results
          .map((r) => `${method.name} seed ${r.seed}: model '${r.model}' (run ${r.run}${r.cached ? ', reused' : ''}), ${r.seconds?.toFixed(1)} s; forget ${r.summary.forgetAccuracy.toFixed(2)}%, retain ${r.summary.retainAccuracy.toFixed(2)}%, test ${r.summary.testAccuracy.toFixed(2)}%${r.guardrail?.tripped ? `; guardrail ${r.guardrail.stopped ? 'stopped the run' : 'flagged the run'}` : ''}`)
          .join('\n'),
      );
    } finally {
      stop.dispose();
    }
  },
};

export const methodsCommand: CliCommand = {
  name: 'methods',
  summary: 'List the unlearning methods with their parameters, literature defaults and sources',
  options: {},
  async run(ctx) {
    const info = listMethods();
    ctx.print(info, info.map((m) => `${m.id} - ${m.name}${m.exact ? ' (exact)' : ' (approximate)'}\n  ${m.description}\n  source: ${m.source}\n${formatParamHelp(m.params).map((l) => `    ${l}`).join('\n')}`).join('\n\n'));
  },
};

async function originalOf(ws: Workspace, name: string): Promise<string> {
  const rec = await ws.getRecord<ModelManifest>('models', name);
  return rec?.data.unlearning?.original.name ?? name;
}

export const evaluateCommand: CliCommand = {
  name: 'evaluate',
  summary: "Evaluate a model on a forget set's forget, retain and test examples: every metric, against a retrained reference when given",
  usage: '--model <name> --forget-set <name|id> [--reference <retrained model>] [--outputs out.npz|out.csv] [--json]',
  options: {
    model: { type: 'string', required: true, description: 'the model to evaluate' },
    'forget-set': { type: 'string', required: true, description: 'forget set (name or id)' },
    reference: { type: 'string', description: 'a model retrained without the forget set (e.g. made by --method retrain)' },
    outputs: { type: 'string', description: 'write the per-example outputs (ids, split, labels, logits) as .npz or .csv' },
    force: { type: 'boolean', description: 'replace an existing --outputs file' },
    threads: { type: 'string', description: 'intra-op threads' },
    provider: { type: 'string', description: `execution provider: ${PROVIDERS.join(', ')}` },
  },
  async run(ctx) {
    const outFile = str(ctx, 'outputs');
    if (outFile) {
      if (!/\.(npz|csv)$/i.test(outFile)) throw new CliUsageError('--outputs must end in .npz or .csv');
      await checkOutputFile(resolve(outFile), { overwrite: ctx.values.force === true, overwriteHint: 'add --force to replace it', what: '--outputs' }).catch((e) => {
        throw new CliUsageError((e as Error).message);
      });
    }
    const compute = await computeChoice(ctx);
    const { evaluateOnForgetSet, runOutputs } = await import('../../backend/services/unlearning');
    const stop = interruptSignal();
    try {
      const res = await withWorkspace(ctx, async (ws) => {
        const fsName = str(ctx, 'forget-set')!;
        const ev = async (m: string) => runOutputs(ws, (await evaluateOnForgetSet(ws, { model: m, forgetSet: fsName, ...compute }, { signal: stop.signal, progress: progressPrinter(ctx, m) })).run);
        const model = str(ctx, 'model')!;
        const mo = await ev(model);
        const refName = str(ctx, 'reference');
        const ro = refName ? await ev(refName) : undefined;
        const origName = await originalOf(ws, model);
        const oo = origName !== model ? await ev(origName) : undefined;
        const act = (o: typeof mo) => o.activations;
        await loadSvm();
        const values = computeMetrics({ model: mo, ...(ro ? { reference: ro } : {}), ...(oo ? { original: oo } : {}), activations: { model: act(mo), ...(ro ? { reference: act(ro) } : {}), ...(oo ? { original: act(oo) } : {}), sampleSplit: Uint8Array.from(mo.sample, (r) => mo.split[r]) } });
        if (outFile) await writeFile(resolve(outFile), /\.csv$/i.test(outFile) ? outputsCsv(mo) : encodeOutputs(mo, false));
        return { model, reference: refName ?? null, original: oo ? origName : null, values };
      }, 'write');
      const metrics = METRICS.map((m) => ({ id: m.id, name: m.name, value: res.values[m.id]?.value ?? null, unit: m.unit, definition: m.formula, source: m.source, ...(res.values[m.id]?.missing ? { missing: res.values[m.id].missing } : {}) }));
      ctx.print(
        { model: res.model, reference: res.reference, original: res.original, metrics },
        [
          `Model '${res.model}'${res.reference ? ` against retrained '${res.reference}'` : ''}${res.original ? `, original '${res.original}'` : ''}:`,
          ...metrics.filter((m) => m.value !== null).map((m) => `  ${m.name.padEnd(34)} ${m.value!.toFixed(4).padStart(10)} ${m.unit.padEnd(5)} ${m.definition}`),
          ...metrics.filter((m) => m.value === null && m.missing).map((m) => `  ${m.name.padEnd(34)} ${'-'.padStart(10)}       (${m.missing})`),
          ...(outFile ? [`Per-example outputs written to ${resolve(outFile)}.`] : []),
        ].join('\n'),
      );
    } finally {
      stop.dispose();
    }
  },
};

export const compareCommand: CliCommand = {
  name: 'compare',
  summary: 'Compare the original, the retrain reference and unlearned models on one forget set (every metric, mean and 95% CI over seeds)',
  usage: '--forget-set <name|id> --models A,B,... [--name NAME] [--json]',
  options: {
    'forget-set': { type: 'string', required: true, description: 'forget set (name or id)' },
    models: { type: 'string', multiple: true, required: true, description: 'unlearned and retrained models (comma-separated or repeated); every run of each is used' },
    name: { type: 'string', description: 'name of the comparison record' },
    threshold: { type: 'string', multiple: true, description: "a pass/fail criterion '<metric> <=|>=|gap<= <number>' (repeatable); fixed now, after the runs, so not pre-registered (the record says so)" },
    threads: { type: 'string', description: 'intra-op threads' },
    provider: { type: 'string', description: `execution provider: ${PROVIDERS.join(', ')}` },
  },
  async run(ctx) {
    const models = list(ctx, 'models')!;
    const thresholds = all(ctx, 'threshold').map((t) => parseThreshold(t, METRICS.map((m) => m.id)));
    const compute = await computeChoice(ctx);
    const { buildComparison } = await import('../../backend/services/comparisons');
    const rec = await withWorkspace(ctx, async (ws) => {
      const runs: string[] = [];
      let original: string | null = null;
      for (const m of models) {
        const r = await ws.getRecord<ModelManifest>('models', m);
        if (!r) throw new CliUsageError(`no model named '${m}'`);
        const u = r.data.unlearning;
        if (!u) throw new CliUsageError(`model '${m}' was not made by an unlearning run; give unlearned or retrained models (the original is found from them)`);
        if (original && original !== u.original.name) throw new CliUsageError(`models '${models[0]}' and '${m}' were unlearned from different originals`);
        original = u.original.name;
        runs.push(u.runId);
      }
      return buildComparison(ws, { model: original!, forgetSet: str(ctx, 'forget-set')!, runs, name: str(ctx, 'name'), ...(thresholds.length ? { thresholds: { fixedAt: new Date().toISOString(), items: thresholds } } : {}), ...compute }, { progress: progressPrinter(ctx, 'compare') });
    });
    ctx.print({ id: rec.id, ...rec.data }, `Comparison ${rec.id}\n\n${comparisonTable(rec.data as ComparisonManifest)}`);
  },
};

export const UNLEARN_COMMANDS: CliCommand[] = [unlearnCommand, methodsCommand, evaluateCommand, compareCommand];
void methodHelp;
