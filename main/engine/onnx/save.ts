// Saving models: validated, encoded, written atomically (temp file, fsync, rename, fsync folder).

import { encodeModel } from './codec';
import type { Model } from './ir';
import { type ValidateOptions, validateModel } from './validate';
import { writeFileAtomic } from '../util/atomic-write';
import { sha256Hex } from '../util/sha256';

export interface SaveOptions extends ValidateOptions {
  /** Validate before writing (default true): never write a file Lethe would refuse to load. */
  validate?: boolean;
}

export interface SavedModel {
  path: string;
  sha256: string;
  byteLength: number;
}

/** Encode `model` and write it to `path` atomically. Returns the SHA-256 of the bytes written. */
export async function saveModel(model: Model, path: string, opts: SaveOptions = {}): Promise<SavedModel> {
  if (opts.validate !== false) validateModel(model, opts);
  const bytes = encodeModel(model);
  if (bytes.length >= 2 ** 31) {
    throw new Error(`the encoded model is ${bytes.length} bytes; a single ONNX protobuf must stay under 2 GiB`);
  }
  await writeFileAtomic(path, bytes);
  return { path, sha256: sha256Hex(bytes), byteLength: bytes.length };
}
