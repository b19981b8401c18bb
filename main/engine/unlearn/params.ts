// Method parameters are declared once, as a zod object schema per method (each field with a
// default and a `.describe()` text). Everything else derives from that schema:
//   - validation of API/job/CLI input (parseMethodParams),
//   - the serialisable form description the UI draws its form from and the CLI prints as flags
//     (describeParams -> ParamSpec[]),
//   - CLI `--param k=v` parsing (parseParamAssignments, typed by the same specs).

import { z } from 'zod';
import { EngineError } from '../errors';

import type { ParamSpec } from './contract-types';

// ParamSpec and ParamType are defined in contract-types.ts (types only) so the API contract can re-export them.
export type { ParamSpec, ParamType } from './contract-types';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyObject = z.ZodObject<any>;

function unwrap(t: z.ZodTypeAny): { inner: z.ZodTypeAny; def: unknown; description: string | undefined } {
  let description = t.description;
  let def: unknown = undefined;
  let cur = t;
  for (;;) {
    if (cur instanceof z.ZodDefault) {
      def = cur._def.defaultValue();
      cur = cur._def.innerType;
    } else if (cur instanceof z.ZodOptional || cur instanceof z.ZodNullable) {
      cur = cur._def.innerType;
    } else if (cur instanceof z.ZodEffects) {
      cur = cur._def.schema;
    } else break;
    description ??= cur.description;
  }
  return { inner: cur, def, description };
}

/** The form/flag description of a method's parameter schema. Every field needs a default and a description. */
export function describeParams(schema: AnyObject): ParamSpec[] {
  const out: ParamSpec[] = [];
  for (const [name, field] of Object.entries(schema.shape as Record<string, z.ZodTypeAny>)) {
    const { inner, def, description } = unwrap(field);
    if (def === undefined) throw new Error(`method parameter '${name}' has no default`);
    if (!description) throw new Error(`method parameter '${name}' has no description`);
    if (inner instanceof z.ZodNumber) {
      const spec: ParamSpec = { name, type: 'number', default: def as number, description };
      for (const c of inner._def.checks) {
        if (c.kind === 'int') spec.type = 'integer';
        else if (c.kind === 'min') {
          spec.min = c.value;
          if (!c.inclusive) spec.minExclusive = true;
        } else if (c.kind === 'max') {
          spec.max = c.value;
          if (!c.inclusive) spec.maxExclusive = true;
        }
      }
      out.push(spec);
    } else if (inner instanceof z.ZodBoolean) {
      out.push({ name, type: 'boolean', default: def as boolean, description });
    } else if (inner instanceof z.ZodEnum) {
      out.push({ name, type: 'enum', default: def as string, description, options: [...(inner._def.values as string[])] });
    } else {
      throw new Error(`method parameter '${name}': only numbers, booleans and enums are supported`);
    }
  }
  return out;
}

/** Validate (and fill defaults of) a method's parameters; one plain sentence on failure. */
export function parseMethodParams<S extends AnyObject>(methodId: string, schema: S, raw: unknown): z.output<S> {
  const r = schema.strict().safeParse(raw ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue.path.join('.') || 'params';
    const msg = issue.code === 'unrecognized_keys' ? `unknown parameter(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}; known: ${Object.keys(schema.shape).join(', ')}` : `'${where}': ${issue.message.charAt(0).toLowerCase()}${issue.message.slice(1)}`;
    throw new EngineError('invalid_argument', `${methodId}: ${msg}.`);
  }
  return r.data;
}

/** Turn CLI `k=v` strings into typed values using the specs (numbers, integers, booleans, enum names). */
export function parseParamAssignments(methodId: string, specs: ParamSpec[], assignments: string[]): Record<string, number | boolean | string> {
  const out: Record<string, number | boolean | string> = {};
  for (const a of assignments) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new EngineError('invalid_argument', `${methodId}: --param expects key=value, got '${a.slice(0, 80)}'.`);
    const key = a.slice(0, eq).trim();
    const val = a.slice(eq + 1).trim();
    const spec = specs.find((s) => s.name === key);
    if (!spec) throw new EngineError('invalid_argument', `${methodId}: unknown parameter '${key}'; known: ${specs.map((s) => s.name).join(', ') || '(none)'}.`);
    if (spec.type === 'boolean') {
      if (!/^(true|false|1|0|yes|no)$/i.test(val)) throw new EngineError('invalid_argument', `${methodId}: '${key}' must be true or false, got '${val}'.`);
      out[key] = /^(true|1|yes)$/i.test(val);
    } else if (spec.type === 'enum') {
      out[key] = val;
    } else {
      const n = Number(val);
      if (val === '' || !Number.isFinite(n)) throw new EngineError('invalid_argument', `${methodId}: '${key}' must be a number, got '${val}'.`);
      out[key] = n;
    }
  }
  return out;
}

/** One line per parameter for `--help` texts. */
export function formatParamHelp(specs: ParamSpec[]): string[] {
  return specs.map((s) => {
    const range =
      s.type === 'enum'
        ? ` (${s.options!.join('|')})`
        : s.min !== undefined || s.max !== undefined
          ? ` [${s.min ?? '-inf'}${s.minExclusive ? ' excl.' : ''} .. ${s.max ?? 'inf'}${s.maxExclusive ? ' excl.' : ''}]`
          : '';
    return `${s.name}=${String(s.default)}${range}  ${s.description}`;
  });
}
