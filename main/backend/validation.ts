// Argument validation for every API method, shared by both transports and the CLI. Each method has
// one zod schema; the `satisfies` clause makes a missing schema (or one whose output does not match
// the contract's argument type) a type error. Any failure becomes ApiError('invalid_argument') with
// one plain sentence naming the field.

import { z } from 'zod';
import { ApiError } from '../../preload/api/common';
import type { ArgsOf, MethodName } from '../../preload/api/index';
import { API_METHODS } from '../../preload/api/index';
import { datasetArgSchemas } from './services/datasets-schemas';
import { modelArgSchemas } from './services/models-api';
import { unlearningArgSchemas } from './services/unlearning-schemas';
import { reportArgSchemas } from './services/reports-schemas';
import { planEstimateArgSchemas } from './services/plan-estimate-schemas';

/** Limits applied to every argument object before its schema runs. */
export const ARG_LIMITS = {
  /** longest single string anywhere in the arguments */
  maxStringLength: 64 * 1024,
  /** nesting depth of objects/arrays */
  maxDepth: 32,
  /** total number of values (objects, arrays, scalars); forget sets may list up to 10^6 example ids */
  maxNodes: 1_100_000,
} as const;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Walk the raw arguments: plain JSON data only (objects with Object.prototype or null prototype,
 * arrays, strings, finite numbers, booleans, null), bounded in size and depth, and no keys that
 * could reach a prototype.
 */
export function assertPlainArgs(value: unknown, method: string): void {
  let nodes = 0;
  const fail = (where: string, what: string): never => {
    throw new ApiError('invalid_argument', `${method}: ${where ? `'${where}' ` : 'arguments '}${what}.`);
  };
  const walk = (v: unknown, path: string, depth: number): void => {
    if (++nodes > ARG_LIMITS.maxNodes) fail('', `hold more than ${ARG_LIMITS.maxNodes} values`);
    if (depth > ARG_LIMITS.maxDepth) fail(path, `is nested deeper than ${ARG_LIMITS.maxDepth} levels`);
    if (v === null || typeof v === 'boolean') return;
    if (typeof v === 'string') {
      if (v.length > ARG_LIMITS.maxStringLength) fail(path, `is longer than ${ARG_LIMITS.maxStringLength} characters`);
      return;
    }
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) fail(path, 'must be a finite number');
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, `${path}[${i}]`, depth + 1));
      return;
    }
    if (typeof v === 'object') {
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) fail(path, 'must be a plain object');
      for (const key of Reflect.ownKeys(v)) {
        if (typeof key === 'symbol') fail(path, 'has a symbol key');
        const k = key as string;
        if (FORBIDDEN_KEYS.has(k)) fail(path ? `${path}.${k}` : k, 'is not an allowed key');
        if (k.length > 256) fail(path, 'has a key longer than 256 characters');
        walk((v as Record<string, unknown>)[k], path ? `${path}.${k}` : k, depth + 1);
      }
      return;
    }
    fail(path, `has an unsupported value of type ${typeof v}`);
  };
  walk(value, '', 0);
}

const empty = z.object({}).strict();
const id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must contain only letters, digits, ".", "_" and "-"');
const jobState = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted']);

export const settingsSchema = z
  .object({
    theme: z.enum(['light', 'dark', 'system']),
    executionProvider: z.enum(['cpu', 'cuda', 'webgpu', 'dml', 'coreml']),
    intraOpThreads: z.number().int().min(0).max(256),
    jobConcurrency: z.number().int().min(1).max(64),
  })
  .strict();

/** One schema per method. */
export const argSchemas = {
  'app.info': empty,
  'app.pickPath': z
    .object({
      mode: z.enum(['file', 'folder']),
      title: z.string().max(200).optional(),
      filters: z
        .array(z.object({ name: z.string().min(1).max(100), extensions: z.array(z.string().regex(/^[A-Za-z0-9*]{1,16}$/)).min(1).max(20) }).strict())
        .max(10)
        .optional(),
    })
    .strict(),
  'workspace.info': empty,
  'settings.get': empty,
  'settings.update': settingsSchema.partial(),
  'jobs.list': z.object({ states: z.array(jobState).max(6).optional() }).strict(),
  'jobs.get': z.object({ id }).strict(),
  'jobs.submit': z
    .object({
      kind: z
        .string()
        .min(1)
        .max(64)
        .regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/, 'must be a job kind name such as "workspace.verify"'),
      title: z.string().max(200).optional(),
      // Each job kind validates its own params (JobHandler.validate) before queueing.
      params: z.unknown(),
    })
    .strict()
    .transform((v) => ({ ...v, params: v.params ?? {} })),
  'jobs.cancel': z.object({ id }).strict(),
  'jobs.resume': z.object({ id }).strict(),
  'jobs.logs': z.object({ id, limit: z.number().int().min(1).max(100_000).optional() }).strict(),
  'jobs.kinds': empty,
  ...datasetArgSchemas,
  ...modelArgSchemas,
  ...unlearningArgSchemas,
  ...reportArgSchemas,
  ...planEstimateArgSchemas,
} satisfies { [M in MethodName]: z.ZodType<ArgsOf<M>, z.ZodTypeDef, unknown> };

function describeIssue(issue: z.ZodIssue): string {
  const where = issue.path.length ? `'${issue.path.join('.')}'` : 'arguments';
  switch (issue.code) {
    case 'unrecognized_keys':
      return `${where} has unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    case 'invalid_type':
      return issue.received === 'undefined' ? `${where} is required` : `${where} must be ${issue.expected}, not ${issue.received}`;
    case 'invalid_enum_value':
      return `${where} must be one of ${issue.options.join(', ')}`;
    case 'too_big':
      return issue.type === 'string'
        ? `${where} must be at most ${issue.maximum} characters`
        : issue.type === 'array'
          ? `${where} must have at most ${issue.maximum} items`
          : `${where} must be at most ${issue.maximum}`;
    case 'too_small':
      return issue.type === 'string'
        ? `${where} must not be empty`
        : issue.type === 'array'
          ? `${where} must have at least ${issue.minimum} items`
          : `${where} must be at least ${issue.minimum}`;
    default:
      return `${where} ${issue.message.charAt(0).toLowerCase()}${issue.message.slice(1)}`;
  }
}

const KNOWN = new Set<string>(API_METHODS);

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && KNOWN.has(name);
}

/** Validate a method's raw arguments; returns the parsed value or throws ApiError('invalid_argument'). */
export function validateArgs<M extends MethodName>(method: M, raw: unknown): ArgsOf<M> {
  if (!isMethodName(method)) throw new ApiError('invalid_argument', `Unknown method '${String(method).slice(0, 100)}'.`);
  const args = raw === undefined ? {} : raw;
  if (args === null || typeof args !== 'object' || Array.isArray(args)) {
    throw new ApiError('invalid_argument', `${method}: arguments must be an object.`);
  }
  assertPlainArgs(args, method);
  const parsed = (argSchemas[method] as z.ZodType<ArgsOf<M>, z.ZodTypeDef, unknown>).safeParse(args);
  if (!parsed.success) {
    throw new ApiError('invalid_argument', `${method}: ${describeIssue(parsed.error.issues[0])}.`);
  }
  return parsed.data;
}
