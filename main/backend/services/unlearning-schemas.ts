// Argument schemas of unlearning.*, runs.* and comparisons.* (spread into validation.ts). Kept apart
// from the handlers (unlearning-api.ts) so validation.ts does not import the run services, which
// import services/app.ts, which imports validation.ts.

import { z } from 'zod';
import type { UnlearningMethods } from '../../../preload/api/unlearning';

/** Most seeds one plan may ask for (each seed is a full run of every method). */
export const MAX_PLAN_SEEDS = 20;
/** Most methods (parameter settings) in one plan. */
export const MAX_PLAN_METHODS = 40;

const recordId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must contain only letters, digits, ".", "_" and "-", starting with a letter or digit');
/** forget sets are named freely (any printable name); the id form is a record id */
const forgetSetRef = z.string().min(1).max(200);
const methodId = z.string().min(1).max(60);
const paramValue = z.union([z.number(), z.boolean(), z.string().max(200)]);

const attackFeature = z.enum(['confidence', 'entropy', 'logit-confidence']);
const entryKey = z.string().min(1).max(200);
const split3 = z.enum(['forget', 'retain', 'test']);
/** one dashboard chart (ComparisonChartRequest) */
const chartRequest = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('tradeoff'), y: z.enum(['retain-accuracy', 'test-accuracy']).optional() }).strict(),
  z.object({ kind: z.literal('gaps') }).strict(),
  z.object({ kind: z.literal('per-class'), a: entryKey, b: entryKey, split: split3.optional() }).strict(),
  z.object({ kind: z.literal('confusion'), model: entryKey, split: split3.optional() }).strict(),
  z.object({ kind: z.literal('relearn') }).strict(),
  z.object({ kind: z.literal('run-times') }).strict(),
  z.object({ kind: z.literal('cka'), model: entryKey, split: z.enum(['all', 'forget', 'retain', 'test', 'train']).optional() }).strict(),
  z.object({ kind: z.literal('epsilon') }).strict(),
  z.object({ kind: z.literal('training-curve') }).strict(),
  z.object({ kind: z.literal('unlearning-curves') }).strict(),
  z.object({ kind: z.literal('attack-histogram'), model: entryKey, feature: attackFeature, threshold: z.number().int().min(0).max(1000).optional() }).strict(),
  z.object({ kind: z.literal('attack-roc'), feature: attackFeature, pair: z.enum(['retain-vs-test', 'forget-vs-test']) }).strict(),
]);

export const unlearningArgSchemas = {
  'unlearning.methods': z.object({}).strict(),
  'unlearning.metrics': z.object({}).strict(),
  'unlearning.plan': z
    .object({
      model: recordId,
      forgetSet: forgetSetRef,
      methods: z
        .array(z.object({ id: methodId, params: z.record(paramValue).optional() }).strict())
        .min(1)
        .max(MAX_PLAN_METHODS),
      // the range is checked by planUnlearning too, so the service refuses it in the same words
      seeds: z.number().optional(),
      guardrail: z
        .object({ maxDropPoints: z.number().optional(), action: z.enum(['stop', 'flag', 'off']).optional(), sliceSize: z.number().optional() })
        .strict()
        .optional(),
      includeRetrain: z.boolean().optional(),
      name: z.string().min(1).max(200).optional(),
      thresholds: z.array(z.object({ metric: z.string().min(1).max(60), op: z.enum(['<=', '>=', 'gap<=']), value: z.number() }).strict()).max(100).optional(),
    })
    .strict(),
  'runs.list': z.object({ forgetSet: forgetSetRef.optional(), model: recordId.optional() }).strict(),
  'runs.get': z.object({ id: recordId }).strict(),
  'runs.exportOutputs': z.object({ id: recordId, path: z.string().min(1).max(4096), format: z.enum(['npz', 'csv']), overwrite: z.boolean().optional() }).strict(),
  'comparisons.list': z.object({}).strict(),
  'comparisons.get': z.object({ id: recordId }).strict(),
  'comparisons.charts': z.object({ id: recordId, charts: z.array(chartRequest).min(1).max(40) }).strict(),
  'comparisons.attack': z.object({ id: recordId, feature: attackFeature }).strict(),
  'comparisons.embedding': z.object({ id: recordId, a: entryKey.optional(), b: entryKey.optional(), compute: z.boolean().optional() }).strict(),
  'comparisons.example': z.object({ id: recordId, exampleId: z.string().min(1).max(400) }).strict(),
  'comparisons.changedExamples': z.object({ id: recordId, key: entryKey.optional(), limit: z.number().int().min(1).max(500).optional() }).strict(),
  'unlearning.sweep': z
    .object({
      model: recordId,
      forgetSet: forgetSetRef,
      method: methodId,
      base: z.record(paramValue).optional(),
      space: z.record(z.union([z.object({ values: z.array(paramValue).min(1).max(500) }).strict(), z.object({ min: z.number(), max: z.number(), log: z.boolean().optional() }).strict()])),
      mode: z.enum(['grid', 'random']),
      trials: z.number().int().optional(),
      seed: z.number().int().min(0).optional(),
      objective: z.enum(['tow', 'avg-gap']),
      guardrail: z
        .object({ maxDropPoints: z.number().optional(), action: z.enum(['stop', 'flag', 'off']).optional(), sliceSize: z.number().optional() })
        .strict()
        .optional(),
      name: z.string().min(1).max(200).optional(),
    })
    .strict(),
  'sweeps.list': z.object({}).strict(),
  'sweeps.get': z.object({ id: recordId }).strict(),
} satisfies { [M in keyof UnlearningMethods]: z.ZodType<UnlearningMethods[M]['args'], z.ZodTypeDef, unknown> };
