// `lethe forget-set create|list|show|delete`: the forget-set builder from the command line.

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ExamplePredicate, ForgetRuleInput, ForgetSetDetail, ForgetSetPreview } from '../../../preload/api/datasets';
import { CliFailure, CliUsageError, type CliCommand } from '../types';
import { listOption, numberOption, stringOption, table } from './dataset';
import { withWorkspace } from '../workspace';

/** --where syntax: col=value, col!=... is not supported; col>=x, col<=x (range), "col in a|b|c" */
export function parseWhere(items: string[]): ExamplePredicate[] {
  const out: ExamplePredicate[] = [];
  const ranges = new Map<string, ExamplePredicate>();
  for (const raw of items) {
    const m = /^\s*([^=<>]+?)\s*(>=|<=|=| in )\s*(.*)$/.exec(raw);
    if (!m) throw new CliUsageError(`--where '${raw}' is not understood; use col=value, col>=x, col<=x or 'col in a|b'`);
    const [, column, op, value] = m;
    if (op === '=') out.push({ column, op: 'eq', value: /^-?\d+(\.\d+)?$/.test(value) && column !== 'class' ? Number(value) : value });
    else if (op === ' in ') out.push({ column, op: 'in', values: value.split('|').map((s) => s.trim()).filter(Boolean) });
    else {
      const x = Number(value);
      if (value.trim() === '' || !Number.isFinite(x)) throw new CliUsageError(`--where '${raw}': '${value}' is not a number`);
      let p = ranges.get(column);
      if (!p) {
        p = { column, op: 'range' };
        ranges.set(column, p);
        out.push(p);
      }
      if (op === '>=') p.min = x;
      else p.max = x;
    }
  }
  return out;
}

function countOrFraction(v: unknown, flag: string): { count?: number; fraction?: number } {
  const s = stringOption(v);
  if (s === undefined) return {};
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(s.trim());
  if (pct) {
    const f = Number(pct[1]) / 100;
    if (!(f > 0 && f <= 1)) throw new CliUsageError(`--${flag} percentage must be in (0%, 100%]`);
    return { fraction: f };
  }
  return { count: numberOption(s, flag, { int: true, min: 1 }) };
}

const classList = (v: unknown) => listOption(v)?.map((c) => (/^\d+$/.test(c) ? Number(c) : c));

async function ruleFromOptions(values: Record<string, unknown>): Promise<ForgetRuleInput> {
  const kind = stringOption(values.kind);
  const need = (flag: string) => {
    if (values[flag] === undefined) throw new CliUsageError(`--kind ${kind} needs --${flag}`);
    return values[flag];
  };
  switch (kind) {
    case 'random': {
      const c = countOrFraction(need('count'), 'count');
      return { kind, ...c, stratify: values.stratify === true, classes: classList(values.classes) };
    }
    case 'class':
      return { kind, classes: classList(need('classes'))! };
    case 'subclass': {
      const cls = classList(need('classes'))!;
      if (cls.length !== 1) throw new CliUsageError('--kind subclass takes exactly one class in --classes');
      const where = parseWhere(listOrOne(need('where')));
      if (where.length !== 1) throw new CliUsageError('--kind subclass takes exactly one --where condition on a metadata column');
      const p = where[0];
      return p.op === 'range'
        ? { kind, class: cls[0], column: p.column, min: p.min, max: p.max }
        : p.op === 'eq'
          ? { kind, class: cls[0], column: p.column, value: p.value }
          : (() => {
              throw new CliUsageError("--kind subclass takes col=value or a range, not 'in'");
            })();
    }
    case 'filter':
      return { kind, predicates: parseWhere(listOrOne(need('where'))) };
    case 'ids':
    case 'manual': {
      const onMissing = stringOption(values['on-missing']);
      if (onMissing !== undefined && onMissing !== 'fail' && onMissing !== 'skip') throw new CliUsageError("--on-missing must be 'fail' or 'skip'");
      if (values['ids-file'] !== undefined) {
        const path = stringOption(values['ids-file'])!;
        const text = await readFile(path, 'utf8');
        const isCsv = /\.csv$/i.test(path);
        if (kind === 'manual') throw new CliUsageError('--kind manual takes --ids; use --kind ids for a file');
        return isCsv
          ? { kind, csv: text, column: stringOption(values['id-column']), onMissing: (onMissing as 'fail' | 'skip') ?? 'fail' }
          : { kind, text, onMissing: (onMissing as 'fail' | 'skip') ?? 'fail' };
      }
      const ids = listOption(need('ids'))!;
      return kind === 'manual' ? { kind, ids } : { kind, ids, onMissing: (onMissing as 'fail' | 'skip') ?? 'fail' };
    }
    case 'worst-case': {
      const metric = stringOption(values.metric) ?? 'loss';
      if (!['loss', 'margin', 'memorization-proxy'].includes(metric)) throw new CliUsageError('--metric must be loss, margin or memorization-proxy');
      const c = countOrFraction(need('count'), 'count');
      const modelId = stringOption(values.model);
      const path = stringOption(values['model-file']);
      if (!modelId === !path) throw new CliUsageError('--kind worst-case needs exactly one of --model <model id> or --model-file <file.onnx>');
      return { kind, metric: metric as 'loss', ...c, classes: classList(values.classes), model: modelId ? { modelId } : { path: path! } };
    }
    case 'coreset':
      return { kind, source: stringOption(need('source'))!, fraction: numberOption(need('fraction'), 'fraction', { min: 0, max: 1 })! };
    case 'sequential':
      return { kind, steps: listOption(need('steps'))!, at: listOption(values.at) };
    default:
      throw new CliUsageError(`--kind must be one of random, class, subclass, filter, ids, manual, worst-case, coreset, sequential; got '${String(kind)}'`);
  }
}

function listOrOne(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [String(v)];
}

function distributionTable(classNames: string[], forget: number[], retain: number[]): string {
  const rows: (string | number)[][] = [['class', 'name', 'forget', 'retain']];
  classNames.forEach((n, c) => {
    if (forget[c] || retain[c]) rows.push([c, n, forget[c], retain[c]]);
  });
  rows.push(['', 'all', forget.reduce((a, b) => a + b, 0), retain.reduce((a, b) => a + b, 0)]);
  return table(rows);
}

function reportLines(r: ForgetSetPreview['report']): string[] {
  const out: string[] = [];
  if (r.requested !== undefined) out.push(`Requested   ${r.requested} IDs`);
  if (r.duplicateCount) out.push(`Duplicates  ${r.duplicateCount}: ${r.duplicates!.slice(0, 10).join(', ')}`);
  if (r.missingCount) out.push(`Missing     ${r.missingCount} not in the dataset: ${r.missing!.slice(0, 10).join(', ')}`);
  if (r.notInTrainCount) out.push(`Not train   ${r.notInTrainCount} test examples skipped: ${r.notInTrain!.slice(0, 10).join(', ')}`);
  return out;
}

function describe(d: ForgetSetDetail): string {
  const m = d.manifest;
  return [
    `Forget set  ${d.name} (${d.id})`,
    `Kind        ${m.kind} ${JSON.stringify(m.params)}${m.seed !== null ? `, seed ${m.seed}` : ''}`,
    `Dataset     ${m.dataset.name} (${m.dataset.id}), manifest sha256 ${m.dataset.manifestSha256}`,
    `Forget      ${m.count} examples, ids sha256 ${m.idsSha256}`,
    `Retain      ${m.retain.count} examples, ids sha256 ${m.retain.idsSha256}`,
    `Locked by   ${m.lockedBy.length ? m.lockedBy.join(', ') : 'no run (editable)'}`,
    ...reportLines(m.report),
    ...(m.scores
      ? [
          `Scores      ${m.scores.metric}: ${m.scores.definition}`,
          `            scored ${m.scores.scored}, pool min ${m.scores.poolMin} mean ${m.scores.poolMean} max ${m.scores.poolMax}`,
          ...m.scores.chosen.slice(0, 10).map((c) => `            ${c.id}  ${c.score}`),
        ]
      : []),
    ...(m.sequence
      ? ['Sequence', table([['step', 'name', 'at', 'count', 'new', 'cumulative', 'retain'], ...m.sequence.steps.map((s) => [s.order, s.name, s.at, s.count, s.newCount, s.cumulativeCount, s.retainCount])])]
      : []),
    '',
    distributionTable(m.classNames, m.forgetCounts, m.retainCounts),
  ].join('\n');
}

export const forgetSetCreateCommand: CliCommand = {
  name: 'forget-set create',
  summary: 'Build a forget set (and its retain set) on a dataset',
  usage: '--dataset <name> --kind random|class|subclass|filter|ids|manual|worst-case|coreset|sequential --name <name> [rule options]',
  options: {
    dataset: { type: 'string', required: true, description: 'dataset name or id' },
    kind: { type: 'string', required: true, description: 'random, class, subclass, filter, ids, manual, worst-case, coreset or sequential' },
    name: { type: 'string', required: true, description: 'name of the forget set (unique)' },
    seed: { type: 'string', description: 'seed for random and coreset (default 0)' },
    count: { type: 'string', description: 'random / worst-case: N examples or N% of the training set' },
    stratify: { type: 'boolean', description: 'random: keep the class proportions' },
    classes: { type: 'string', multiple: true, description: 'class indices or names (comma-separated or repeated)' },
    where: { type: 'string', multiple: true, description: "filter / subclass: col=value, col>=x, col<=x, 'col in a|b' (AND)" },
    ids: { type: 'string', description: 'ids / manual: comma-separated example IDs' },
    'ids-file': { type: 'string', description: 'ids: a text file (one ID per line) or a .csv file of deletion requests' },
    'id-column': { type: 'string', description: "ids: the CSV column holding the IDs (default 'id' or the first column)" },
    'on-missing': { type: 'string', description: 'ids: fail (default) or skip when an ID is not a training example' },
    metric: { type: 'string', description: 'worst-case: loss (default), margin or memorization-proxy' },
    model: { type: 'string', description: 'worst-case: id of the original model in the workspace' },
    'model-file': { type: 'string', description: 'worst-case: path of the original model as an inference ONNX file' },
    source: { type: 'string', description: 'coreset: the forget set to sample from' },
    fraction: { type: 'string', description: 'coreset: fraction of the source to keep, e.g. 0.05' },
    steps: { type: 'string', multiple: true, description: 'sequential: forget sets in request order (comma-separated or repeated)' },
    at: { type: 'string', description: 'sequential: comma-separated ISO timestamps, one per step' },
    'dry-run': { type: 'boolean', description: 'preview only: print counts and hash, store nothing' },
  },
  examples: [
    'lethe forget-set create --dataset fmnist --kind random --count 1% --stratify --seed 1 --name rand-1pct',
    'lethe forget-set create --dataset fmnist --kind class --classes Sneaker --name no-sneakers',
    "lethe forget-set create --dataset fmnist --kind subclass --classes Bag --where 'mean_intensity>=100' --name bright-bags",
    'lethe forget-set create --dataset fmnist --kind ids --ids-file requests.csv --on-missing skip --name gdpr-2024-03',
    'lethe forget-set create --dataset fmnist --kind worst-case --metric margin --count 500 --model m-123 --name hardest-500',
    'lethe forget-set create --dataset fmnist --kind coreset --source gdpr-2024-03 --fraction 0.05 --name gdpr-core',
    'lethe forget-set create --dataset fmnist --kind sequential --steps req-1,req-2,req-3 --name requests-q1',
  ],
  async run(ctx) {
    const v = ctx.values as Record<string, unknown>;
    const rule = await ruleFromOptions(v);
    const seed = numberOption(v.seed, 'seed', { int: true, min: 0, max: 0xffffffff });
    const { createForgetSet, previewForgetSet } = await import('../../backend/services/forget-sets');
    await withWorkspace(ctx, async (ws) => {
      const datasetId = stringOption(v.dataset)!;
      if (v['dry-run'] === true) {
        const p = await previewForgetSet(ws, { datasetId, rule, seed });
        ctx.print(p, [`Preview: ${p.count} forget, ${p.retainCount} retain, ids sha256 ${p.idsSha256}`, ...reportLines(p.report), distributionTable(p.classNames, p.forgetCounts, p.retainCounts)].join('\n'));
        return;
      }
      const d = await createForgetSet(ws, { datasetId, name: stringOption(v.name)!, rule, seed });
      ctx.print(d, describe(d));
    });
  },
};

export const forgetSetListCommand: CliCommand = {
  name: 'forget-set list',
  summary: 'List forget sets',
  options: { dataset: { type: 'string', description: 'only the forget sets of this dataset' } },
  async run(ctx) {
    const { listForgetSets } = await import('../../backend/services/forget-sets');
    await withWorkspace(ctx, async (ws) => {
      const all = await listForgetSets(ws, stringOption(ctx.values.dataset));
      ctx.print(
        all,
        all.length
          ? table([['name', 'id', 'kind', 'dataset', 'count', 'locked', 'ids sha256'], ...all.map((f) => [f.name, f.id, f.kind, f.datasetName, f.count, f.locked ? 'yes' : 'no', f.idsSha256.slice(0, 16)])])
          : 'No forget sets yet. Create one with: lethe forget-set create --dataset <name> --kind random --count 1% --name <name>',
      );
    }, 'read');
  },
};

export const forgetSetShowCommand: CliCommand = {
  name: 'forget-set show',
  summary: 'Show a forget set: rule, hashes, forget vs retain per class',
  options: { ids: { type: 'boolean', description: 'also print every forget ID (always included with --json)' } },
  positionals: [{ name: 'name', description: 'forget set name or id', required: true }],
  async run(ctx) {
    const { getForgetSet } = await import('../../backend/services/forget-sets');
    await withWorkspace(ctx, async (ws) => {
      const d = await getForgetSet(ws, ctx.positionals[0], true);
      ctx.print(d, describe(d) + (ctx.values.ids === true ? '\n\nIDs:\n' + d.ids!.join('\n') : ''));
    }, 'read');
  },
};

export const forgetSetDeleteCommand: CliCommand = {
  name: 'forget-set delete',
  summary: 'Delete a forget set (refused once a run uses it)',
  options: {},
  positionals: [{ name: 'name', description: 'forget set name or id', required: true }],
  async run(ctx) {
    const { deleteForgetSet } = await import('../../backend/services/forget-sets');
    await withWorkspace(ctx, async (ws) => {
      const r = await deleteForgetSet(ws, ctx.positionals[0]);
      ctx.print(r, `Deleted forget set '${ctx.positionals[0]}'.`);
    });
  },
};

export const forgetSetExportCommand: CliCommand = {
  name: 'forget-set export',
  summary: 'Write a forget set as a folder an auditor can verify (ids.txt, retain-ids.txt, manifest.json, forget-set.csv, SHA256SUMS)',
  options: { out: { type: 'string', description: 'a new or empty folder to write (required)' } },
  positionals: [{ name: 'name', description: 'forget set name or id', required: true }],
  async run(ctx) {
    const out = ctx.values.out;
    if (typeof out !== 'string' || !out) throw new CliUsageError('--out <folder> is required.');
    const { exportForgetSet } = await import('../../backend/services/forget-set-export');
    await withWorkspace(ctx, async (ws) => {
      const r = await exportForgetSet(ws, ctx.positionals[0], resolve(out));
      ctx.print(
        r,
        [`Exported forget set '${r.name}' to ${r.path}:`, ...r.files.map((f) => `  ${f.name.padEnd(15)} ${f.bytes.toLocaleString('en-US').padStart(12)} bytes  ${f.sha256}`), `Check it with: cd ${r.path} && sha256sum -c SHA256SUMS`].join('\n'),
      );
    }, 'read');
  },
};

export const forgetSetVerifyCommand: CliCommand = {
  name: 'forget-set verify',
  summary: "Check an exported forget-set folder (no workspace needed), optionally against your own deletion requests; exit 1 if anything fails",
  options: { requests: { type: 'string', description: 'a text file (one ID per line) or .csv of deletion requests: each must be forgotten, not retained' } },
  positionals: [{ name: 'folder', description: 'the folder written by forget-set export', required: true }],
  examples: ['lethe forget-set verify ./audit/gdpr-2024-03', 'lethe forget-set verify ./audit/gdpr-2024-03 --requests requests.csv --json'],
  async run(ctx) {
    const { verifyForgetSetExport } = await import('../../backend/services/forget-set-verify');
    const requests = stringOption(ctx.values.requests);
    const r = await verifyForgetSetExport(resolve(ctx.positionals[0]), requests ? { requestsFile: resolve(requests) } : {});
    ctx.print(r, [`Forget set ${r.name === null ? '(unknown)' : `'${r.name}'`} in ${r.folder}`, ...r.checks.map((c) => `${c.ok ? 'OK  ' : 'FAIL'} ${c.name.padEnd(15)} ${c.detail}`)].join('\n'));
    if (!r.ok) throw new CliFailure(`forget-set verify: ${r.checks.filter((c) => !c.ok).length} check(s) failed`);
  },
};

export const FORGET_SET_COMMANDS = [forgetSetCreateCommand, forgetSetListCommand, forgetSetShowCommand, forgetSetExportCommand, forgetSetVerifyCommand, forgetSetDeleteCommand];
