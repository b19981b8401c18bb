// Canonical JSON: object keys sorted, no whitespace, `undefined` object members dropped (as JSON
// does). The same value always gives the same bytes, so a hash over it is a stable manifest hash.
// Values JSON cannot carry faithfully (NaN, Infinity, bigint, functions, symbols) are refused
// instead of being silently turned into null; `{ nonFinite: 'null' }` writes NaN and +-Infinity as
// null (what JSON.stringify does), for hashes of records that may hold them (dataset manifests).

export interface CanonicalJsonOptions {
  /** what to do with NaN and +-Infinity: refuse (default) or write null */
  nonFinite?: 'throw' | 'null';
}

export function canonicalJson(value: unknown, options: CanonicalJsonOptions = {}): string {
  return encode(value, '$', new Set(), options.nonFinite === 'null');
}

function encode(value: unknown, path: string, seen: Set<object>, nonFiniteAsNull: boolean): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) {
        if (nonFiniteAsNull) return 'null';
        throw new TypeError(`${path} is ${value}, which JSON cannot store`);
      }
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw new TypeError(`${path} is a ${typeof value}, which JSON cannot store`);
  }
  const obj = value as object;
  if (seen.has(obj)) throw new TypeError(`${path} refers to itself (a cycle)`);
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      return `[${obj.map((v, i) => (v === undefined ? 'null' : encode(v, `${path}[${i}]`, seen, nonFiniteAsNull))).join(',')}]`;
    }
    const toJSON = (obj as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return encode(toJSON.call(obj), path, seen, nonFiniteAsNull);
    if (ArrayBuffer.isView(obj)) throw new TypeError(`${path} is a binary array; store it as a blob instead`);
    const keys = Object.keys(obj).sort();
    const parts: string[] = [];
    for (const k of keys) {
      const v = (obj as Record<string, unknown>)[k];
      if (v === undefined) continue;
      parts.push(`${JSON.stringify(k)}:${encode(v, `${path}.${k}`, seen, nonFiniteAsNull)}`);
    }
    return `{${parts.join(',')}}`;
  } finally {
    seen.delete(obj);
  }
}
