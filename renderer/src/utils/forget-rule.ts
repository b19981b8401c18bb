// A forget set's rule in words, with class names instead of class indices: the wizard's preview and
// the forget set's details say what was chosen the same way (the stored rule stays available as JSON).
import type { ClassRef, ExamplePredicate, ForgetSetKind, ScoreMetric } from '../../../preload/api';

const METRIC_WORDS: Record<ScoreMetric, string> = {
  loss: 'loss (cross-entropy on the true label)',
  margin: 'margin (true logit minus the best other; low = hard)',
  'memorization-proxy': 'memorization proxy',
};

/** A class index (or name) as its name: 3 -> 'Dress'; an index without a name stays 'class 3'. */
export function classWord(c: ClassRef, classNames: readonly string[]): string {
  return typeof c === 'number' ? (classNames[c] ?? `class ${c}`) : c;
}

/** 'T-shirt/top', 'T-shirt/top and Trouser', 'T-shirt/top, Trouser and Bag' */
export function listWords(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function classList(refs: unknown, classNames: readonly string[]): string {
  return Array.isArray(refs) ? listWords(refs.map((c) => classWord(c as ClassRef, classNames))) : '';
}

/** One condition in words: 'color = red', 'class is one of Bag and Sandal', '0.2 ≤ brightness ≤ 0.8'. */
export function describePredicate(p: ExamplePredicate, classNames: readonly string[]): string {
  const isClass = p.column === 'class' || p.column === 'label';
  const value = (v: string | number) => (isClass ? classWord(v, classNames) : String(v));
  if (p.op === 'eq') return `${p.column} = ${value(p.value!)}`;
  if (p.op === 'in') return `${p.column} is one of ${listWords((p.values ?? []).map(value))}`;
  if (p.min !== undefined && p.max !== undefined) return `${p.min} ≤ ${p.column} ≤ ${p.max}`;
  return p.min !== undefined ? `${p.column} ≥ ${p.min}` : `${p.column} ≤ ${p.max}`;
}

const pct = (f: number) => `${Number((f * 100).toPrecision(6))}%`;

function howMany(p: Record<string, unknown>): string {
  if (typeof p.count === 'number') return `${p.count.toLocaleString('en-US')} example${p.count === 1 ? '' : 's'}`;
  if (typeof p.fraction === 'number') return pct(p.fraction);
  return 'examples';
}

export interface RuleWordsContext {
  classNames: readonly string[];
  /** a forget set's name from its id (coreset sources, sequential steps); the id when unknown */
  forgetSetName?: (id: string) => string | undefined;
}

/**
 * The rule of a forget set (its kind and stored parameters, as in the manifest or as given to
 * the wizard) in words: one sentence, then one line per condition or request where there are several.
 */
export function describeRule(kind: ForgetSetKind, params: Record<string, unknown>, ctx: RuleWordsContext): string[] {
  const names = ctx.classNames;
  const setName = (id: string) => ctx.forgetSetName?.(id) ?? id;
  const restricted = Array.isArray(params.classes) && params.classes.length ? ` of the classes ${classList(params.classes, names)}` : '';
  switch (kind) {
    case 'random':
      return [`A random ${howMany(params)} of the training examples${restricted}${params.stratify ? ', stratified by class (each class in its proportion)' : ''}.`];
    case 'class':
      return [`Every training example of ${Array.isArray(params.classes) && params.classes.length === 1 ? 'the class' : 'the classes'} ${classList(params.classes, names)}.`];
    case 'subclass': {
      const cond =
        params.value !== undefined
          ? describePredicate({ column: String(params.column), op: 'eq', value: params.value as string | number }, names)
          : describePredicate({ column: String(params.column), op: 'range', min: params.min as number | undefined, max: params.max as number | undefined }, names);
      return [`The training examples of the class ${classWord(params.class as ClassRef, names)} where ${cond}.`];
    }
    case 'filter': {
      const preds = Array.isArray(params.predicates) ? (params.predicates as ExamplePredicate[]) : [];
      if (preds.length === 1) return [`The training examples where ${describePredicate(preds[0], names)}.`];
      return ['The training examples matching all of:', ...preds.map((p) => `${describePredicate(p, names)}`)];
    }
    case 'ids': {
      const given =
        typeof params.idCount === 'number'
          ? `a list of ${params.idCount.toLocaleString('en-US')} IDs`
          : typeof params.csvLength === 'number' || params.csv !== undefined
            ? `a CSV file${params.column ? ` (ID column ${String(params.column)})` : ''}`
            : Array.isArray(params.ids)
              ? `a list of ${params.ids.length.toLocaleString('en-US')} IDs`
              : 'a text of IDs, one per line';
      const missing = params.onMissing === 'skip' ? 'IDs not in the dataset are reported and skipped' : 'an ID not in the dataset is refused';
      return [`Deletion requests: the examples named in ${given}; ${missing}.`];
    }
    case 'manual': {
      const n = typeof params.idCount === 'number' ? params.idCount : Array.isArray(params.ids) ? params.ids.length : null;
      return [`Chosen by hand in the gallery${n !== null ? `: ${n.toLocaleString('en-US')} example${n === 1 ? '' : 's'}` : ''}.`];
    }
    case 'worst-case': {
      const model = (params.model ?? {}) as { modelId?: string; path?: string };
      const on = model.modelId ? `the model ${model.modelId}` : model.path ? `the ONNX file ${model.path}` : 'the original model';
      const metric = METRIC_WORDS[params.metric as ScoreMetric] ?? String(params.metric);
      return [`The ${howMany(params)} of the training examples${restricted} hardest to unlearn, by ${metric}, scored on ${on}.`];
    }
    case 'coreset':
      return [`A random ${pct(Number(params.fraction))} of the forget set ${setName(String(params.source))} (a coreset).`];
    case 'sequential': {
      const steps = Array.isArray(params.steps) ? (params.steps as string[]) : [];
      const at = Array.isArray(params.at) ? (params.at as string[]) : [];
      return [
        `${steps.length} deletion request${steps.length === 1 ? '' : 's'} in the order they arrived:`,
        ...steps.map((s, k) => `${k + 1}. ${setName(s)}${at[k] ? `, at ${at[k]}` : ''}`),
      ];
    }
  }
  return [`${kind}: ${JSON.stringify(params)}`];
}
