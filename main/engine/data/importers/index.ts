// Registry of importers, one per source format.
import type { DatasetFormat } from '../store';
import type { Importer } from './types';
import { idxImporter } from './idx';
import { builtinImporter } from './builtin';
import { cifarImporter } from './cifar';
import { csvImporter } from './csv';
import { folderImporter } from './folder';
import { npzImporter } from './npz';

const REGISTRY: Partial<Record<DatasetFormat, Importer<never>>> = {
  idx: idxImporter as Importer<never>,
  builtin: builtinImporter as Importer<never>,
  cifar: cifarImporter as Importer<never>,
  csv: csvImporter as Importer<never>,
  folder: folderImporter as Importer<never>,
  npz: npzImporter as Importer<never>,
};

export function registerImporter(imp: Importer<never>): void {
  REGISTRY[imp.format] = imp;
}

export function getImporter(format: string): Importer<Record<string, unknown>> {
  const imp = REGISTRY[format as DatasetFormat];
  if (!imp) throw new Error(`no importer for format '${format}'`);
  return imp as unknown as Importer<Record<string, unknown>>;
}

export const DATASET_FORMATS: DatasetFormat[] = ['idx', 'cifar', 'folder', 'csv', 'npz', 'builtin'];
