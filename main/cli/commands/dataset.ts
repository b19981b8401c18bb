// `lethe dataset import|list|show|builtins`: the dataset service from the command line.

import { ApiError } from '../../../preload/api/common';
import type { DatasetDetail, DatasetFormat, ImportSourceArgs } from '../../../preload/api/datasets';
import { CliUsageError, type CliCommand } from '../types';
import { withWorkspace } from '../workspace';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const list = (v: unknown): string[] | undefined => {
  const arr = Array.isArray(v) ? v : typeof v === 'string' ? [v] : undefined;
  return arr ? arr.flatMap((s) => String(s).split(',')).map((s) => s.trim()).filter(Boolean) : undefined;
};

function num(v: unknown, flag: string, opts: { int?: boolean; min?: number; max?: number } = {}): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || (opts.int && !Number.isInteger(n)))
    throw new CliUsageError(`--${flag} must be ${opts.int ? 'an integer' : 'a number'}, got '${String(v)}'`);
  if (opts.min !== undefined && n < opts.min) throw new CliUsageError(`--${flag} must be at least ${opts.min}`);
  if (opts.max !== undefined && n > opts.max) throw new CliUsageError(`--${flag} must be at most ${opts.max}`);
  return n;
}

export function table(rows: (string | number)[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows.map((r) => r.map((v, c) => (typeof v === 'number' ? String(v).padStart(widths[c]) : String(v).padEnd(widths[c]))).join('  ').trimEnd()).join('\n');
}

function countsTable(d: { classNames: string[]; counts: DatasetDetail['counts'] }): string {
  const rows: (string | number)[][] = [['class', 'name', 'train', 'test', 'total']];
  d.classNames.forEach((n, c) => rows.push([c, n, d.counts.train[c], d.counts.test[c], d.counts.train[c] + d.counts.test[c]]));
  rows.push(['', 'all', d.counts.totals.train, d.counts.totals.test, d.counts.totals.all]);
  return table(rows);
}

export const datasetImportCommand: CliCommand = {
  name: 'dataset import',
  summary: 'Import a dataset into the workspace (IDX, CIFAR, image folder, CSV, NPZ or a built-in sample)',
  usage: '--format idx|cifar|folder|csv|npz|builtin --source <file|folder|builtin name> --name <name> [options]',
  options: {
    format: { type: 'string', required: true, description: 'idx, cifar, folder, csv, npz or builtin' },
    source: { type: 'string', required: true, description: "file or folder (IDX: the folder with the four standard files), or a built-in name (see 'lethe dataset builtins')" },
    name: { type: 'string', required: true, description: 'name of the new dataset (unique in the workspace)' },
    'label-column': { type: 'string', description: "csv: the label column (default 'label')" },
    'id-column': { type: 'string', description: 'csv: a column of stable example IDs (default: row-<n>)' },
    'split-column': { type: 'string', description: "csv: a column with 'train'/'test' values" },
    'feature-columns': { type: 'string', description: 'csv: comma-separated feature columns (default: every all-numeric column)' },
    resize: { type: 'string', description: 'folder: resize every image to WxH, e.g. 32x32' },
    channels: { type: 'string', description: 'folder: grayscale or rgb (default: from the first image)' },
    'on-error': { type: 'string', description: 'folder: skip or fail on a broken image (default fail)' },
    'max-pixels': { type: 'string', description: 'folder: refuse images with more pixels than this (default 50000000)' },
    variant: { type: 'string', description: 'cifar: cifar10 or cifar100 (default: detected from the file names)' },
    'class-names': { type: 'string', description: 'idx/npz: comma-separated class names' },
    'x-key': { type: 'string', description: "npz: key of the samples (default 'x')" },
    'y-key': { type: 'string', description: "npz: key of the labels (default 'y')" },
    'split-key': { type: 'string', description: "npz: key of a split array (0 = train, 1 = test; default 'split' if present)" },
    'test-fraction': { type: 'string', description: 'test fraction for sources without their own split (default 0.2)' },
    'split-seed': { type: 'string', description: 'seed of the stratified split for sources without their own split (default 0)' },
    'max-expansion': { type: 'string', description: 'refuse a source whose samples take more than this many times its size on disk (default 100; a decompression-bomb guard)' },
  },
  examples: [
    'lethe dataset import --format builtin --source fashion-mnist-sample --name fmnist',
    'lethe dataset import --format idx --source /usr/share/datasets/fashion-mnist --name fmnist-official',
    'lethe dataset import --format folder --source ./pets --name pets --resize 32x32 --channels rgb --on-error skip',
    'lethe dataset import --format csv --source adult.csv --label-column income --name adult --split-seed 1 --test-fraction 0.25',
  ],
  async run(ctx) {
    const v = ctx.values;
    const format = str(v.format) as DatasetFormat;
    if (!['idx', 'cifar', 'folder', 'csv', 'npz', 'builtin'].includes(format))
      throw new CliUsageError(`--format must be one of idx, cifar, folder, csv, npz, builtin; got '${String(v.format)}'`);
    const options: Record<string, unknown> = {};
    const set = (k: string, val: unknown) => val !== undefined && (options[k] = val);
    set('labelColumn', str(v['label-column']));
    set('idColumn', str(v['id-column']));
    set('splitColumn', str(v['split-column']));
    set('featureColumns', list(v['feature-columns']));
    set('resize', str(v.resize));
    set('channels', str(v.channels));
    set('onError', str(v['on-error']));
    set('maxPixels', num(v['max-pixels'], 'max-pixels', { int: true, min: 1 }));
    set('variant', str(v.variant));
    set('classNames', list(v['class-names']));
    set('xKey', str(v['x-key']));
    set('yKey', str(v['y-key']));
    set('splitKey', str(v['split-key']));
    const args: ImportSourceArgs & { name: string } = {
      format,
      source: str(v.source)!,
      name: str(v.name)!,
      options,
      testFraction: num(v['test-fraction'], 'test-fraction', { min: 0, max: 1 }),
      splitSeed: num(v['split-seed'], 'split-seed', { int: true, min: 0, max: 0xffffffff }),
      maxExpansion: num(v['max-expansion'], 'max-expansion', { min: 1 }),
    };
    if (args.testFraction !== undefined && !(args.testFraction > 0 && args.testFraction < 1))
      throw new CliUsageError('--test-fraction must be between 0 and 1 (exclusive)');
    const { runDatasetImport, getDataset } = await import('../../backend/services/datasets');
    await withWorkspace(ctx, async (ws) => {
      let last = 0;
      const rec = await runDatasetImport(ws, args, {
        progress: (p) => {
          if (ctx.json) return;
          const now = Date.now();
          if (now - last < 500) return;
          last = now;
          ctx.progress(`importing: ${p.done} examples read${p.message ? ` (${p.message})` : ''}`);
        },
      });
      const d = await getDataset(ws, rec.id);
      const human = [
        `Imported '${d.name}' (${d.id}): ${d.count} examples, ${d.classNames.length} classes, sample shape [${d.sampleShape.join(', ')}] in ${d.manifest.importSeconds} s`,
        `Split: ${d.manifest.splits.description}`,
        countsTable(d),
        ...(d.manifest.warnings.length ? [`Warnings (${d.manifest.warnings.length}):`, ...d.manifest.warnings.slice(0, 20).map((w) => `  ${w}`)] : []),
      ].join('\n');
      ctx.print(d, human);
    });
  },
};

export const datasetListCommand: CliCommand = {
  name: 'dataset list',
  summary: 'List the datasets in the workspace',
  options: {},
  examples: ['lethe dataset list', 'lethe dataset list --json'],
  async run(ctx) {
    const { listDatasets } = await import('../../backend/services/datasets');
    await withWorkspace(ctx, async (ws) => {
      const all = await listDatasets(ws);
      const human = all.length
        ? table([
            ['name', 'id', 'format', 'examples', 'train', 'test', 'classes', 'shape'],
            ...all.map((d) => [d.name, d.id, d.format, d.count, d.counts.totals.train, d.counts.totals.test, d.classNames.length, d.sampleShape.join('x')]),
          ])
        : "No datasets yet. Start with: lethe dataset import --format builtin --source fashion-mnist-sample --name fmnist";
      ctx.print(all, human);
    }, 'read');
  },
};

export const datasetShowCommand: CliCommand = {
  name: 'dataset show',
  summary: 'Show a dataset: counts per split and per class, hashes and source',
  options: {},
  positionals: [{ name: 'name', description: 'dataset name or id', required: true }],
  examples: ['lethe dataset show fmnist', 'lethe dataset show fmnist --json'],
  async run(ctx) {
    const { getDataset } = await import('../../backend/services/datasets');
    await withWorkspace(ctx, async (ws) => {
      const d = await getDataset(ws, ctx.positionals[0]);
      const m = d.manifest;
      const human = [
        `Dataset     ${d.name} (${d.id})`,
        `Kind        ${m.kind}, ${m.count} examples, sample shape [${m.sampleShape.join(', ')}] ${m.xDtype} ${m.layout}`,
        `Source      ${m.source.format} ${m.source.location}`,
        `Split       ${m.splits.origin}: ${m.splits.description}`,
        `IDs         ${m.idScheme}`,
        `Manifest    sha256 ${d.manifestSha256}`,
        `Samples     sha256 ${m.arrays.x.sha256}`,
        `Labels      sha256 ${m.arrays.y.sha256}`,
        ...m.source.files.map((f) => `Source file ${f.path} (${f.size} bytes) sha256 ${f.sha256}`),
        m.metadata.length ? `Metadata    ${m.metadata.map((c) => `${c.name} (${c.type})`).join(', ')}` : 'Metadata    none',
        '',
        countsTable(d),
        ...(d.forgetSets.length ? ['', `Forget sets: ${d.forgetSets.map((f) => `${f.name} (${f.kind}, ${f.count})`).join(', ')}`] : []),
      ].join('\n');
      ctx.print(d, human);
    }, 'read');
  },
};

export const datasetBuiltinsCommand: CliCommand = {
  name: 'dataset builtins',
  summary: 'List the built-in sample datasets and whether they are present',
  options: {},
  async run(ctx) {
    const { builtinDatasets } = await import('../../backend/services/datasets');
    const all = builtinDatasets();
    ctx.print(all, table([['name', 'present', 'examples', 'split'], ...all.map((b) => [b.name, b.present ? 'yes' : 'no', b.examples, b.split])]));
  },
};

export const datasetDeleteCommand: CliCommand = {
  name: 'dataset delete',
  summary: 'Delete a dataset (refused while forget sets use it)',
  options: {},
  positionals: [{ name: 'name', description: 'dataset name or id', required: true }],
  async run(ctx) {
    const { deleteDataset } = await import('../../backend/services/datasets');
    await withWorkspace(ctx, async (ws) => {
      const r = await deleteDataset(ws, ctx.positionals[0]);
      ctx.print(r, `Deleted dataset '${ctx.positionals[0]}'.`);
    });
  },
};

export { list as listOption, num as numberOption, str as stringOption };
export const DATASET_COMMANDS = [datasetImportCommand, datasetListCommand, datasetShowCommand, datasetBuiltinsCommand, datasetDeleteCommand];
void ApiError;
