// Hashing helpers. The canonical form of an example-ID list (used for forget-set and retain-set hashes):
// the IDs, de-duplicated, sorted by Unicode code point, joined by '\n' (no trailing newline), encoded
// as UTF-8; its hash is the lowercase hex SHA-256 of those bytes. Anyone can recompute it with
// `sort | sha256sum`-style tools (LC_ALL=C sort gives code-point order for UTF-8; strip the last '\n').

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { sha256Hex } from '../util/sha256';

// one implementation of the engine's SHA-256 helper (main/engine/util/sha256.ts), re-exported here
export { sha256Hex };

export async function sha256File(path: string): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: h.digest('hex'), size };
}

/** compare by code point (not UTF-16 unit order, which differs for astral characters) */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

/**
 * A code-point comparator for these strings: strings without surrogates (ASCII, most of the BMP) sort
 * identically by UTF-16 units and by code points, so they take the fast built-in comparison.
 */
export function codePointComparator(strings: readonly string[]): (a: string, b: string) => number {
  const simple = strings.every((s) => !/[\ud800-\udfff]/.test(s));
  return simple ? (a, b) => (a < b ? -1 : a > b ? 1 : 0) : compareCodePoints;
}

/** de-duplicated, code-point sorted copy */
export function canonicalIds(ids: Iterable<string>): string[] {
  const arr = [...new Set(ids)];
  return arr.sort(codePointComparator(arr));
}

export function canonicalIdBytes(sortedIds: readonly string[]): Uint8Array {
  return new TextEncoder().encode(sortedIds.join('\n'));
}

/** SHA-256 of the canonical ID list (de-duplicates and sorts first) */
export function idListSha256(ids: Iterable<string>): string {
  return sha256Hex(canonicalIdBytes(canonicalIds(ids)));
}
