// zod argument schemas for datasets.* and forgetSets.* (spread into argSchemas in validation.ts).
// Deeper checks (rule consistency, class names, file contents) happen in the services and the engine,
// which answer with ApiError('invalid_argument') and one plain sentence.

import { z } from 'zod';
import type { DatasetMethods } from '../../../preload/api/datasets';

const ref = z.string().min(1).max(200);
const name = z.string().min(1).max(100);
const format = z.enum(['idx', 'cifar', 'folder', 'csv', 'npz', 'builtin']);
const classRef = z.union([z.number().int().min(0), z.string().min(1).max(200)]);
const scalar = z.union([z.string().max(1000), z.number()]);

const importSource = {
  format,
  source: z.string().min(1).max(4096),
  // importer options are checked by each importer; the image folder's resize fit is also checked here
  options: z
    .record(z.unknown())
    .refine((o) => o.fit === undefined || o.fit === 'fill' || o.fit === 'cover' || o.fit === 'contain', {
      message: "fit must be 'fill', 'cover' or 'contain'",
      path: ['fit'],
    })
    .optional(),
  testFraction: z.number().gt(0).lt(1).optional(),
  splitSeed: z.number().int().min(0).max(0xffffffff).optional(),
  maxExpansion: z.number().min(1).optional(),
};

const predicate = z
  .object({
    column: z.string().min(1).max(200),
    op: z.enum(['eq', 'in', 'range']),
    value: scalar.optional(),
    values: z.array(scalar).min(1).max(10_000).optional(),
    min: z.number().optional(),
    max: z.number().optional(),
  })
  .strict();

const idList = z.array(z.string().min(1).max(256)).max(1_000_000);

const modelRef = z
  .object({
    modelId: z.string().min(1).max(128).optional(),
    path: z.string().min(1).max(4096).optional(),
    norm: z.object({ mean: z.array(z.number()).min(1).max(16), std: z.array(z.number().positive()).min(1).max(16) }).strict().optional(),
  })
  .strict()
  .refine((m) => (m.modelId === undefined) !== (m.path === undefined), { message: 'needs exactly one of modelId or path' });

const rule = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('random'),
      count: z.number().int().min(1).optional(),
      fraction: z.number().gt(0).max(1).optional(),
      stratify: z.boolean().optional(),
      classes: z.array(classRef).min(1).max(10_000).optional(),
    })
    .strict(),
  z.object({ kind: z.literal('class'), classes: z.array(classRef).min(1).max(10_000) }).strict(),
  z
    .object({
      kind: z.literal('subclass'),
      class: classRef,
      column: z.string().min(1).max(200),
      value: scalar.optional(),
      min: z.number().optional(),
      max: z.number().optional(),
    })
    .strict(),
  z.object({ kind: z.literal('filter'), predicates: z.array(predicate).min(1).max(32) }).strict(),
  z
    .object({
      kind: z.literal('ids'),
      ids: idList.optional(),
      text: z.string().optional(),
      csv: z.string().optional(),
      column: z.string().min(1).max(200).optional(),
      onMissing: z.enum(['fail', 'skip']).optional(),
    })
    .strict(),
  z.object({ kind: z.literal('manual'), ids: idList.min(1) }).strict(),
  z
    .object({
      kind: z.literal('worst-case'),
      metric: z.enum(['loss', 'margin', 'memorization-proxy']),
      count: z.number().int().min(1).optional(),
      fraction: z.number().gt(0).max(1).optional(),
      classes: z.array(classRef).min(1).max(10_000).optional(),
      model: modelRef,
    })
    .strict(),
  z.object({ kind: z.literal('coreset'), source: ref, fraction: z.number().gt(0).max(1) }).strict(),
  z.object({ kind: z.literal('sequential'), steps: z.array(ref).min(1).max(1000), at: z.array(z.string().max(64)).optional() }).strict(),
]);

const seed = z.number().int().min(0).max(0xffffffff).optional();
const metric = z.enum(['loss', 'margin', 'memorization-proxy']);
const empty = z.object({}).strict();

export const datasetArgSchemas = {
  'datasets.list': empty,
  'datasets.get': z.object({ id: ref }).strict(),
  'datasets.builtins': empty,
  'datasets.previewImport': z.object({ ...importSource, maxSamples: z.number().int().min(0).max(256).optional() }).strict(),
  'datasets.import': z.object({ ...importSource, name }).strict(),
  'datasets.examples': z
    .object({
      id: ref,
      offset: z.number().int().min(0).optional(),
      limit: z.number().int().min(1).max(1000).optional(),
      split: z.enum(['train', 'test']).optional(),
      classes: z.array(classRef).max(10_000).optional(),
      filters: z.array(predicate).max(32).optional(),
      forgetSet: z.object({ id: ref, part: z.enum(['forget', 'retain']) }).strict().optional(),
    })
    .strict(),
  'datasets.images': z
    .object({
      id: ref,
      ids: z.array(z.string().min(1).max(256)).max(512),
      encoding: z.enum(['png', 'raw']).optional(),
      scale: z.number().int().min(1).max(8).optional(),
    })
    .strict(),
  'datasets.thumbnail': z.object({ id: ref, exampleId: z.string().min(1).max(256), scale: z.number().int().min(1).max(8).optional() }).strict(),
  'datasets.delete': z.object({ id: ref }).strict(),
  'forgetSets.list': z.object({ datasetId: ref.optional() }).strict(),
  'forgetSets.get': z.object({ id: ref, includeIds: z.boolean().optional() }).strict(),
  'forgetSets.preview': z.object({ datasetId: ref, rule, seed }).strict(),
  'forgetSets.create': z.object({ datasetId: ref, name, rule, seed }).strict(),
  'forgetSets.score': z.object({ datasetId: ref, model: modelRef, metric }).strict(),
  'forgetSets.delete': z.object({ id: ref }).strict(),
  'forgetSets.export': z.object({ id: ref, path: z.string().min(1).max(4096) }).strict(),
} satisfies { [M in keyof DatasetMethods]: z.ZodType<DatasetMethods[M]['args'], z.ZodTypeDef, unknown> };
