// Canonical JSON hashes of dataset manifests: the workspace's canonical form (engine/util), with NaN
// and +-Infinity written as null as JSON.stringify does.
import { canonicalJson as canonical } from '../util/canonical-json';
import { sha256Hex } from './hash';

export function canonicalJson(value: unknown): string {
  return canonical(value, { nonFinite: 'null' });
}

export function canonicalJsonSha256(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
